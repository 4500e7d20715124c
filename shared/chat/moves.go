package chat

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// moveFunc applies a domain move to c (read fresh) and says what else the
// write must change atomically with it.
type moveFunc func(c *conversation.Conversation, now time.Time) (conversation.Change, error)

// move runs a read-move-write cycle on a conversation of the caller,
// retried under the one policy when a concurrent request changed it.
func (s *Service) move(ctx context.Context, c Caller, id, action string, f moveFunc) (*conversation.Conversation, conversation.Change, error) {
	var conv *conversation.Conversation
	var ch conversation.Change
	err := retry(ctx, func() error {
		var err error
		if conv, err = s.conversationFor(ctx, c, id); err != nil {
			return err
		}
		prev := conv.Version
		if ch, err = f(conv, s.now()); err != nil {
			return err
		}
		ch.Conversation, ch.PrevVersion = conv, prev
		return s.store.Apply(ctx, ch)
	})
	if err != nil {
		return nil, conversation.Change{}, err
	}
	s.logger(ctx).InfoContext(ctx, "conversation moved", "conversationId", conv.ID, "action", action, "status", conv.Status)
	return conv, ch, nil
}

// Park sets an active conversation aside; its capacity is free at once and
// goes to the next queued conversation.
func (s *Service) Park(ctx context.Context, c Caller, id wire.RequestID, p *wire.Park) (Result, error) {
	conv, _, err := s.move(ctx, c, p.ConversationID, "park", func(conv *conversation.Conversation, now time.Time) (conversation.Change, error) {
		freed, err := conv.Park(c.Participant, now)
		return conversation.Change{Capacity: freed}, err
	})
	if err != nil {
		return Result{}, err
	}
	// The freed capacity goes to the queue through the conversations stream
	// (AssignQueue).
	return Result{Reply: &wire.Ack{RequestID: id, Conversation: wire.ConversationOf(conv)}}, nil
}

// Pickup takes a waiting or returned conversation back to active, if the
// agent has the capacity for it.
func (s *Service) Pickup(ctx context.Context, c Caller, id wire.RequestID, p *wire.Pickup) (Result, error) {
	conv, _, err := s.move(ctx, c, p.ConversationID, "pickup", func(conv *conversation.Conversation, now time.Time) (conversation.Change, error) {
		ag, err := s.store.Agent(ctx, c.ID)
		if err != nil {
			return conversation.Change{}, err
		}
		took, err := conv.Pickup(c.Participant, ag, now)
		return conversation.Change{Capacity: took}, err
	})
	if errors.Is(err, conversation.ErrNoCapacity) {
		err = wire.Public("no free capacity: park or close a conversation first", err)
	}
	if err != nil {
		return Result{}, err
	}
	return Result{Reply: &wire.Ack{RequestID: id, Conversation: wire.ConversationOf(conv)}}, nil
}

// Close ends a conversation; persistent ones only by their agent.
func (s *Service) Close(ctx context.Context, c Caller, id wire.RequestID, cl *wire.Close) (Result, error) {
	conv, _, err := s.move(ctx, c, cl.ConversationID, "close", func(conv *conversation.Conversation, now time.Time) (conversation.Change, error) {
		freed, err := conv.Close(c.Participant, now)
		switch {
		case errors.Is(err, conversation.ErrNotAllowed) && conv.Mode == conversation.Persistent:
			err = wire.Public("persistent conversations can only be ended by an agent", err)
		case errors.Is(err, conversation.ErrConflict):
			err = wire.Public("conversation is already closed", err)
		}
		return conversation.Change{ClearOpen: true, Capacity: freed}, err
	})
	if err != nil {
		return Result{}, err
	}
	// Freed capacity goes to the queue through the conversations stream.
	return Result{Reply: &wire.Ack{RequestID: id, Conversation: wire.ConversationOf(conv)}}, nil
}

// Presence sets an agent available or away; going available pulls queued
// conversations.
func (s *Service) Presence(ctx context.Context, c Caller, id wire.RequestID, p *wire.Presence) (Result, error) {
	ag, err := s.store.SetPresence(ctx, c.ID, p.Status)
	if err != nil {
		return Result{}, err
	}
	s.logger(ctx).InfoContext(ctx, "presence set", "presence", p.Status)
	out := Result{Reply: &wire.Ack{RequestID: id, Agent: ptr(wire.AgentStateOf(ag))}}
	// An agent's record has no stream: its becoming available offers it
	// the queues here (and the sweep goes on where this is cut short).
	if p.Status == conversation.Available {
		out = out.then(s.thenAssignAll)
	}
	return out, nil
}

func (s *Service) thenAssignAll(ctx context.Context) (Result, error) { return s.assignAll(ctx), nil }
