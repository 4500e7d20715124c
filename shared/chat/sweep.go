package chat

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// apiGatewayMaxConnection is API Gateway's limit on a connection's life: a
// connection recorded longer ago than this is dead whatever the table says.
const apiGatewayMaxConnection = 2 * time.Hour

// SweepReport says what one sweep did.
type SweepReport struct {
	Assigned    int `json:"assigned"`
	Reminded    int `json:"reminded"`
	Requeued    int `json:"requeued"`
	Closed      int `json:"closed"`
	Informed    int `json:"informed"`
	Disconnects int `json:"disconnects"`
}

// Sweep is the scheduled housekeeping tick: it assigns what the hours or
// freed capacity now allow, reminds agents of returned conversations,
// requeues those whose agent stayed away, closes abandoned ones, refreshes
// queued live customers' position, and drops connections past API
// Gateway's two hours. It is safe to run twice at once (EventBridge may
// deliver a tick twice): every change it makes is a conditional write.
func (s *Service) Sweep(ctx context.Context) (SweepReport, Result, error) {
	var rep SweepReport
	wss, err := s.store.Workstreams(ctx)
	if err != nil {
		return rep, Result{}, err
	}
	byID := map[string]conversation.Workstream{}
	var pool agents
	for _, ws := range wss {
		byID[ws.ID] = ws
		_, assigned, err := s.assignWorkstream(ctx, ws, &pool)
		rep.Assigned += len(assigned)
		if err != nil {
			return rep, Result{}, err
		}
	}
	var out Result
	var errs []error
	reminders, err := s.sweepReturned(ctx, byID, &rep)
	out.Out, errs = append(out.Out, reminders...), append(errs, err)
	errs = append(errs, s.sweepExpired(ctx, byID, &rep))
	informs, err := s.sweepQueuedLive(ctx, byID)
	rep.Informed = len(informs)
	out.Out, errs = append(out.Out, informs...), append(errs, err)
	stale, err := s.sweepConnections(ctx)
	rep.Disconnects = len(stale)
	out.Disconnect, errs = stale, append(errs, err)
	// Requeues and closes freed capacity or filled the queue.
	if rep.Requeued > 0 || rep.Closed > 0 {
		rep.Assigned += s.assignAgain(ctx, byID)
	}
	return rep, out, errors.Join(errs...)
}

// assignAgain is a second assignment pass over every workstream.
func (s *Service) assignAgain(ctx context.Context, wss map[string]conversation.Workstream) int {
	var pool agents
	n := 0
	for _, ws := range wss {
		_, assigned, err := s.assignWorkstream(ctx, ws, &pool)
		n += len(assigned)
		if err != nil {
			s.logger(ctx).WarnContext(ctx, "assignment cut short", "workstream", ws.ID, "error", err.Error())
		}
	}
	return n
}

// sweepReturned reminds agents of returned conversations they have not
// picked up, and requeues those whose agent stayed away too long (when the
// workstream says so).
func (s *Service) sweepReturned(ctx context.Context, wss map[string]conversation.Workstream, rep *SweepReport) ([]Delivery, error) {
	cs, err := s.store.ByStatus(ctx, conversation.Returned)
	if err != nil {
		return nil, err
	}
	log := s.logger(ctx)
	now := s.now()
	var out []Delivery
	for _, c := range cs {
		ws, ok := wss[c.Workstream]
		if !ok || c.Agent == nil {
			continue
		}
		ag, err := s.store.Agent(ctx, c.Agent.ID)
		if err != nil {
			log.WarnContext(ctx, "read agent", "agentId", c.Agent.ID, "error", err.Error())
			continue
		}
		offline := ag.CurrentPresence() == conversation.Offline
		if c.RequeueDue(ws, now, offline, ag.OfflineSince) {
			next := c.Clone()
			if err := next.Requeue(now); err == nil {
				if err := s.store.Apply(ctx, conversation.Change{Conversation: next, PrevVersion: c.Version}); err == nil {
					log.InfoContext(ctx, "returned conversation requeued", "conversationId", c.ID, "agentId", c.Agent.ID)
					rep.Requeued++
				}
			}
			continue
		}
		if offline {
			continue // told at their next hello; nobody to remind now
		}
		last, err := s.store.Reminded(ctx, c.ID)
		if err != nil {
			continue
		}
		if !c.ReminderDue(ws, now, wire.ParseTime(last)) {
			continue
		}
		if ok, err := s.store.MarkReminded(ctx, c.ID, wire.Time(now), last); err != nil || !ok {
			continue
		}
		out = append(out, toAgent(*c.Agent, ag.ConnectionIDs, "", &wire.Notification{Kind: wire.KindCustomerReturned,
			ConversationID: c.ID, Conversation: wire.ConversationOf(c), Reminder: true}))
		rep.Reminded++
		log.InfoContext(ctx, "agent reminded", "conversationId", c.ID, "agentId", c.Agent.ID)
	}
	return out, nil
}

// sweepExpired closes conversations left inactive past their workstream's
// limit (closedBy system). It reads only conversations old enough to be due
// (expiryCutoffs): reading every open one each tick cost a read unit per
// open conversation a minute, about $54 a month at 10,000 open persistent
// conversations (BenchmarkSweep in bench/).
func (s *Service) sweepExpired(ctx context.Context, wss map[string]conversation.Workstream, rep *SweepReport) error {
	log := s.logger(ctx)
	now := s.now()
	cs, err := s.store.Expirable(ctx, expiryCutoffs(wss, now))
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
			cust, err := s.store.Customer(ctx, c.Widget, c.Customer.ID)
			if err != nil {
				continue
			}
			connected, leftAt = len(cust.ConnectionIDs) > 0, cust.LastDisconnectedAt
		}
		if !c.Expire(ws, now, connected, leftAt) {
			continue
		}
		next := c.Clone()
		freed, err := next.CloseBySystem(now)
		if err != nil {
			continue
		}
		if err := s.store.Apply(ctx, conversation.Change{Conversation: next, PrevVersion: c.Version, ClearOpen: true, Capacity: freed}); err != nil {
			log.WarnContext(ctx, "auto-close", "conversationId", c.ID, "error", err.Error())
			continue
		}
		rep.Closed++
		log.InfoContext(ctx, "conversation auto-closed", "conversationId", c.ID, "mode", c.Mode)
	}
	return nil
}

// expiryCutoffs is, for each mode, the latest creation time a conversation
// of that mode can have and be due to expire at now: now less the shortest
// inactivity limit a workstream gives the mode. A mode no workstream
// expires has none.
func expiryCutoffs(wss map[string]conversation.Workstream, now time.Time) map[conversation.Mode]time.Time {
	cutoff := map[conversation.Mode]time.Time{}
	for _, ws := range wss {
		for _, m := range []conversation.Mode{conversation.Persistent, conversation.Live} {
			limit := ws.InactivityLimit(m)
			if limit <= 0 {
				continue
			}
			if t := now.Add(-limit); t.After(cutoff[m]) {
				cutoff[m] = t
			}
		}
	}
	return cutoff
}

// sweepQueuedLive refreshes queued live customers' position and wait.
func (s *Service) sweepQueuedLive(ctx context.Context, wss map[string]conversation.Workstream) ([]Delivery, error) {
	var out []Delivery
	for _, ws := range wss {
		if ws.Mode != conversation.Live {
			continue
		}
		queue, err := s.store.Queue(ctx, ws.ID, queueBatch)
		if err != nil {
			return out, err
		}
		for _, c := range queue {
			cust, err := s.store.Customer(ctx, c.Widget, c.Customer.ID)
			if err != nil || len(cust.ConnectionIDs) == 0 {
				continue
			}
			out = append(out, s.informQueued(ctx, ws, c, cust.ConnectionIDs)...)
		}
	}
	return out, nil
}

// sweepConnections forgets connections older than API Gateway allows,
// whose $disconnect never arrived (it is best-effort), and returns them for
// closing.
func (s *Service) sweepConnections(ctx context.Context) ([]string, error) {
	log := s.logger(ctx)
	stale, err := s.store.StaleConnections(ctx, s.now().Add(-apiGatewayMaxConnection))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range stale {
		ids = append(ids, c.ID)
		if err := s.store.RemoveConnection(ctx, c, s.now()); err != nil {
			log.WarnContext(ctx, "forget stale connection", "staleConnectionId", c.ID, "error", err.Error())
			continue
		}
		log.InfoContext(ctx, "stale connection removed", "staleConnectionId", c.ID, "userId", c.UserID)
	}
	return ids, nil
}
