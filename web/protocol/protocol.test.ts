import { afterEach, describe, expect, it, vi } from 'vitest';
import { Connection, ProtocolError, backoff } from './connection';
import { FakeSocket } from './fake';
import { type EventFrame, type Message, parseFrame } from './frames';
import { gaps, jwtClaims, lastSeqOf, mergeMessages, unsent } from './messages';

const msg = (seq: number, text = `m${seq}`): Message => ({
  id: `m_${seq}`,
  conversationId: 'c_1',
  seq,
  clientMessageId: `k${seq}`,
  sender: { role: 'customer', id: 'alice', name: 'Alice' },
  text,
  at: '2026-11-24T10:00:00.000Z',
});

describe('unsent', () => {
  it('drops from the outbox what its side has stored, and keeps the outbox itself when nothing is', () => {
    const out = [{ clientMessageId: 'k1', text: 'a', at: '' }, { clientMessageId: 'k9', text: 'b', at: '' }];
    expect(unsent(out, [msg(1)], 'customer').map((p) => p.clientMessageId)).toEqual(['k9']);
    expect(unsent(out, [msg(1)], 'agent')).toBe(out); // the other side's k1 is another send
    expect(unsent(out, [msg(2)], 'customer')).toBe(out);
  });
});

describe('mergeMessages', () => {
  it('keeps seq order with each seq once, whatever order and however often messages come', () => {
    let list = mergeMessages([], [msg(3), msg(1)]);
    list = mergeMessages(list, [msg(2), msg(3), msg(1)]);
    list = mergeMessages(list, [msg(5), msg(4), msg(5)]);
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(lastSeqOf(list)).toBe(5);
    expect(gaps(mergeMessages([], [msg(1), msg(4)]))).toEqual([2, 3]);
  });
  it('returns the same list when nothing is new', () => {
    const list = mergeMessages([], [msg(1), msg(2)]);
    expect(mergeMessages(list, [msg(2)])).toBe(list);
  });
});

describe('backoff', () => {
  it('grows exponentially to the cap, with jitter between half and all of it', () => {
    expect(backoff(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoff(0, 500, 30_000, () => 1)).toBe(500);
    expect(backoff(3, 500, 30_000, () => 1)).toBe(4000);
    expect(backoff(20, 500, 30_000, () => 0)).toBe(15_000);
    expect(backoff(20, 500, 30_000, () => 1)).toBe(30_000);
  });
});

describe('parseFrame', () => {
  it('takes the protocol frames and nothing else', () => {
    expect(parseFrame('{"type":"pong","requestId":"r"}')).toEqual({ type: 'pong', requestId: 'r' });
    for (const bad of ['not json', '[]', '{"type":"nope"}', '{"no":"type"}', 'null']) expect(parseFrame(bad)).toBeNull();
  });
});

describe('jwtClaims', () => {
  it('reads sub and exp from a token, unicode included', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'åse', exp: 42 })).toString('base64url');
    expect(jwtClaims(`h.${payload}.s`)).toEqual({ sub: 'åse', exp: 42 });
    expect(jwtClaims('garbage')).toEqual({});
  });
});

describe('Connection', () => {
  afterEach(() => vi.useRealTimers());

  function setup(onOpen = async (c: Connection) => void (await c.request({ action: 'ping' }))) {
    const sockets: FakeSocket[] = [];
    const events: EventFrame[] = [];
    const urls: boolean[] = [];
    const conn = new Connection({
      url: (fresh) => {
        urls.push(fresh);
        return 'ws://x/ws?token=t';
      },
      onOpen,
      onEvent: (f) => events.push(f),
      createSocket: (u) => {
        const s = new FakeSocket(u);
        sockets.push(s);
        return s;
      },
      random: () => 0.5,
      pingIntervalMs: 0,
    });
    return { conn, sockets, events, urls };
  }

  it('answers requests by requestId and passes events on', async () => {
    const { conn, sockets, events } = setup(async () => {});
    conn.start();
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0].open();
    await vi.waitFor(() => expect(conn.current.state).toBe('open'));
    const a = conn.request({ action: 'ping' });
    const b = conn.request({ action: 'history', conversationId: 'c_1' });
    const [ra, rb] = sockets[0].sent;
    expect(ra.requestId).not.toBe(rb.requestId);
    sockets[0].push({ type: 'history', requestId: rb.requestId, conversationId: 'c_1', messages: [], hasMore: false });
    sockets[0].push({ type: 'typing', conversationId: 'c_1', from: { role: 'agent', id: 'bob' }, typing: true });
    sockets[0].push({ type: 'pong', requestId: ra.requestId });
    expect((await b).type).toBe('history');
    expect((await a).type).toBe('pong');
    expect(events.map((e) => e.type)).toEqual(['typing']);
  });

  it('rejects an error reply with its code', async () => {
    const { conn, sockets } = setup(async () => {});
    conn.start();
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0].open();
    await vi.waitFor(() => expect(conn.isReady).toBe(true));
    const p = conn.request({ action: 'pickup', conversationId: 'c_1' });
    sockets[0].reply('pickup', { type: 'error', code: 'no_capacity', message: 'no free capacity' });
    await expect(p).rejects.toMatchObject({ code: 'no_capacity' });
  });

  it('reconnects with backoff after a drop, fails what was in flight, and counts as open only after onOpen', async () => {
    vi.useFakeTimers();
    const { conn, sockets, urls } = setup();
    conn.start();
    await vi.waitFor(() => expect(sockets).toHaveLength(1));
    sockets[0].open();
    expect(conn.current.state).toBe('connecting'); // onOpen (its ping) still running
    sockets[0].reply('ping', { type: 'pong' });
    await vi.waitFor(() => expect(conn.current.state).toBe('open'));
    const inFlight = conn.request({ action: 'ping' });
    sockets[0].close();
    await expect(inFlight).rejects.toBeInstanceOf(ProtocolError);
    expect(conn.current.state).toBe('waiting');
    await vi.advanceTimersByTimeAsync(400); // backoff(0) with random 0.5 is 375 ms
    expect(sockets).toHaveLength(2);
    sockets[1].close(); // refused before opening: the next URL asks for a fresh token
    await vi.advanceTimersByTimeAsync(1000);
    expect(sockets).toHaveLength(3);
    expect(urls).toEqual([false, false, true]);
    sockets[2].open();
    sockets[2].reply('ping', { type: 'pong' });
    await vi.waitFor(() => expect(conn.current).toMatchObject({ state: 'open', attempt: 0, wasOpen: true }));
    conn.stop();
    expect(conn.current.state).toBe('stopped');
  });

  it('refuses requests while disconnected', async () => {
    const { conn } = setup();
    await expect(conn.request({ action: 'ping' })).rejects.toMatchObject({ code: 'disconnected' });
  });
});
