import { describe, expect, it, vi } from 'vitest';
import { FakeSocket } from '../../protocol/fake';
import type { Conversation, Message } from '../../protocol';
import { Chat } from './chat';
import { fill, textsFor } from './i18n';

const token = `h.${Buffer.from(JSON.stringify({ sub: 'alice', exp: 9e9 })).toString('base64url')}.s`;

const conv = (over: Partial<Conversation> = {}): Conversation => ({
  id: 'c_1', mode: 'persistent', workstream: 'w', widget: 'persistent', status: 'active',
  customer: { id: 'alice', name: 'Alice' }, agent: { id: 'bob', name: 'Bob' }, lastSeq: 1,
  createdAt: '2026-11-24T10:00:00.000Z', updatedAt: '2026-11-24T10:00:00.000Z', ...over,
});
const msg = (seq: number, text: string, role: 'customer' | 'agent' = 'customer', cmid = `k${seq}`): Message => ({
  id: `m_${seq}`, conversationId: 'c_1', seq, clientMessageId: cmid,
  sender: { role, id: role === 'agent' ? 'bob' : 'alice', name: role === 'agent' ? 'Bob' : 'Alice' }, text, at: '2026-11-24T10:00:00.000Z',
});

class MemoryStorage {
  data = new Map<string, string>();
  getItem(k: string) { return this.data.get(k) ?? null; }
  setItem(k: string, v: string) { this.data.set(k, v); }
}

function setup(storage = new MemoryStorage()) {
  const sockets: FakeSocket[] = [];
  const chat = new Chat({
    widget: 'persistent', websocketUrl: 'ws://x/ws', getToken: async () => token, onChange: () => {}, storage,
    createSocket: (u) => { const s = new FakeSocket(u); sockets.push(s); return s; }, minDelayMs: 1, maxDelayMs: 2,
  });
  return { chat, sockets, storage };
}

const last = (s: FakeSocket, action: string) => [...s.sent].reverse().find((f) => f.action === action);

/** A chat whose first connection is open and whose hello got session. */
async function connected(session: Record<string, unknown>) {
  const t = setup();
  t.chat.start();
  await vi.waitFor(() => expect(t.sockets).toHaveLength(1));
  t.sockets[0].open();
  await vi.waitFor(() => expect(last(t.sockets[0], 'hello')).toBeTruthy());
  t.sockets[0].reply('hello', session);
  return t;
}

describe('the widget chat', () => {
  it('keeps what was written offline and resends it with the same clientMessageId, once', async () => {
    const { chat, sockets, storage } = await connected({ type: 'session', role: 'customer', user: { id: 'alice', name: 'Alice' }, conversation: conv(), messages: [msg(1, 'hi')], hasMore: false });
    await vi.waitFor(() => expect(chat.state.status.state).toBe('open'));

    sockets[0].close(); // the line drops
    chat.send('written offline');
    const cmid = chat.state.pending[0].clientMessageId;
    expect(JSON.parse(storage.getItem('parley:persistent:alice')!).pending[0].clientMessageId).toBe(cmid);

    await vi.waitFor(() => expect(sockets).toHaveLength(2));
    sockets[1].open();
    await vi.waitFor(() => expect(last(sockets[1], 'hello')).toBeTruthy());
    expect(last(sockets[1], 'hello')!.lastSeq).toBe(1); // resumes from the last seq
    sockets[1].reply('hello', { type: 'session', role: 'customer', user: { id: 'alice', name: 'Alice' }, conversation: conv({ lastSeq: 1 }), messages: [], hasMore: false });
    await vi.waitFor(() => expect(last(sockets[1], 'send')).toBeTruthy());
    expect(last(sockets[1], 'send')!.clientMessageId).toBe(cmid);
    sockets[1].reply('send', { type: 'ack', message: msg(2, 'written offline', 'customer', cmid), conversation: conv({ lastSeq: 2 }) });
    // The same message as an event too (another tab's echo): still once.
    sockets[1].push({ type: 'message', message: msg(2, 'written offline', 'customer', cmid) });
    await vi.waitFor(() => expect(chat.state.pending).toHaveLength(0));
    expect(chat.state.current!.messages.map((m) => m.text)).toEqual(['hi', 'written offline']);
    chat.stop();
  });

  it('does not resend what the history after a reconnect shows stored already', async () => {
    const { chat, sockets } = await connected({ type: 'session', role: 'customer', user: { id: 'alice', name: 'Alice' }, conversation: conv(), messages: [msg(1, 'hi')], hasMore: false });
    await vi.waitFor(() => expect(chat.state.status.state).toBe('open'));

    chat.send('did this arrive?');
    const cmid = chat.state.pending[0].clientMessageId;
    await vi.waitFor(() => expect(last(sockets[0], 'send')).toBeTruthy());
    sockets[0].close(); // stored, but the ack is lost with the line

    await vi.waitFor(() => expect(sockets).toHaveLength(2));
    sockets[1].open();
    await vi.waitFor(() => expect(last(sockets[1], 'hello')).toBeTruthy());
    // Meanwhile the agent wrote; the catch-up carries the stored message.
    sockets[1].reply('hello', {
      type: 'session', role: 'customer', user: { id: 'alice', name: 'Alice' }, conversation: conv({ lastSeq: 3 }),
      messages: [msg(2, 'did this arrive?', 'customer', cmid), msg(3, 'it did', 'agent')], hasMore: false,
    });
    await vi.waitFor(() => expect(chat.state.current!.messages).toHaveLength(3));
    expect(chat.state.pending).toHaveLength(0);
    expect(sockets[1].sent.filter((f) => f.action === 'send')).toHaveLength(0);
    chat.stop();
  });

  it('says plainly when a live chat is outside opening hours, and keeps nothing queued', async () => {
    const { chat, sockets } = await connected({ type: 'session', role: 'customer', user: { id: 'alice', name: 'Alice' }, conversation: null, messages: [] });
    await vi.waitFor(() => expect(chat.state.status.state).toBe('open'));
    chat.send('anyone there?');
    await vi.waitFor(() => expect(last(sockets[0], 'send')).toBeTruthy());
    sockets[0].reply('send', { type: 'error', code: 'outside_hours', message: 'closed' });
    await vi.waitFor(() => expect(chat.state.notice).toEqual({ kind: 'outside_hours' }));
    expect(chat.state.pending[0].failed).toBe('outside_hours');
    chat.stop();
  });

  it('shows a returning customer the closed conversation', async () => {
    const { chat, sockets } = setup();
    chat.start();
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0].open();
    await vi.waitFor(() => expect(last(sockets[0], 'hello')).toBeTruthy());
    const closed = conv({ status: 'closed', closedAt: '2026-11-25T10:00:00.000Z', lastSeq: 2 });
    sockets[0].reply('hello', { type: 'session', role: 'customer', user: { id: 'alice', name: 'Alice' }, conversation: null, messages: [], previousConversation: closed });
    await vi.waitFor(() => expect(last(sockets[0], 'history')).toBeTruthy());
    expect(last(sockets[0], 'history')!.conversationId).toBe('c_1');
    sockets[0].reply('history', { type: 'history', conversationId: 'c_1', messages: [msg(1, 'q'), msg(2, 'a', 'agent')], hasMore: false });
    await vi.waitFor(() => expect(chat.state.previous?.messages).toHaveLength(2));
    expect(chat.state.current).toBeNull();
    chat.stop();
  });

  it('reads the messages a message event shows it missed', async () => {
    const { chat, sockets } = await connected({ type: 'session', role: 'customer', user: { id: 'alice', name: 'Alice' }, conversation: conv({ lastSeq: 2 }), messages: [msg(1, 'hi'), msg(2, 'hello', 'agent')], hasMore: false });
    await vi.waitFor(() => expect(chat.state.status.state).toBe('open'));
    // Seq 3 never arrived here; seq 4 does.
    sockets[0].push({ type: 'message', message: msg(4, 'are you there?', 'agent') });
    await vi.waitFor(() => expect(last(sockets[0], 'history')).toBeTruthy());
    expect(last(sockets[0], 'history')).toMatchObject({ conversationId: 'c_1', afterSeq: 2 });
    sockets[0].reply('history', { type: 'history', conversationId: 'c_1', messages: [msg(3, 'one moment', 'agent'), msg(4, 'are you there?', 'agent')], hasMore: false });
    await vi.waitFor(() => expect(chat.state.current!.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]));
    // The next seq in order asks for nothing.
    sockets[0].push({ type: 'message', message: msg(5, 'ok', 'agent') });
    await vi.waitFor(() => expect(chat.state.current!.messages).toHaveLength(5));
    expect(sockets[0].sent.filter((f) => f.action === 'history')).toHaveLength(1);
    chat.stop();
  });
});

describe('texts', () => {
  it('are Norwegian Bokmål for nb, no and nn, English otherwise', () => {
    expect(textsFor('nb-NO').send).toBe('Send');
    expect(textsFor('no').launcher).toBe('Åpne chat');
    expect(textsFor('nn').endChat).toBe('Avslutt chat');
    expect(textsFor('de').launcher).toBe('Open chat');
    expect(textsFor(undefined).launcher).toBe('Open chat');
    expect(fill('You are number {n}.', { n: 3 })).toBe('You are number 3.');
  });
});
