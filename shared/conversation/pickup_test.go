package conversation

import "testing"

func TestPickup(t *testing.T) {
	roomy := agentRecord()                                         // 2 free, the fixture needs 2
	full := Agent{ID: "bob", Capacity: 3, Used: 2, Presence: Away} // 1 free
	tests := []struct {
		by     Participant
		agent  Agent
		status Status
		want   error
	}{
		{by: bob, agent: roomy, status: Waiting},
		{by: bob, agent: roomy, status: Returned},
		// Away or disconnected does not matter: the agent is acting right now.
		{by: bob, agent: Agent{ID: "bob", Capacity: 2, Presence: Away}, status: Returned},
		{by: bob, agent: full, status: Waiting, want: ErrNoCapacity},
		{by: bob, agent: full, status: Returned, want: ErrNoCapacity},
		{by: bob, agent: roomy, status: Active, want: ErrConflict},
		{by: bob, agent: roomy, status: Closed, want: ErrConflict},
		{by: bob, agent: roomy, status: Queued, want: ErrNotFound},
		{by: bob, agent: Agent{ID: "carol", Capacity: 9}, status: Returned, want: ErrInvalid}, // someone else's record
		{by: alice, agent: roomy, status: Returned, want: ErrNotAllowed},
		{by: carol, agent: Agent{ID: "carol", Capacity: 9}, status: Returned, want: ErrNotFound},
		{by: mallory, agent: roomy, status: Returned, want: ErrNotFound},
	}
	for _, mode := range []Mode{Persistent, Live} {
		for _, tt := range tests {
			call := "Pickup(" + name(tt.by) + ", " + tt.agent.ID + " free " + itoa(tt.agent.Free()) + ") on " + string(mode) + " " + string(tt.status)
			t.Run(call, func(t *testing.T) {
				c := fixture(mode, tt.status)
				before := c.Clone()
				took, err := c.Pickup(tt.by, tt.agent, t0)
				checkErr(t, call, err, tt.want)
				checkMove(t, call, before, c, err, t0)
				wantTake := CapacityChange{}
				if err == nil {
					wantTake = CapacityChange{AgentID: "bob", Units: c.Units, Max: tt.agent.Capacity - c.Units}
				}
				if took != wantTake {
					t.Errorf("%s took %+v; want %+v", call, took, wantTake)
				}
				if err == nil && (c.Status != Active || !c.HoldsCapacity() || c.Agent == nil || c.Agent.ID != "bob") {
					t.Errorf("%s: %s with agent %+v; want active with bob", call, c.Status, c.Agent)
				}
			})
		}
	}
}
