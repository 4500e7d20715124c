// The agent app's state and everything that changes it, in plain modules:
// signals hold the state, functions here change it (from the agent's
// actions and from the server's frames), and components only render it.

import { batch, computed, signal } from '@preact/signals';
import {
  Connection,
  type AgentSession,
  type AgentState,
  type ConnectionStatus,
  type Conversation,
  type EventFrame,
  type Message,
  type Pending,
  type Person,
  type Presence,
  type SocketLike,
  ProtocolError,
  assertNever,
  lastSeqOf,
  mergeMessages,
  newClientMessageId,
  unsent,
} from '../../protocol';
import { sentence } from './errors';
import { alertAgent, toast } from './notify';

export interface ConvView {
  c: Conversation;
  messages: readonly Message[];
  /** the transcript has been loaded (messages holds its newest page at least) */
  loaded: boolean;
  hasOlder: boolean;
  pending: readonly Pending[];
  customerTyping: boolean;
  /** the highest seq the customer has read */
  customerRead: number;
  /** the highest seq this agent has read */
  agentRead: number;
}

export const status = signal<ConnectionStatus>({ state: 'stopped', attempt: 0, wasOpen: false });
export const me = signal<Person | null>(null);
export const agent = signal<AgentState | null>(null);
export const conversations = signal<Readonly<Record<string, ConvView>>>({});
export const selectedId = signal<string | null>(null);
/** an error to show, with the conversation it is about */
export const problem = signal<{ text: string; conversationId?: string } | null>(null);
/** whether the agent can see the transcript (tab visible) */
export const visible = signal<boolean>(typeof document === 'undefined' || document.visibilityState === 'visible');

const PRESENCE_KEY = 'parley.presence';
/** what the agent chose; the server is brought in line after every hello */
export const wantedPresence = signal<Presence>((sessionStorage.getItem(PRESENCE_KEY) as Presence | null) ?? 'available');

const order: Record<string, number> = { active: 0, returned: 1, waiting: 2 };

export const groups = computed(() => {
  const out: Record<'active' | 'returned' | 'waiting', ConvView[]> = { active: [], returned: [], waiting: [] };
  for (const v of Object.values(conversations.value)) {
    if (v.c.status in order) out[v.c.status as 'active' | 'returned' | 'waiting'].push(v);
  }
  for (const list of Object.values(out)) list.sort((a, b) => (b.c.lastMessage?.at ?? b.c.updatedAt).localeCompare(a.c.lastMessage?.at ?? a.c.updatedAt));
  return out;
});

export const selected = computed(() => (selectedId.value ? (conversations.value[selectedId.value] ?? null) : null));

export function unread(v: ConvView): number {
  return Math.max(0, v.c.lastSeq - v.agentRead);
}

let conn: Connection | null = null;

export function connection(): Connection | null {
  return conn;
}

/** Connects to the backend; createSocket stands in for the browser's WebSocket (tests). */
export function connect(websocketUrl: string, token: () => Promise<string>, createSocket?: (url: string) => SocketLike): Connection {
  conn = new Connection({
    createSocket,
    url: async () => `${websocketUrl}${websocketUrl.includes('?') ? '&' : '?'}token=${encodeURIComponent(await token())}`,
    onOpen: (c) => hello(c),
    onEvent: (f) => event(f),
    onStatus: (s) => {
      status.value = s;
      if (s.state === 'open') {
        // Caught up: the outbox goes out, and the read receipt.
        if (pendingLoad) void load(pendingLoad);
        pendingLoad = null;
        void flush();
        markRead();
      }
    },
  });
  conn.start();
  return conn;
}

function patch(id: string, f: (v: ConvView) => ConvView | null): void {
  const cur = conversations.value[id];
  if (!cur) return;
  const next = f(cur);
  const all = { ...conversations.value };
  if (next) all[id] = next;
  else delete all[id];
  conversations.value = all;
}

function view(c: Conversation, old?: ConvView): ConvView {
  // A backend without lastMessage (added in the protocol) leaves the preview we built.
  if (c.lastMessage === undefined && old?.c.lastMessage) c = { ...c, lastMessage: old.c.lastMessage };
  return {
    c,
    messages: old?.messages ?? [],
    loaded: old?.loaded ?? false,
    hasOlder: old?.hasOlder ?? false,
    pending: old?.pending ?? [],
    customerTyping: old?.customerTyping ?? false,
    customerRead: Math.max(old?.customerRead ?? 0, c.read?.customer ?? 0),
    agentRead: Math.max(old?.agentRead ?? 0, c.read?.agent ?? 0),
  };
}

function withMessages(v: ConvView, msgs: readonly Message[]): ConvView {
  const messages = mergeMessages(v.messages, msgs);
  if (messages === v.messages) return v;
  const last = messages[messages.length - 1];
  const c = last && last.seq >= v.c.lastSeq ? { ...v.c, lastSeq: last.seq, lastMessage: { seq: last.seq, sender: last.sender, text: last.text.slice(0, 200), at: last.at } } : v.c;
  // The agent's own messages count as read by the agent.
  const own = msgs.filter((m) => m.sender.role === 'agent').reduce((n, m) => Math.max(n, m.seq), 0);
  return { ...v, c, messages, agentRead: Math.max(v.agentRead, own), pending: unsent(v.pending, msgs, 'agent') };
}

// ---- the session ----

/** hello on every (re)open: the list, then catch-up by seq of every loaded transcript, then the outbox. */
async function hello(c: Connection): Promise<void> {
  const s = (await c.request({ action: 'hello' })) as AgentSession;
  const before = conversations.value;
  const next: Record<string, ConvView> = {};
  for (const conv of s.conversations) next[conv.id] = view(conv, before[conv.id]);
  batch(() => {
    me.value = s.user;
    agent.value = s.agent;
    conversations.value = next;
    if (selectedId.value && !next[selectedId.value]) selectedId.value = null;
  });
  if (s.agent.presence !== wantedPresence.value) {
    const ack = await c.request({ action: 'presence', status: wantedPresence.value });
    agent.value = ack.agent;
  }
  // Catch up by seq: everything after the last message held, page by page.
  for (const v of Object.values(next)) {
    if (v.loaded) await catchUp(c, v.c.id, v.c.lastSeq);
  }
  const sel = selectedId.value;
  if (sel && !conversations.value[sel]?.loaded) pendingLoad = sel;
}

/** Reads a loaded transcript's messages after seq `after` (the last one held), up to seq `upTo`, page by page. */
async function catchUp(c: Connection, id: string, upTo: number, after = lastSeqOf(conversations.value[id]?.messages ?? [])): Promise<void> {
  for (let i = 0; i < 50 && after < upTo; i++) {
    const h = await c.request({ action: 'history', conversationId: id, afterSeq: after, limit: 200 });
    patch(id, (x) => withMessages(x, h.messages));
    if (!h.hasMore || h.messages.length === 0) break;
    after = lastSeqOf(h.messages);
  }
}

/** Conversations whose missing messages are being read. */
const filling = new Set<string>();

/**
 * Reads the messages between after and seq that a loaded transcript lacks:
 * a message event beyond the next seq means one between was not delivered
 * here.
 */
async function fillGap(id: string, after: number, seq: number): Promise<void> {
  const c = conn;
  if (!c?.isReady || filling.has(id)) return;
  filling.add(id);
  try {
    await catchUp(c, id, seq - 1, after);
  } catch (e) {
    report(e, 'history', id);
  } finally {
    filling.delete(id);
  }
}

/** A transcript to load once the connection counts as open. */
let pendingLoad: string | null = null;

/** Loads the newest page of a transcript. */
async function load(id: string): Promise<void> {
  if (!conn?.isReady) return;
  try {
    const h = await conn.request({ action: 'history', conversationId: id, limit: 50 });
    patch(id, (v) => ({ ...withMessages(v, h.messages), loaded: true, hasOlder: v.loaded ? v.hasOlder : h.hasMore }));
    markRead();
  } catch (e) {
    report(e, 'history', id);
  }
}

export async function loadOlder(id: string): Promise<void> {
  const v = conversations.value[id];
  if (!v || !conn?.isReady) return;
  try {
    const h = await conn.request({ action: 'history', conversationId: id, beforeSeq: v.messages[0]?.seq ?? v.c.lastSeq + 1, limit: 50 });
    patch(id, (x) => ({ ...withMessages(x, h.messages), hasOlder: h.hasMore }));
  } catch (e) {
    report(e, 'history', id);
  }
}

function report(e: unknown, action: string, conversationId?: string): void {
  const code = e instanceof ProtocolError ? e.code : 'internal';
  problem.value = { text: sentence(code, action), conversationId };
}

// ---- the agent's actions ----

export function select(id: string | null): void {
  batch(() => {
    selectedId.value = id;
    if (problem.value?.conversationId !== id) problem.value = null;
  });
  if (id && !conversations.value[id]?.loaded) void load(id);
  markRead();
}

/** Tells the customer how far the agent has read, when the transcript is in view. */
export function markRead(): void {
  const v = selected.value;
  if (!v || !visible.value || !v.loaded || !conn?.isReady) return;
  const seq = lastSeqOf(v.messages);
  if (seq <= v.agentRead) return;
  const id = v.c.id;
  patch(id, (x) => ({ ...x, agentRead: Math.max(x.agentRead, seq) }));
  conn.request({ action: 'read', conversationId: id, seq }).catch(() => {
    patch(id, (x) => ({ ...x, agentRead: Math.min(x.agentRead, seq - 1) }));
  });
}

export function send(id: string, text: string): void {
  const t = text.trim();
  if (!t) return;
  const p: Pending = { clientMessageId: newClientMessageId(), conversationId: id, text: t, at: new Date().toISOString() };
  patch(id, (v) => ({ ...v, pending: [...v.pending, p] }));
  stopTyping(id);
  void flush();
}

let flushing = false;

/** Sends every conversation's outbox in order; what the connection dropped is resent after the reconnect, same clientMessageId. */
async function flush(): Promise<void> {
  if (flushing) return;
  flushing = true;
  try {
    for (;;) {
      const v = Object.values(conversations.value).find((x) => x.pending.some((p) => !p.failed));
      const p = v?.pending.find((x) => !x.failed);
      if (!v || !p || !conn?.isReady) return;
      try {
        const ack = await conn.request({ action: 'send', conversationId: v.c.id, clientMessageId: p.clientMessageId, text: p.text });
        patch(v.c.id, (x) => ({ ...withMessages({ ...x, c: newer(x.c, ack.conversation) }, [ack.message]), pending: x.pending.filter((y) => y.clientMessageId !== p.clientMessageId) }));
      } catch (e) {
        if (!(e instanceof ProtocolError) || e.code === 'disconnected' || e.code === 'timeout') return;
        patch(v.c.id, (x) => ({ ...x, pending: x.pending.map((y) => (y.clientMessageId === p.clientMessageId ? { ...y, failed: e.code } : y)) }));
        report(e, 'send', v.c.id);
      }
    }
  } finally {
    flushing = false;
  }
}

/** Sends a refused message again (after a pickup, say), under its clientMessageId. */
export function retry(id: string, clientMessageId: string): void {
  patch(id, (v) => ({ ...v, pending: v.pending.map((p) => (p.clientMessageId === clientMessageId ? { ...p, failed: undefined } : p)) }));
  problem.value = null;
  void flush();
}

export function discard(id: string, clientMessageId: string): void {
  patch(id, (v) => ({ ...v, pending: v.pending.filter((p) => p.clientMessageId !== clientMessageId) }));
}

async function move(action: 'park' | 'pickup' | 'close', id: string): Promise<boolean> {
  if (!conn) return false;
  try {
    const ack = await conn.request({ action, conversationId: id });
    problem.value = null;
    changed(ack.conversation);
    return true;
  } catch (e) {
    report(e, action, id);
    return false;
  }
}

export const park = (id: string) => move('park', id);
export const pickup = (id: string) => move('pickup', id);
export const close = (id: string) => move('close', id);

export async function setPresence(p: Presence): Promise<void> {
  wantedPresence.value = p;
  sessionStorage.setItem(PRESENCE_KEY, p);
  if (!conn?.isReady) return;
  try {
    const ack = await conn.request({ action: 'presence', status: p });
    agent.value = ack.agent;
  } catch (e) {
    report(e, 'presence');
  }
}

/** An agent who has just signed in is available, whatever an earlier tab chose. */
export function signedIn(): void {
  wantedPresence.value = 'available';
  sessionStorage.setItem(PRESENCE_KEY, 'available');
}

const typingState = new Map<string, { on: boolean; sentAt: number; timer?: ReturnType<typeof setTimeout> }>();

export function typing(id: string): void {
  const v = conversations.value[id];
  if (!v || v.c.status !== 'active' || !conn?.isReady) return;
  const st = typingState.get(id) ?? { on: false, sentAt: 0 };
  const now = Date.now();
  if (!st.on || now - st.sentAt > 4000) {
    st.on = true;
    st.sentAt = now;
    conn.request({ action: 'typing', conversationId: id, typing: true }).catch(() => {});
  }
  clearTimeout(st.timer);
  st.timer = setTimeout(() => stopTyping(id), 3000);
  typingState.set(id, st);
}

function stopTyping(id: string): void {
  const st = typingState.get(id);
  if (!st) return;
  clearTimeout(st.timer);
  if (st.on && conn?.isReady) conn.request({ action: 'typing', conversationId: id, typing: false }).catch(() => {});
  st.on = false;
}

// ---- the server's events ----

const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

function event(f: EventFrame): void {
  switch (f.type) {
    case 'message': {
      const m = f.message;
      const v = conversations.value[m.conversationId];
      if (!v) return;
      const held = lastSeqOf(v.messages);
      const gap = v.loaded && m.seq > held + 1;
      patch(m.conversationId, (x) => {
        const y = withMessages(x, [m]);
        // A transcript not loaded yet still shows the new message's preview and unread count.
        const c = { ...y.c, lastSeq: Math.max(y.c.lastSeq, m.seq), lastMessage: { seq: m.seq, sender: m.sender, text: m.text.slice(0, 200), at: m.at } };
        return { ...y, c, customerTyping: m.sender.role === 'customer' ? false : y.customerTyping };
      });
      if (gap) void fillGap(m.conversationId, held, m.seq);
      markRead();
      return;
    }
    case 'conversation':
      conversationEvent(f.conversation, f.messages, f.hasMore);
      return;
    case 'notification': {
      if (f.kind !== 'customer_returned') return;
      changed(f.conversation);
      const name = f.conversation.customer.name;
      alertAgent(f.reminder ? `Reminder: ${name} is back and waiting for you.` : `${name} came back to a parked conversation.`, f.conversationId, () =>
        select(f.conversationId),
      );
      return;
    }
    case 'typing': {
      if (f.from.role !== 'customer') return;
      clearTimeout(typingTimers.get(f.conversationId));
      if (f.typing) typingTimers.set(f.conversationId, setTimeout(() => patch(f.conversationId, (x) => ({ ...x, customerTyping: false })), 15_000));
      patch(f.conversationId, (x) => ({ ...x, customerTyping: f.typing }));
      return;
    }
    case 'read':
      if (f.by.role !== 'customer') return;
      patch(f.conversationId, (x) => ({ ...x, customerRead: Math.max(x.customerRead, f.seq) }));
      return;
    case 'system':
      return; // customers only
    default:
      assertNever(f);
  }
}

function newer(a: Conversation, b: Conversation): Conversation {
  return b.updatedAt < a.updatedAt ? a : b;
}

/** Applies a conversation's new state: closed or gone from this agent leaves the list. */
function changed(c: Conversation): void {
  const mine = c.agent && me.value && c.agent.id === me.value.id;
  if (c.status === 'closed' || c.status === 'queued' || !mine) {
    if (conversations.value[c.id]) {
      const all = { ...conversations.value };
      delete all[c.id];
      batch(() => {
        conversations.value = all;
        if (selectedId.value === c.id) selectedId.value = null;
      });
    }
    return;
  }
  const old = conversations.value[c.id];
  conversations.value = { ...conversations.value, [c.id]: view(old ? newer(old.c, c) : c, old) };
}

function conversationEvent(c: Conversation, messages?: Message[], hasMore?: boolean): void {
  const isNew = !conversations.value[c.id];
  changed(c);
  if (!isNew || c.status !== 'active' || !conversations.value[c.id]) return;
  // Newly assigned: the whole conversation comes with the event; older backends send none, so ask.
  if (messages) patch(c.id, (v) => ({ ...withMessages(v, messages), loaded: true, hasOlder: !!hasMore }));
  else void load(c.id);
  alertAgent(`New conversation with ${c.customer.name}.`, c.id, () => select(c.id));
}

export function setVisible(on: boolean): void {
  visible.value = on;
  if (on) markRead();
}

export { toast };
