package conversation

import (
	"fmt"
	"time"
)

// Pickup takes a waiting or returned conversation back to Active for its
// agent. agent is the caller's capacity record: picking up uses c.Units of it
// again, so an agent without that much free capacity gets ErrNoCapacity and
// must park or close something first. It returns the capacity it takes.
func (c *Conversation) Pickup(by Participant, agent Agent, now time.Time) (CapacityChange, error) {
	if err := c.checkAgent("pickup", by); err != nil {
		return CapacityChange{}, err
	}
	if agent.ID != by.ID {
		return CapacityChange{}, fmt.Errorf("pickup %s: capacity record %q is not the caller %q: %w", c.ID, agent.ID, by.ID, ErrInvalid)
	}
	if c.Status != Waiting && c.Status != Returned {
		return CapacityChange{}, fmt.Errorf("pickup %s from %s: %w", c.ID, c.Status, ErrConflict)
	}
	if !agent.CanTake(c.Units) {
		return CapacityChange{}, fmt.Errorf("pickup %s: agent %s has %d free of %d, needs %d: %w", c.ID, agent.ID, agent.Free(), agent.Capacity, c.Units, ErrNoCapacity)
	}
	c.Status = Active
	c.touch(now)
	return take(c, agent, false), nil
}
