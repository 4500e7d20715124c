// Transcript bookkeeping shared by the agent app and the widget: messages
// are kept in seq order with no seq twice, whatever order and however often
// they arrive (reply, event, history page, catch-up after a reconnect), and
// a message not yet acknowledged waits in an outbox under the
// clientMessageId it will be resent with.

import type { Message } from './frames';

/**
 * Merges incoming into list (both of one conversation, list sorted): the
 * result is in ascending seq with each seq once. A seq is one message
 * forever, so one already held is kept; list itself is returned when
 * nothing is new.
 */
export function mergeMessages(list: readonly Message[], incoming: readonly Message[]): readonly Message[] {
  const have = new Set(list.map((m) => m.seq));
  const add: Message[] = [];
  for (const m of incoming) {
    if (have.has(m.seq)) continue;
    have.add(m.seq);
    add.push(m);
  }
  if (add.length === 0) return list;
  return [...list, ...add].sort((a, b) => a.seq - b.seq);
}

/** The highest seq in a sorted list, 0 when empty. */
export function lastSeqOf(list: readonly Message[]): number {
  return list.length ? list[list.length - 1].seq : 0;
}

/** Seqs missing between the first and the last message of a sorted list. */
export function gaps(list: readonly Message[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < list.length; i++) {
    for (let s = list[i - 1].seq + 1; s < list[i].seq; s++) out.push(s);
  }
  return out;
}

/** A message written but not yet acknowledged by the server. */
export interface Pending {
  clientMessageId: string;
  conversationId?: string;
  text: string;
  /** when it was written (ISO time) */
  at: string;
  /** set when the server refused it for good: a sentence for the writer */
  failed?: string;
}

/**
 * The outbox without what the transcript shows stored already: a send whose
 * ack was lost, found in the history read after a reconnect, is not resent
 * (the server knows a resend only among a side's last few sends).
 */
export function unsent<P extends Pending>(pending: readonly P[], stored: readonly Message[], role: 'customer' | 'agent'): readonly P[] {
  if (pending.length === 0) return pending;
  const ids = new Set(stored.filter((m) => m.sender.role === role).map((m) => m.clientMessageId));
  const left = pending.filter((p) => !ids.has(p.clientMessageId));
  return left.length === pending.length ? pending : left;
}

export function newClientMessageId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** The payload of a JWT, unverified: only to read sub and exp for keys and renewal. */
export function jwtClaims(token: string): { sub?: string; exp?: number; name?: string } {
  const part = token.split('.')[1];
  if (!part) return {};
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}
