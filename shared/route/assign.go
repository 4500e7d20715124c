package route

import (
	"context"
	"errors"
	"log/slog"

	"github.com/parley-chat/parley/shared/conversation"
)

// queueBatch is how many queued conversations one pass offers to agents.
const queueBatch = 25

// assignAll offers every workstream's queue to the available agents: after
// capacity frees up or an agent becomes available.
func (a *App) assignAll(ctx context.Context, log *slog.Logger) {
	wss, err := a.settings.allWorkstreams(ctx)
	if err != nil {
		log.ErrorContext(ctx, "list workstreams", "error", err.Error())
		return
	}
	var agents []conversation.Agent
	for _, ws := range wss {
		a.assignQueue(ctx, log, ws, &agents)
	}
}

// assignQueue assigns a workstream's queued conversations, oldest first, to
// available agents with free capacity, during its operating hours. Each
// assignment is one transaction conditioned on the conversation still being
// queued and on the agent's capacity, so racing assigners never give a
// conversation two agents or an agent more than its capacity. agents caches
// the online agents across workstreams (nil: not read yet).
func (a *App) assignQueue(ctx context.Context, log *slog.Logger, ws conversation.Workstream, agents *[]conversation.Agent) []string {
	now := a.now()
	if open, err := ws.Hours.Open(now); err != nil || !open {
		return nil
	}
	queue, err := a.store.Queue(ctx, ws.ID, queueBatch)
	if err != nil || len(queue) == 0 {
		if err != nil {
			log.ErrorContext(ctx, "read queue", "workstream", ws.ID, "error", err.Error())
		}
		return nil
	}
	refresh := func() bool {
		list, err := a.store.OnlineAgents(ctx)
		if err != nil {
			log.ErrorContext(ctx, "list online agents", "error", err.Error())
			return false
		}
		*agents = list
		return true
	}
	if *agents == nil && !refresh() {
		return nil
	}
	var assigned []string
	for _, c := range queue {
		for attempt := 1; attempt <= 3; attempt++ {
			pick, ok := conversation.PickAgent(*agents, ws)
			if !ok {
				return assigned
			}
			next := c.Clone()
			took, err := next.Assign(pick, now)
			if err != nil {
				break
			}
			err = a.store.Apply(ctx, conversation.Change{Conversation: next, PrevVersion: c.Version, Capacity: took})
			if err == nil {
				log.InfoContext(ctx, "conversation assigned", "conversationId", c.ID, "agentId", pick.ID, "workstream", ws.ID)
				assigned = append(assigned, c.ID)
				for i := range *agents {
					if (*agents)[i].ID == pick.ID {
						(*agents)[i].Used += next.Units
					}
				}
				if err := a.store.RecordWait(ctx, ws.ID, now.Sub(c.QueuedAt)); err != nil {
					log.WarnContext(ctx, "record wait", "error", err.Error())
				}
				break
			}
			if errors.Is(err, conversation.ErrNoCapacity) {
				// Our view of the agent was stale: read again and re-pick.
				if !refresh() {
					return assigned
				}
				continue
			}
			if !errors.Is(err, conversation.ErrStale) {
				log.ErrorContext(ctx, "assign", "conversationId", c.ID, "error", err.Error())
			} else {
				log.DebugContext(ctx, "assignment lost a race", "conversationId", c.ID, "agentId", pick.ID, "error", err.Error())
			}
			break // taken or changed by someone else
		}
	}
	return assigned
}

// assignAndInform tries to assign a newly queued conversation and, for a
// live chat still waiting, tells its customer where they stand.
func (a *App) assignAndInform(ctx context.Context, log *slog.Logger, ws conversation.Workstream, c *conversation.Conversation, customerConns []string) {
	var agents []conversation.Agent
	for _, id := range a.assignQueue(ctx, log, ws, &agents) {
		if id == c.ID {
			return
		}
	}
	if ws.Mode != conversation.Live {
		return // persistent chats never get queue messages
	}
	a.informQueued(ctx, log, ws, c, customerConns)
}

// informQueued pushes a live chat's queue position and average wait to its
// customer (docs/protocol.md 5, `system`).
func (a *App) informQueued(ctx context.Context, log *slog.Logger, ws conversation.Workstream, c *conversation.Conversation, customerConns []string) {
	pos, err := a.store.QueuePosition(ctx, c)
	if err != nil {
		log.WarnContext(ctx, "queue position", "error", err.Error())
		return
	}
	wait, err := a.store.AverageWait(ctx, ws.ID)
	if err != nil {
		log.WarnContext(ctx, "average wait", "error", err.Error())
	}
	for _, m := range conversation.QueueMessages(ws, pos, wait) {
		f := frame{"conversationId": c.ID, "code": m.Code, "text": m.Text}
		if m.Code == conversation.CodeQueuePosition {
			f["queuePosition"] = m.QueuePosition
		} else {
			f["averageWaitSeconds"] = m.AverageWaitSeconds
		}
		a.deliver(ctx, log, customerConns, c.Customer, c.Widget, reply("system", nil, f))
	}
}
