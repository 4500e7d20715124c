package conversation

import "cmp"

// PickAgent chooses who gets ws's next queued conversation: an available
// agent serving ws with room for ws's units. It prefers the most free
// capacity, then the fewest units in use, so work spreads evenly instead of
// piling on whoever is first in the list; ties go to the smallest ID so that
// every caller picks the same agent. ok is false when nobody fits.
func PickAgent(agents []Agent, ws Workstream) (best Agent, ok bool) {
	ws = ws.WithDefaults()
	for _, a := range agents {
		if !a.Available() || !a.Serves(ws.ID) || !a.CanTake(ws.Units) {
			continue
		}
		if !ok || better(a, best) {
			best, ok = a, true
		}
	}
	return best, ok
}

func better(a, b Agent) bool {
	if c := cmp.Compare(b.Free(), a.Free()); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(a.Used, b.Used); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

// Room is how many more of ws's conversations the agents can take now: the
// sum, over the available agents serving ws, of how many times ws's units
// fit into their free capacity.
func Room(agents []Agent, ws Workstream) int {
	ws = ws.WithDefaults()
	n := 0
	for _, a := range agents {
		if a.Available() && a.Serves(ws.ID) && ws.Units > 0 {
			n += a.Free() / ws.Units
		}
	}
	return n
}

// Rotation is the order in which a pass offers a page of n queued
// conversations, oldest first, when room of them can be taken: it starts
// at the page's start-th conversation but only among the room oldest, so
// that concurrent passes spread over the conversations that will be
// assigned anyway while the oldest are still the ones assigned, never one
// queued later. start is taken modulo min(room, n).
func Rotation(n, room, start int) []int {
	head := min(max(room, 1), n)
	order := make([]int, 0, n)
	if head == 0 {
		return order
	}
	start %= head
	for i := range head {
		order = append(order, (start+i)%head)
	}
	for i := head; i < n; i++ {
		order = append(order, i)
	}
	return order
}
