// The frames of Parley's wire protocol (docs/protocol.md), typed once for
// the agent app and the widget. Server frames are a union on `type`: a
// switch over them ends in assertNever, so a frame type added here and
// handled nowhere is a compile error.

export type Role = 'customer' | 'agent';
export type Mode = 'persistent' | 'live';
export type Status = 'queued' | 'active' | 'waiting' | 'returned' | 'closed';
export type Presence = 'available' | 'away';

export interface Person {
  id: string;
  name: string;
}

export interface Sender extends Person {
  role: Role;
}

export interface Party {
  role: Role;
  id: string;
}

/** The newest message of a conversation, its text cut to 200 characters. (added) */
export interface LastMessage {
  seq: number;
  sender: Sender;
  text: string;
  at: string;
}

export interface Conversation {
  id: string;
  mode: Mode;
  workstream: string;
  widget: string;
  status: Status;
  customer: Person;
  agent: Person | null;
  lastSeq: number;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
  closedBy?: 'agent' | 'customer' | 'system';
  /** The highest seq each party has read. (added: absent from older backends) */
  read?: { customer: number; agent: number };
  /** (added: absent from older backends) */
  lastMessage?: LastMessage | null;
}

export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  clientMessageId: string;
  sender: Sender;
  text: string;
  at: string;
}

export interface AgentState {
  capacity: number;
  used: number;
  presence: Presence;
}

export type ErrorCode =
  | 'bad_request'
  | 'unknown_action'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'no_capacity'
  | 'too_large'
  | 'outside_hours'
  | 'rate_limited'
  | 'internal';

export const errorCodes: readonly ErrorCode[] = [
  'bad_request',
  'unknown_action',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'no_capacity',
  'too_large',
  'outside_hours',
  'rate_limited',
  'internal',
];

// ---- Client to server ----------------------------------------------------

export type Request =
  | { action: 'hello'; lastSeq?: number }
  | { action: 'send'; conversationId?: string; clientMessageId: string; text: string }
  | { action: 'history'; conversationId: string; beforeSeq?: number; afterSeq?: number; limit?: number }
  | { action: 'typing'; conversationId: string; typing: boolean }
  | { action: 'read'; conversationId: string; seq: number }
  | { action: 'park'; conversationId: string }
  | { action: 'pickup'; conversationId: string }
  | { action: 'close'; conversationId: string }
  | { action: 'presence'; status: Presence }
  | { action: 'ping' };

export type Action = Request['action'];

// ---- Server to client ----------------------------------------------------

export interface CustomerSession {
  type: 'session';
  requestId?: string;
  role: 'customer';
  user: Person;
  conversation: Conversation | null;
  messages: Message[];
  hasMore?: boolean;
  /** (added) the customer's most recently closed conversation when none is open */
  previousConversation?: Conversation | null;
}

export interface AgentSession {
  type: 'session';
  requestId?: string;
  role: 'agent';
  user: Person;
  agent: AgentState;
  conversations: Conversation[];
}

export type SessionFrame = CustomerSession | AgentSession;

export interface AckFrame {
  type: 'ack';
  requestId?: string;
  message?: Message;
  conversation?: Conversation;
  agent?: AgentState;
}

export interface ErrorFrame {
  type: 'error';
  requestId?: string;
  code: ErrorCode;
  message: string;
  retryAfterMs?: number;
}

export interface HistoryFrame {
  type: 'history';
  requestId?: string;
  conversationId: string;
  messages: Message[];
  hasMore: boolean;
}

export interface PongFrame {
  type: 'pong';
  requestId?: string;
}

export interface MessageEventFrame {
  type: 'message';
  message: Message;
}

export interface ConversationEvent {
  type: 'conversation';
  conversation: Conversation;
  /** (added) to a newly assigned agent: the newest messages, ascending */
  messages?: Message[];
  hasMore?: boolean;
}

export interface NotificationEvent {
  type: 'notification';
  kind: 'customer_returned';
  conversationId: string;
  conversation: Conversation;
  reminder?: boolean;
}

export interface SystemEvent {
  type: 'system';
  conversationId: string;
  code: 'queue_position' | 'average_wait';
  text: string;
  queuePosition?: number;
  averageWaitSeconds?: number;
}

export interface TypingEvent {
  type: 'typing';
  conversationId: string;
  from: Party;
  typing: boolean;
}

export interface ReadEvent {
  type: 'read';
  conversationId: string;
  by: Party;
  seq: number;
}

/** Replies: frames that answer a request (they carry its requestId). */
export type ReplyFrame = SessionFrame | AckFrame | ErrorFrame | HistoryFrame | PongFrame;

/** Events: frames the server sends unasked. */
export type EventFrame = MessageEventFrame | ConversationEvent | NotificationEvent | SystemEvent | TypingEvent | ReadEvent;

export type ServerFrame = ReplyFrame | EventFrame;

/** The successful reply each action gets. */
export interface ReplyOf {
  hello: SessionFrame;
  send: AckFrame & { message: Message; conversation: Conversation };
  history: HistoryFrame;
  typing: AckFrame;
  read: AckFrame;
  park: AckFrame & { conversation: Conversation };
  pickup: AckFrame & { conversation: Conversation };
  close: AckFrame & { conversation: Conversation };
  presence: AckFrame & { agent: AgentState };
  ping: PongFrame;
}

export function assertNever(x: never): never {
  throw new Error(`unhandled frame ${JSON.stringify(x)}`);
}

const replyTypes = new Set(['session', 'ack', 'error', 'history', 'pong']);
const eventTypes = new Set(['message', 'conversation', 'notification', 'system', 'typing', 'read']);

/** Parses one frame; null for anything that is not a frame of this protocol. */
export function parseFrame(data: unknown): ServerFrame | null {
  if (typeof data !== 'string') return null;
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const t = (v as { type?: unknown }).type;
  if (typeof t !== 'string' || !(replyTypes.has(t) || eventTypes.has(t))) return null;
  return v as ServerFrame;
}

export function isEvent(f: ServerFrame): f is EventFrame {
  return eventTypes.has(f.type);
}
