package conversation

import (
	"errors"
	"testing"
	"time"
)

// step runs one move of a story and stops the story at the first surprise.
func step(t *testing.T, what string, err, want error) {
	t.Helper()
	if (want == nil && err != nil) || (want != nil && !errors.Is(err, want)) {
		t.Fatalf("%s = %s (%v); want %s", what, errName(err), err, errName(want))
	}
}

// TestPersistentStory follows docs/protocol.md sections 4-6 through one persistent
// conversation: created outside hours, assigned when they open, parked,
// returned, picked up, refused to the customer's close, ended by the agent.
func TestPersistentStory(t *testing.T) {
	ws := Workstream{ID: "support-persistent", Mode: Persistent, KeepSameAgent: true,
		Hours: Hours{TimeZone: "Europe/Paris", Weekly: weekdays(Span{9 * h, 17 * h})}}
	agents := []Agent{{ID: "bob", Name: "Bob", Capacity: 3, Presence: Available, ConnectionIDs: conns(1)}}
	night := utc(2026, 11, 23, 21, 0) // Monday 22:00 in Paris

	c, err := Start(NewConversationID(), ws, "persistent", alice, night)
	step(t, "Start(persistent, at night)", err, nil)
	eff, err := c.Send(alice, "k1", ws, night)
	step(t, "Send(customer) while queued at night", err, nil)
	if eff.Seq != 1 || c.Status != Queued {
		t.Fatalf("first Send = seq %d, %s; want seq 1, queued", eff.Seq, c.Status)
	}
	if msgs := QueueMessages(ws, 1, time.Minute); msgs != nil {
		t.Errorf("QueueMessages(persistent) = %+v; want none", msgs)
	}

	// Sweep: closed now, so nothing is assigned; it knows when to come back.
	if open, _ := ws.Hours.Open(night); open {
		t.Fatalf("Open(Mon 22:00 Paris) = true; want false")
	}
	opens, ok, err := ws.Hours.NextOpen(night)
	if err != nil || !ok || !opens.Equal(utc(2026, 11, 24, 8, 0)) {
		t.Fatalf("NextOpen(Mon 22:00 Paris) = %v, %t, %v; want Tue 08:00 UTC", opens, ok, err)
	}
	agent, ok := PickAgent(agents, ws)
	if !ok {
		t.Fatal("PickAgent = none; want bob")
	}
	_, err = c.Assign(agent, opens)
	step(t, "Assign(bob) when hours open", err, nil)
	agent.Used += c.Units

	now := opens.Add(time.Minute)
	step(t, "Send(customer) to an agent", func() error { _, err := c.Send(alice, "k2", ws, now); return err }(), nil)
	step(t, "Send(agent) while active", func() error { _, err := c.Send(bob, "k3", ws, now); return err }(), nil)

	parked, err := c.Park(bob, now)
	step(t, "Park(bob)", err, nil)
	agent.Used += parked.Units
	if agent.Used != 0 || c.Status != Waiting {
		t.Fatalf("after Park: agent uses %d, conversation %s; want 0, waiting", agent.Used, c.Status)
	}
	step(t, "Send(agent) while waiting", func() error { _, err := c.Send(bob, "k4", ws, now); return err }(), ErrConflict)

	// Days later, on another device: the customer comes back.
	later := now.Add(72 * time.Hour)
	if c.Expire(ws, later, false, now) {
		t.Fatal("Expire after 3 quiet days = true; want false (30 days)")
	}
	eff, err = c.Send(alice, "k5", ws, later)
	step(t, "Send(customer) to a waiting conversation", err, nil)
	if !eff.Returned || c.Status != Returned || c.Agent == nil || c.Agent.ID != "bob" {
		t.Fatalf("return = %+v, %s, agent %+v; want returned to bob", eff, c.Status, c.Agent)
	}
	if !c.ReminderDue(ws, later.Add(15*time.Minute), time.Time{}) {
		t.Error("ReminderDue 15 minutes after the return = false; want true")
	}
	_, err = c.Pickup(bob, agent, later)
	step(t, "Pickup(bob)", err, nil)
	agent.Used += c.Units

	_, err = c.Close(alice, later)
	step(t, "Close(customer) on persistent", err, ErrNotAllowed)
	closed, err := c.Close(bob, later)
	step(t, "Close(bob)", err, nil)
	if freed := -closed.Units; freed != 1 || c.ClosedBy != AgentRole {
		t.Errorf("Close(bob) freed %d, closed by %s; want 1, agent", freed, c.ClosedBy)
	}
	_, err = c.Send(alice, "k6", ws, later)
	step(t, "Send(customer) after close", err, ErrConflict)
	if c.LastSeq != 4 || c.Version != 9 {
		t.Errorf("end of story: LastSeq %d, Version %d; want 4, 9 (start, 4 sends, assign, park, pickup, close)", c.LastSeq, c.Version)
	}
}

// TestLiveStory: refused outside hours, queue messages while queued, either
// side may close, and an abandoned chat expires.
func TestLiveStory(t *testing.T) {
	ws := Workstream{ID: "support-live", Mode: Live, Hours: Hours{TimeZone: "Europe/Paris", Weekly: weekdays(Span{9 * h, 17 * h})}}
	_, err := Start(NewConversationID(), ws, "live", alice, utc(2026, 11, 23, 21, 0))
	step(t, "Start(live, at night)", err, ErrOutsideHours)

	c, err := Start(NewConversationID(), ws, "live", alice, t0)
	step(t, "Start(live, in hours)", err, nil)
	if msgs := QueueMessages(ws, 1, 2*time.Minute); len(msgs) != 2 {
		t.Errorf("QueueMessages(live) = %+v; want position and wait", msgs)
	}
	_, err = c.Assign(agentRecord(), t0)
	step(t, "Assign(bob)", err, nil)
	if c.Expire(ws, t0.Add(time.Hour), true, time.Time{}) {
		t.Error("Expire while the customer is connected = true; want false")
	}
	left := t0.Add(time.Hour)
	if !c.Expire(ws, left.Add(20*time.Minute), false, left) {
		t.Fatal("Expire 20 minutes after the customer left = false; want true")
	}
	closed, err := c.CloseBySystem(left.Add(20 * time.Minute))
	freed := -closed.Units
	step(t, "CloseBySystem", err, nil)
	if freed != 1 || c.ClosedBy != System {
		t.Errorf("CloseBySystem freed %d, closed by %s; want 1, system", freed, c.ClosedBy)
	}

	d, err := Start(NewConversationID(), ws, "live", alice, t0)
	step(t, "Start(live, again)", err, nil)
	_, err = d.Close(alice, t0)
	step(t, "Close(customer) on live", err, nil)
}
