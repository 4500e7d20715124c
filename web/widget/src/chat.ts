// The widget's chat logic, without DOM: one customer's session on one
// widget. It keeps the open conversation's transcript (and the last closed
// one's), resumes from the last seq after every reconnect, and keeps what
// the customer wrote in an outbox (in localStorage) until the server has
// acknowledged it, resending it with the same clientMessageId, so nothing
// is lost and nothing doubled.

import {
  Connection,
  type ConnectionStatus,
  type Conversation,
  type CustomerSession,
  type EventFrame,
  type Message,
  type Pending,
  ProtocolError,
  type SocketLike,
  assertNever,
  jwtClaims,
  lastSeqOf,
  mergeMessages,
  newClientMessageId,
  unsent,
} from '../../protocol';

export interface Transcript {
  conversation: Conversation;
  messages: readonly Message[];
  hasOlder: boolean;
}

export type Notice =
  | { kind: 'outside_hours' }
  | { kind: 'ended' }
  | { kind: 'error'; code: string }
  | { kind: 'queue'; position?: number; waitSeconds?: number; text: string };

export interface ChatState {
  status: ConnectionStatus;
  current: Transcript | null;
  previous: Transcript | null;
  pending: readonly Pending[];
  agentTyping: { name: string } | null;
  agentReadSeq: number;
  notice: Notice | null;
  /** agent messages that arrived while the customer was not looking */
  unread: number;
  /** the first session has been read */
  loaded: boolean;
}

export interface Stored {
  conversationId?: string;
  lastSeq?: number;
  previousId?: string;
  pending?: Pending[];
}

export interface ChatOptions {
  widget: string;
  websocketUrl: string;
  getToken(fresh: boolean): Promise<string>;
  onChange(state: ChatState): void;
  storage?: Pick<Storage, 'getItem' | 'setItem'> | null;
  createSocket?(url: string): SocketLike;
  minDelayMs?: number;
  maxDelayMs?: number;
}

const HISTORY_PAGE = 50;

export class Chat {
  state: ChatState = {
    status: { state: 'stopped', attempt: 0, wasOpen: false },
    current: null,
    previous: null,
    pending: [],
    agentTyping: null,
    agentReadSeq: 0,
    notice: null,
    unread: 0,
    loaded: false,
  };
  /** whether the customer is looking at the transcript (panel open, page visible) */
  viewing = false;
  readonly conn: Connection;
  private key = '';
  private flushing = false;
  private filling = false;
  private readSent = 0;
  private typingOn = false;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private typingSentAt = 0;
  private agentTypingTimer: ReturnType<typeof setTimeout> | undefined;
  private syncing: Promise<void> | null = null;

  constructor(private readonly opts: ChatOptions) {
    this.conn = new Connection({
      url: async (fresh) => {
        const token = await opts.getToken(fresh);
        this.useKey(token);
        const sep = opts.websocketUrl.includes('?') ? '&' : '?';
        return `${opts.websocketUrl}${sep}token=${encodeURIComponent(token)}`;
      },
      onOpen: () => this.sync(),
      onEvent: (f) => this.event(f),
      onStatus: (status) => {
        this.set({ status });
        if (status.state === 'open') {
          // Caught up: now what waited in the outbox goes out, and receipts.
          void this.flush();
          this.markRead();
        }
      },
      createSocket: opts.createSocket,
      minDelayMs: opts.minDelayMs,
      maxDelayMs: opts.maxDelayMs,
    });
  }

  start(): void {
    this.conn.start();
  }

  stop(): void {
    this.conn.stop();
  }

  private set(patch: Partial<ChatState>): void {
    this.state = { ...this.state, ...patch };
    this.opts.onChange(this.state);
  }

  // ---- storage, per widget and customer ----

  /** Keys storage by the token's sub: another customer on the same browser gets their own. */
  private useKey(token: string): void {
    const sub = jwtClaims(token).sub ?? 'anonymous';
    const key = `parley:${this.opts.widget}:${sub}`;
    if (key === this.key) return;
    this.key = key;
    const s = this.load();
    this.set({ pending: s.pending ?? [] });
  }

  load(): Stored {
    try {
      return JSON.parse(this.opts.storage?.getItem(this.key) ?? '{}') ?? {};
    } catch {
      return {};
    }
  }

  private save(): void {
    if (!this.key) return;
    const s: Stored = { pending: this.state.pending.filter((p) => !p.failed) };
    const c = this.state.current;
    if (c) {
      s.conversationId = c.conversation.id;
      s.lastSeq = lastSeqOf(c.messages);
    }
    if (this.state.previous) s.previousId = this.state.previous.conversation.id;
    try {
      this.opts.storage?.setItem(this.key, JSON.stringify(s));
    } catch {
      // full or forbidden: the outbox still lives in memory
    }
  }

  // ---- session and catch-up ----

  /** Reads the session and catches up by seq; runs on every (re)open. */
  private sync(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.doSync().finally(() => {
        this.syncing = null;
      });
    }
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    const stored = this.load();
    const mem = this.state.current;
    const knownId = mem?.conversation.id ?? stored.conversationId;
    const after = mem ? lastSeqOf(mem.messages) : (stored.lastSeq ?? 0);
    const resume = !!knownId && after > 0;
    const s = (await this.conn.request(resume ? { action: 'hello', lastSeq: after } : { action: 'hello' })) as CustomerSession;

    let current: Transcript | null = null;
    let previous = this.state.previous;
    if (s.conversation) {
      const c = s.conversation;
      if (resume && c.id === knownId) {
        let msgs = mergeMessages(mem?.messages ?? [], s.messages);
        let more = !!s.hasMore;
        for (let i = 0; more && i < 50; i++) {
          const h = await this.conn.request({ action: 'history', conversationId: c.id, afterSeq: lastSeqOf(msgs), limit: 200 });
          msgs = mergeMessages(msgs, h.messages);
          more = h.hasMore;
        }
        let hasOlder = mem?.hasOlder ?? false;
        if (!mem) {
          // A fresh page resumed from the stored seq: fetch what came before it too.
          const before = (msgs[0]?.seq ?? after + 1);
          const h = await this.conn.request({ action: 'history', conversationId: c.id, beforeSeq: before, limit: HISTORY_PAGE });
          msgs = mergeMessages(h.messages, msgs);
          hasOlder = h.hasMore;
        }
        current = { conversation: c, messages: msgs, hasOlder };
      } else if (resume) {
        // The stored seq belongs to another conversation: take the newest page.
        const h = await this.conn.request({ action: 'history', conversationId: c.id, limit: HISTORY_PAGE });
        current = { conversation: c, messages: h.messages, hasOlder: h.hasMore };
      } else {
        current = { conversation: c, messages: s.messages, hasOlder: !!s.hasMore };
      }
      if (mem && mem.conversation.id !== c.id) previous = closedCopy(mem);
    } else {
      if (mem) previous = closedCopy(mem);
      const prevConv = s.previousConversation ?? null;
      const prevId = prevConv?.id ?? previous?.conversation.id ?? stored.previousId;
      if (prevId && (!previous || previous.conversation.id !== prevId || previous.messages.length === 0)) {
        try {
          const h = await this.conn.request({ action: 'history', conversationId: prevId, limit: HISTORY_PAGE });
          const conv = prevConv ?? previous?.conversation ?? placeholder(prevId, this.opts.widget, h.messages);
          previous = { conversation: conv, messages: h.messages, hasOlder: h.hasMore };
        } catch (e) {
          if (!(e instanceof ProtocolError) || e.code === 'disconnected' || e.code === 'timeout') throw e;
          // The backend does not let us read it: show nothing rather than fail.
        }
      }
    }
    const read = current?.conversation.read?.agent ?? 0;
    this.set({
      current,
      previous,
      pending: current ? unsent(this.state.pending, current.messages, 'customer') : this.state.pending,
      loaded: true,
      agentReadSeq: Math.max(read, current && mem && mem.conversation.id === current.conversation.id ? this.state.agentReadSeq : 0),
    });
    this.save();
    if (this.conn.isReady) {
      // A resync on an open connection: the outbox and receipts follow at once.
      void this.flush();
      this.markRead();
    }
  }

  /** Reads the current transcript's messages after seq `after` and before `upTo`. */
  private async fillGap(id: string, after: number, upTo: number): Promise<void> {
    if (this.filling || !this.conn.isReady) return;
    this.filling = true;
    try {
      for (let i = 0; i < 50 && after < upTo - 1; i++) {
        const h = await this.conn.request({ action: 'history', conversationId: id, afterSeq: after, limit: 200 });
        const cur = this.state.current;
        if (!cur || cur.conversation.id !== id) return;
        this.set({ current: { ...cur, messages: mergeMessages(cur.messages, h.messages) } });
        this.save();
        if (!h.hasMore || h.messages.length === 0) return;
        after = lastSeqOf(h.messages);
      }
    } catch {
      // Not now: the next reconnect's catch-up reads them.
    } finally {
      this.filling = false;
    }
  }

  /** Loads the page of messages before the oldest one shown. */
  async loadOlder(): Promise<void> {
    const c = this.state.current ?? this.state.previous;
    if (!c || !c.hasOlder || !this.conn.isReady) return;
    const which = this.state.current ? 'current' : 'previous';
    const h = await this.conn.request({ action: 'history', conversationId: c.conversation.id, beforeSeq: c.messages[0]?.seq ?? 1, limit: HISTORY_PAGE });
    const now = this.state[which];
    if (!now || now.conversation.id !== c.conversation.id) return;
    this.set({ [which]: { ...now, messages: mergeMessages(now.messages, h.messages), hasOlder: h.hasMore } });
  }

  // ---- writing ----

  /** Queues text for sending; it is sent now if connected, else after the reconnect. */
  send(text: string): void {
    const t = text.trim();
    if (!t) return;
    const p: Pending = { clientMessageId: newClientMessageId(), text: t, at: new Date().toISOString() };
    this.set({ pending: [...this.state.pending, p], notice: this.state.notice?.kind === 'queue' ? this.state.notice : null });
    this.save();
    this.stopTyping();
    if (this.conn.isReady) void this.flush();
    else if (this.state.status.state === 'stopped') this.start();
  }

  /** Sends a message the server refused once again, under the same clientMessageId. */
  retry(clientMessageId: string): void {
    this.set({ pending: this.state.pending.map((p) => (p.clientMessageId === clientMessageId ? { ...p, failed: undefined } : p)), notice: null });
    this.save();
    void this.flush();
  }

  /** Sends the outbox in order, one at a time; stops at the first failure to reach the server. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (;;) {
        const p = this.state.pending.find((x) => !x.failed);
        if (!p || !this.conn.isReady) return;
        try {
          const ack = await this.conn.request({ action: 'send', clientMessageId: p.clientMessageId, text: p.text });
          this.acknowledged(p.clientMessageId, ack.conversation, ack.message);
        } catch (e) {
          if (!(e instanceof ProtocolError) || e.code === 'disconnected' || e.code === 'timeout') return; // resent after the reconnect
          this.set({
            pending: this.state.pending.map((x) => (x.clientMessageId === p.clientMessageId ? { ...x, failed: e.code } : x)),
            notice: e.code === 'outside_hours' ? { kind: 'outside_hours' } : { kind: 'error', code: e.code },
          });
          this.save();
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private acknowledged(cmid: string, conv: Conversation, m: Message): void {
    const pending = this.state.pending.filter((x) => x.clientMessageId !== cmid);
    const cur = this.state.current;
    let current: Transcript;
    let previous = this.state.previous;
    if (cur && cur.conversation.id === conv.id) {
      current = { ...cur, conversation: newer(cur.conversation, conv), messages: mergeMessages(cur.messages, [m]) };
    } else {
      if (cur) previous = closedCopy(cur);
      // A new conversation: its first messages are ours, but ask for any we missed.
      current = { conversation: conv, messages: [m], hasOlder: m.seq > 1 };
    }
    this.set({ pending, current, previous, notice: this.state.notice?.kind === 'ended' ? null : this.state.notice });
    this.save();
  }

  /** Ends a live chat (customers cannot end persistent ones). */
  async end(): Promise<void> {
    const c = this.state.current;
    if (!c || c.conversation.status === 'closed') return;
    try {
      const ack = await this.conn.request({ action: 'close', conversationId: c.conversation.id });
      this.conversationChanged(ack.conversation);
    } catch (e) {
      this.set({ notice: { kind: 'error', code: e instanceof ProtocolError ? e.code : 'internal' } });
    }
  }

  /** Tells the agent the customer is typing; call on every input. */
  typing(): void {
    const c = this.state.current;
    if (!c || c.conversation.status === 'closed' || !this.conn.isReady) return;
    const now = Date.now();
    if (!this.typingOn || now - this.typingSentAt > 4000) {
      this.typingOn = true;
      this.typingSentAt = now;
      this.conn.request({ action: 'typing', conversationId: c.conversation.id, typing: true }).catch(() => {});
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), 3000);
  }

  private stopTyping(): void {
    clearTimeout(this.typingTimer);
    if (!this.typingOn) return;
    this.typingOn = false;
    const c = this.state.current;
    if (c && this.conn.isReady) this.conn.request({ action: 'typing', conversationId: c.conversation.id, typing: false }).catch(() => {});
  }

  /** The customer looks at the transcript (or stopped): read receipts follow. */
  setViewing(on: boolean): void {
    this.viewing = on;
    if (on) {
      if (this.state.unread) this.set({ unread: 0 });
      this.markRead();
    }
  }

  private markRead(): void {
    const c = this.state.current;
    if (!this.viewing || !c || !this.conn.isReady) return;
    const seq = lastSeqOf(c.messages);
    const already = Math.max(this.readSent, c.conversation.read?.customer ?? 0);
    if (seq <= already || c.conversation.id === '' || c.conversation.status === 'closed') return;
    this.readSent = seq;
    this.conn.request({ action: 'read', conversationId: c.conversation.id, seq }).catch(() => {
      this.readSent = 0;
    });
  }

  // ---- events ----

  private event(f: EventFrame): void {
    switch (f.type) {
      case 'message': {
        const m = f.message;
        const cur = this.state.current;
        if (!cur || cur.conversation.id !== m.conversationId) {
          void this.resync();
          return;
        }
        const held = lastSeqOf(cur.messages);
        const msgs = mergeMessages(cur.messages, [m]);
        if (msgs === cur.messages) return;
        // Beyond the next seq: a message between was not delivered here.
        if (held > 0 && m.seq > held + 1) void this.fillGap(m.conversationId, held, m.seq);
        const fromAgent = m.sender.role === 'agent';
        this.set({
          current: { ...cur, messages: msgs, conversation: { ...cur.conversation, lastSeq: Math.max(cur.conversation.lastSeq, m.seq) } },
          agentTyping: fromAgent ? null : this.state.agentTyping,
          unread: fromAgent && !this.viewing ? this.state.unread + 1 : this.state.unread,
          // our own message from another tab acknowledges nothing here, but an agent reply ends the queue wait
          notice: fromAgent && this.state.notice?.kind === 'queue' ? null : this.state.notice,
        });
        this.save();
        this.markRead();
        return;
      }
      case 'conversation':
        this.conversationChanged(f.conversation);
        return;
      case 'typing': {
        const cur = this.state.current;
        if (!cur || f.conversationId !== cur.conversation.id || f.from.role !== 'agent') return;
        clearTimeout(this.agentTypingTimer);
        if (f.typing) {
          // A typing indicator that never got its "stopped" fades by itself.
          this.agentTypingTimer = setTimeout(() => this.set({ agentTyping: null }), 15_000);
        }
        this.set({ agentTyping: f.typing ? { name: cur.conversation.agent?.name ?? '' } : null });
        return;
      }
      case 'read': {
        const cur = this.state.current;
        if (!cur || f.conversationId !== cur.conversation.id || f.by.role !== 'agent') return;
        if (f.seq > this.state.agentReadSeq) this.set({ agentReadSeq: f.seq });
        return;
      }
      case 'system': {
        const cur = this.state.current;
        if (cur && f.conversationId !== cur.conversation.id) return;
        if (cur && cur.conversation.mode !== 'live') return; // persistent chats show no queue
        const prev = this.state.notice?.kind === 'queue' ? this.state.notice : { kind: 'queue' as const, text: '' };
        this.set({
          notice:
            f.code === 'queue_position'
              ? { ...prev, position: f.queuePosition, text: f.text }
              : { ...prev, waitSeconds: f.averageWaitSeconds, text: prev.text || f.text },
        });
        return;
      }
      case 'notification':
        return; // agents only
      default:
        assertNever(f);
    }
  }

  private conversationChanged(c: Conversation): void {
    const cur = this.state.current;
    if (!cur || cur.conversation.id !== c.id) {
      if (c.status !== 'closed') void this.resync();
      return;
    }
    if (c.status === 'closed') {
      this.set({
        current: null,
        previous: { ...cur, conversation: c },
        agentTyping: null,
        notice: { kind: 'ended' },
      });
      this.save();
      return;
    }
    const notice = c.status === 'active' && this.state.notice?.kind === 'queue' ? null : this.state.notice;
    this.set({ current: { ...cur, conversation: newer(cur.conversation, c) }, notice });
  }

  /** Something happened outside what this page knows (another tab, another device): read the session again. */
  private async resync(): Promise<void> {
    if (!this.conn.isReady) return;
    try {
      await this.sync();
    } catch {
      this.conn.drop();
    }
  }
}

function newer(a: Conversation, b: Conversation): Conversation {
  return b.updatedAt < a.updatedAt ? a : b;
}

function closedCopy(t: Transcript): Transcript {
  return t.conversation.status === 'closed' ? t : { ...t, conversation: { ...t.conversation, status: 'closed' } };
}

/** A closed conversation known only by id (an older backend without previousConversation). */
function placeholder(id: string, widget: string, msgs: readonly Message[]): Conversation {
  const last = msgs[msgs.length - 1];
  const customer = msgs.find((m) => m.sender.role === 'customer')?.sender ?? { id: '', name: '' };
  return {
    id,
    mode: 'persistent',
    workstream: '',
    widget,
    status: 'closed',
    customer: { id: customer.id, name: customer.name },
    agent: null,
    lastSeq: last?.seq ?? 0,
    createdAt: msgs[0]?.at ?? '',
    updatedAt: last?.at ?? '',
    closedAt: last?.at,
  };
}
