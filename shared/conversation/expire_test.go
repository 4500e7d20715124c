package conversation

import (
	"testing"
	"time"
)

func TestExpire(t *testing.T) {
	const day = 24 * time.Hour
	lastMessage := t0.Add(-time.Minute)      // the fixture's LastMessageAt
	lastCustomer := t0.Add(-2 * time.Minute) // the fixture's LastCustomerMessageAt
	noMessages := func(c *Conversation) { c.LastMessageAt, c.LastCustomerMessageAt = time.Time{}, time.Time{} }
	tests := []struct {
		what      string
		mode      Mode
		status    Status
		change    func(*Conversation)
		timeout   time.Duration
		connected bool
		leftAt    time.Time
		now       time.Time
		want      bool
	}{
		// Persistent: 30 days of silence, connected or not.
		{what: "30 days after the last message", mode: Persistent, status: Waiting, now: lastMessage.Add(30 * day), want: true},
		{what: "just under 30 days", mode: Persistent, status: Waiting, now: lastMessage.Add(30*day - time.Second)},
		{what: "30 days, customer connected", mode: Persistent, status: Active, connected: true, now: lastMessage.Add(30 * day), want: true},
		{what: "customer left long ago, recent message", mode: Persistent, status: Returned, leftAt: t0.Add(-60 * day), now: t0.Add(day)},
		{what: "no message: 30 days after creation", mode: Persistent, status: Queued, change: noMessages, now: t0.Add(-time.Hour).Add(30 * day), want: true},
		{what: "no message: 29 days after creation", mode: Persistent, status: Queued, change: noMessages, now: t0.Add(29 * day)},
		{what: "custom 7 days", mode: Persistent, status: Waiting, timeout: 7 * day, now: lastMessage.Add(7 * day), want: true},
		{what: "custom 7 days, 6 days on", mode: Persistent, status: Waiting, timeout: 7 * day, now: lastMessage.Add(6 * day)},
		{what: "closed already", mode: Persistent, status: Closed, now: t0.Add(365 * day)},
		// Live: 20 minutes after the customer's last connection closed.
		{what: "20 minutes after leaving", mode: Live, status: Active, leftAt: t0, now: t0.Add(20 * time.Minute), want: true},
		{what: "19m59s after leaving", mode: Live, status: Active, leftAt: t0, now: t0.Add(20*time.Minute - time.Second)},
		{what: "still connected, a day on", mode: Live, status: Active, connected: true, leftAt: t0, now: t0.Add(day)},
		{what: "connected, queued for hours", mode: Live, status: Queued, connected: true, now: t0.Add(5 * time.Hour)},
		{what: "left, agent wrote since", mode: Live, status: Active, leftAt: t0, change: func(c *Conversation) { c.LastMessageAt = t0.Add(15 * time.Minute) }, now: t0.Add(20 * time.Minute), want: true},
		{what: "leaving time unknown: last customer message", mode: Live, status: Active, now: lastCustomer.Add(20 * time.Minute), want: true},
		{what: "leaving time unknown, 10 minutes after the last customer message", mode: Live, status: Active, now: lastCustomer.Add(10 * time.Minute)},
		{what: "leaving time unknown, no message: creation", mode: Live, status: Queued, change: noMessages, now: t0.Add(-time.Hour).Add(20 * time.Minute), want: true},
		{what: "custom 5 minutes", mode: Live, status: Waiting, timeout: 5 * time.Minute, leftAt: t0, now: t0.Add(5 * time.Minute), want: true},
		{what: "closed already", mode: Live, status: Closed, leftAt: t0, now: t0.Add(day)},
	}
	for _, tt := range tests {
		call := "Expire(" + tt.what + ") on " + string(tt.mode) + " " + string(tt.status)
		t.Run(call, func(t *testing.T) {
			c := fixture(tt.mode, tt.status)
			if tt.change != nil {
				tt.change(c)
			}
			before := c.Clone()
			ws := workstream(tt.mode, true)
			ws.InactivityTimeout = tt.timeout
			if got := c.Expire(ws, tt.now, tt.connected, tt.leftAt); got != tt.want {
				t.Errorf("%s = %t; want %t", call, got, tt.want)
			}
			checkMove(t, call+" (a question, not a move)", before, c, errQuestion, tt.now)
		})
	}
}

// errQuestion stands for "this call must not change anything" in checkMove.
var errQuestion = ErrInvalid

// TestInactivityLimit: the limit is the conversation's mode's, and no
// conversation Expire closes is younger than it (what the sweep's reads
// rely on).
func TestInactivityLimit(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		ws   Workstream
		mode Mode
		want time.Duration
	}{
		{Workstream{Mode: Persistent}, Persistent, DefaultPersistentInactivity},
		{Workstream{Mode: Persistent}, Live, DefaultLiveInactivity}, // a live chat left from before the workstream changed mode
		{Workstream{Mode: Live}, Live, DefaultLiveInactivity},
		{Workstream{Mode: Live, InactivityTimeout: 7 * day}, Persistent, 7 * day},
		{Workstream{Mode: Live}, Mode("other"), 0},
	}
	for _, tc := range tests {
		if got := tc.ws.InactivityLimit(tc.mode); got != tc.want {
			t.Errorf("%+v.InactivityLimit(%s) = %v; want %v", tc.ws, tc.mode, got, tc.want)
		}
	}
	for _, mode := range []Mode{Persistent, Live} {
		ws := Workstream{Mode: mode}
		limit := ws.InactivityLimit(mode)
		c := &Conversation{Mode: mode, Status: Active, CreatedAt: t0}
		if c.Expire(ws, t0.Add(limit-time.Nanosecond), false, time.Time{}) {
			t.Errorf("%s: a conversation expired younger than its limit %v", mode, limit)
		}
		if !c.Expire(ws, t0.Add(limit), false, time.Time{}) {
			t.Errorf("%s: a silent conversation did not expire at its limit %v", mode, limit)
		}
	}
}
