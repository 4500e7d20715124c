package chat

import (
	"context"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// Caller is who sent a request, as the connection's authorizer context
// says: never what the frame claims.
type Caller struct {
	conversation.Participant
	Widget       string // customers: the widget they came through
	ConnectionID string
}

// Result is what a use case has for people: the reply to the caller, then
// frames for other connections in order, then follow-up work (assigning
// the queue, marking a notification done) whose own Result is delivered in
// turn. The client learns of its request before the follow-up runs.
type Result struct {
	Reply wire.Reply
	Out   []Delivery
	// Disconnect lists connections to close (past API Gateway's 2 hours).
	Disconnect []string
	// Strict makes a failed push (other than a gone connection) stop the
	// Result before Then runs, and Deliver return it: a stream record is
	// then retried rather than marked done.
	Strict bool
	Then   func(context.Context) (Result, error)
}

// Delivery is one frame for the connections of one party.
type Delivery struct {
	To            conversation.Participant
	Widget        string // customers: theirs, to forget a gone connection
	ConnectionIDs []string
	Frame         wire.Frame
	// Unreachable, when set, is run when every one of the connections
	// turned out gone (and was forgotten): the party cannot be reached.
	Unreachable func(context.Context) (Result, error)
}

// to is a delivery of f to a customer's connections (but skip).
func toCustomer(c *conversation.Conversation, conns []string, skip string, f wire.Frame) Delivery {
	return Delivery{To: c.Customer, Widget: c.Widget, ConnectionIDs: without(conns, skip), Frame: f}
}

// toAgent is a delivery of f to an agent's connections (but skip).
func toAgent(agent conversation.Participant, conns []string, skip string, f wire.Frame) Delivery {
	return Delivery{To: agent, ConnectionIDs: without(conns, skip), Frame: f}
}

func without(ids []string, skip string) []string {
	if skip == "" {
		return ids
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != skip {
			out = append(out, id)
		}
	}
	return out
}

// then chains f after r's own follow-up.
func (r Result) then(f func(context.Context) (Result, error)) Result {
	if f == nil {
		return r
	}
	prev := r.Then
	if prev == nil {
		r.Then = f
		return r
	}
	r.Then = func(ctx context.Context) (Result, error) {
		next, err := prev(ctx)
		if err != nil {
			return next, err
		}
		return next.then(f), nil
	}
	return r
}
