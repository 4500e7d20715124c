package conversation

import (
	"fmt"
	"time"
)

// Requeue puts a returned (or still waiting) conversation back in the queue
// without an agent, so that any agent may take it. Sweep does this when the
// assigned agent stayed offline past the workstream's RequeueReturnedAfter:
// a customer who came back should not wait on someone who is not there.
// Neither status holds capacity, so nothing is freed.
func (c *Conversation) Requeue(now time.Time) error {
	if c.Status != Returned && c.Status != Waiting {
		return fmt.Errorf("requeue %s from %s: %w", c.ID, c.Status, ErrConflict)
	}
	c.Status, c.Agent, c.QueuedAt = Queued, nil, now
	c.touch(now)
	return nil
}

// RequeueDue reports whether sweep should Requeue c: it is Returned, the
// workstream sets RequeueReturnedAfter, and the agent has been offline for
// that long since the customer came back. agentOffline is whether the agent
// has no open connection; agentOfflineSince is when its last one closed (zero
// if unknown). The clock starts at the later of the two moments, because the
// customer has only been waiting since they returned.
func (c *Conversation) RequeueDue(ws Workstream, now time.Time, agentOffline bool, agentOfflineSince time.Time) bool {
	if c.Status != Returned || ws.RequeueReturnedAfter <= 0 || !agentOffline {
		return false
	}
	since := later(c.ReturnedAt, agentOfflineSince)
	return !since.IsZero() && now.Sub(since) >= ws.RequeueReturnedAfter
}

// later returns the later of a and b; a zero time counts as earliest.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Unassign puts an active conversation back in the queue because its agent
// turned out to be unreachable: assigned while every connection it had was
// already gone (a lost $disconnect). It returns the capacity that frees.
func (c *Conversation) Unassign(now time.Time) (CapacityChange, error) {
	if c.Status != Active || c.Agent == nil {
		return CapacityChange{}, fmt.Errorf("unassign %s from %s: %w", c.ID, c.Status, ErrConflict)
	}
	freed := release(c, c.Agent.ID, true)
	c.Status, c.Agent, c.QueuedAt = Queued, nil, now
	c.touch(now)
	return freed, nil
}
