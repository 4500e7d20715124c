package conversation

import "time"

// ReminderDue reports whether sweep should remind the agent of a returned
// conversation it has not picked up: one ReminderInterval after the customer
// came back, then every interval after lastReminded (zero if never). An agent
// who missed the first notification would otherwise leave the customer
// waiting indefinitely.
func (c *Conversation) ReminderDue(ws Workstream, now time.Time, lastReminded time.Time) bool {
	if c.Status != Returned || c.Agent == nil {
		return false
	}
	ws = ws.WithDefaults()
	since := later(c.ReturnedAt, lastReminded)
	return !since.IsZero() && now.Sub(since) >= ws.ReminderInterval
}
