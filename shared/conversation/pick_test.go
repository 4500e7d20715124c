package conversation

import (
	"slices"
	"testing"
)

func TestRoom(t *testing.T) {
	ws := Workstream{ID: "support", Mode: Live, Units: 2}
	agent := onDuty
	away := agent("away", 9, 0)
	away.Presence = Away
	elsewhere := agent("elsewhere", 9, 0)
	elsewhere.Workstreams = []string{"sales"}
	tests := []struct {
		what   string
		agents []Agent
		ws     Workstream
		want   int
	}{
		{"nobody", nil, ws, 0},
		{"free units divided by the workstream's", []Agent{agent("a", 5, 0), agent("b", 4, 1)}, ws, 2 + 1},
		{"away and other workstreams have no room", []Agent{away, elsewhere, agent("a", 3, 3)}, ws, 0},
		{"over capacity counts as none", []Agent{agent("a", 2, 4), agent("b", 2, 0)}, ws, 1},
		{"units default to 1", []Agent{agent("a", 3, 1)}, Workstream{ID: "support", Mode: Live}, 2},
	}
	for _, tt := range tests {
		if got := Room(tt.agents, tt.ws); got != tt.want {
			t.Errorf("Room(%s) = %d; want %d", tt.what, got, tt.want)
		}
	}
}

func TestRotation(t *testing.T) {
	tests := []struct {
		n, room, start int
		want           []int
	}{
		{0, 3, 0, []int{}},
		{4, 1, 3, []int{0, 1, 2, 3}},       // room for one: the oldest, whatever the start
		{4, 0, 2, []int{0, 1, 2, 3}},       // no room: oldest first (the first try finds it full)
		{5, 3, 1, []int{1, 2, 0, 3, 4}},    // rotate among the three oldest, then the rest in order
		{5, 3, 4, []int{1, 2, 0, 3, 4}},    // start is taken modulo the room
		{3, 9, 2, []int{2, 0, 1}},          // room for all: rotate over the page
		{6, 6, 0, []int{0, 1, 2, 3, 4, 5}}, // start 0 is queue order
	}
	for _, tt := range tests {
		got := Rotation(tt.n, tt.room, tt.start)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Rotation(%d, %d, %d) = %v; want %v", tt.n, tt.room, tt.start, got, tt.want)
		}
	}
	// Whatever the start, the first room tried are the room oldest.
	for start := range 7 {
		got := Rotation(7, 3, start)
		head := slices.Clone(got[:3])
		slices.Sort(head)
		if !slices.Equal(head, []int{0, 1, 2}) || !slices.Equal(got[3:], []int{3, 4, 5, 6}) {
			t.Errorf("Rotation(7, 3, %d) = %v; want a rotation of 0-2, then 3-6", start, got)
		}
	}
}
