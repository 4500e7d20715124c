package conversation

import (
	"slices"
	"testing"
	"time"
)

func TestSortQueue(t *testing.T) {
	at := func(id string, minutes int) *Conversation {
		return &Conversation{ID: id, QueuedAt: t0.Add(time.Duration(minutes) * time.Minute)}
	}
	tests := []struct {
		what string
		in   []*Conversation
		want []string
	}{
		{what: "empty", in: nil, want: nil},
		{what: "oldest first", in: []*Conversation{at("c", 3), at("a", 1), at("b", 2)}, want: []string{"a", "b", "c"}},
		{what: "ties by id", in: []*Conversation{at("z", 1), at("y", 1), at("x", 0)}, want: []string{"x", "y", "z"}},
		{what: "a requeued conversation waits behind older ones", in: []*Conversation{at("requeued-created-first", 10), at("newer", 5)}, want: []string{"newer", "requeued-created-first"}},
	}
	for _, tt := range tests {
		SortQueue(tt.in)
		var got []string
		for _, c := range tt.in {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("SortQueue(%s) = %q; want %q", tt.what, got, tt.want)
		}
	}
	// Equal instants in different zones are the same moment.
	paris, _ := location("Europe/Paris")
	cs := []*Conversation{{ID: "b", QueuedAt: t0.In(paris)}, {ID: "a", QueuedAt: t0}}
	if SortQueue(cs); cs[0].ID != "a" {
		t.Errorf("SortQueue(same instant, two zones) = %q first; want %q", cs[0].ID, "a")
	}
}

func TestAssignmentPossible(t *testing.T) {
	for _, tt := range []struct {
		before, after Status
		new           bool
		want          bool
	}{
		{after: Queued, new: true, want: true},       // a new conversation
		{before: Waiting, after: Queued, want: true}, // requeued
		{before: Active, after: Queued, want: true},  // unassigned
		{before: Active, after: Waiting, want: true}, // parked: capacity freed
		{before: Active, after: Closed, want: true},  // closed: capacity freed
		{before: Queued, after: Queued},              // a message into the queue
		{before: Queued, after: Active},              // assigned
		{before: Waiting, after: Returned},
		{before: Returned, after: Active},
		{before: Waiting, after: Closed},
	} {
		after := fixture(Persistent, tt.after)
		var before *Conversation
		if !tt.new {
			before = fixture(Persistent, tt.before)
		}
		if got := AssignmentPossible(before, after); got != tt.want {
			t.Errorf("AssignmentPossible(%s → %s, new %v) = %v; want %v", tt.before, tt.after, tt.new, got, tt.want)
		}
	}
}
