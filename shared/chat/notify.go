package chat

import (
	"context"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// Notify tells the parties of a conversation's transition from before to
// after, as the conversations stream reports it: an agent that a parked
// conversation's customer came back, both parties of assignments and
// closes. Stream delivery is at least once, so a transition is marked done
// once pushed (the Result's follow-up) and skipped when seen again; the
// Result is strict, so a failed push leaves it unmarked for a retry.
func (s *Service) Notify(ctx context.Context, before, after *conversation.Conversation) (Result, error) {
	if before.Status == after.Status || after.ID == "" {
		return Result{}, nil
	}
	log := s.logger(ctx).With("conversationId", after.ID, "from", before.Status, "to", after.Status, "version", after.Version)
	done, err := s.store.Notified(ctx, after.ID, after.Version)
	if err != nil {
		return Result{}, err
	}
	if done {
		log.InfoContext(ctx, "transition already notified")
		return Result{}, nil
	}

	conv := &wire.ConversationEvent{Conversation: wire.ConversationOf(after)}
	var toCust, toAg []wire.Frame
	agent := after.Agent
	switch {
	case before.Status == conversation.Waiting && after.Status == conversation.Returned:
		toAg = []wire.Frame{conv, &wire.Notification{Kind: wire.KindCustomerReturned, ConversationID: after.ID, Conversation: wire.ConversationOf(after)}}
	case before.Status == conversation.Queued && after.Status == conversation.Active:
		// The agent who just got it sees the whole conversation, the
		// customer's first message among it, without asking for history.
		assigned, err := s.assignedEvent(ctx, after)
		if err != nil {
			return Result{}, err
		}
		toCust, toAg = []wire.Frame{conv}, []wire.Frame{assigned}
	case after.Status == conversation.Active:
		toAg = []wire.Frame{conv} // picked back up: the agent's other tabs follow
	case after.Status == conversation.Closed:
		toCust, toAg = []wire.Frame{conv}, []wire.Frame{conv}
		if agent == nil {
			agent = before.Agent
		}
	case after.Status == conversation.Queued:
		toAg, agent = []wire.Frame{conv}, before.Agent // it left its agent
	default:
		return Result{}, nil
	}

	subject := after.Clone()
	subject.Agent = agent
	cust, ag, err := s.store.Parties(ctx, subject)
	if err != nil {
		return Result{}, err
	}
	out := Result{Strict: true}
	for _, f := range toCust {
		out.Out = append(out.Out, toCustomer(after, cust.ConnectionIDs, "", f))
	}
	if ag != nil && agent != nil {
		for _, f := range toAg {
			out.Out = append(out.Out, toAgent(*agent, ag.ConnectionIDs, "", f))
		}
		// An agent assigned while every connection it had was already gone
		// (its $disconnect lost) is offline now that they are forgotten:
		// the conversation goes back to the queue for someone who is there.
		if before.Status == conversation.Queued && after.Status == conversation.Active && len(out.Out) > 0 {
			out.Out[len(out.Out)-1].Unreachable = func(ctx context.Context) (Result, error) {
				return s.unassign(ctx, after.ID), nil
			}
		}
	}
	customers := len(cust.ConnectionIDs)
	out.Then = func(ctx context.Context) (Result, error) {
		if err := s.store.MarkNotified(ctx, after.ID, after.Version); err != nil {
			return Result{}, err
		}
		log.InfoContext(ctx, "transition notified", "customerConnections", customers)
		return Result{}, nil
	}
	return out, nil
}

// assignedEvent is the conversation event for the agent c was just
// assigned to: c with its newest messages.
func (s *Service) assignedEvent(ctx context.Context, c *conversation.Conversation) (*wire.ConversationEvent, error) {
	msgs, more, err := s.store.Messages(ctx, c.ID, conversation.Page{Limit: sessionPage})
	if err != nil {
		return nil, err
	}
	ev := &wire.ConversationEvent{Conversation: wire.ConversationOf(c)}
	kept, cut := fit(size(ev), wire.MessagesOf(msgs), true)
	more = more || cut
	ev.Messages, ev.HasMore = kept, &more
	return ev, nil
}

// unassign puts a conversation assigned to an unreachable agent back in the
// queue and offers it to the agents again.
func (s *Service) unassign(ctx context.Context, id string) Result {
	log := s.logger(ctx)
	var ws conversation.Workstream
	err := retry(ctx, func() error {
		c, err := s.store.Conversation(ctx, id)
		if err != nil {
			return err
		}
		if ws, err = s.workstreams.get(ctx, c.Workstream); err != nil {
			return err
		}
		prev := c.Version
		freed, err := c.Unassign(s.now())
		if err != nil {
			return err
		}
		return s.store.Apply(ctx, conversation.Change{Conversation: c, PrevVersion: prev, Capacity: freed})
	})
	if err != nil {
		log.WarnContext(ctx, "requeue from an unreachable agent", "conversationId", id, "error", err.Error())
		return Result{}
	}
	log.InfoContext(ctx, "conversation requeued from an unreachable agent", "conversationId", id)
	var pool agents
	if _, _, err := s.assignWorkstream(ctx, ws, &pool); err != nil {
		log.WarnContext(ctx, "assignment cut short", "workstream", ws.ID, "error", err.Error())
	}
	return Result{}
}
