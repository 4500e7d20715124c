package route

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/shared/conversation"
)

// apiGatewayMaxConnection is API Gateway's limit on a connection's life: a
// connection recorded longer ago than this is dead whatever the table says.
const apiGatewayMaxConnection = 2 * time.Hour

// Sweep is the scheduled housekeeping tick. It is safe to run twice at once
// (EventBridge may deliver a tick twice): every change it makes is a
// conditional write.
func (a *App) Sweep(ctx context.Context, ev events.CloudWatchEvent) error {
	log := a.logger(ctx)
	start := a.now()
	wss, err := a.store.Workstreams(ctx)
	if err != nil {
		return err
	}
	byID := map[string]conversation.Workstream{}
	var errs []error
	var agents []conversation.Agent
	for _, ws := range wss {
		byID[ws.ID] = ws
		// Hours may have opened, or capacity freed without a request.
		a.assignQueue(ctx, log, ws, &agents)
	}
	errs = append(errs, a.sweepReturned(ctx, log, byID))
	errs = append(errs, a.sweepExpired(ctx, log, byID))
	errs = append(errs, a.sweepQueuedLive(ctx, log, byID))
	errs = append(errs, a.sweepConnections(ctx, log))
	log.InfoContext(ctx, "sweep done", "durationMs", a.now().Sub(start).Milliseconds())
	return errors.Join(errs...)
}

// sweepReturned reminds agents of returned conversations they have not
// picked up, and requeues those whose agent stayed away too long (when the
// workstream says so).
func (a *App) sweepReturned(ctx context.Context, log *slog.Logger, wss map[string]conversation.Workstream) error {
	cs, err := a.store.ByStatus(ctx, conversation.Returned)
	if err != nil {
		return err
	}
	now := a.now()
	requeued := false
	for _, c := range cs {
		ws, ok := wss[c.Workstream]
		if !ok || c.Agent == nil {
			continue
		}
		ag, err := a.store.Agent(ctx, c.Agent.ID)
		if err != nil {
			log.WarnContext(ctx, "read agent", "agentId", c.Agent.ID, "error", err.Error())
			continue
		}
		offline := ag.Presence == conversation.Offline
		if c.RequeueDue(ws, now, offline, ag.OfflineSince) {
			next := c.Clone()
			if err := next.Requeue(now); err == nil {
				if err := a.store.Apply(ctx, conversation.Change{Conversation: next, PrevVersion: c.Version}); err == nil {
					log.InfoContext(ctx, "returned conversation requeued", "conversationId", c.ID, "agentId", c.Agent.ID)
					requeued = true
				}
			}
			continue
		}
		if offline {
			continue // told at their next hello; nobody to remind now
		}
		last, err := a.store.Reminded(ctx, c.ID)
		if err != nil {
			continue
		}
		var lastAt time.Time
		if last != "" {
			lastAt, _ = time.Parse("2006-01-02T15:04:05.000Z", last)
		}
		if !c.ReminderDue(ws, now, lastAt) {
			continue
		}
		if ok, err := a.store.MarkReminded(ctx, c.ID, wireTime(now), last); err != nil || !ok {
			continue
		}
		a.deliver(ctx, log, ag.ConnectionIDs, *c.Agent, "", reply("notification", nil, frame{"kind": "customer_returned",
			"conversationId": c.ID, "conversation": toWire(c), "reminder": true}))
		log.InfoContext(ctx, "agent reminded", "conversationId", c.ID, "agentId", c.Agent.ID)
	}
	if requeued {
		a.assignAll(ctx, log)
	}
	return nil
}

// sweepExpired closes conversations left inactive past their workstream's
// limit (closedBy system).
func (a *App) sweepExpired(ctx context.Context, log *slog.Logger, wss map[string]conversation.Workstream) error {
	now := a.now()
	freed := false
	for _, st := range []conversation.Status{conversation.Queued, conversation.Active, conversation.Waiting, conversation.Returned} {
		cs, err := a.store.ByStatus(ctx, st)
		if err != nil {
			return err
		}
		for _, c := range cs {
			ws, ok := wss[c.Workstream]
			if !ok {
				continue
			}
			connected, leftAt := false, time.Time{}
			if c.Mode == conversation.Live {
				cust, err := a.store.Customer(ctx, c.Widget, c.Customer.ID)
				if err != nil {
					continue
				}
				connected, leftAt = len(cust.ConnectionIDs) > 0, cust.LastDisconnectedAt
			}
			if !c.Expire(ws, now, connected, leftAt) {
				continue
			}
			next := c.Clone()
			units, err := next.CloseBySystem(now)
			if err != nil {
				continue
			}
			ch := conversation.Change{Conversation: next, PrevVersion: c.Version, ClearOpen: true, Capacity: units}
			if err := a.store.Apply(ctx, ch); err != nil {
				log.WarnContext(ctx, "auto-close", "conversationId", c.ID, "error", err.Error())
				continue
			}
			freed = freed || !units.None()
			log.InfoContext(ctx, "conversation auto-closed", "conversationId", c.ID, "mode", c.Mode)
		}
	}
	if freed {
		a.assignAll(ctx, log)
	}
	return nil
}

// sweepQueuedLive refreshes queued live customers' position and wait.
func (a *App) sweepQueuedLive(ctx context.Context, log *slog.Logger, wss map[string]conversation.Workstream) error {
	for _, ws := range wss {
		if ws.Mode != conversation.Live {
			continue
		}
		queue, err := a.store.Queue(ctx, ws.ID, queueBatch)
		if err != nil {
			return err
		}
		for _, c := range queue {
			cust, err := a.store.Customer(ctx, c.Widget, c.Customer.ID)
			if err != nil || len(cust.ConnectionIDs) == 0 {
				continue
			}
			a.informQueued(ctx, log, ws, c, cust.ConnectionIDs)
		}
	}
	return nil
}

// sweepConnections drops connections older than API Gateway allows, whose
// $disconnect never arrived (it is best-effort).
func (a *App) sweepConnections(ctx context.Context, log *slog.Logger) error {
	stale, err := a.store.StaleConnections(ctx, a.now().Add(-apiGatewayMaxConnection))
	if err != nil {
		return err
	}
	for _, c := range stale {
		if err := a.push.Disconnect(ctx, c.ID); err != nil {
			log.WarnContext(ctx, "close stale connection", "connectionId", c.ID, "error", err.Error())
		}
		if err := a.store.RemoveConnection(ctx, c, a.now()); err != nil {
			log.WarnContext(ctx, "forget stale connection", "connectionId", c.ID, "error", err.Error())
			continue
		}
		log.InfoContext(ctx, "stale connection removed", "connectionId", c.ID, "userId", c.UserID)
	}
	return nil
}
