package conversation

import "testing"

func TestVisible(t *testing.T) {
	tests := []struct {
		by     Participant
		status Status
		want   bool
	}{
		{by: alice, status: Queued, want: true},
		{by: alice, status: Closed, want: true}, // her transcript stays hers
		{by: bob, status: Active, want: true},
		{by: bob, status: Closed, want: true},
		{by: bob, status: Queued}, // no agent yet
		{by: carol, status: Active},
		{by: mallory, status: Active},
		{by: parley, status: Active},
		{by: Participant{Role: AgentRole, ID: "alice"}, status: Active},
		{by: Participant{Role: Customer, ID: "bob"}, status: Active},
		{by: Participant{Role: Customer}, status: Active},
	}
	for _, tt := range tests {
		call := "Visible(" + name(tt.by) + ") on " + string(tt.status)
		t.Run(call, func(t *testing.T) {
			c := fixture(Persistent, tt.status)
			if got := c.Visible(tt.by); got != tt.want {
				t.Errorf("%s = %t; want %t", call, got, tt.want)
			}
		})
	}
	t.Run("empty ids never match", func(t *testing.T) {
		c := fixture(Persistent, Active)
		c.Customer.ID, c.Agent.ID = "", ""
		for _, p := range []Participant{{Role: Customer}, {Role: AgentRole}} {
			if c.Visible(p) {
				t.Errorf("Visible(%s) on a conversation with empty ids = true; want false", name(p))
			}
		}
	})
}

func TestHoldsCapacity(t *testing.T) {
	for _, status := range allStatuses {
		want := status == Active
		if got := fixture(Live, status).HoldsCapacity(); got != want {
			t.Errorf("HoldsCapacity() on %s = %t; want %t", status, got, want)
		}
	}
}

func TestClone(t *testing.T) {
	c := fixture(Persistent, Active)
	d := c.Clone()
	d.Agent.Name = "changed"
	d.Status = Closed
	if c.Agent.Name != "Bob" || c.Status != Active {
		t.Errorf("Clone() shares state with the original: agent %+v, status %s", c.Agent, c.Status)
	}
	if q := fixture(Persistent, Queued).Clone(); q.Agent != nil {
		t.Errorf("Clone() of a queued conversation has agent %+v; want nil", q.Agent)
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		status                    Status
		valid, open, usesCapacity bool
	}{
		{Queued, true, true, false},
		{Active, true, true, true},
		{Waiting, true, true, false},
		{Returned, true, true, false},
		{Closed, true, false, false},
		{"parked", false, false, false},
		{"", false, false, false},
	}
	for _, tt := range tests {
		if tt.status.Valid() != tt.valid || tt.status.Open() != tt.open || tt.status.UsesCapacity() != tt.usesCapacity {
			t.Errorf("Status(%q): Valid %t, Open %t, UsesCapacity %t; want %t, %t, %t", tt.status,
				tt.status.Valid(), tt.status.Open(), tt.status.UsesCapacity(), tt.valid, tt.open, tt.usesCapacity)
		}
	}
}

func TestModeAndRoleValid(t *testing.T) {
	for _, m := range []Mode{Persistent, Live} {
		if !m.Valid() {
			t.Errorf("Mode(%q).Valid() = false; want true", m)
		}
	}
	for _, m := range []Mode{"", "classic", "Live"} {
		if m.Valid() {
			t.Errorf("Mode(%q).Valid() = true; want false", m)
		}
	}
	for _, r := range []Role{Customer, AgentRole, System} {
		if !r.Valid() {
			t.Errorf("Role(%q).Valid() = false; want true", r)
		}
	}
	for _, r := range []Role{"", "admin"} {
		if r.Valid() {
			t.Errorf("Role(%q).Valid() = true; want false", r)
		}
	}
}
