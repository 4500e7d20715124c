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
