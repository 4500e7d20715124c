package wire

import (
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

// TimeLayout is how every time travels: UTC, milliseconds, a Z.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Time formats t for a frame; the zero time is "".
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// ParseTime reads a time written by Time; "" and anything else that does not
// parse is the zero time.
func ParseTime(s string) time.Time {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Person is a customer or an agent as a conversation names them.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Conversation is the Conversation object of docs/protocol.md section 3.
type Conversation struct {
	ID         string  `json:"id"`
	Mode       string  `json:"mode"`
	Workstream string  `json:"workstream"`
	Widget     string  `json:"widget"`
	Status     string  `json:"status"`
	Customer   Person  `json:"customer"`
	Agent      *Person `json:"agent"` // null until assigned
	LastSeq    int64   `json:"lastSeq"`
	CreatedAt  string  `json:"createdAt"`
	UpdatedAt  string  `json:"updatedAt"`
	ClosedAt   string  `json:"closedAt,omitempty"` // closed only
	ClosedBy   string  `json:"closedBy,omitempty"` // closed only
	// Read is how far each party has read; LastMessage previews the newest
	// message (null before the first).
	Read        ReadMarks `json:"read"`
	LastMessage *Preview  `json:"lastMessage"`
}

// ReadMarks are the highest seq each party has read.
type ReadMarks struct {
	Customer int64 `json:"customer"`
	Agent    int64 `json:"agent"`
}

// Preview is the newest message as a conversation list shows it: its text
// cut to conversation.PreviewRunes characters.
type Preview struct {
	Seq    int64  `json:"seq"`
	Sender Sender `json:"sender"`
	Text   string `json:"text"`
	At     string `json:"at"`
}

// ConversationOf is c on the wire; nil is null.
func ConversationOf(c *conversation.Conversation) *Conversation {
	if c == nil {
		return nil
	}
	w := &Conversation{
		ID: c.ID, Mode: string(c.Mode), Workstream: c.Workstream, Widget: c.Widget, Status: string(c.Status),
		Customer: Person{ID: c.Customer.ID, Name: c.Customer.Name}, LastSeq: c.LastSeq,
		CreatedAt: Time(c.CreatedAt), UpdatedAt: Time(c.UpdatedAt),
		Read: ReadMarks{Customer: c.CustomerReadSeq, Agent: c.AgentReadSeq},
	}
	if p := c.LastMessage; p != nil {
		w.LastMessage = &Preview{Seq: p.Seq, Text: p.Text, At: Time(p.At),
			Sender: Sender{Role: string(p.Sender.Role), ID: p.Sender.ID, Name: p.Sender.Name}}
	}
	if c.Agent != nil {
		w.Agent = &Person{ID: c.Agent.ID, Name: c.Agent.Name}
	}
	if c.Status == conversation.Closed {
		w.ClosedAt, w.ClosedBy = Time(c.ClosedAt), string(c.ClosedBy)
	}
	return w
}

// ConversationsOf is cs on the wire, never null.
func ConversationsOf(cs []*conversation.Conversation) []*Conversation {
	out := make([]*Conversation, 0, len(cs))
	for _, c := range cs {
		out = append(out, ConversationOf(c))
	}
	return out
}

// Sender is who wrote a message.
type Sender struct {
	Role string `json:"role"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Message is the Message object of docs/protocol.md section 3.
type Message struct {
	ID              string `json:"id"`
	ConversationID  string `json:"conversationId"`
	Seq             int64  `json:"seq"`
	ClientMessageID string `json:"clientMessageId"`
	Sender          Sender `json:"sender"`
	Text            string `json:"text"`
	At              string `json:"at"`
}

// MessageOf is m on the wire.
func MessageOf(m conversation.Message) Message {
	return Message{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, ClientMessageID: m.ClientMessageID,
		Sender: Sender{Role: string(m.Sender.Role), ID: m.Sender.ID, Name: m.Sender.Name}, Text: m.Text, At: Time(m.At)}
}

// MessagesOf is ms on the wire, never null.
func MessagesOf(ms []conversation.Message) []Message {
	out := make([]Message, 0, len(ms))
	for _, m := range ms {
		out = append(out, MessageOf(m))
	}
	return out
}

// AgentState is an agent's capacity and presence, as its session and its
// presence ack show them.
type AgentState struct {
	Capacity int    `json:"capacity"`
	Used     int    `json:"used"`
	Presence string `json:"presence"`
}

// AgentStateOf is a on the wire.
func AgentStateOf(a conversation.Agent) AgentState {
	return AgentState{Capacity: a.Capacity, Used: a.Used, Presence: string(a.CurrentPresence())}
}

// Party names one side of a conversation in typing and read events.
type Party struct {
	Role string `json:"role"`
	ID   string `json:"id"`
}

// PartyOf is p on the wire.
func PartyOf(p conversation.Participant) Party { return Party{Role: string(p.Role), ID: p.ID} }
