// A scripted server for unit tests: sockets that the test opens, answers
// and drops by hand.
import type { SocketLike } from './connection';

export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({});
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  push(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  /** Answers the last request of action with fields. */
  reply(action: string, fields: Record<string, unknown>): void {
    const req = [...this.sent].reverse().find((f) => f.action === action);
    if (!req) throw new Error(`no ${action} request in ${JSON.stringify(this.sent)}`);
    this.push({ requestId: req.requestId, ...fields });
  }
}
