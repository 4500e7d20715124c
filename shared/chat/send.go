package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// Send stores a message, creating the customer's conversation on the first
// one, and delivers it to every other connection of both parties. A resend
// of the same clientMessageId gets the stored message back, delivered once.
func (s *Service) Send(ctx context.Context, c Caller, id wire.RequestID, m *wire.Send) (Result, error) {
	if c.Role == conversation.AgentRole && m.ConversationID == "" {
		return Result{}, wire.BadField("missing field conversationId") // agents have no default conversation
	}
	// The attempts get the deadline less what delivering takes, so a write
	// whose answer is late still leaves time to find out whether it landed
	// and to deliver it: its resend would be answered from the store and
	// never pushed (docs/protocol.md: stored and delivered once).
	wctx, cancel := context.WithDeadline(ctx, writeDeadline(ctx, time.Now()))
	defer cancel()
	var res sent
	err := retry(wctx, func() error {
		var err error
		res, err = s.trySend(wctx, c, m)
		return err
	})
	if err != nil && res.unsure {
		var landed bool
		if res, landed = s.landed(ctx, c, m, res); !landed {
			return Result{}, err
		}
		err = nil
	}
	if err != nil {
		return Result{}, err
	}
	conv, msg := res.c, res.m
	log := s.logger(ctx).With("conversationId", conv.ID)
	out := Result{Reply: &wire.Ack{RequestID: id, Message: ptr(wire.MessageOf(msg)), Conversation: wire.ConversationOf(conv)}}
	if res.duplicate {
		log.InfoContext(ctx, "duplicate send answered", "seq", msg.Seq, "clientMessageId", m.ClientMessageID)
		return out, nil
	}
	log.InfoContext(ctx, "message stored", "seq", msg.Seq, "created", res.created)

	cust, agent, err := s.store.Parties(ctx, conv)
	if err != nil {
		log.ErrorContext(ctx, "message stored but not delivered", "error", err.Error())
		return out, nil
	}
	event := &wire.MessageEvent{Message: wire.MessageOf(msg)}
	out.Out = append(out.Out, toCustomer(conv, cust.ConnectionIDs, c.ConnectionID, event))
	if agent != nil && conv.Agent != nil {
		out.Out = append(out.Out, toAgent(*conv.Agent, agent.ConnectionIDs, c.ConnectionID, event))
	}
	// A conversation that entered the queue is offered to the agents by the
	// conversations stream (route.Notify, AssignQueue), which retries until
	// it is done: a send's own deadline never leaves it unassigned.
	return out, nil
}

type sent struct {
	c         *conversation.Conversation
	m         conversation.Message
	ws        conversation.Workstream
	created   bool
	duplicate bool
	// unsure: the write of m failed with no word on whether it landed (a
	// timeout, a lost answer, a server error), so it may have, even later;
	// prev is the version it was conditioned on.
	unsure bool
	prev   int64
}

// deliverReserve is the part of a send's deadline kept for delivering, and
// for finding out first whether an unsure write landed: two reads, the
// parties' read and the pushes.
const deliverReserve = time.Second

// writeDeadline is when a send's attempts must be over: deliverReserve
// before ctx's deadline, or half the time left when that is shorter.
func writeDeadline(ctx context.Context, now time.Time) time.Time {
	deadline, ok := ctx.Deadline()
	if !ok {
		return now.Add(24 * time.Hour)
	}
	return deadline.Add(-min(deliverReserve, deadline.Sub(now)/2))
}

// landed finds out whether the unsure write of res.m landed: the
// conversation remembers the send, under the message id this request made.
// Then it is this request's to deliver, as if the write had answered. A
// write not there yet may still be on its way (a store answers late, but
// applies what it was sent): the conversation is fenced first, moved past
// the version the write was conditioned on, so that the answer is final and
// the client's resend is stored and delivered afresh.
func (s *Service) landed(ctx context.Context, c Caller, m *wire.Send, res sent) (sent, bool) {
	log := s.logger(ctx).With("conversationId", res.m.ConversationID)
	var conv *conversation.Conversation
	var seq int64
	for again := false; ; again = true {
		var err error
		if conv, err = s.store.Conversation(ctx, res.m.ConversationID); err != nil {
			if !errors.Is(err, conversation.ErrNotFound) {
				log.WarnContext(ctx, "unsure write not checked", "error", err.Error())
			}
			return res, false
		}
		var ok bool
		if seq, ok = conv.Resent(c.Participant, m.ClientMessageID); ok {
			break
		}
		if again || res.created || conv.Version != res.prev {
			// Past the version the write needed: it can no longer land.
			return res, false
		}
		if err := s.store.Fence(ctx, conv.ID, res.prev); err == nil {
			log.InfoContext(ctx, "unsure write fenced out", "version", res.prev)
			return res, false
		} else if !errors.Is(err, conversation.ErrStale) {
			log.WarnContext(ctx, "unsure write not fenced", "error", err.Error())
			return res, false
		}
		// The version moved between the read and the fence: perhaps by
		// the write itself. Look again.
	}
	stored, err := s.store.Message(ctx, conv.ID, seq)
	if err != nil {
		log.WarnContext(ctx, "unsure write not checked", "seq", seq, "error", err.Error())
		return res, false
	}
	if stored.ID != res.m.ID {
		// Another request stored this send (a resend racing this one):
		// the answer is that one's, and its request delivers it.
		return sent{c: conv, m: stored, duplicate: true}, true
	}
	log.InfoContext(ctx, "unsure write landed", "seq", seq)
	return sent{c: conv, m: stored, ws: res.ws, created: res.created}, true
}

// trySend is one read-move-write attempt of Send.
func (s *Service) trySend(ctx context.Context, c Caller, m *wire.Send) (sent, error) {
	var res sent
	var conv *conversation.Conversation
	var err error
	if m.ConversationID != "" {
		if conv, err = s.conversationFor(ctx, c, m.ConversationID); err != nil {
			return res, err
		}
		// A resend is answered from the conversation it went to, even one
		// closed since.
		if seq, ok := conv.Resent(c.Participant, m.ClientMessageID); ok {
			return s.resent(ctx, conv, seq)
		}
		// A customer writing into a conversation an agent ended starts a
		// new one (docs/protocol.md section 4); agents get conflict.
		if conv.Status == conversation.Closed && c.Role == conversation.Customer {
			conv = nil
		}
	}
	if conv == nil && c.Role == conversation.Customer {
		cust, err := s.store.Customer(ctx, c.Widget, c.ID)
		if err != nil {
			return res, err
		}
		if cust.OpenConversationID != "" {
			if conv, err = s.store.Conversation(ctx, cust.OpenConversationID); err != nil {
				return res, err
			}
		}
	}
	now := s.now()
	if conv == nil {
		w, err := s.widgets.get(ctx, c.Widget)
		if err != nil {
			return res, fmt.Errorf("widget %s: %w", c.Widget, err)
		}
		if res.ws, err = s.workstreams.get(ctx, w.Workstream); err != nil {
			return res, err
		}
		if conv, err = conversation.Start(conversation.NewConversationID(), res.ws, c.Widget, c.Participant, now); err != nil {
			if errors.Is(err, conversation.ErrOutsideHours) {
				return res, wire.Public("we are closed right now; please come back during opening hours", err)
			}
			return res, err
		}
		res.created = true
	} else if res.ws, err = s.workstreams.get(ctx, conv.Workstream); err != nil {
		return res, err
	}

	prev := conv.Version
	eff, err := conv.Send(c.Participant, m.ClientMessageID, res.ws, now)
	var resent *conversation.ResentError
	if errors.As(err, &resent) {
		return s.resent(ctx, conv, resent.Seq)
	}
	if err != nil {
		if errors.Is(err, conversation.ErrConflict) && c.Role == conversation.AgentRole {
			return res, wire.Public(fmt.Sprintf("conversation is %s; pick it up first", conv.Status), err)
		}
		return res, err
	}
	res.m = conversation.Message{ID: conversation.NewMessageID(), ConversationID: conv.ID, Seq: eff.Seq,
		ClientMessageID: m.ClientMessageID, Sender: c.Participant, Text: m.Text, At: now}
	// The newest message is previewed on the conversation, and its sender
	// has read what it wrote: both ride on the write the send makes anyway.
	conv.LastMessage = conversation.PreviewOf(res.m)
	read := conversation.ReadMark{Role: c.Role, Seq: eff.Seq}
	conv.Mark(read)
	if err := s.store.Apply(ctx, conversation.Change{Conversation: conv, PrevVersion: prev, Create: res.created, Message: &res.m, Read: &read}); err != nil {
		// A lost race or a refusal wrote nothing; anything else may have.
		res.unsure = !errors.Is(err, conversation.ErrStale) && !errors.Is(err, conversation.ErrNoCapacity)
		res.prev = prev
		return res, err
	}
	res.c = conv
	return res, nil
}

// resent answers a resend with the message its first send stored.
func (s *Service) resent(ctx context.Context, conv *conversation.Conversation, seq int64) (sent, error) {
	m, err := s.store.Message(ctx, conv.ID, seq)
	if err != nil {
		return sent{}, fmt.Errorf("answer a resend: %w", err)
	}
	return sent{c: conv, m: m, duplicate: true}, nil
}

func ptr[T any](v T) *T { return &v }
