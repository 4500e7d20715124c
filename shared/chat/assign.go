package chat

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

const (
	// queueBatch is how many queued conversations one read of the queue
	// offers to agents; a pass reads on while agents have room.
	queueBatch = 25
	// maxQueuePages bounds one pass over a workstream's queue.
	maxQueuePages = 40
	// maxAssignAttempts bounds the tries for one conversation that keeps
	// changing under the assigner or whose agent was just taken.
	maxAssignAttempts = 8
)

// agents is the assigner's view of the online agents, read once per pass
// and kept up to date with what the pass assigns; nil list means not read.
type agents struct {
	list []conversation.Agent
	read bool
}

func (s *Service) refresh(ctx context.Context, pool *agents) error {
	list, err := s.store.OnlineAgents(ctx)
	if err != nil {
		return fmt.Errorf("list online agents: %w", err)
	}
	pool.list, pool.read = list, true
	return nil
}

// assignAll offers every workstream's queue to the available agents: after
// an agent becomes available (its record has no stream to say so).
func (s *Service) assignAll(ctx context.Context) Result {
	wss, err := s.all.get(ctx, struct{}{})
	if err != nil {
		s.logger(ctx).ErrorContext(ctx, "list workstreams", "error", err.Error())
		return Result{}
	}
	var pool agents
	for _, ws := range wss {
		if _, _, err := s.assignWorkstream(ctx, ws, &pool); err != nil {
			s.logger(ctx).WarnContext(ctx, "assignment cut short; the sweep will go on", "workstream", ws.ID, "error", err.Error())
		}
	}
	return Result{}
}

// AssignQueue assigns a workstream's queue after a conversation changed in
// a way that may allow it (conversation.AssignmentPossible): it entered the
// queue or freed capacity. The conversations stream calls it for every such
// change, and retries it when it fails, so no change that could assign a
// conversation is lost. The live conversations among newlyQueued that are
// still waiting afterwards are told where they stand.
func (s *Service) AssignQueue(ctx context.Context, workstream string, newlyQueued []*conversation.Conversation) (Result, error) {
	ws, err := s.workstreams.get(ctx, workstream)
	if err != nil {
		return Result{}, err
	}
	var pool agents
	seen, assigned, err := s.assignWorkstream(ctx, ws, &pool)
	if err != nil {
		return Result{}, err
	}
	var out Result
	for _, c := range newlyQueued {
		if slices.Contains(assigned, c.ID) {
			continue
		}
		// The queue index may not show c yet (a global index is eventually
		// consistent): offer c itself when the pass did not see it.
		if !slices.Contains(seen, c.ID) && pool.read {
			if open, err := ws.Hours.Open(s.now()); err == nil && open {
				if fresh, err := s.store.Conversation(ctx, c.ID); err == nil && fresh.Status == conversation.Queued {
					if ok, _ := s.assignOne(ctx, ws, fresh, &pool); ok {
						continue
					}
				}
			}
		}
		if ws.Mode != conversation.Live {
			continue // persistent chats never get queue messages
		}
		cust, err := s.store.Customer(ctx, c.Widget, c.Customer.ID)
		if err != nil {
			return out, err
		}
		out.Out = append(out.Out, s.informQueued(ctx, ws, c, cust.ConnectionIDs)...)
	}
	return out, nil
}

// assignWorkstream assigns ws's queued conversations, oldest first, to
// available agents with free capacity, during its operating hours, until
// the queue or the capacity is exhausted. Each assignment is one
// transaction conditioned on the conversation still being queued and on
// the agent's capacity, so racing assigners never give a conversation two
// agents or an agent more than its capacity; a lost race is retried, never
// given up on while an agent has room. It returns the ids it saw queued
// and those it assigned; an error when it could not finish (the store
// failed, or the deadline came), so that a caller that can retry does.
func (s *Service) assignWorkstream(ctx context.Context, ws conversation.Workstream, pool *agents) (seen, assigned []string, err error) {
	if open, err := ws.Hours.Open(s.now()); err != nil || !open {
		return nil, nil, nil
	}
	for range maxQueuePages {
		queue, err := s.store.Queue(ctx, ws.ID, queueBatch)
		if err != nil {
			return seen, assigned, fmt.Errorf("read queue %s: %w", ws.ID, err)
		}
		if len(queue) == 0 {
			return seen, assigned, nil
		}
		if !pool.read {
			if err := s.refresh(ctx, pool); err != nil {
				return seen, assigned, err
			}
		}
		before := len(assigned)
		// Every send of a rush of new customers runs a pass like this one:
		// starting each pass at its own place among the conversations the
		// agents have room for keeps them from all fighting over the
		// oldest (and the next, and the next), while those assigned are
		// still the oldest: a later customer never overtakes an earlier.
		room := conversation.Room(pool.list, ws)
		for _, i := range conversation.Rotation(len(queue), room, rand.N(len(queue))) {
			if err := ctx.Err(); err != nil {
				return seen, assigned, fmt.Errorf("assign %s: %w", ws.ID, err)
			}
			c := queue[i]
			seen = append(seen, c.ID)
			ok, full := s.assignOne(ctx, ws, c, pool)
			if full {
				return seen, assigned, nil
			}
			if ok {
				assigned = append(assigned, c.ID)
			}
		}
		// A short page was the whole queue; a page where nothing could be
		// assigned will not change by reading it again.
		if len(queue) < queueBatch || len(assigned) == before {
			return seen, assigned, ctx.Err()
		}
	}
	return seen, assigned, nil
}

// assignOne tries to give c to the best available agent. full is true when
// no agent has room for the workstream's conversations.
func (s *Service) assignOne(ctx context.Context, ws conversation.Workstream, c *conversation.Conversation, pool *agents) (assigned, full bool) {
	log := s.logger(ctx)
	for attempt := 1; attempt <= maxAssignAttempts; attempt++ {
		pick, ok := conversation.PickAgent(pool.list, ws)
		if !ok {
			return false, true
		}
		now := s.now()
		next := c.Clone()
		took, err := next.Assign(pick, now)
		if err != nil {
			return false, false // not assignable as read
		}
		err = s.store.Apply(ctx, conversation.Change{Conversation: next, PrevVersion: c.Version, Capacity: took})
		switch {
		case err == nil:
			log.InfoContext(ctx, "conversation assigned", "conversationId", c.ID, "agentId", pick.ID, "workstream", ws.ID)
			for i := range pool.list {
				if pool.list[i].ID == pick.ID {
					pool.list[i].Used += took.Units
				}
			}
			if ws.TracksWait() {
				if err := s.store.RecordWait(ctx, ws.ID, now.Sub(c.QueuedAt)); err != nil {
					log.WarnContext(ctx, "record wait", "error", err.Error())
				}
			}
			return true, false
		case errors.Is(err, conversation.ErrNoCapacity):
			// Our view of the agent was stale: read again and re-pick.
			if err := s.refresh(ctx, pool); err != nil {
				log.ErrorContext(ctx, "assign", "conversationId", c.ID, "error", err.Error())
				return false, false
			}
		case errors.Is(err, conversation.ErrStale):
			// The conversation changed (its customer wrote again, another
			// assigner took it) or the agent's record was contended: read
			// it again, and keep trying while it is still queued.
			fresh, err := s.store.Conversation(ctx, c.ID)
			if err != nil || fresh.Status != conversation.Queued {
				return false, false
			}
			c = fresh
			if !pause(ctx, attempt) {
				return false, false
			}
		default:
			log.ErrorContext(ctx, "assign", "conversationId", c.ID, "error", err.Error())
			return false, false
		}
	}
	log.WarnContext(ctx, "assignment kept losing races", "conversationId", c.ID)
	return false, false
}

// pause waits a short random while before another attempt; false when ctx
// ended first.
func pause(ctx context.Context, attempt int) bool {
	d := time.Duration(rand.N(int64(attempt)*int64(2*time.Millisecond))) + time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// informQueued is a live chat's queue position and average wait for its
// customer (docs/protocol.md section 5, `system`).
func (s *Service) informQueued(ctx context.Context, ws conversation.Workstream, c *conversation.Conversation, customerConns []string) []Delivery {
	log := s.logger(ctx)
	pos, err := s.store.QueuePosition(ctx, c)
	if err != nil {
		log.WarnContext(ctx, "queue position", "error", err.Error())
		return nil
	}
	wait, err := s.store.AverageWait(ctx, ws.ID)
	if err != nil {
		log.WarnContext(ctx, "average wait", "error", err.Error())
	}
	var out []Delivery
	for _, m := range conversation.QueueMessages(ws, pos, wait) {
		f := &wire.System{ConversationID: c.ID, Code: m.Code, Text: m.Text}
		if m.Code == conversation.CodeQueuePosition {
			f.QueuePosition = ptr(m.QueuePosition)
		} else {
			f.AverageWaitSeconds = ptr(m.AverageWaitSeconds)
		}
		out = append(out, toCustomer(c, customerConns, "", f))
	}
	return out
}
