package conversation

import (
	"fmt"
	"time"
)

// Close ends c on behalf of by and returns the capacity units the agent gets
// back (c.Units when it was Active, else 0).
//
// Persistent chats outlive the tab, so only the agent may end them: a
// customer's close gets ErrNotAllowed and changes nothing. In live mode either
// side may close. Sweep closes with CloseBySystem instead.
func (c *Conversation) Close(by Participant, now time.Time) (freed int, err error) {
	if !c.Visible(by) {
		return 0, fmt.Errorf("close %s: %w", c.ID, ErrNotFound)
	}
	if c.Mode == Persistent && by.Role == Customer {
		return 0, fmt.Errorf("close %s: persistent conversations can only be ended by an agent: %w", c.ID, ErrNotAllowed)
	}
	return c.close(by.Role, now)
}

// CloseBySystem ends c on Parley's own behalf (an inactivity timeout found by
// Expire) and returns the capacity units its agent gets back.
func (c *Conversation) CloseBySystem(now time.Time) (freed int, err error) {
	return c.close(System, now)
}

func (c *Conversation) close(by Role, now time.Time) (int, error) {
	if c.Status == Closed {
		return 0, fmt.Errorf("close %s: already closed: %w", c.ID, ErrConflict)
	}
	freed := 0
	if c.HoldsCapacity() {
		freed = c.Units
	}
	// The agent stays recorded: the transcript keeps who answered it.
	c.Status, c.ClosedAt, c.ClosedBy = Closed, now, by
	c.touch(now)
	return freed, nil
}
