package conversation

import (
	"fmt"
	"time"
)

// Park sets an active conversation aside (Waiting) so its agent can take
// other work, and returns the capacity it frees at once. The customer is
// not told; their next message returns it to the agent (see Send).
func (c *Conversation) Park(by Participant, now time.Time) (CapacityChange, error) {
	if err := c.checkAgent("park", by); err != nil {
		return CapacityChange{}, err
	}
	if c.Status != Active {
		return CapacityChange{}, fmt.Errorf("park %s from %s: %w", c.ID, c.Status, ErrConflict)
	}
	c.Status, c.ParkedAt = Waiting, now
	c.touch(now)
	return release(c, by.ID, true), nil
}
