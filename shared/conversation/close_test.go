package conversation

import (
	"strings"
	"testing"
)

func TestClose(t *testing.T) {
	tests := []struct {
		mode      Mode
		by        Participant
		status    Status
		want      error
		wantFreed int // fixture conversations use 2 units
	}{
		// Persistent chats outlive the tab, so only the agent may end them.
		{mode: Persistent, by: alice, status: Queued, want: ErrNotAllowed},
		{mode: Persistent, by: alice, status: Active, want: ErrNotAllowed},
		{mode: Persistent, by: alice, status: Waiting, want: ErrNotAllowed},
		{mode: Persistent, by: alice, status: Returned, want: ErrNotAllowed},
		{mode: Persistent, by: alice, status: Closed, want: ErrNotAllowed},
		{mode: Persistent, by: bob, status: Active, wantFreed: 2},
		{mode: Persistent, by: bob, status: Waiting},
		{mode: Persistent, by: bob, status: Returned},
		{mode: Persistent, by: bob, status: Closed, want: ErrConflict},
		{mode: Persistent, by: bob, status: Queued, want: ErrNotFound},
		{mode: Persistent, by: carol, status: Active, want: ErrNotFound},
		{mode: Persistent, by: mallory, status: Active, want: ErrNotFound},
		{mode: Persistent, by: parley, status: Active, want: ErrNotFound}, // sweep uses CloseBySystem
		// In live mode either side may close.
		{mode: Live, by: alice, status: Queued},
		{mode: Live, by: alice, status: Active, wantFreed: 2},
		{mode: Live, by: alice, status: Waiting},
		{mode: Live, by: alice, status: Returned},
		{mode: Live, by: alice, status: Closed, want: ErrConflict},
		{mode: Live, by: bob, status: Active, wantFreed: 2},
		{mode: Live, by: bob, status: Waiting},
		{mode: Live, by: bob, status: Closed, want: ErrConflict},
		{mode: Live, by: bob, status: Queued, want: ErrNotFound},
		{mode: Live, by: carol, status: Active, want: ErrNotFound},
		{mode: Live, by: mallory, status: Queued, want: ErrNotFound},
	}
	for _, tt := range tests {
		call := "Close(" + name(tt.by) + ") on " + string(tt.mode) + " " + string(tt.status)
		t.Run(call, func(t *testing.T) {
			c := fixture(tt.mode, tt.status)
			before := c.Clone()
			ch, err := c.Close(tt.by, t0)
			freed := -ch.Units
			checkErr(t, call, err, tt.want)
			checkMove(t, call, before, c, err, t0)
			if freed != tt.wantFreed {
				t.Errorf("%s freed %d units; want %d", call, freed, tt.wantFreed)
			}
			if err != nil {
				return
			}
			if c.Status != Closed || c.ClosedBy != tt.by.Role || !c.ClosedAt.Equal(t0) {
				t.Errorf("%s: %s by %q at %v; want closed by %s at %v", call, c.Status, c.ClosedBy, c.ClosedAt, tt.by.Role, t0)
			}
			if (before.Agent == nil) != (c.Agent == nil) {
				t.Errorf("%s: Agent = %+v; want kept as %+v for the transcript", call, c.Agent, before.Agent)
			}
		})
	}
}

// The protocol's example error message is the one the customer sees.
func TestCloseForbiddenMessage(t *testing.T) {
	_, err := fixture(Persistent, Active).Close(alice, t0)
	if err == nil || !strings.Contains(err.Error(), "persistent conversations can only be ended by an agent") {
		t.Errorf("Close(customer) on persistent = %v; want it to say persistent conversations can only be ended by an agent", err)
	}
}

func TestCloseBySystem(t *testing.T) {
	for _, mode := range []Mode{Persistent, Live} {
		for _, status := range allStatuses {
			call := "CloseBySystem() on " + string(mode) + " " + string(status)
			t.Run(call, func(t *testing.T) {
				c := fixture(mode, status)
				before := c.Clone()
				ch, err := c.CloseBySystem(t0)
				freed := -ch.Units
				var want error
				if status == Closed {
					want = ErrConflict
				}
				checkErr(t, call, err, want)
				checkMove(t, call, before, c, err, t0)
				wantFreed := 0
				if status == Active {
					wantFreed = before.Units
				}
				if freed != wantFreed {
					t.Errorf("%s freed %d units; want %d", call, freed, wantFreed)
				}
				if err == nil && (c.Status != Closed || c.ClosedBy != System || !c.ClosedAt.Equal(t0)) {
					t.Errorf("%s: %s by %q at %v; want closed by system at %v", call, c.Status, c.ClosedBy, c.ClosedAt, t0)
				}
			})
		}
	}
}
