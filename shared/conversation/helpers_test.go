package conversation

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// t0 is a Tuesday morning in UTC, inside any sensible operating hours.
var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// The cast. bob is the agent assigned to every fixture conversation that has
// one; carol is another agent, mallory another customer.
var (
	alice   = Participant{Role: Customer, ID: "alice", Name: "Alice"}
	mallory = Participant{Role: Customer, ID: "mallory", Name: "Mallory"}
	bob     = Participant{Role: AgentRole, ID: "bob", Name: "Bob"}
	carol   = Participant{Role: AgentRole, ID: "carol", Name: "Carol"}
	parley  = Participant{Role: System, ID: "sweep"}
)

var allStatuses = []Status{Queued, Active, Waiting, Returned, Closed}

// fixture returns a conversation in mode and status as the moves would have
// left it: bob assigned unless Queued, two units, five messages, version 7.
func fixture(mode Mode, status Status) *Conversation {
	c := &Conversation{
		ID:                    "c_1",
		Workstream:            "ws-" + string(mode),
		Widget:                string(mode),
		Mode:                  mode,
		Status:                status,
		Customer:              alice,
		Units:                 2,
		LastSeq:               5,
		CreatedAt:             t0.Add(-time.Hour),
		UpdatedAt:             t0.Add(-time.Minute),
		QueuedAt:              t0.Add(-time.Hour),
		LastMessageAt:         t0.Add(-time.Minute),
		LastCustomerMessageAt: t0.Add(-2 * time.Minute),
		Version:               7,
	}
	if status != Queued {
		b := bob
		c.Agent = &b
		c.AssignedAt = t0.Add(-50 * time.Minute)
	}
	switch status {
	case Waiting:
		c.ParkedAt = t0.Add(-30 * time.Minute)
	case Returned:
		c.ParkedAt = t0.Add(-30 * time.Minute)
		c.ReturnedAt = t0.Add(-10 * time.Minute)
	case Closed:
		c.ClosedAt, c.ClosedBy = t0.Add(-time.Minute), AgentRole
	}
	return c
}

// workstream returns the fixture workstream for mode, always open.
func workstream(mode Mode, keepSameAgent bool) Workstream {
	return Workstream{ID: "ws-" + string(mode), Mode: mode, Hours: Hours{AlwaysOpen: true}, KeepSameAgent: keepSameAgent, Units: 2}
}

// agentRecord is bob's capacity record, available with room for one fixture
// conversation.
func agentRecord() Agent {
	return Agent{ID: "bob", Name: "Bob", Capacity: 3, Used: 1, Presence: Available, ConnectionIDs: conns(1)}
}

var sentinels = []struct {
	name string
	err  error
}{
	{"ErrInvalid", ErrInvalid},
	{"ErrNotFound", ErrNotFound},
	{"ErrNotAllowed", ErrNotAllowed},
	{"ErrConflict", ErrConflict},
	{"ErrNoCapacity", ErrNoCapacity},
	{"ErrOutsideHours", ErrOutsideHours},
	{"ErrTooLarge", ErrTooLarge},
}

// errName names err by the sentinel it wraps, so failures read
// "= <nil>; want ErrNotAllowed".
func errName(err error) string {
	if err == nil {
		return "<nil>"
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "unwrapped error"
}

// checkErr reports whether call returned the expected sentinel (nil for
// success), failing the test with the call's description if not.
func checkErr(t *testing.T, call string, got, want error) bool {
	t.Helper()
	if (want == nil) != (got == nil) || (want != nil && !errors.Is(got, want)) {
		t.Errorf("%s = %s (%v); want %s", call, errName(got), got, errName(want))
		return false
	}
	return true
}

// checkMove checks the bookkeeping every move shares: on success Version is
// bumped once and UpdatedAt is now; on failure the conversation is exactly as
// it was.
func checkMove(t *testing.T, call string, before, after *Conversation, err error, now time.Time) {
	t.Helper()
	if err != nil {
		if !reflect.DeepEqual(before, after) {
			t.Errorf("%s failed (%v) but changed the conversation:\n before %+v\n after  %+v", call, err, before, after)
		}
		return
	}
	if after.Version != before.Version+1 {
		t.Errorf("%s: Version = %d; want %d", call, after.Version, before.Version+1)
	}
	if !after.UpdatedAt.Equal(now) {
		t.Errorf("%s: UpdatedAt = %v; want %v", call, after.UpdatedAt, now)
	}
}

func name(p Participant) string {
	if p.ID == "" {
		return string(p.Role)
	}
	return string(p.Role) + " " + p.ID
}

func itoa(n int) string { return strconv.Itoa(n) }

// conns is n connection ids, for an agent with n open connections.
// onDuty is an available agent with one connection.
func onDuty(id string, capacity, used int) Agent {
	return Agent{ID: id, Capacity: capacity, Used: used, Presence: Available, ConnectionIDs: conns(1)}
}

func conns(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("k%d", i+1)
	}
	return ids
}
