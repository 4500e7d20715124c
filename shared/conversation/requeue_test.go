package conversation

import (
	"errors"
	"testing"
	"time"
)

func TestRequeue(t *testing.T) {
	for _, mode := range []Mode{Persistent, Live} {
		for _, status := range allStatuses {
			call := "Requeue() on " + string(mode) + " " + string(status)
			t.Run(call, func(t *testing.T) {
				c := fixture(mode, status)
				before := c.Clone()
				err := c.Requeue(t0)
				var want error
				if status != Returned && status != Waiting {
					want = ErrConflict
				}
				checkErr(t, call, err, want)
				checkMove(t, call, before, c, err, t0)
				if err == nil && (c.Status != Queued || c.Agent != nil || !c.QueuedAt.Equal(t0)) {
					t.Errorf("%s: %s with agent %+v queued at %v; want queued, no agent, at %v", call, c.Status, c.Agent, c.QueuedAt, t0)
				}
			})
		}
	}
}

func TestRequeueDue(t *testing.T) {
	const limit = time.Hour
	returnedAt := t0.Add(-10 * time.Minute) // the fixture's
	tests := []struct {
		what         string
		status       Status
		limit        time.Duration
		offline      bool
		offlineSince time.Time
		now          time.Time
		want         bool
	}{
		{what: "agent offline since before the return, limit reached", status: Returned, limit: limit, offline: true, offlineSince: t0.Add(-5 * time.Hour), now: returnedAt.Add(limit), want: true},
		{what: "agent offline since before the return, limit not reached", status: Returned, limit: limit, offline: true, offlineSince: t0.Add(-5 * time.Hour), now: returnedAt.Add(limit - time.Second)},
		{what: "agent left after the return, limit reached from the return only", status: Returned, limit: limit, offline: true, offlineSince: t0, now: returnedAt.Add(limit)},
		{what: "agent left after the return, limit reached from leaving", status: Returned, limit: limit, offline: true, offlineSince: t0, now: t0.Add(limit), want: true},
		{what: "agent offline, leaving time unknown", status: Returned, limit: limit, offline: true, now: returnedAt.Add(limit), want: true},
		{what: "agent online", status: Returned, limit: limit, offline: false, now: t0.Add(48 * time.Hour)},
		{what: "limit 0 means never", status: Returned, limit: 0, offline: true, offlineSince: t0.Add(-5 * time.Hour), now: t0.Add(48 * time.Hour)},
		{what: "waiting, customer not back", status: Waiting, limit: limit, offline: true, offlineSince: t0.Add(-5 * time.Hour), now: t0.Add(48 * time.Hour)},
		{what: "active", status: Active, limit: limit, offline: true, offlineSince: t0.Add(-5 * time.Hour), now: t0.Add(48 * time.Hour)},
	}
	for _, tt := range tests {
		call := "RequeueDue(" + tt.what + ") on " + string(tt.status)
		t.Run(call, func(t *testing.T) {
			ws := workstream(Persistent, true)
			ws.RequeueReturnedAfter = tt.limit
			if got := fixture(Persistent, tt.status).RequeueDue(ws, tt.now, tt.offline, tt.offlineSince); got != tt.want {
				t.Errorf("%s = %t; want %t", call, got, tt.want)
			}
		})
	}
}

func TestUnassign(t *testing.T) {
	for _, st := range []Status{Queued, Waiting, Returned, Closed} {
		c := fixture(Persistent, st)
		if _, err := c.Unassign(t0); !errors.Is(err, ErrConflict) {
			t.Errorf("Unassign() on %s = %v; want ErrConflict", st, err)
		}
	}
	c := fixture(Persistent, Active)
	before := c.Clone()
	freed, err := c.Unassign(t0)
	if err != nil || c.Status != Queued || c.Agent != nil || !c.QueuedAt.Equal(t0) || c.Version != before.Version+1 {
		t.Fatalf("Unassign() on active = %v: %s agent %+v queued %v v%d", err, c.Status, c.Agent, c.QueuedAt, c.Version)
	}
	if want := (CapacityChange{AgentID: before.Agent.ID, Units: -before.Units}); freed != want {
		t.Errorf("Unassign freed %+v; want %+v", freed, want)
	}
}
