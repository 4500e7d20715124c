package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

func (w *world) connectCustomer(wid, id, connID string, at time.Time) conversation.Connection {
	w.t.Helper()
	c := conversation.Connection{ID: connID, Role: conversation.Customer, UserID: id, Name: customer(id).Name, Widget: wid, ConnectedAt: at}
	if err := w.s.AddConnection(w.ctx, c, 3); err != nil {
		w.t.Fatalf("AddConnection(%s of customer %s) = %v", connID, id, err)
	}
	return c
}

func (w *world) disconnect(c conversation.Connection, at time.Time) {
	w.t.Helper()
	if err := w.s.RemoveConnection(w.ctx, c, at); err != nil {
		w.t.Fatalf("RemoveConnection(%s) = %v", c.ID, err)
	}
}

func (w *world) customer(wid, id string) conversation.CustomerState {
	w.t.Helper()
	c, err := w.s.Customer(w.ctx, wid, id)
	if err != nil {
		w.t.Fatalf("Customer(%s, %s) = %v", wid, id, err)
	}
	return c
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func TestCustomerConnections(t *testing.T) {
	w := newWorld(t)
	if got := w.customer(widget, "alice"); got.ID != "alice" || got.Widget != widget || len(got.ConnectionIDs) != 0 {
		t.Errorf("Customer(never seen) = %+v; want empty alice of %s", got, widget)
	}

	k1 := w.connectCustomer(widget, "alice", "k1", t0)
	k2 := w.connectCustomer(widget, "alice", "k2", t0.Add(time.Minute))
	w.connectCustomer("live", "alice", "k9", t0) // the same person on another widget is another customer
	got := w.customer(widget, "alice")
	if !slices.Equal(sorted(got.ConnectionIDs), []string{"k1", "k2"}) || got.Name != "Alice" ||
		!got.LastConnectedAt.Equal(t0.Add(time.Minute)) || !got.LastDisconnectedAt.IsZero() {
		t.Errorf("Customer(alice) with two connections = %+v; want k1, k2, last connected %v, never disconnected", got, t0.Add(time.Minute))
	}
	if c, err := w.s.Connection(w.ctx, "k1"); err != nil || !reflect.DeepEqual(c, k1) {
		t.Errorf("Connection(k1) = %+v, %v; want %+v", c, err, k1)
	}

	w.disconnect(k1, t0.Add(2*time.Minute))
	got = w.customer(widget, "alice")
	// The latest departure is kept at once, so a sweep never sees a
	// customer gone at an unknown time; k2 still connected keeps any live
	// chat open.
	if !slices.Equal(got.ConnectionIDs, []string{"k2"}) || !got.LastDisconnectedAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("Customer(alice) after one of two left = %+v; want k2, last departure %v", got, t0.Add(2*time.Minute))
	}
	if _, err := w.s.Connection(w.ctx, "k1"); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("Connection(removed k1) = %v; want ErrNotFound", err)
	}

	w.disconnect(k2, t0.Add(3*time.Minute))
	got = w.customer(widget, "alice")
	if len(got.ConnectionIDs) != 0 || !got.LastDisconnectedAt.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("Customer(alice) after the last left = %+v; want no connections, last disconnected %v", got, t0.Add(3*time.Minute))
	}
	if other := w.customer("live", "alice"); !slices.Equal(other.ConnectionIDs, []string{"k9"}) || !other.LastDisconnectedAt.IsZero() {
		t.Errorf("Customer(live, alice) = %+v; want k9 still connected", other)
	}
}

func TestAgentConnections(t *testing.T) {
	w := newWorld(t)
	if _, err := w.s.Agent(w.ctx, "bob"); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("Agent(never seen) = %v; want ErrNotFound", err)
	}
	if _, err := w.s.SetPresence(w.ctx, "bob", conversation.Away); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("SetPresence(never seen) = %v; want ErrNotFound", err)
	}
	online := func(step string, want ...string) {
		t.Helper()
		as, err := w.s.OnlineAgents(w.ctx)
		var got []string
		for _, a := range as {
			got = append(got, a.ID)
		}
		if err != nil || !slices.Equal(sorted(got), want) {
			t.Errorf("%s: OnlineAgents = %v, %v; want %v", step, got, err, want)
		}
	}
	online("nobody connected")

	a1 := w.connectAgent("bob", "a1", 3, t0)
	a2 := w.connectAgent("bob", "a2", 5, t0.Add(time.Minute)) // the default applies to a new agent only
	w.connectAgent("carol", "c1", 2, t0)
	want := conversation.Agent{ID: "bob", Name: "Bob", Capacity: 3, Used: 0,
		Presence: conversation.Available, ConnectionIDs: []string{"a1", "a2"}}
	got := w.agent("bob")
	got.ConnectionIDs = sorted(got.ConnectionIDs)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Agent(bob) with two connections = %+v; want %+v", got, want)
	}
	online("two connected", "bob", "carol")

	away, err := w.s.SetPresence(w.ctx, "bob", conversation.Away)
	if err != nil || away.Presence != conversation.Away || len(away.ConnectionIDs) != 2 {
		t.Errorf("SetPresence(bob, away) = %+v, %v; want away with 2 connections", away, err)
	}
	online("bob away", "bob", "carol") // online, even if not available

	w.disconnect(a1, t0.Add(2*time.Minute))
	if got := w.agent("bob"); len(got.ConnectionIDs) != 1 || !got.OfflineSince.IsZero() {
		t.Errorf("Agent(bob) after one of two left = %+v; want 1 connection, not offline", got)
	}
	online("bob on one connection", "bob", "carol")

	w.disconnect(a2, t0.Add(3*time.Minute))
	got = w.agent("bob")
	if len(got.ConnectionIDs) != 0 || got.Presence != conversation.Offline || !got.OfflineSince.Equal(t0.Add(3*time.Minute)) || got.Capacity != 3 {
		t.Errorf("Agent(bob) after the last left = %+v; want offline since %v, capacity kept", got, t0.Add(3*time.Minute))
	}
	online("bob gone", "carol")

	w.connectAgent("bob", "a3", 3, t0.Add(4*time.Minute))
	if got := w.agent("bob"); len(got.ConnectionIDs) != 1 || !got.OfflineSince.IsZero() {
		t.Errorf("Agent(bob) back = %+v; want 1 connection, OfflineSince cleared", got)
	}
	online("bob back", "bob", "carol")
}

func TestRemoveConnectionsConcurrently(t *testing.T) {
	w := newWorld(t)
	var conns []conversation.Connection
	for i := range 5 {
		conns = append(conns, w.connectAgent("bob", fmt.Sprintf("a%d", i), 3, t0))
		conns = append(conns, w.connectCustomer(widget, "alice", fmt.Sprintf("k%d", i), t0))
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			if err := w.s.RemoveConnection(w.ctx, c, t0.Add(time.Hour)); err != nil {
				t.Errorf("RemoveConnection(%s) = %v", c.ID, err)
			}
		})
	}
	wg.Wait()
	if a := w.agent("bob"); len(a.ConnectionIDs) != 0 || a.OfflineSince.IsZero() {
		t.Errorf("Agent(bob) after all connections left at once = %+v; want offline", a)
	}
	if as, err := w.s.OnlineAgents(w.ctx); err != nil || len(as) != 0 {
		t.Errorf("OnlineAgents = %v, %v; want none", as, err)
	}
	if c := w.customer(widget, "alice"); len(c.ConnectionIDs) != 0 || c.LastDisconnectedAt.IsZero() {
		t.Errorf("Customer(alice) after all connections left at once = %+v; want none, last disconnected set", c)
	}
}

func TestConnectionRoles(t *testing.T) {
	w := newWorld(t)
	before := w.snapshot()
	for _, role := range []conversation.Role{conversation.System, ""} {
		c := conversation.Connection{ID: "x1", Role: role, UserID: "u", ConnectedAt: t0}
		if err := w.s.AddConnection(w.ctx, c, 3); !errors.Is(err, conversation.ErrInvalid) {
			t.Errorf("AddConnection(role %q) = %v; want ErrInvalid", role, err)
		}
		if err := w.s.RemoveConnection(w.ctx, c, t0); !errors.Is(err, conversation.ErrInvalid) {
			t.Errorf("RemoveConnection(role %q) = %v; want ErrInvalid", role, err)
		}
	}
	w.unchanged(before, "connections with an unknown role")
}

func TestParties(t *testing.T) {
	w := newWorld(t)
	w.connectCustomer(widget, "alice", "k1", t0)
	w.connectCustomer(widget, "alice", "k2", t0)
	w.connectAgent("bob", "a1", 3, t0)
	c := w.create(customer("alice"), t0)

	cust, ag, err := w.s.Parties(w.ctx, c)
	if err != nil || !slices.Equal(sorted(cust.ConnectionIDs), []string{"k1", "k2"}) || cust.OpenConversationID != c.ID || ag != nil {
		t.Errorf("Parties(queued %s) = %+v, %+v, %v; want alice on k1, k2 and no agent", c.ID, cust, ag, err)
	}

	assigned := w.assign(c.ID, "bob", t0)
	cust, ag, err = w.s.Parties(w.ctx, assigned)
	if err != nil || !slices.Equal(sorted(cust.ConnectionIDs), []string{"k1", "k2"}) || ag == nil ||
		ag.ID != "bob" || !slices.Equal(ag.ConnectionIDs, []string{"a1"}) || ag.Used != 1 {
		t.Errorf("Parties(active %s) = %+v, %+v, %v; want alice on k1, k2 and bob on a1 using 1", c.ID, cust, ag, err)
	}

	// A conversation whose customer has no record yet still names them.
	ghost := &conversation.Conversation{ID: "c_x", Widget: widget, Customer: customer("zoe")}
	cust, ag, err = w.s.Parties(w.ctx, ghost)
	if err != nil || cust.ID != "zoe" || cust.Widget != widget || len(cust.ConnectionIDs) != 0 || ag != nil {
		t.Errorf("Parties(customer never seen) = %+v, %+v, %v; want zoe of %s without connections", cust, ag, err, widget)
	}
}

func TestStaleConnections(t *testing.T) {
	w := newWorld(t)
	old := w.connectCustomer(widget, "alice", "k-old", t0.Add(-3*time.Hour))
	oldAgent := w.connectAgent("bob", "a-old", 3, t0.Add(-2*time.Hour-time.Minute))
	w.connectCustomer(widget, "carol", "k-new", t0.Add(-time.Hour))
	w.connectAgent("bob", "a-new", 3, t0)

	got, err := w.s.StaleConnections(w.ctx, t0.Add(-2*time.Hour))
	slices.SortFunc(got, func(a, b conversation.Connection) int { return a.ConnectedAt.Compare(b.ConnectedAt) })
	if err != nil || !reflect.DeepEqual(got, []conversation.Connection{old, oldAgent}) {
		t.Errorf("StaleConnections(2h before) = %+v, %v; want %+v", got, err, []conversation.Connection{old, oldAgent})
	}
	if got, err := w.s.StaleConnections(w.ctx, t0.Add(-4*time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("StaleConnections(before all) = %+v, %v; want none", got, err)
	}
}
