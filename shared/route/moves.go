package route

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

// moveFunc applies a domain move to c (read fresh) and says what else the
// write must change atomically with it.
type moveFunc func(c *conversation.Conversation, now time.Time) (conversation.Change, error)

// move runs a read-move-write cycle on a conversation of the caller,
// retrying when a concurrent request changed it in between.
func (a *App) move(ctx context.Context, r *request, f moveFunc) (*conversation.Conversation, conversation.Change, error) {
	id, err := r.str("conversationId", true)
	if err != nil {
		return nil, conversation.Change{}, err
	}
	for attempt := 1; ; attempt++ {
		c, err := a.conversationFor(ctx, r, id)
		if err != nil {
			return nil, conversation.Change{}, err
		}
		prev := c.Version
		ch, err := f(c, a.now())
		if err != nil {
			return nil, conversation.Change{}, err
		}
		ch.Conversation, ch.PrevVersion = c, prev
		err = a.store.Apply(ctx, ch)
		if err == nil {
			r.log.InfoContext(ctx, "conversation moved", "conversationId", c.ID, "action", r.action, "status", c.Status)
			return c, ch, nil
		}
		if !retryable(err) || attempt == maxAttempts {
			return nil, conversation.Change{}, err
		}
	}
}

// park sets an active conversation aside; its capacity is free at once and
// goes to the next queued conversation.
func (a *App) park(ctx context.Context, r *request) ([]byte, error) {
	c, _, err := a.move(ctx, r, func(c *conversation.Conversation, now time.Time) (conversation.Change, error) {
		freed, err := c.Park(r.who, now)
		if err != nil {
			return conversation.Change{}, err
		}
		return conversation.Change{Capacity: freed}, nil
	})
	if err != nil {
		return nil, err
	}
	a.respond(ctx, r, reply("ack", r.requestID, frame{"conversation": toWire(c)}))
	a.assignAll(ctx, r.log)
	return nil, nil
}

// pickup takes a waiting or returned conversation back to active, if the
// agent has the capacity for it.
func (a *App) pickup(ctx context.Context, r *request) ([]byte, error) {
	c, _, err := a.move(ctx, r, func(c *conversation.Conversation, now time.Time) (conversation.Change, error) {
		ag, err := a.store.Agent(ctx, r.who.ID)
		if err != nil {
			return conversation.Change{}, err
		}
		took, err := c.Pickup(r.who, ag, now)
		if err != nil {
			if errors.Is(err, conversation.ErrNoCapacity) {
				return conversation.Change{}, public("no free capacity: park or close a conversation first", err)
			}
			return conversation.Change{}, err
		}
		return conversation.Change{Capacity: took}, nil
	})
	if errors.Is(err, conversation.ErrNoCapacity) && !errors.As(err, new(*publicError)) {
		err = public("no free capacity: park or close a conversation first", err)
	}
	if err != nil {
		return nil, err
	}
	return reply("ack", r.requestID, frame{"conversation": toWire(c)}), nil
}

// close ends a conversation. Persistent ones only by their agent.
func (a *App) close(ctx context.Context, r *request) ([]byte, error) {
	freedAny := false
	c, _, err := a.move(ctx, r, func(c *conversation.Conversation, now time.Time) (conversation.Change, error) {
		freed, err := c.Close(r.who, now)
		if err != nil {
			if errors.Is(err, conversation.ErrNotAllowed) && c.Mode == conversation.Persistent {
				return conversation.Change{}, public("persistent conversations can only be ended by an agent", err)
			}
			if errors.Is(err, conversation.ErrConflict) {
				return conversation.Change{}, public("conversation is already closed", err)
			}
			return conversation.Change{}, err
		}
		freedAny = !freed.None()
		return conversation.Change{ClearOpen: true, Capacity: freed}, nil
	})
	if err != nil {
		return nil, err
	}
	a.respond(ctx, r, reply("ack", r.requestID, frame{"conversation": toWire(c)}))
	if freedAny {
		a.assignAll(ctx, r.log)
	}
	return nil, nil
}

// presence sets an agent available or away; going available pulls queued
// conversations.
func (a *App) presence(ctx context.Context, r *request) ([]byte, error) {
	if r.who.Role != conversation.AgentRole {
		return nil, public("only agents have a presence", conversation.ErrNotAllowed)
	}
	s, err := r.str("status", true)
	if err != nil {
		return nil, err
	}
	p := conversation.Presence(s)
	if p != conversation.Available && p != conversation.Away {
		return nil, badField(`status must be "available" or "away"`)
	}
	ag, err := a.store.SetPresence(ctx, r.who.ID, p)
	if err != nil {
		return nil, err
	}
	r.log.InfoContext(ctx, "presence set", "presence", p)
	a.respond(ctx, r, reply("ack", r.requestID, frame{"agent": toWireAgent(ag)}))
	if p == conversation.Available {
		a.assignAll(ctx, r.log)
	}
	return nil, nil
}
