// One WebSocket to Parley that stays up: requests get their reply by
// requestId, events go to a callback, and a dropped connection comes back
// with exponential backoff and jitter. After every (re)open the owner's
// onOpen runs first (hello, catch-up by seq, resending what was not
// acknowledged) before the connection counts as open again.

import {
  type Action,
  type ErrorCode,
  type EventFrame,
  type ReplyOf,
  type Request,
  type ServerFrame,
  isEvent,
  parseFrame,
} from './frames';

export type ConnectionState = 'connecting' | 'open' | 'waiting' | 'stopped';

export interface ConnectionStatus {
  state: ConnectionState;
  /** failed attempts since the connection was last open */
  attempt: number;
  /** when the next attempt starts (state 'waiting'), in ms since the epoch */
  retryAt?: number;
  /** whether it has been open at least once */
  wasOpen: boolean;
}

/** Why a request failed: an error frame's code, or what happened locally. */
export type FailureCode = ErrorCode | 'disconnected' | 'timeout';

export class ProtocolError extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** The part of the browser's WebSocket this module uses. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export interface ConnectionOptions {
  /** The URL to connect to, token included; fresh is true after an attempt failed before opening (the token may be stale). */
  url(fresh: boolean): Promise<string> | string;
  /** Runs on every open before it counts: hello, catch-up. Throwing drops the connection and retries. */
  onOpen(conn: Connection): Promise<void>;
  onEvent(frame: EventFrame): void;
  onStatus?(status: ConnectionStatus): void;
  createSocket?(url: string): SocketLike;
  minDelayMs?: number;
  maxDelayMs?: number;
  requestTimeoutMs?: number;
  /** how often an idle open connection is pinged; 0 never */
  pingIntervalMs?: number;
  random?(): number;
}

/**
 * backoff is the wait before retry number attempt (0 based): exponential
 * from min to max, with "equal jitter" (half fixed, half random) so that
 * many clients cut off together do not come back together.
 */
export function backoff(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

const OPEN = 1;

type Pending = {
  resolve(f: ServerFrame): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout>;
};

let requestCounter = 0;

export class Connection {
  private socket: SocketLike | null = null;
  private pending = new Map<string, Pending>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pinger: ReturnType<typeof setInterval> | undefined;
  private status: ConnectionStatus = { state: 'stopped', attempt: 0, wasOpen: false };
  private ready = false; // onOpen has finished on this socket
  private failedBeforeOpen = false;
  private readonly opts: Required<Omit<ConnectionOptions, 'onStatus' | 'createSocket'>> &
    Pick<ConnectionOptions, 'onStatus' | 'createSocket'>;

  constructor(opts: ConnectionOptions) {
    this.opts = {
      minDelayMs: 500,
      maxDelayMs: 30_000,
      requestTimeoutMs: 15_000,
      pingIntervalMs: 4 * 60_000,
      random: Math.random,
      ...opts,
    };
  }

  get current(): ConnectionStatus {
    return this.status;
  }

  /** Whether requests can be sent now (the socket is open, onOpen may still run). */
  get connected(): boolean {
    return this.socket?.readyState === OPEN;
  }

  /** Whether the connection is open and caught up. */
  get isReady(): boolean {
    return this.ready && this.connected;
  }

  start(): void {
    if (this.status.state !== 'stopped') return;
    this.setStatus({ state: 'connecting', attempt: 0, wasOpen: this.status.wasOpen });
    void this.connect();
  }

  stop(): void {
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    const s = this.socket;
    this.socket = null;
    this.ready = false;
    if (s) {
      s.onclose = s.onerror = s.onmessage = s.onopen = null;
      s.close(1000, 'bye');
    }
    this.failAll('disconnected', 'the connection was closed');
    this.setStatus({ ...this.status, state: 'stopped', retryAt: undefined });
  }

  /** Try now instead of at the scheduled time (the browser came back online). */
  retryNow(): void {
    if (this.status.state !== 'waiting') return;
    clearTimeout(this.timer);
    this.setStatus({ ...this.status, state: 'connecting', retryAt: undefined });
    void this.connect();
  }

  /** Drops the current socket as if the network had (for tests and for a dead ping). */
  drop(): void {
    this.socket?.close(4000, 'dropped');
  }

  /** Sends req and resolves with its reply; an error frame rejects with a ProtocolError. */
  request<A extends Action>(req: Extract<Request, { action: A }>): Promise<ReplyOf[A]> {
    return this.requestOnce(req, 0);
  }

  private async requestOnce<A extends Action>(req: Extract<Request, { action: A }>, retries: number): Promise<ReplyOf[A]> {
    try {
      return await this.raw(req);
    } catch (e) {
      // A well-behaved client never sees rate_limited; if it does, it
      // waits as told and tries again, a few times.
      if (e instanceof ProtocolError && e.code === 'rate_limited' && retries < 3) {
        await new Promise((r) => setTimeout(r, Math.min(e.retryAfterMs ?? 1000, 10_000)));
        return this.requestOnce(req, retries + 1);
      }
      throw e;
    }
  }

  private raw<A extends Action>(req: Extract<Request, { action: A }>): Promise<ReplyOf[A]> {
    const s = this.socket;
    if (!s || s.readyState !== OPEN) {
      return Promise.reject(new ProtocolError('disconnected', 'not connected'));
    }
    const requestId = `r${++requestCounter}-${Date.now().toString(36)}`;
    return new Promise<ReplyOf[A]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new ProtocolError('timeout', `no reply to ${req.action}`));
        // A connection that answers nothing is as good as gone.
        if (this.socket === s) s.close(4001, 'timeout');
      }, this.opts.requestTimeoutMs);
      this.pending.set(requestId, {
        timer,
        reject,
        resolve: (f) => {
          if (f.type === 'error') reject(new ProtocolError(f.code, f.message, f.retryAfterMs));
          else resolve(f as ReplyOf[A]);
        },
      });
      s.send(JSON.stringify({ ...req, requestId }));
    });
  }

  private setStatus(s: ConnectionStatus): void {
    this.status = s;
    this.opts.onStatus?.(s);
  }

  private async connect(): Promise<void> {
    let url: string;
    try {
      url = await this.opts.url(this.failedBeforeOpen);
    } catch {
      this.scheduleRetry();
      return;
    }
    if (this.status.state !== 'connecting') return; // stopped meanwhile
    let s: SocketLike;
    try {
      s = this.opts.createSocket ? this.opts.createSocket(url) : (new WebSocket(url) as unknown as SocketLike);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = s;
    this.ready = false;
    let opened = false;
    s.onopen = () => {
      opened = true;
      this.failedBeforeOpen = false;
      void this.opened(s);
    };
    s.onmessage = (ev) => this.receive(ev.data);
    s.onerror = () => {};
    s.onclose = () => {
      if (this.socket !== s) return;
      this.socket = null;
      this.ready = false;
      clearInterval(this.pinger);
      if (!opened) this.failedBeforeOpen = true;
      this.failAll('disconnected', 'the connection dropped');
      this.scheduleRetry();
    };
  }

  private async opened(s: SocketLike): Promise<void> {
    try {
      await this.opts.onOpen(this);
    } catch {
      if (this.socket === s) s.close(4002, 'session failed');
      return;
    }
    if (this.socket !== s) return;
    this.ready = true;
    this.setStatus({ state: 'open', attempt: 0, wasOpen: true });
    clearInterval(this.pinger);
    if (this.opts.pingIntervalMs > 0) {
      this.pinger = setInterval(() => {
        this.request({ action: 'ping' }).catch(() => {});
      }, this.opts.pingIntervalMs);
    }
  }

  private scheduleRetry(): void {
    if (this.status.state === 'stopped') return;
    const attempt = this.status.state === 'open' ? 0 : this.status.attempt;
    const delay = backoff(attempt, this.opts.minDelayMs, this.opts.maxDelayMs, this.opts.random);
    this.setStatus({ state: 'waiting', attempt: attempt + 1, retryAt: Date.now() + delay, wasOpen: this.status.wasOpen });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.status.state !== 'waiting') return;
      this.setStatus({ ...this.status, state: 'connecting', retryAt: undefined });
      void this.connect();
    }, delay);
  }

  private receive(data: unknown): void {
    const f = parseFrame(data);
    if (!f) return;
    if (isEvent(f)) {
      this.opts.onEvent(f);
      return;
    }
    const id = f.requestId;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return; // a late reply to a request given up on
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(f);
  }

  private failAll(code: FailureCode, message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ProtocolError(code, message));
      this.pending.delete(id);
    }
  }
}
