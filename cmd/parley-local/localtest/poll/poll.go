// Package poll lets a test wait for a condition rather than for a guessed
// time: it checks the condition until it holds or a deadline passes, so a
// busy machine makes a test slower, never wrong.
package poll

import (
	"testing"
	"time"
)

// Deadline bounds every wait; nothing should take more than a fraction of
// it, but the machine may be shared.
const Deadline = 60 * time.Second

// every is how often a condition is checked.
const every = 2 * time.Millisecond

// Until checks cond until it returns true and fails the test with what if
// that has not happened within Deadline.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !Within(Deadline, cond) {
		t.Fatalf("waited %s for %s", Deadline, what)
	}
}

// Within checks cond until it returns true or d has passed, and says
// whether it held.
func Within(d time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
}
