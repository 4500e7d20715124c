package conversation

import (
	"fmt"
	"time"
)

// Close ends c on behalf of by and returns what it does to the agent's
// capacity: c.Units back when it was Active, nothing otherwise.
//
// Persistent chats outlive the tab, so only the agent may end them: a
// customer's close gets ErrNotAllowed and changes nothing. In live mode either
// side may close. Sweep closes with CloseBySystem instead.
func (c *Conversation) Close(by Participant, now time.Time) (CapacityChange, error) {
	if !c.Visible(by) {
		return CapacityChange{}, fmt.Errorf("close %s: %w", c.ID, ErrNotFound)
	}
	if c.Mode == Persistent && by.Role == Customer {
		return CapacityChange{}, fmt.Errorf("close %s: persistent conversations can only be ended by an agent: %w", c.ID, ErrNotAllowed)
	}
	return c.close(by.Role, now)
}

// CloseBySystem ends c on Parley's own behalf (an inactivity timeout found by
// Expire) and returns what it does to its agent's capacity.
func (c *Conversation) CloseBySystem(now time.Time) (CapacityChange, error) {
	return c.close(System, now)
}

func (c *Conversation) close(by Role, now time.Time) (CapacityChange, error) {
	if c.Status == Closed {
		return CapacityChange{}, fmt.Errorf("close %s: already closed: %w", c.ID, ErrConflict)
	}
	var agentID string
	if c.Agent != nil {
		agentID = c.Agent.ID
	}
	freed := release(c, agentID, c.HoldsCapacity())
	// The agent stays recorded: the transcript keeps who answered it.
	c.Status, c.ClosedAt, c.ClosedBy = Closed, now, by
	c.touch(now)
	return freed, nil
}
