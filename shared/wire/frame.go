package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Frame is a server-to-client frame: a reply to a request or an event.
// Encode sets its "type".
type Frame interface {
	setType()
}

// Replies (docs/protocol.md sections 2 and 4).

// Ack answers a request that succeeded; the fields present depend on the
// action (send: message and conversation; park, pickup, close:
// conversation; presence: agent).
type Ack struct {
	Type         string        `json:"type"`
	RequestID    RequestID     `json:"requestId,omitempty"`
	Message      *Message      `json:"message,omitempty"`
	Conversation *Conversation `json:"conversation,omitempty"`
	Agent        *AgentState   `json:"agent,omitempty"`
}

// Error answers a request that failed (see ErrorFrame).
type Error struct {
	Type         string    `json:"type"`
	RequestID    RequestID `json:"requestId,omitempty"`
	Code         Code      `json:"code"`
	Message      string    `json:"message"`
	RetryAfterMs int64     `json:"retryAfterMs,omitempty"` // rate_limited only
}

// CustomerSession answers a customer's hello.
type CustomerSession struct {
	Type         string        `json:"type"`
	RequestID    RequestID     `json:"requestId,omitempty"`
	Role         string        `json:"role"` // "customer"
	User         Person        `json:"user"`
	Conversation *Conversation `json:"conversation"` // null when none is open
	Messages     []Message     `json:"messages"`
	HasMore      bool          `json:"hasMore"`
	// PreviousConversation is, when none is open, the one closed last.
	PreviousConversation *Conversation `json:"previousConversation"`
}

// AgentSession answers an agent's hello.
type AgentSession struct {
	Type          string          `json:"type"`
	RequestID     RequestID       `json:"requestId,omitempty"`
	Role          string          `json:"role"` // "agent"
	User          Person          `json:"user"`
	Agent         AgentState      `json:"agent"`
	Conversations []*Conversation `json:"conversations"`
	// HasMore: more conversations are assigned than one frame holds.
	HasMore bool `json:"hasMore"`
}

// HistoryPage answers history.
type HistoryPage struct {
	Type           string    `json:"type"`
	RequestID      RequestID `json:"requestId,omitempty"`
	ConversationID string    `json:"conversationId"`
	Messages       []Message `json:"messages"`
	HasMore        bool      `json:"hasMore"`
}

// Pong answers ping.
type Pong struct {
	Type      string    `json:"type"`
	RequestID RequestID `json:"requestId,omitempty"`
}

// Events (docs/protocol.md section 5).

// MessageEvent tells a party's other connections of a stored message.
type MessageEvent struct {
	Type    string  `json:"type"`
	Message Message `json:"message"`
}

// ConversationEvent tells the parties of an assignment, a close, a pickup,
// a return or a requeue. To the agent a conversation was just assigned to,
// it also carries the newest messages, so the agent sees the whole
// conversation without asking.
type ConversationEvent struct {
	Type         string        `json:"type"`
	Conversation *Conversation `json:"conversation"`
	Messages     []Message     `json:"messages,omitempty"`
	HasMore      *bool         `json:"hasMore,omitempty"`
}

// Notification kinds.
const (
	// KindCustomerReturned: the customer of a waiting conversation wrote
	// again (or, with Reminder, has still not been answered).
	KindCustomerReturned = "customer_returned"
)

// Notification alerts an agent.
type Notification struct {
	Type           string        `json:"type"`
	Kind           string        `json:"kind"`
	ConversationID string        `json:"conversationId"`
	Conversation   *Conversation `json:"conversation"`
	Reminder       bool          `json:"reminder,omitempty"`
}

// System tells a queued live customer where they stand.
type System struct {
	Type               string `json:"type"`
	ConversationID     string `json:"conversationId"`
	Code               string `json:"code"` // queue_position or average_wait
	Text               string `json:"text"`
	QueuePosition      *int   `json:"queuePosition,omitempty"`
	AverageWaitSeconds *int   `json:"averageWaitSeconds,omitempty"`
}

// TypingEvent tells the other party that one is (or stopped) typing.
type TypingEvent struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversationId"`
	From           Party  `json:"from"`
	Typing         bool   `json:"typing"`
}

// ReadEvent tells the other party how far one has read.
type ReadEvent struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversationId"`
	By             Party  `json:"by"`
	Seq            int64  `json:"seq"`
}

// The frame types, as the "type" of each frame spells it.
const (
	TypeAck          = "ack"
	TypeError        = "error"
	TypeSession      = "session"
	TypeHistory      = "history"
	TypePong         = "pong"
	TypeMessage      = "message"
	TypeConversation = "conversation"
	TypeNotification = "notification"
	TypeSystem       = "system"
	TypeTyping       = "typing"
	TypeRead         = "read"
)

// ReplyTypes are the types of the frames that answer requests; EventTypes
// those of the frames nobody asked for.
var (
	ReplyTypes = []string{TypeAck, TypeError, TypeSession, TypeHistory, TypePong}
	EventTypes = []string{TypeMessage, TypeConversation, TypeNotification, TypeSystem, TypeTyping, TypeRead}
)

func (f *Ack) setType()               { f.Type = TypeAck }
func (f *Error) setType()             { f.Type = TypeError }
func (f *CustomerSession) setType()   { f.Type, f.Role = TypeSession, "customer" }
func (f *AgentSession) setType()      { f.Type, f.Role = TypeSession, "agent" }
func (f *HistoryPage) setType()       { f.Type = TypeHistory }
func (f *Pong) setType()              { f.Type = TypePong }
func (f *MessageEvent) setType()      { f.Type = TypeMessage }
func (f *ConversationEvent) setType() { f.Type = TypeConversation }
func (f *Notification) setType()      { f.Type = TypeNotification }
func (f *System) setType()            { f.Type = TypeSystem }
func (f *TypingEvent) setType()       { f.Type = TypeTyping }
func (f *ReadEvent) setType()         { f.Type = TypeRead }

// MaxFrameBytes is the largest frame API Gateway delivers (128 KiB); a
// larger one fails with 413 and reaches nobody.
const MaxFrameBytes = 128 << 10

// Encode writes f as one JSON object with its "type". Text is text: HTML
// characters are not escaped (a message of 4000 "<" stays 4000 bytes, not
// 24000).
func Encode(f Frame) ([]byte, error) {
	f.setType()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode %T frame: %w", f, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
