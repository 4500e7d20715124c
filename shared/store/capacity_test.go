package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

// takeChange assigns c to the agent as record a says it is, whatever it is
// now: the store, not the record, must enforce capacity and presence.
func takeChange(a conversation.Agent, requireAvailable bool) func(c *conversation.Conversation) (conversation.Change, error) {
	return func(c *conversation.Conversation) (conversation.Change, error) {
		seen := a
		seen.Presence, seen.ConnectionIDs = conversation.Available, []string{"k1"} // the record routing read
		if _, err := c.Assign(seen, t0.Add(time.Minute)); err != nil {
			return conversation.Change{}, err
		}
		return conversation.Change{Capacity: conversation.CapacityChange{AgentID: a.ID, Units: c.Units, Max: a.Capacity - c.Units,
			RequireAvailable: requireAvailable}}, nil
	}
}

func TestApplyCapacity(t *testing.T) {
	w := newWorld(t)
	bob := agent("bob")
	w.connectAgent(bob.ID, "b1", 2, t0)
	record := w.agent(bob.ID) // read once, before any assignment: it goes stale

	var queued []*conversation.Conversation
	for i := range 3 {
		queued = append(queued, w.create(customer(fmt.Sprintf("cust%d", i)), t0.Add(time.Duration(i)*time.Second)))
	}
	for i, c := range queued {
		before := w.snapshot()
		_, _, err := w.move(c.ID, takeChange(record, true))
		if i < 2 {
			if err != nil {
				t.Fatalf("Apply(assign %s to bob, %d of capacity 2 used) = %v; want <nil>", c.ID, i, err)
			}
			continue
		}
		if !errors.Is(err, conversation.ErrNoCapacity) {
			t.Fatalf("Apply(assign %s to bob, full) = %v; want ErrNoCapacity", c.ID, err)
		}
		w.unchanged(before, "an assignment to a full agent")
	}
	if a := w.agent(bob.ID); a.Used != 2 || a.Capacity != 2 {
		t.Errorf("bob = used %d of %d; want 2 of 2", a.Used, a.Capacity)
	}

	// Freeing a unit makes room again.
	if _, _, err := w.move(queued[0].ID, parkChange(bob, t0.Add(2*time.Minute))); err != nil {
		t.Fatalf("Apply(park %s) = %v", queued[0].ID, err)
	}
	if got := w.agent(bob.ID).Used; got != 1 {
		t.Errorf("bob's used after a park = %d; want 1", got)
	}
	if _, _, err := w.move(queued[2].ID, takeChange(record, true)); err != nil {
		t.Errorf("Apply(assign %s after a park) = %v; want <nil>", queued[2].ID, err)
	}
	if got := w.agent(bob.ID).Used; got != 2 {
		t.Errorf("bob's used = %d; want 2", got)
	}
}

func TestApplyCapacityRequiresAvailableAgent(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		name  string
		setup func(id string) // leaves agent id in some state
		want  error
	}{
		{"available", func(id string) { w.connectAgent(id, id+"-1", 3, t0) }, nil},
		{"away", func(id string) {
			w.connectAgent(id, id+"-1", 3, t0)
			if _, err := w.s.SetPresence(w.ctx, id, conversation.Away); err != nil {
				t.Fatal(err)
			}
		}, conversation.ErrNoCapacity},
		{"away, then available again", func(id string) {
			w.connectAgent(id, id+"-1", 3, t0)
			for _, p := range []conversation.Presence{conversation.Away, conversation.Available} {
				if _, err := w.s.SetPresence(w.ctx, id, p); err != nil {
					t.Fatal(err)
				}
			}
		}, nil},
		{"no connection left", func(id string) {
			c := w.connectAgent(id, id+"-1", 3, t0)
			if err := w.s.RemoveConnection(w.ctx, c, t0.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}, conversation.ErrNoCapacity},
		{"one of two connections left", func(id string) {
			c := w.connectAgent(id, id+"-1", 3, t0)
			w.connectAgent(id, id+"-2", 3, t0)
			if err := w.s.RemoveConnection(w.ctx, c, t0.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"never seen", func(string) {}, conversation.ErrNoCapacity},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("agent%d", i)
			tc.setup(id)
			c := w.create(customer(fmt.Sprintf("cust%d", i)), t0)
			record := conversation.Agent{ID: id, Capacity: 3}
			before := w.snapshot()
			_, _, err := w.move(c.ID, takeChange(record, true))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Apply(assign to %s agent) = %v; want %v", tc.name, err, tc.want)
			}
			if tc.want != nil {
				w.unchanged(before, "an assignment to an unavailable agent")
				return
			}
			if got := w.agent(id).Used; got != 1 {
				t.Errorf("used after assignment = %d; want 1", got)
			}
		})
	}
}

// TestApplyPickupWhileAway checks that an agent's own pickup is bound by
// capacity only: away stops new work arriving, not the agent's own.
func TestApplyPickupWhileAway(t *testing.T) {
	w := newWorld(t)
	bob := agent("bob")
	w.connectAgent(bob.ID, "b1", 1, t0)
	c := w.create(customer("alice"), t0)
	w.assign(c.ID, bob.ID, t0)
	if _, _, err := w.move(c.ID, parkChange(bob, t0.Add(time.Minute))); err != nil {
		t.Fatalf("Apply(park) = %v", err)
	}
	if _, err := w.s.SetPresence(w.ctx, bob.ID, conversation.Away); err != nil {
		t.Fatal(err)
	}
	pickup := func(c *conversation.Conversation) (conversation.Change, error) {
		a := w.agent(bob.ID)
		if _, err := c.Pickup(bob, a, t0.Add(2*time.Minute)); err != nil {
			return conversation.Change{}, err
		}
		return conversation.Change{Capacity: conversation.CapacityChange{AgentID: bob.ID, Units: c.Units, Max: a.Capacity - c.Units}}, nil
	}
	if _, _, err := w.move(c.ID, pickup); err != nil {
		t.Fatalf("Apply(pickup while away) = %v; want <nil>", err)
	}
	if a := w.agent(bob.ID); a.Used != 1 {
		t.Errorf("bob's used after pickup = %d; want 1", a.Used)
	}
}

func TestApplyFreeingStopsAtZero(t *testing.T) {
	w := newWorld(t)
	bob := agent("bob")
	w.connectAgent(bob.ID, "b1", 3, t0)
	c := w.create(customer("alice"), t0)
	w.assign(c.ID, bob.ID, t0)
	if got := w.agent(bob.ID).Used; got != 1 {
		t.Fatalf("bob's used after assignment = %d; want 1", got)
	}
	// Free more than is in use, as a conversation whose unit was already
	// given back would: the move goes through and used stops at zero.
	_, parked, err := w.move(c.ID, func(c *conversation.Conversation) (conversation.Change, error) {
		_, err := c.Park(bob, t0.Add(time.Minute))
		return conversation.Change{Capacity: conversation.CapacityChange{AgentID: bob.ID, Units: -2}}, err
	})
	if err != nil {
		t.Fatalf("Apply(park freeing 2 of 1 used) = %v; want <nil>", err)
	}
	if got := w.agent(bob.ID).Used; got != 0 {
		t.Errorf("bob's used after freeing 2 of 1 = %d; want 0", got)
	}
	if got := w.conversation(c.ID); got.Version != parked.Version || got.Status != conversation.Waiting {
		t.Errorf("conversation after park = %s v%d; want waiting v%d", got.Status, got.Version, parked.Version)
	}
	_, _, err = w.move(c.ID, func(c *conversation.Conversation) (conversation.Change, error) {
		freed, err := c.Close(bob, t0.Add(2*time.Minute))
		if !freed.None() {
			t.Errorf("Close(waiting) freed %+v; want nothing", freed)
		}
		return conversation.Change{ClearOpen: true, Capacity: conversation.CapacityChange{AgentID: bob.ID, Units: -1}}, err
	})
	if err != nil {
		t.Fatalf("Apply(close freeing 1 of 0 used) = %v; want <nil>", err)
	}
	if got := w.agent(bob.ID).Used; got != 0 {
		t.Errorf("bob's used after freeing 1 of 0 = %d; want 0", got)
	}
}

func TestApplyConcurrentAssignmentsRespectCapacity(t *testing.T) {
	w := newWorld(t)
	bob := agent("bob")
	w.connectAgent(bob.ID, "b1", 3, t0)
	var queued []*conversation.Conversation
	for i := range 10 {
		queued = append(queued, w.create(customer(fmt.Sprintf("cust%d", i)), t0.Add(time.Duration(i)*time.Second)))
	}

	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		won, noCap     int
		errs           []error
		start          = make(chan struct{})
		recordsAtStart = w.agent(bob.ID)
	)
	for _, c := range queued {
		wg.Go(func() {
			<-start
			for {
				next := c.Clone()
				if _, err := next.Assign(recordsAtStart, t0.Add(time.Minute)); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				err := w.s.Apply(w.ctx, conversation.Change{Conversation: next, PrevVersion: c.Version,
					Capacity: conversation.CapacityChange{AgentID: bob.ID, Units: next.Units, Max: recordsAtStart.Capacity - next.Units, RequireAvailable: true}})
				mu.Lock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, conversation.ErrNoCapacity):
					noCap++
				case errors.Is(err, conversation.ErrStale):
					// A transaction conflict on the agent: try again.
					mu.Unlock()
					continue
				default:
					errs = append(errs, err)
				}
				mu.Unlock()
				return
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("assignments failed: %v", errs)
	}
	if won != 3 || noCap != 7 {
		t.Errorf("10 racing assignments to an agent of capacity 3: %d succeeded, %d got ErrNoCapacity; want 3 and 7", won, noCap)
	}
	if got := w.agent(bob.ID).Used; got != 3 {
		t.Errorf("bob's used = %d; want 3", got)
	}
	as, err := w.s.AgentConversations(w.ctx, bob.ID)
	if err != nil || len(as) != 3 {
		t.Errorf("AgentConversations(bob) = %v, %v; want 3", ids(as), err)
	}
	q, err := w.s.Queue(w.ctx, ws.ID, 20)
	if err != nil || len(q) != 7 {
		t.Errorf("Queue = %v, %v; want 7 left", ids(q), err)
	}
}
