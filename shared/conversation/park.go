package conversation

import (
	"fmt"
	"time"
)

// Park sets an active conversation aside (Waiting) so its agent can take
// other work, and returns the capacity units it frees at once. The customer
// is not told; their next message returns it to the agent (see Send).
func (c *Conversation) Park(by Participant, now time.Time) (freed int, err error) {
	if err := c.checkAgent("park", by); err != nil {
		return 0, err
	}
	if c.Status != Active {
		return 0, fmt.Errorf("park %s from %s: %w", c.ID, c.Status, ErrConflict)
	}
	c.Status, c.ParkedAt = Waiting, now
	c.touch(now)
	return c.Units, nil
}
