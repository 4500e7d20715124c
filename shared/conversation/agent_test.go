package conversation

import (
	"fmt"
	"testing"
)

func TestAgent(t *testing.T) {
	tests := []struct {
		agent     Agent
		available bool
		presence  Presence
		free      int
	}{
		{Agent{Capacity: 3, Used: 1, Presence: Available, ConnectionIDs: conns(1)}, true, Available, 2},
		{Agent{Capacity: 3, Used: 1, Presence: "", ConnectionIDs: conns(2)}, true, Available, 2}, // connected agents are available unless they chose away
		{Agent{Capacity: 3, Used: 3, Presence: Available, ConnectionIDs: conns(1)}, true, Available, 0},
		{Agent{Capacity: 3, Presence: Away, ConnectionIDs: conns(1)}, false, Away, 3},
		{Agent{Capacity: 3, Presence: Available, ConnectionIDs: conns(0)}, false, Offline, 3},
		{Agent{Capacity: 3, Presence: Away, ConnectionIDs: conns(0)}, false, Offline, 3},
		{Agent{Capacity: 2, Used: 3, Presence: Available, ConnectionIDs: conns(1)}, true, Available, 0}, // capacity lowered below use
	}
	for _, tt := range tests {
		a := tt.agent
		if a.Available() != tt.available || a.CurrentPresence() != tt.presence || a.Free() != tt.free {
			t.Errorf("%+v: Available %t, CurrentPresence %s, Free %d; want %t, %s, %d",
				a, a.Available(), a.CurrentPresence(), a.Free(), tt.available, tt.presence, tt.free)
		}
		for units := 0; units <= 4; units++ {
			if got, want := a.CanTake(units), units <= tt.free; got != want {
				t.Errorf("%+v.CanTake(%d) = %t; want %t", a, units, got, want)
			}
		}
	}
}

func TestAgentServes(t *testing.T) {
	tests := []struct {
		workstreams []string
		ws          string
		want        bool
	}{
		{nil, "support", true},
		{[]string{}, "support", true},
		{[]string{"sales", "support"}, "support", true},
		{[]string{"sales"}, "support", false},
	}
	for _, tt := range tests {
		if got := (Agent{Workstreams: tt.workstreams}).Serves(tt.ws); got != tt.want {
			t.Errorf("Agent{Workstreams: %q}.Serves(%q) = %t; want %t", tt.workstreams, tt.ws, got, tt.want)
		}
	}
}

func TestParsePresence(t *testing.T) {
	tests := []struct {
		in   string
		want Presence
		err  error
	}{
		{"available", Available, nil},
		{"away", Away, nil},
		{"offline", "", ErrInvalid}, // follows from having no connection; not a choice
		{"", "", ErrInvalid},
		{"Available", "", ErrInvalid},
	}
	for _, tt := range tests {
		got, err := ParsePresence(tt.in)
		call := fmt.Sprintf("ParsePresence(%q)", tt.in)
		if checkErr(t, call, err, tt.err) && got != tt.want {
			t.Errorf("%s = %q; want %q", call, got, tt.want)
		}
	}
}

func TestPickAgent(t *testing.T) {
	ws := Workstream{ID: "support", Mode: Live, Units: 2}
	agent := onDuty
	away := agent("away", 9, 0)
	away.Presence = Away
	offline := agent("offline", 9, 0)
	offline.ConnectionIDs = nil
	elsewhere := agent("elsewhere", 9, 0)
	elsewhere.Workstreams = []string{"sales"}
	here := agent("here", 9, 0)
	here.Workstreams = []string{"sales", "support"}
	tests := []struct {
		what   string
		agents []Agent
		ws     Workstream
		want   string // "" = nobody
	}{
		{what: "nobody", agents: nil, ws: ws},
		{what: "most free capacity wins", agents: []Agent{agent("a", 3, 0), agent("b", 5, 1), agent("c", 4, 2)}, ws: ws, want: "b"},
		{what: "equal free: fewest used wins", agents: []Agent{agent("a", 5, 2), agent("b", 3, 0), agent("c", 4, 1)}, ws: ws, want: "b"},
		{what: "equal free and used: smallest id wins", agents: []Agent{agent("c", 3, 0), agent("a", 3, 0), agent("b", 3, 0)}, ws: ws, want: "a"},
		{what: "not enough room for 2 units", agents: []Agent{agent("a", 3, 2), agent("b", 1, 0)}, ws: ws},
		{what: "exactly enough room", agents: []Agent{agent("a", 3, 2), agent("b", 2, 0)}, ws: ws, want: "b"},
		{what: "away, offline and other workstreams are skipped", agents: []Agent{away, offline, elsewhere, agent("z", 3, 1)}, ws: ws, want: "z"},
		{what: "an agent naming the workstream serves it", agents: []Agent{elsewhere, here}, ws: ws, want: "here"},
		{what: "units default to 1", agents: []Agent{agent("a", 3, 3), agent("b", 3, 2)}, ws: Workstream{ID: "support", Mode: Live}, want: "b"},
	}
	for _, tt := range tests {
		got, ok := PickAgent(tt.agents, tt.ws)
		if ok != (tt.want != "") || got.ID != tt.want {
			t.Errorf("PickAgent(%s) = %q, %t; want %q", tt.what, got.ID, ok, tt.want)
		}
	}
	// The answer does not depend on the order the store listed agents in.
	list := []Agent{agent("c", 3, 0), agent("a", 3, 0), agent("b", 3, 0), agent("d", 2, 0)}
	for i := range list {
		rotated := append(append([]Agent{}, list[i:]...), list[:i]...)
		if got, _ := PickAgent(rotated, ws); got.ID != "a" {
			t.Errorf("PickAgent(rotation %d) = %q; want %q", i, got.ID, "a")
		}
	}
}
