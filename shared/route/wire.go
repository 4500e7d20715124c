package route

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

// The wire shapes of docs/protocol.md section 3, spelled exactly as it spells them.

type wirePerson struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type wireConversation struct {
	ID         string      `json:"id"`
	Mode       string      `json:"mode"`
	Workstream string      `json:"workstream"`
	Widget     string      `json:"widget"`
	Status     string      `json:"status"`
	Customer   wirePerson  `json:"customer"`
	Agent      *wirePerson `json:"agent"`
	LastSeq    int64       `json:"lastSeq"`
	CreatedAt  string      `json:"createdAt"`
	UpdatedAt  string      `json:"updatedAt"`
	ClosedAt   string      `json:"closedAt,omitempty"`
	ClosedBy   string      `json:"closedBy,omitempty"`
}

type wireSender struct {
	Role string `json:"role"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

type wireMessage struct {
	ID              string     `json:"id"`
	ConversationID  string     `json:"conversationId"`
	Seq             int64      `json:"seq"`
	ClientMessageID string     `json:"clientMessageId"`
	Sender          wireSender `json:"sender"`
	Text            string     `json:"text"`
	At              string     `json:"at"`
}

type wireAgentState struct {
	Capacity int    `json:"capacity"`
	Used     int    `json:"used"`
	Presence string `json:"presence"`
}

type wireParty struct {
	Role string `json:"role"`
	ID   string `json:"id"`
}

func wireTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func toWire(c *conversation.Conversation) *wireConversation {
	if c == nil {
		return nil
	}
	w := &wireConversation{
		ID: c.ID, Mode: string(c.Mode), Workstream: c.Workstream, Widget: c.Widget, Status: string(c.Status),
		Customer: wirePerson{ID: c.Customer.ID, Name: c.Customer.Name}, LastSeq: c.LastSeq,
		CreatedAt: wireTime(c.CreatedAt), UpdatedAt: wireTime(c.UpdatedAt),
	}
	if c.Agent != nil {
		w.Agent = &wirePerson{ID: c.Agent.ID, Name: c.Agent.Name}
	}
	if c.Status == conversation.Closed {
		w.ClosedAt, w.ClosedBy = wireTime(c.ClosedAt), string(c.ClosedBy)
	}
	return w
}

func toWireConversations(cs []*conversation.Conversation) []*wireConversation {
	out := make([]*wireConversation, 0, len(cs))
	for _, c := range cs {
		out = append(out, toWire(c))
	}
	return out
}

func toWireMessage(m conversation.Message) wireMessage {
	return wireMessage{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, ClientMessageID: m.ClientMessageID,
		Sender: wireSender{Role: string(m.Sender.Role), ID: m.Sender.ID, Name: m.Sender.Name}, Text: m.Text, At: wireTime(m.At)}
}

func toWireMessages(ms []conversation.Message) []wireMessage {
	out := make([]wireMessage, 0, len(ms))
	for _, m := range ms {
		out = append(out, toWireMessage(m))
	}
	return out
}

func toWireAgent(a conversation.Agent) wireAgentState {
	return wireAgentState{Capacity: a.Capacity, Used: a.Used, Presence: string(a.Presence)}
}

// frame is a server-to-client frame: "type", the request's id when it is a
// reply, and the fields of that type.
type frame map[string]any

func reply(typ string, requestID any, fields frame) []byte {
	f := frame{"type": typ}
	if requestID != nil {
		f["requestId"] = requestID
	}
	for k, v := range fields {
		f[k] = v
	}
	b, _ := json.Marshal(f)
	return b
}

// code is the one place Go errors meet protocol error codes (docs/protocol.md 2).
func code(err error) string {
	switch {
	case errors.Is(err, conversation.ErrInvalid):
		return "bad_request"
	case errors.Is(err, conversation.ErrNotFound):
		return "not_found"
	case errors.Is(err, conversation.ErrNotAllowed):
		return "forbidden"
	case errors.Is(err, conversation.ErrConflict):
		return "conflict"
	case errors.Is(err, conversation.ErrNoCapacity):
		return "no_capacity"
	case errors.Is(err, conversation.ErrOutsideHours):
		return "outside_hours"
	case errors.Is(err, conversation.ErrTooLarge):
		return "too_large"
	case errors.Is(err, errUnknownAction):
		return "unknown_action"
	case errors.Is(err, errUnauthorized):
		return "unauthorized"
	default:
		return "internal"
	}
}

var (
	errUnknownAction = errors.New("unknown action")
	errUnauthorized  = errors.New("unauthorized")
)

// clientMessage is the text a client sees for err: the domain's own words
// for refusals, nothing internal for failures.
func clientMessage(err error) string {
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		return fe.msg
	case errors.Is(err, conversation.ErrNotFound):
		return "conversation not found"
	case code(err) == "internal":
		return "something went wrong; try again"
	}
	return publicText(err)
}

// publicText is the outermost context of a domain error, which the domain
// writes for people ("persistent conversations can only be ended by an agent").
func publicText(err error) string {
	var pe *publicError
	if errors.As(err, &pe) {
		return pe.msg
	}
	switch {
	case errors.Is(err, conversation.ErrNotAllowed):
		return "not allowed"
	case errors.Is(err, conversation.ErrConflict):
		return "the conversation is not in a state that allows this"
	case errors.Is(err, conversation.ErrNoCapacity):
		return "no free capacity"
	case errors.Is(err, conversation.ErrOutsideHours):
		return "outside operating hours"
	}
	return err.Error()
}

// publicError carries a message meant for the client.
type publicError struct {
	msg string
	err error
}

func (e *publicError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *publicError) Unwrap() error { return e.err }

func public(msg string, err error) error { return &publicError{msg: msg, err: err} }

// fieldError is a bad_request about one field of the frame.
type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }
func (e *fieldError) Unwrap() error { return conversation.ErrInvalid }

func badField(msg string) error { return &fieldError{msg: msg} }
