package conversation

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// RecentSends is how many of each side's newest sends a conversation
// remembers (the customer's and the agents'), to know a resend when it
// comes. It remembers them on itself, so the check costs nothing beyond
// the read and the write every send makes anyway; a marker item per send,
// as before, cost a third item in every send's transaction (two write
// units) and a read per resend.
//
// A resend is a client repeating a send it got no answer to, under the same
// clientMessageId: at once, or after reconnecting. The widget and the agent
// app send one message at a time and resend it before the next, so a
// resend is among its sender's last few sends, however much the other side
// wrote meanwhile; ten leaves room for a client that sends several at
// once, and keeps the conversation item under the 1 KB of one write unit.
// A client that was away for long finds what it sent in the history it
// reads first (docs/protocol.md section 4), before resending anything.
const RecentSends = 10

// SendKey names one send in a conversation's memory: 48 bits of a hash of
// its sender and clientMessageId. Two different sends among sixteen share
// a key with odds of one in 10^13.
type SendKey uint64

// SendKeyOf is the key of by's send under clientMessageID.
func SendKeyOf(by Participant, clientMessageID string) SendKey {
	h := sha256.Sum256([]byte(string(by.Role) + "\x00" + by.ID + "\x00" + clientMessageID))
	return SendKey(binary.BigEndian.Uint64(h[:8]) >> 16)
}

// RecentSend is one remembered send: its key, the seq it got, and whether
// an agent sent it (each side has its own RecentSends).
type RecentSend struct {
	Key   SendKey
	Seq   int64
	Agent bool
}

// Resent returns the seq of by's earlier send under clientMessageID, if the
// conversation still remembers it.
func (c *Conversation) Resent(by Participant, clientMessageID string) (int64, bool) {
	k := SendKeyOf(by, clientMessageID)
	for _, r := range c.Recent {
		if r.Key == k {
			return r.Seq, true
		}
	}
	return 0, false
}

// remember records a send of by's side, forgetting that side's oldest
// beyond RecentSends.
func (c *Conversation) remember(by Participant, k SendKey, seq int64) {
	c.Recent = append(c.Recent, RecentSend{Key: k, Seq: seq, Agent: by.Role == AgentRole})
	same := 0
	for _, r := range c.Recent {
		if r.Agent == (by.Role == AgentRole) {
			same++
		}
	}
	if same <= RecentSends {
		return
	}
	kept := make([]RecentSend, 0, len(c.Recent)-1)
	dropped := false
	for _, r := range c.Recent {
		if !dropped && r.Agent == (by.Role == AgentRole) {
			dropped = true
			continue
		}
		kept = append(kept, r)
	}
	c.Recent = kept
}

// ResentError is what Send returns for a resend the conversation remembers:
// Seq is the message the first send stored. It is an ErrDuplicate.
type ResentError struct{ Seq int64 }

func (e *ResentError) Error() string { return fmt.Sprintf("already stored as seq %d", e.Seq) }

// Unwrap makes errors.Is(err, ErrDuplicate) hold.
func (e *ResentError) Unwrap() error { return ErrDuplicate }
