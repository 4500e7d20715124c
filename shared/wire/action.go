package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/parley-chat/parley/shared/conversation"
)

// Action is a client action, the API Gateway route key of its frame
// (docs/protocol.md section 4).
type Action string

// The actions, spelled as docs/protocol.md section 4 spells them.
const (
	ActionHello    Action = "hello"
	ActionSend     Action = "send"
	ActionHistory  Action = "history"
	ActionTyping   Action = "typing"
	ActionRead     Action = "read"
	ActionPark     Action = "park"
	ActionPickup   Action = "pickup"
	ActionClose    Action = "close"
	ActionPresence Action = "presence"
	ActionPing     Action = "ping"
)

// Actions are every action, in the order docs/protocol.md lists them.
var Actions = []Action{ActionHello, ActionSend, ActionHistory, ActionTyping, ActionRead,
	ActionPark, ActionPickup, ActionClose, ActionPresence, ActionPing}

// AgentOnly reports whether only agents may take action a: a customer's
// request for it is forbidden before anything is looked up.
func (a Action) AgentOnly() bool {
	return a == ActionPark || a == ActionPickup || a == ActionPresence
}

// RequestID is a request's requestId, opaque, echoed in its reply exactly as
// the client wrote it; nil when the frame had none.
type RequestID = json.RawMessage

// Request is a client frame: its action, its requestId, and its fields
// decoded into the action's own type (*Hello, *Send, ...).
type Request struct {
	Action Action
	ID     RequestID
	Body   any
}

// Hello opens a session (docs/protocol.md section 4).
type Hello struct {
	LastSeq    int64
	HasLastSeq bool // customers: resume after LastSeq
}

// Send stores a message.
type Send struct {
	ConversationID  string // customers may leave it out: their open conversation
	ClientMessageID string
	Text            string
}

// History pages through a conversation's messages.
type History struct {
	ConversationID string
	BeforeSeq      int64 // with HasBefore: messages before it, newest first cut
	HasBefore      bool
	AfterSeq       int64 // with HasAfter: messages after it
	HasAfter       bool
	Limit          int // 1 to conversation.MaxHistoryLimit
}

// Typing says the caller is (or stopped) typing.
type Typing struct {
	ConversationID string
	Typing         bool
}

// Read records how far the caller has read.
type Read struct {
	ConversationID string
	Seq            int64
}

// Park sets an active conversation aside.
type Park struct{ ConversationID string }

// Pickup takes a waiting or returned conversation back.
type Pickup struct{ ConversationID string }

// Close ends a conversation.
type Close struct{ ConversationID string }

// Presence sets an agent available or away.
type Presence struct{ Status conversation.Presence }

// Ping keeps a connection alive.
type Ping struct{}

// Decode reads one client frame: a JSON object with its action's fields.
// A frame that is not a JSON object, an action the protocol does not have,
// or a field that is missing, mistyped or out of its limits is an error
// (bad_request or unknown_action) naming what is wrong; the Request it
// returns then still carries the requestId, for the error frame.
func Decode(frame []byte) (Request, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(frame, &fields); err != nil || fields == nil {
		return Request{}, BadField("frame is not a JSON object")
	}
	f := reader(fields)
	req := Request{ID: f.requestID()}
	raw, ok := fields["action"]
	if !ok {
		return req, BadField("missing field action")
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return req, BadField("action must be a string")
	}
	req.Action = Action(name)
	body, err := f.decode(req.Action)
	req.Body = body
	return req, err
}

func (f reader) decode(a Action) (any, error) {
	switch a {
	case ActionHello:
		seq, has, err := f.int("lastSeq", false)
		if err == nil && seq < 0 {
			err = BadField("lastSeq must be 0 or more")
		}
		return &Hello{LastSeq: seq, HasLastSeq: has}, err
	case ActionSend:
		return f.send()
	case ActionHistory:
		return f.history()
	case ActionTyping:
		id, err := f.str("conversationId", true)
		if err != nil {
			return &Typing{}, err
		}
		on, err := f.bool("typing")
		return &Typing{ConversationID: id, Typing: on}, err
	case ActionRead:
		id, err := f.str("conversationId", true)
		if err != nil {
			return &Read{}, err
		}
		seq, _, err := f.int("seq", true)
		if err == nil && seq < 0 {
			err = BadField("seq must be 0 or more")
		}
		return &Read{ConversationID: id, Seq: seq}, err
	case ActionPark:
		id, err := f.str("conversationId", true)
		return &Park{ConversationID: id}, err
	case ActionPickup:
		id, err := f.str("conversationId", true)
		return &Pickup{ConversationID: id}, err
	case ActionClose:
		id, err := f.str("conversationId", true)
		return &Close{ConversationID: id}, err
	case ActionPresence:
		s, err := f.str("status", true)
		if err != nil {
			return &Presence{}, err
		}
		p, err := conversation.ParsePresence(s)
		if err != nil {
			return &Presence{}, BadField(fmt.Sprintf("status must be %q or %q", conversation.Available, conversation.Away))
		}
		return &Presence{Status: p}, nil
	case ActionPing:
		return &Ping{}, nil
	}
	return nil, Public(fmt.Sprintf("unknown action %q", truncate(string(a), 64)), ErrUnknownAction)
}

func (f reader) send() (*Send, error) {
	s := &Send{}
	var err error
	if s.ConversationID, err = f.str("conversationId", false); err != nil {
		return s, err
	}
	if s.ClientMessageID, err = f.str("clientMessageId", true); err != nil {
		return s, err
	}
	if conversation.ValidateClientMessageID(s.ClientMessageID) != nil {
		return s, BadField(fmt.Sprintf("clientMessageId must be 1-%d characters", conversation.MaxClientMessageIDRunes))
	}
	if s.Text, err = f.str("text", true); err != nil {
		return s, err
	}
	if conversation.ValidateText(s.Text) != nil {
		return s, BadField(fmt.Sprintf("text must be 1-%d characters and not blank", conversation.MaxTextRunes))
	}
	return s, nil
}

func (f reader) history() (*History, error) {
	h := &History{Limit: conversation.DefaultHistoryLimit}
	var err error
	if h.ConversationID, err = f.str("conversationId", true); err != nil {
		return h, err
	}
	if h.BeforeSeq, h.HasBefore, err = f.int("beforeSeq", false); err != nil {
		return h, err
	}
	if h.AfterSeq, h.HasAfter, err = f.int("afterSeq", false); err != nil {
		return h, err
	}
	if h.HasBefore && h.HasAfter {
		return h, BadField("give beforeSeq or afterSeq, not both")
	}
	if h.BeforeSeq < 0 || h.AfterSeq < 0 {
		return h, BadField("beforeSeq and afterSeq must be 0 or more")
	}
	limit, has, err := f.int("limit", false)
	if err != nil {
		return h, err
	}
	if has {
		if limit < 1 || limit > conversation.MaxHistoryLimit {
			return h, BadField(fmt.Sprintf("limit must be 1-%d", conversation.MaxHistoryLimit))
		}
		h.Limit = int(limit)
	}
	return h, nil
}

// reader reads a frame's fields; a missing required field or a mistyped
// one is a bad_request naming it.
type reader map[string]json.RawMessage

func (f reader) has(name string) bool {
	raw, ok := f[name]
	return ok && string(bytes.TrimSpace(raw)) != "null"
}

func (f reader) requestID() RequestID {
	if !f.has("requestId") {
		return nil
	}
	return bytes.TrimSpace(f["requestId"])
}

func (f reader) str(name string, required bool) (string, error) {
	if !f.has(name) {
		if required {
			return "", BadField("missing field " + name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(f[name], &s); err != nil {
		return "", BadField(name + " must be a string")
	}
	return s, nil
}

func (f reader) int(name string, required bool) (int64, bool, error) {
	if !f.has(name) {
		if required {
			return 0, false, BadField("missing field " + name)
		}
		return 0, false, nil
	}
	var n float64
	if err := json.Unmarshal(f[name], &n); err != nil || n != float64(int64(n)) {
		return 0, false, BadField(name + " must be an integer")
	}
	return int64(n), true, nil
}

func (f reader) bool(name string) (bool, error) {
	if !f.has(name) {
		return false, BadField("missing field " + name)
	}
	var b bool
	if err := json.Unmarshal(f[name], &b); err != nil {
		return false, BadField(name + " must be a boolean")
	}
	return b, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
