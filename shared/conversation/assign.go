package conversation

import (
	"fmt"
	"time"
)

// Assign gives a queued conversation to agent, making it Active and using
// c.Units of the agent's capacity. The store writes the conversation and the
// agent's usage in one transaction, so the capacity checked here is the
// capacity committed.
//
// Only an available agent serving the workstream gets new conversations;
// PickAgent chooses one, Assign re-checks because the record may be stale.
// It returns the capacity it takes, which the store commits only while the
// agent is still available.
func (c *Conversation) Assign(agent Agent, now time.Time) (CapacityChange, error) {
	if agent.ID == "" {
		return CapacityChange{}, fmt.Errorf("assign %s: agent without id: %w", c.ID, ErrInvalid)
	}
	if c.Status != Queued {
		return CapacityChange{}, fmt.Errorf("assign %s from %s: %w", c.ID, c.Status, ErrConflict)
	}
	if !agent.Serves(c.Workstream) {
		return CapacityChange{}, fmt.Errorf("assign %s: agent %s does not serve workstream %s: %w", c.ID, agent.ID, c.Workstream, ErrNotAllowed)
	}
	if !agent.Available() {
		return CapacityChange{}, fmt.Errorf("assign %s: agent %s is %s: %w", c.ID, agent.ID, agent.CurrentPresence(), ErrNoCapacity)
	}
	if !agent.CanTake(c.Units) {
		return CapacityChange{}, fmt.Errorf("assign %s: agent %s has %d free of %d, needs %d: %w", c.ID, agent.ID, agent.Free(), agent.Capacity, c.Units, ErrNoCapacity)
	}
	c.Status, c.AssignedAt = Active, now
	c.Agent = &Participant{Role: AgentRole, ID: agent.ID, Name: agent.Name}
	c.touch(now)
	return take(c, agent, true), nil
}
