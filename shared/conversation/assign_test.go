package conversation

import "testing"

func TestAssign(t *testing.T) {
	with := func(change func(*Agent)) Agent {
		a := agentRecord()
		change(&a)
		return a
	}
	tests := []struct {
		what   string
		agent  Agent
		status Status
		want   error
	}{
		{what: "available bob with 2 free", agent: agentRecord(), status: Queued},
		{what: "bob connected with no presence chosen yet", agent: with(func(a *Agent) { a.Presence = "" }), status: Queued},
		{what: "bob serving the workstream by name", agent: with(func(a *Agent) { a.Workstreams = []string{"other", "ws-persistent", "ws-live"} }), status: Queued},
		{what: "bob with exactly the units", agent: with(func(a *Agent) { a.Capacity = 2; a.Used = 0 }), status: Queued},
		{what: "bob with 1 free", agent: with(func(a *Agent) { a.Used = 2 }), status: Queued, want: ErrNoCapacity},
		{what: "bob over capacity", agent: with(func(a *Agent) { a.Used = 5 }), status: Queued, want: ErrNoCapacity},
		{what: "away bob", agent: with(func(a *Agent) { a.Presence = Away }), status: Queued, want: ErrNoCapacity},
		{what: "offline bob", agent: with(func(a *Agent) { a.ConnectionIDs = nil }), status: Queued, want: ErrNoCapacity},
		{what: "bob serving other workstreams", agent: with(func(a *Agent) { a.Workstreams = []string{"other"} }), status: Queued, want: ErrNotAllowed},
		{what: "an agent without id", agent: with(func(a *Agent) { a.ID = "" }), status: Queued, want: ErrInvalid},
		{what: "available bob", agent: agentRecord(), status: Active, want: ErrConflict},
		{what: "available bob", agent: agentRecord(), status: Waiting, want: ErrConflict},
		{what: "available bob", agent: agentRecord(), status: Returned, want: ErrConflict},
		{what: "available bob", agent: agentRecord(), status: Closed, want: ErrConflict},
	}
	for _, mode := range []Mode{Persistent, Live} {
		for _, tt := range tests {
			call := "Assign(" + tt.what + ") on " + string(mode) + " " + string(tt.status)
			t.Run(call, func(t *testing.T) {
				c := fixture(mode, tt.status)
				before := c.Clone()
				took, err := c.Assign(tt.agent, t0)
				checkErr(t, call, err, tt.want)
				checkMove(t, call, before, c, err, t0)
				if err != nil {
					if !took.None() {
						t.Errorf("%s failed but changed capacity: %+v", call, took)
					}
					return
				}
				wantTake := CapacityChange{AgentID: "bob", Units: c.Units, Max: tt.agent.Capacity - c.Units, RequireAvailable: true}
				if took != wantTake {
					t.Errorf("%s took %+v; want %+v", call, took, wantTake)
				}
				want := Participant{Role: AgentRole, ID: "bob", Name: "Bob"}
				if c.Status != Active || c.Agent == nil || *c.Agent != want || !c.AssignedAt.Equal(t0) {
					t.Errorf("%s: %s with %+v assigned at %v; want active with %+v at %v", call, c.Status, c.Agent, c.AssignedAt, want, t0)
				}
				if !c.Visible(bob) {
					t.Errorf("%s: bob cannot see the conversation assigned to him", call)
				}
			})
		}
	}
}
