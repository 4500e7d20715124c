package conversation

import (
	"fmt"
	"time"
)

// SendEffect is what a Send did besides taking a seq, so the caller knows
// whom to notify and whether to try assigning the conversation.
type SendEffect struct {
	Seq int64 // the new message's seq: LastSeq+1, gap-free
	// Returned: the customer came back to a waiting conversation; it is now
	// Returned and its agent keeps it (notify the agent: customer_returned).
	Returned bool
	// Requeued: the customer came back to a waiting conversation of a
	// workstream that does not keep the same agent; it is Queued again, with
	// no agent, and any agent may get it.
	Requeued bool
}

// Send records that by sends a message under clientMessageID in c and
// returns its seq. A resend c remembers (Resent) takes no second seq: Send
// returns a *ResentError naming the first one's. The caller has validated
// the text.
//
// The customer may write in any open status: writing to a waiting
// conversation is what brings it back to the agent. The agent may write only
// while the conversation is Active, i.e. picked up and counted against its
// capacity. A closed conversation takes nothing: the customer's caller starts
// a new one instead.
func (c *Conversation) Send(by Participant, clientMessageID string, ws Workstream, now time.Time) (SendEffect, error) {
	if !c.Visible(by) {
		return SendEffect{}, fmt.Errorf("send in %s: %w", c.ID, ErrNotFound)
	}
	if ws.ID != "" && ws.ID != c.Workstream {
		return SendEffect{}, fmt.Errorf("send in %s: workstream %s is not the conversation's %s: %w", c.ID, ws.ID, c.Workstream, ErrInvalid)
	}
	if seq, ok := c.Resent(by, clientMessageID); ok {
		return SendEffect{}, fmt.Errorf("send %s in %s: %w", clientMessageID, c.ID, &ResentError{Seq: seq})
	}
	if c.Status == Closed {
		return SendEffect{}, fmt.Errorf("send in %s: conversation is closed: %w", c.ID, ErrConflict)
	}
	budget := c.Sends
	if ok, wait := budget.Take(SendLimit, now); !ok {
		return SendEffect{}, fmt.Errorf("send in %s: %w", c.ID, &RateLimitError{What: "conversation " + c.ID, RetryAfter: wait})
	}
	eff := SendEffect{Seq: c.LastSeq + 1}
	if by.Role == AgentRole {
		if c.Status != Active {
			return SendEffect{}, fmt.Errorf("send in %s from %s: pick it up first: %w", c.ID, c.Status, ErrConflict)
		}
	} else if c.Status == Waiting {
		if ws.KeepSameAgent {
			c.Status, c.ReturnedAt = Returned, now
			eff.Returned = true
		} else {
			c.Status, c.Agent, c.QueuedAt = Queued, nil, now
			eff.Requeued = true
		}
	}
	c.Sends = budget
	c.LastSeq = eff.Seq
	c.remember(by, SendKeyOf(by, clientMessageID), eff.Seq)
	c.LastMessageAt = now
	if by.Role == Customer {
		c.LastCustomerMessageAt = now
	}
	c.touch(now)
	return eff, nil
}
