package conversation

import (
	"cmp"
	"slices"
)

// SortQueue orders queued conversations for assignment: oldest QueuedAt
// first, so a requeued conversation waits its turn behind those queued
// before it; ties by ID so the order is the same on every run.
func SortQueue(cs []*Conversation) {
	slices.SortStableFunc(cs, func(a, b *Conversation) int {
		if c := a.QueuedAt.Compare(b.QueuedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// AssignmentPossible reports whether a conversation going from before to
// after may let a queued conversation be assigned: it entered the queue
// (before is nil for a new one), or its agent got capacity back.
func AssignmentPossible(before, after *Conversation) bool {
	if after.Status == Queued && (before == nil || before.Status != Queued) {
		return true
	}
	return before != nil && before.HoldsCapacity() && !after.HoldsCapacity()
}
