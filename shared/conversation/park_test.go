package conversation

import "testing"

func TestPark(t *testing.T) {
	tests := []struct {
		by     Participant
		status Status
		want   error
	}{
		{by: bob, status: Active},
		{by: bob, status: Waiting, want: ErrConflict},
		{by: bob, status: Returned, want: ErrConflict},
		{by: bob, status: Closed, want: ErrConflict},
		{by: bob, status: Queued, want: ErrNotFound}, // nobody's yet
		{by: alice, status: Active, want: ErrNotAllowed},
		{by: alice, status: Closed, want: ErrNotAllowed},
		{by: carol, status: Active, want: ErrNotFound},
		{by: carol, status: Closed, want: ErrNotFound},
		{by: mallory, status: Active, want: ErrNotFound},
		{by: parley, status: Active, want: ErrNotFound},
	}
	for _, mode := range []Mode{Persistent, Live} {
		for _, tt := range tests {
			call := "Park(" + name(tt.by) + ") on " + string(mode) + " " + string(tt.status)
			t.Run(call, func(t *testing.T) {
				c := fixture(mode, tt.status)
				before := c.Clone()
				ch, err := c.Park(tt.by, t0)
				freed := -ch.Units
				checkErr(t, call, err, tt.want)
				checkMove(t, call, before, c, err, t0)
				if err != nil {
					if freed != 0 {
						t.Errorf("%s failed but freed %d units", call, freed)
					}
					return
				}
				// Parking exists to free capacity at once, and the agent keeps it.
				if freed != before.Units || c.Status != Waiting || !c.ParkedAt.Equal(t0) || c.HoldsCapacity() {
					t.Errorf("%s = freed %d, %s parked at %v; want freed %d, waiting parked at %v", call, freed, c.Status, c.ParkedAt, before.Units, t0)
				}
				if c.Agent == nil || c.Agent.ID != "bob" {
					t.Errorf("%s: Agent = %+v; want bob kept", call, c.Agent)
				}
			})
		}
	}
}
