import { beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeSocket } from '../../protocol/fake';
import type { Conversation, Message } from '../../protocol';

const conv: Conversation = {
  id: 'c_1', mode: 'persistent', workstream: 'w', widget: 'persistent', status: 'active',
  customer: { id: 'alice', name: 'Alice' }, agent: { id: 'bob', name: 'Bob' }, lastSeq: 2,
  createdAt: '2026-11-24T10:00:00.000Z', updatedAt: '2026-11-24T10:00:00.000Z',
};
const msg = (seq: number, text: string): Message => ({
  id: `m_${seq}`, conversationId: 'c_1', seq, clientMessageId: `k${seq}`,
  sender: { role: 'customer', id: 'alice', name: 'Alice' }, text, at: '2026-11-24T10:00:00.000Z',
});
const last = (s: FakeSocket, action: string) => [...s.sent].reverse().find((f) => f.action === action);

let state: typeof import('./state');
beforeAll(async () => {
  const kept = new Map<string, string>();
  const storage = { getItem: (k: string) => kept.get(k) ?? null, setItem: (k: string, v: string) => void kept.set(k, v) };
  vi.stubGlobal('sessionStorage', storage);
  vi.stubGlobal('localStorage', storage);
  state = await import('./state');
});

describe('the agent app', () => {
  it('reads the messages a message event shows it missed', async () => {
    const sockets: FakeSocket[] = [];
    const c = state.connect('ws://x/ws', async () => 't', (u) => { const s = new FakeSocket(u); sockets.push(s); return s; });
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0].open();
    await vi.waitFor(() => expect(last(sockets[0], 'hello')).toBeTruthy());
    sockets[0].reply('hello', { type: 'session', role: 'agent', user: { id: 'bob', name: 'Bob' },
      agent: { capacity: 3, used: 1, presence: 'available' }, conversations: [conv], hasMore: false });
    await vi.waitFor(() => expect(state.status.value.state).toBe('open'));

    state.select('c_1');
    await vi.waitFor(() => expect(last(sockets[0], 'history')).toBeTruthy());
    sockets[0].reply('history', { type: 'history', conversationId: 'c_1', messages: [msg(1, 'hi'), msg(2, 'anyone?')], hasMore: false });
    await vi.waitFor(() => expect(state.conversations.value.c_1.loaded).toBe(true));
    const asked = sockets[0].sent.filter((f) => f.action === 'history').length;

    // Seq 3 never arrived here; seq 4 does.
    sockets[0].push({ type: 'message', message: msg(4, 'hello??') });
    await vi.waitFor(() => expect(sockets[0].sent.filter((f) => f.action === 'history')).toHaveLength(asked + 1));
    expect(last(sockets[0], 'history')).toMatchObject({ conversationId: 'c_1', afterSeq: 2 });
    sockets[0].reply('history', { type: 'history', conversationId: 'c_1', messages: [msg(3, 'still there?'), msg(4, 'hello??')], hasMore: false });
    await vi.waitFor(() => expect(state.conversations.value.c_1.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]));

    // The next seq in order asks for nothing.
    sockets[0].push({ type: 'message', message: msg(5, 'ok') });
    await vi.waitFor(() => expect(state.conversations.value.c_1.messages).toHaveLength(5));
    expect(sockets[0].sent.filter((f) => f.action === 'history')).toHaveLength(asked + 1);
    c.stop();
  });
});
