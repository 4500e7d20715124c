package conversation

import (
	"testing"
	"time"
)

func TestReminderDue(t *testing.T) {
	returnedAt := t0.Add(-10 * time.Minute) // the fixture's
	tests := []struct {
		what         string
		status       Status
		interval     time.Duration
		lastReminded time.Time
		now          time.Time
		want         bool
	}{
		{what: "default 15m after the return, never reminded", status: Returned, now: returnedAt.Add(15 * time.Minute), want: true},
		{what: "default, just before 15m", status: Returned, now: returnedAt.Add(15*time.Minute - time.Second)},
		{what: "20m after the return, reminded 5m ago", status: Returned, lastReminded: t0.Add(5 * time.Minute), now: t0.Add(10 * time.Minute)},
		{what: "reminded 15m ago", status: Returned, lastReminded: t0.Add(5 * time.Minute), now: t0.Add(20 * time.Minute), want: true},
		{what: "last reminder was for an earlier return", status: Returned, lastReminded: t0.Add(-time.Hour), now: returnedAt.Add(15 * time.Minute), want: true},
		{what: "custom 5m interval", status: Returned, interval: 5 * time.Minute, now: returnedAt.Add(5 * time.Minute), want: true},
		{what: "waiting: the customer has not come back", status: Waiting, now: t0.Add(time.Hour)},
		{what: "active: already picked up", status: Active, now: t0.Add(time.Hour)},
		{what: "closed", status: Closed, now: t0.Add(time.Hour)},
	}
	for _, tt := range tests {
		call := "ReminderDue(" + tt.what + ")"
		t.Run(call, func(t *testing.T) {
			ws := workstream(Persistent, true)
			ws.ReminderInterval = tt.interval
			if got := fixture(Persistent, tt.status).ReminderDue(ws, tt.now, tt.lastReminded); got != tt.want {
				t.Errorf("%s = %t; want %t", call, got, tt.want)
			}
		})
	}
}
