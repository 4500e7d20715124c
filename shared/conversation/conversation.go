package conversation

import (
	"fmt"
	"time"
)

// Conversation is one chat between a customer and, once assigned, an agent.
// Its methods are the only moves between statuses; the store saves the result
// conditionally on Version, so two racing moves cannot both win.
type Conversation struct {
	ID         string
	Workstream string
	Widget     string
	Mode       Mode
	Status     Status
	Customer   Participant  // Role Customer
	Agent      *Participant // nil when no agent is assigned
	Units      int          // capacity units this conversation uses while Active (the workstream's)
	LastSeq    int64        // seq of the newest message; 0 before the first
	// LastMessage previews the newest message; nil before the first.
	LastMessage *Preview
	// CustomerReadSeq and AgentReadSeq are the highest seq each party has
	// read: what it marked read, or wrote itself.
	CustomerReadSeq, AgentReadSeq int64
	// Sends is the conversation's send budget (SendLimit), kept with it so
	// that checking it costs nothing beyond the send's own write.
	Sends Bucket
	// Recent are its newest sends, oldest first, at most RecentSends: what
	// makes a resend known (resend.go).
	Recent []RecentSend

	CreatedAt time.Time
	UpdatedAt time.Time
	// QueuedAt is when it (re)entered the queue: the queue is served oldest first.
	QueuedAt time.Time
	// AssignedAt is when an agent last got it from the queue; with QueuedAt it
	// measures the wait that average_wait messages report.
	AssignedAt            time.Time
	ParkedAt              time.Time
	ReturnedAt            time.Time
	LastMessageAt         time.Time
	LastCustomerMessageAt time.Time
	ClosedAt              time.Time
	ClosedBy              Role // "" unless closed

	// Version is the optimistic-lock counter: every successful move increments
	// it, and a failed one leaves it (and everything else) unchanged.
	Version int64
}

// Visible reports whether p may see and act on c: its customer, or its
// assigned agent. Everyone else must get the answer a missing conversation
// gets, so that nothing about c leaks.
func (c *Conversation) Visible(p Participant) bool {
	switch p.Role {
	case Customer:
		return p.Is(c.Customer)
	case AgentRole:
		return c.Agent != nil && p.Is(*c.Agent)
	}
	return false
}

// HoldsCapacity reports whether c currently uses its agent's capacity, i.e.
// whether ending or parking it must give c.Units back to the agent.
func (c *Conversation) HoldsCapacity() bool {
	return c.Status.UsesCapacity()
}

// Clone returns a deep copy of c, so a caller can keep the state it loaded
// (for a conditional write or a stream diff) while moving the copy.
func (c *Conversation) Clone() *Conversation {
	d := *c
	if c.Agent != nil {
		a := *c.Agent
		d.Agent = &a
	}
	if c.LastMessage != nil {
		p := *c.LastMessage
		d.LastMessage = &p
	}
	d.Recent = append([]RecentSend(nil), c.Recent...)
	return &d
}

// touch records a successful move. Every move calls it last, after all checks
// passed, which is what keeps failed moves side-effect free.
func (c *Conversation) touch(now time.Time) {
	c.Version++
	c.UpdatedAt = now
}

// checkAgent verifies that by is c's assigned agent. Strangers get
// ErrNotFound before any state is looked at; the customer, who can see the
// conversation, is told the action is for agents.
func (c *Conversation) checkAgent(action string, by Participant) error {
	if !c.Visible(by) {
		return fmt.Errorf("%s %s: %w", action, c.ID, ErrNotFound)
	}
	if by.Role != AgentRole {
		return fmt.Errorf("%s %s: only the assigned agent may %s: %w", action, c.ID, action, ErrNotAllowed)
	}
	return nil
}

// ReadSeq is how far role has read c.
func (c *Conversation) ReadSeq(role Role) int64 {
	if role == AgentRole {
		return c.AgentReadSeq
	}
	return c.CustomerReadSeq
}

// Mark raises m.Role's read mark to m.Seq if that is further; marks never
// go back (reads arrive out of order).
func (c *Conversation) Mark(m ReadMark) {
	switch m.Role {
	case Customer:
		c.CustomerReadSeq = max(c.CustomerReadSeq, m.Seq)
	case AgentRole:
		c.AgentReadSeq = max(c.AgentReadSeq, m.Seq)
	}
}
