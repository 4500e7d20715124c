package conversation

import (
	"errors"
	"fmt"
	"time"
)

// Connection is one open WebSocket connection of a customer or an agent, as
// $connect records it.
type Connection struct {
	ID          string
	Role        Role
	UserID      string
	Name        string
	Widget      string // customers only: the widget they came through
	ConnectedAt time.Time
}

// CustomerState is what Parley keeps of one customer of one widget: the open
// conversation a later connection finds again, and the connections a message
// goes to. Customer ids are the embedding website's, so the same id on
// another widget is another person.
type CustomerState struct {
	Widget, ID, Name   string
	OpenConversationID string
	// LastConversationID is the conversation closed last, shown to a
	// returning customer who has none open.
	LastConversationID string
	ConnectionIDs      []string
	LastConnectedAt    time.Time
	LastDisconnectedAt time.Time
}

// Widget is a widget's configuration: the workstream its conversations go
// to, and whom it trusts to vouch for customers (the embedding website's
// token issuer and its JWKS).
type Widget struct {
	ID             string   `json:"id"`
	Workstream     string   `json:"workstream"`
	Issuer         string   `json:"issuer"`
	JWKSURL        string   `json:"jwksUrl"`
	AllowedOrigins []string `json:"allowedOrigins,omitempty"`
}

// AgentDefaults are applied to an agent the first time it connects.
type AgentDefaults struct {
	Capacity int `json:"capacity"`
}

// Page selects messages of a conversation by seq.
type Page struct {
	Forward   bool  // messages with seq > AfterSeq, oldest first
	AfterSeq  int64 // with Forward
	BeforeSeq int64 // > 0: the newest messages with seq < BeforeSeq
	Limit     int   // how many at most
}

// CapacityChange is what a move does to an agent's used capacity; the store
// writes it in the same transaction as the conversation, so capacity and
// conversations never disagree. The zero value changes nothing.
type CapacityChange struct {
	AgentID string
	Units   int // > 0 takes capacity, < 0 frees it
	// Max is the highest `used` may be before taking Units (capacity − units);
	// the write fails with ErrNoCapacity past it.
	Max int
	// RequireAvailable also requires the agent to be available and online
	// (assignment), as opposed to an agent acting on its own (pickup).
	RequireAvailable bool
}

// None reports whether the change leaves capacity as it is.
func (c CapacityChange) None() bool { return c.Units == 0 }

// take is the change that gives c's units to agent, which may use at most
// its capacity.
func take(c *Conversation, agent Agent, requireAvailable bool) CapacityChange {
	return CapacityChange{AgentID: agent.ID, Units: c.Units, Max: agent.Capacity - c.Units, RequireAvailable: requireAvailable}
}

// release is the change that gives c's units back to its agent, if it held
// any before the move (held).
func release(c *Conversation, agentID string, held bool) CapacityChange {
	if !held || agentID == "" {
		return CapacityChange{}
	}
	return CapacityChange{AgentID: agentID, Units: -c.Units}
}

// Change is one atomic change of a conversation: nothing of it is written
// unless all of it is.
type Change struct {
	// Conversation is the new state. Its Version must be PrevVersion+1; a
	// concurrent change makes the write fail with ErrStale.
	Conversation *Conversation
	PrevVersion  int64
	Create       bool // a new conversation: also points the customer's open conversation at it
	Message      *Message
	Capacity     CapacityChange
	// ClearOpen clears the customer's open-conversation pointer (close),
	// and keeps the conversation as the customer's last one.
	ClearOpen bool
	// Read raises one party's read mark with the change (a sender has read
	// what it wrote); the other party's mark is left as it is.
	Read *ReadMark
}

// ErrStale reports a write that lost a race: the conversation changed since
// it was read, or the customer meanwhile got another open conversation. The
// caller reads again and retries; it is also an ErrConflict.
var ErrStale = fmt.Errorf("changed concurrently: %w", ErrConflict)

// ErrDuplicate reports a send whose (sender, clientMessageId) was already
// stored; the DuplicateError carries the stored message.
var ErrDuplicate = errors.New("duplicate message")

// DuplicateError is returned (wrapping ErrDuplicate) when a send repeats a
// clientMessageId; Message is the one stored the first time.
type DuplicateError struct{ Message Message }

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("message %s already stored as seq %d", e.Message.ClientMessageID, e.Message.Seq)
}

// Unwrap makes errors.Is(err, ErrDuplicate) hold.
func (e *DuplicateError) Unwrap() error { return ErrDuplicate }
