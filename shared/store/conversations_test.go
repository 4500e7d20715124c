package store_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/parley-chat/parley/shared/conversation"
)

func TestApplyCreate(t *testing.T) {
	w := newWorld(t)
	alice := customer("alice")
	ch, m := startChange(t, widget, alice, "k-1", t0)
	if err := w.s.Apply(w.ctx, ch); err != nil {
		t.Fatalf("Apply(create) = %v; want <nil>", err)
	}
	c := ch.Conversation

	got := w.conversation(c.ID)
	if !reflect.DeepEqual(got, c) {
		t.Errorf("Conversation(%s) = %+v; want %+v", c.ID, got, c)
	}
	msgs, more, err := w.s.Messages(w.ctx, c.ID, conversation.Page{Limit: 50})
	if err != nil || more || len(msgs) != 1 || !reflect.DeepEqual(msgs[0], m) {
		t.Errorf("Messages(%s) = %+v, %v, %v; want [%+v], false, <nil>", c.ID, msgs, more, err, m)
	}
	cust, err := w.s.Customer(w.ctx, widget, alice.ID)
	if err != nil || cust.OpenConversationID != c.ID {
		t.Errorf("Customer(alice).OpenConversationID = %q, %v; want %q", cust.OpenConversationID, err, c.ID)
	}
	// The conversation as stored remembers its first send, so a resend of
	// it (the customer's device retrying) is known, not a second message.
	if seq, ok := got.Resent(alice, "k-1"); !ok || seq != 1 {
		t.Errorf("stored conversation: Resent(alice, k-1) = %d, %v; want 1, true", seq, ok)
	}
	if stored, err := w.s.Message(w.ctx, c.ID, 1); err != nil || !reflect.DeepEqual(stored, m) {
		t.Errorf("Message(%s, 1) = %+v, %v; want %+v", c.ID, stored, err, m)
	}

	t.Run("second create for the same customer", func(t *testing.T) {
		before := w.snapshot()
		ch2, _ := startChange(t, widget, alice, "k-2", t0.Add(time.Second))
		if err := w.s.Apply(w.ctx, ch2); !errors.Is(err, conversation.ErrStale) {
			t.Errorf("Apply(second create for alice) = %v; want ErrStale", err)
		}
		w.unchanged(before, "a refused create")
		if _, err := w.s.Conversation(w.ctx, ch2.Conversation.ID); !errors.Is(err, conversation.ErrNotFound) {
			t.Errorf("Conversation(refused %s) = %v; want ErrNotFound", ch2.Conversation.ID, err)
		}
		if msgs, _, err := w.s.Messages(w.ctx, ch2.Conversation.ID, conversation.Page{Limit: 50}); err != nil || len(msgs) != 0 {
			t.Errorf("Messages(refused %s) = %+v, %v; want none", ch2.Conversation.ID, msgs, err)
		}
	})

	t.Run("same customer id on another widget", func(t *testing.T) {
		ch3, _ := startChange(t, "live", alice, "k-1", t0)
		if err := w.s.Apply(w.ctx, ch3); err != nil {
			t.Fatalf("Apply(create for alice on widget live) = %v; want <nil>", err)
		}
		for wid, want := range map[string]string{widget: c.ID, "live": ch3.Conversation.ID} {
			if cust, err := w.s.Customer(w.ctx, wid, alice.ID); err != nil || cust.OpenConversationID != want {
				t.Errorf("Customer(%s, alice).OpenConversationID = %q, %v; want %q", wid, cust.OpenConversationID, err, want)
			}
		}
	})

	t.Run("same conversation id twice", func(t *testing.T) {
		before := w.snapshot()
		ch4, _ := startChange(t, widget, customer("carol"), "k-1", t0)
		ch4.Conversation.ID, ch4.Message.ConversationID = c.ID, c.ID
		if err := w.s.Apply(w.ctx, ch4); !errors.Is(err, conversation.ErrStale) {
			t.Errorf("Apply(create with existing id %s) = %v; want ErrStale", c.ID, err)
		}
		w.unchanged(before, "a create over an existing conversation")
	})
}

func TestApplyConcurrentSendsAreGapFree(t *testing.T) {
	w := newWorld(t)
	alice := customer("alice")
	c := w.create(alice, t0)

	const senders = 20
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		retries int
		errs    []error
	)
	for i := range senders {
		wg.Go(func() {
			for {
				_, err := w.trySend(c.ID, alice, fmt.Sprintf("k-%d", i), fmt.Sprintf("message %d", i), t0.Add(time.Second))
				if errors.Is(err, conversation.ErrStale) {
					mu.Lock()
					retries++
					mu.Unlock()
					continue
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
				return
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent sends failed: %v", errs)
	}
	t.Logf("%d senders, %d retries after ErrStale", senders, retries)

	const n = senders + 1 // and the first message
	msgs, more, err := w.s.Messages(w.ctx, c.ID, conversation.Page{Forward: true, Limit: 200})
	if err != nil || more {
		t.Fatalf("Messages(%s) = %v, more %v", c.ID, err, more)
	}
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	// Which seqs exist is the point here; their order on a page is
	// TestMessagesOrderIsNumeric's.
	if got := slices.Sorted(slices.Values(seqs(msgs))); !slices.Equal(got, want) {
		t.Errorf("seqs after %d concurrent sends = %v; want %v", senders, got, want)
	}
	texts := map[string]bool{}
	for _, m := range msgs {
		texts[m.ClientMessageID] = true
	}
	if len(texts) != n {
		t.Errorf("distinct clientMessageIds stored = %d; want %d (one message per send)", len(texts), n)
	}
	if got := w.conversation(c.ID); got.LastSeq != n || got.Version != c.Version+senders {
		t.Errorf("conversation after %d sends: LastSeq %d, Version %d; want %d, %d", senders, got.LastSeq, got.Version, n, c.Version+senders)
	}
}

func TestApplyIdempotentSend(t *testing.T) {
	w := newWorld(t)
	alice, bob := customer("alice"), agent("bob")
	w.connectAgent(bob.ID, "b1", 3, t0)
	c := w.create(alice, t0)
	w.assign(c.ID, bob.ID, t0)
	first := w.send(c.ID, alice, "k-7", "where is my parcel?", t0.Add(time.Minute))

	cases := []struct {
		name     string
		by       conversation.Participant
		cmid     string
		text     string
		wantDup  bool
		wantText string
	}{
		{"same sender, same clientMessageId", alice, "k-7", "where is my parcel?", true, first.Text},
		{"same sender, same clientMessageId, other text", alice, "k-7", "edited", true, first.Text},
		{"other sender, same clientMessageId", bob, "k-7", "it is on its way", false, "it is on its way"},
		{"same sender, new clientMessageId", alice, "k-8", "thanks", false, "thanks"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c0 := w.conversation(c.ID)
			before := w.snapshot()
			m, err := w.trySend(c.ID, tc.by, tc.cmid, tc.text, t0.Add(2*time.Minute))
			if !tc.wantDup {
				if err != nil {
					t.Fatalf("Apply(send %s by %s) = %v; want <nil>", tc.cmid, tc.by.ID, err)
				}
				if got := w.conversation(c.ID); got.LastSeq != c0.LastSeq+1 || m.Seq != got.LastSeq {
					t.Errorf("after a new send: LastSeq %d, message seq %d; want both %d", got.LastSeq, m.Seq, c0.LastSeq+1)
				}
				return
			}
			var resent *conversation.ResentError
			if !errors.As(err, &resent) || !errors.Is(err, conversation.ErrDuplicate) {
				t.Fatalf("send(resend %s by %s) = %v; want *ResentError", tc.cmid, tc.by.ID, err)
			}
			stored, err := w.s.Message(w.ctx, c.ID, resent.Seq)
			if err != nil || !reflect.DeepEqual(stored, first) || stored.Text != tc.wantText {
				t.Errorf("Message(%s, %d) = %+v, %v; want the first %+v", c.ID, resent.Seq, stored, err, first)
			}
			w.unchanged(before, "a duplicate send")
		})
	}

	t.Run("the stored memory keeps each side's sends apart", func(t *testing.T) {
		got := w.conversation(c.ID)
		sides := map[bool]int{}
		for _, r := range got.Recent {
			sides[r.Agent]++
		}
		if sides[true] != 1 || sides[false] != 3 {
			t.Errorf("stored recent sends: %d of the agent's, %d of the customer's; want 1 and 3 (%+v)", sides[true], sides[false], got.Recent)
		}
		if seq, ok := got.Resent(bob, "k-7"); !ok || seq != first.Seq+1 {
			t.Errorf("Resent(bob, k-7) = %d, %v; want %d, true", seq, ok, first.Seq+1)
		}
	})

	t.Run("same clientMessageId in another conversation", func(t *testing.T) {
		c2 := w.create(customer("dave"), t0)
		if _, err := w.trySend(c2.ID, customer("dave"), "k-7", "hi", t0.Add(time.Minute)); err != nil {
			t.Errorf("Apply(send k-7 in another conversation) = %v; want <nil>", err)
		}
	})
}

// TestApplyFailsWhole checks that a refused change writes none of its parts.
func TestApplyFailsWhole(t *testing.T) {
	w := newWorld(t)
	bob := agent("bob")
	w.connectAgent(bob.ID, "b1", 1, t0)
	busy := w.create(customer("alice"), t0)
	w.assign(busy.ID, bob.ID, t0) // bob is now full

	cases := []struct {
		name  string
		setup func() conversation.Change // a change against conversation c (read fresh)
		want  error
	}{
		{"capacity full, with a message", func() conversation.Change {
			c := w.create(customer("carol"), t0)
			next := c.Clone()
			if _, err := next.Assign(conversation.Agent{ID: bob.ID, Capacity: 2, Presence: conversation.Available, ConnectionIDs: []string{"k1"}}, t0); err != nil {
				t.Fatal(err)
			}
			m := conversation.Message{ID: conversation.NewMessageID(), ConversationID: c.ID, Seq: 2, ClientMessageID: "k",
				Sender: customer("carol"), Text: "x", At: t0}
			next.LastSeq = 2
			return conversation.Change{Conversation: next, PrevVersion: c.Version, Message: &m,
				Capacity: conversation.CapacityChange{AgentID: bob.ID, Units: 1, Max: 0, RequireAvailable: true}}
		}, conversation.ErrNoCapacity},
		{"stale version, with capacity", func() conversation.Change {
			c := w.create(customer("dave"), t0)
			next := c.Clone()
			if _, err := next.Assign(conversation.Agent{ID: bob.ID, Capacity: 5, Presence: conversation.Available, ConnectionIDs: []string{"k1"}}, t0); err != nil {
				t.Fatal(err)
			}
			return conversation.Change{Conversation: next, PrevVersion: c.Version - 1,
				Capacity: conversation.CapacityChange{AgentID: bob.ID, Units: 1, Max: 4}}
		}, conversation.ErrStale},
		{"stale version, with a message and its marker", func() conversation.Change {
			c := w.create(customer("erin"), t0)
			next := c.Clone()
			m := conversation.Message{ID: conversation.NewMessageID(), ConversationID: c.ID, Seq: 2, ClientMessageID: "k2",
				Sender: customer("erin"), Text: "x", At: t0}
			next.LastSeq, next.Version = 2, c.Version+1
			return conversation.Change{Conversation: next, PrevVersion: c.Version + 1, Message: &m}
		}, conversation.ErrStale},
		{"seq already taken", func() conversation.Change {
			c := w.create(customer("fred"), t0)
			next := c.Clone()
			m := conversation.Message{ID: conversation.NewMessageID(), ConversationID: c.ID, Seq: 1, ClientMessageID: "k3",
				Sender: customer("fred"), Text: "x", At: t0}
			next.Version = c.Version + 1
			return conversation.Change{Conversation: next, PrevVersion: c.Version, Message: &m}
		}, conversation.ErrStale},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := tc.setup()
			before := w.snapshot()
			if err := w.s.Apply(w.ctx, ch); !errors.Is(err, tc.want) {
				t.Fatalf("Apply(%s) = %v; want %v", tc.name, err, tc.want)
			}
			w.unchanged(before, "Apply("+tc.name+")")
		})
	}
	if got := w.agent(bob.ID).Used; got != 1 {
		t.Errorf("bob's used after refused changes = %d; want 1", got)
	}
}

// closeChange is what the close route applies for agent by.
func closeChange(by conversation.Participant, at time.Time) func(c *conversation.Conversation) (conversation.Change, error) {
	return func(c *conversation.Conversation) (conversation.Change, error) {
		freed, err := c.Close(by, at)
		return conversation.Change{ClearOpen: true, Capacity: freed}, err
	}
}

// parkChange is what the park route applies for agent by.
func parkChange(by conversation.Participant, at time.Time) func(c *conversation.Conversation) (conversation.Change, error) {
	return func(c *conversation.Conversation) (conversation.Change, error) {
		freed, err := c.Park(by, at)
		return conversation.Change{Capacity: freed}, err
	}
}

func TestApplyCloseClearsOpenConversation(t *testing.T) {
	w := newWorld(t)
	alice, bob := customer("alice"), agent("bob")
	w.connectAgent(bob.ID, "b1", 3, t0)
	c := w.create(alice, t0)
	w.assign(c.ID, bob.ID, t0)

	_, closed, err := w.move(c.ID, closeChange(bob, t0.Add(time.Hour)))
	if err != nil {
		t.Fatalf("Apply(close %s) = %v; want <nil>", c.ID, err)
	}
	if cust, _ := w.s.Customer(w.ctx, widget, alice.ID); cust.OpenConversationID != "" {
		t.Errorf("Customer(alice).OpenConversationID after close = %q; want none", cust.OpenConversationID)
	}
	if got := w.conversation(c.ID); got.Status != conversation.Closed || got.ClosedBy != conversation.AgentRole || !got.ClosedAt.Equal(closed.ClosedAt) {
		t.Errorf("Conversation after close = %s by %q at %v; want closed by agent at %v", got.Status, got.ClosedBy, got.ClosedAt, closed.ClosedAt)
	}
	if got := w.agent(bob.ID).Used; got != 0 {
		t.Errorf("bob's used after close = %d; want 0", got)
	}

	next := w.create(alice, t0.Add(2*time.Hour))
	if cust, _ := w.s.Customer(w.ctx, widget, alice.ID); cust.OpenConversationID != next.ID {
		t.Errorf("Customer(alice).OpenConversationID after a new create = %q; want %q", cust.OpenConversationID, next.ID)
	}

	t.Run("closing again", func(t *testing.T) {
		before := w.snapshot()
		again := closed.Clone()
		again.Version++
		if err := w.s.Apply(w.ctx, conversation.Change{Conversation: again, PrevVersion: closed.Version, ClearOpen: true}); !errors.Is(err, conversation.ErrStale) {
			t.Errorf("Apply(ClearOpen of %s, no longer the open one) = %v; want ErrStale", c.ID, err)
		}
		w.unchanged(before, "a ClearOpen for a conversation that is not the open one")
	})
}

func TestConversationNotFound(t *testing.T) {
	w := newWorld(t)
	if _, err := w.s.Conversation(w.ctx, "c_nope"); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("Conversation(c_nope) = %v; want ErrNotFound", err)
	}
}

// TestConversationLists follows one conversation through its moves and
// checks that every list shows it where it now stands.
func TestConversationLists(t *testing.T) {
	w := newWorld(t)
	bob := agent("bob")
	w.connectAgent(bob.ID, "b1", 3, t0)
	// Created newest first, so that queue order is not creation order by accident.
	c3 := w.create(customer("carol"), t0.Add(2*time.Minute))
	c1 := w.create(customer("alice"), t0)
	c2 := w.create(customer("dave"), t0.Add(time.Minute))

	type lists struct {
		queue     []string
		positions map[string]int
		agent     []string
		byStatus  map[conversation.Status][]string
	}
	check := func(step string, want lists) {
		t.Helper()
		q, err := w.s.Queue(w.ctx, ws.ID, 10)
		if err != nil || !slices.Equal(ids(q), want.queue) {
			t.Errorf("%s: Queue = %v, %v; want %v", step, ids(q), err, want.queue)
		}
		for _, c := range q {
			if pos, err := w.s.QueuePosition(w.ctx, c); err != nil || pos != want.positions[c.ID] {
				t.Errorf("%s: QueuePosition(%s) = %d, %v; want %d", step, c.ID, pos, err, want.positions[c.ID])
			}
		}
		as, err := w.s.AgentConversations(w.ctx, bob.ID)
		if got := ids(as); err != nil || !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want.agent))) {
			t.Errorf("%s: AgentConversations(bob) = %v, %v; want %v", step, got, err, want.agent)
		}
		for _, st := range []conversation.Status{conversation.Queued, conversation.Active, conversation.Waiting, conversation.Returned, conversation.Closed} {
			cs, err := w.s.ByStatus(w.ctx, st)
			got, wantIDs := slices.Sorted(slices.Values(ids(cs))), slices.Sorted(slices.Values(want.byStatus[st]))
			if err != nil || !slices.Equal(got, wantIDs) {
				t.Errorf("%s: ByStatus(%s) = %v, %v; want %v", step, st, got, err, wantIDs)
			}
			for _, c := range cs {
				if c.Status != st {
					t.Errorf("%s: ByStatus(%s) lists %s in status %s", step, st, c.ID, c.Status)
				}
			}
		}
	}

	check("three queued", lists{
		queue:     []string{c1.ID, c2.ID, c3.ID},
		positions: map[string]int{c1.ID: 1, c2.ID: 2, c3.ID: 3},
		byStatus:  map[conversation.Status][]string{conversation.Queued: {c1.ID, c2.ID, c3.ID}},
	})
	if q, err := w.s.Queue(w.ctx, ws.ID, 1); err != nil || !slices.Equal(ids(q), []string{c1.ID}) {
		t.Errorf("Queue(limit 1) = %v, %v; want [%s]", ids(q), err, c1.ID)
	}
	if q, err := w.s.Queue(w.ctx, "support-live", 10); err != nil || len(q) != 0 {
		t.Errorf("Queue(support-live) = %v, %v; want none", ids(q), err)
	}

	w.assign(c1.ID, bob.ID, t0.Add(3*time.Minute))
	check("oldest assigned", lists{
		queue:     []string{c2.ID, c3.ID},
		positions: map[string]int{c2.ID: 1, c3.ID: 2},
		agent:     []string{c1.ID},
		byStatus:  map[conversation.Status][]string{conversation.Queued: {c2.ID, c3.ID}, conversation.Active: {c1.ID}},
	})

	if _, _, err := w.move(c1.ID, parkChange(bob, t0.Add(4*time.Minute))); err != nil {
		t.Fatalf("Apply(park %s) = %v", c1.ID, err)
	}
	check("parked", lists{
		queue:     []string{c2.ID, c3.ID},
		positions: map[string]int{c2.ID: 1, c3.ID: 2},
		agent:     []string{c1.ID},
		byStatus:  map[conversation.Status][]string{conversation.Queued: {c2.ID, c3.ID}, conversation.Waiting: {c1.ID}},
	})

	w.send(c1.ID, customer("alice"), "back", "I'm back", t0.Add(5*time.Minute))
	check("customer returned", lists{
		queue:     []string{c2.ID, c3.ID},
		positions: map[string]int{c2.ID: 1, c3.ID: 2},
		agent:     []string{c1.ID},
		byStatus:  map[conversation.Status][]string{conversation.Queued: {c2.ID, c3.ID}, conversation.Returned: {c1.ID}},
	})

	w.assign(c3.ID, bob.ID, t0.Add(6*time.Minute))
	check("newest assigned", lists{
		queue:     []string{c2.ID},
		positions: map[string]int{c2.ID: 1},
		agent:     []string{c1.ID, c3.ID},
		byStatus: map[conversation.Status][]string{conversation.Queued: {c2.ID}, conversation.Active: {c3.ID},
			conversation.Returned: {c1.ID}},
	})

	if _, _, err := w.move(c1.ID, closeChange(bob, t0.Add(7*time.Minute))); err != nil {
		t.Fatalf("Apply(close %s) = %v", c1.ID, err)
	}
	check("returned one closed", lists{
		queue:     []string{c2.ID},
		positions: map[string]int{c2.ID: 1},
		agent:     []string{c3.ID},
		byStatus:  map[conversation.Status][]string{conversation.Queued: {c2.ID}, conversation.Active: {c3.ID}},
	})
	if got := w.agent(bob.ID).Used; got != 1 {
		t.Errorf("bob's used = %d; want 1 (c3 only: c1 freed its unit when parked)", got)
	}
}

func TestQueuePositionRequeued(t *testing.T) {
	w := newWorld(t)
	bob := agent("bob")
	w.connectAgent(bob.ID, "b1", 3, t0)
	c1 := w.create(customer("alice"), t0)
	c2 := w.create(customer("dave"), t0.Add(time.Minute))
	w.assign(c1.ID, bob.ID, t0.Add(2*time.Minute))
	if _, _, err := w.move(c1.ID, parkChange(bob, t0.Add(3*time.Minute))); err != nil {
		t.Fatalf("Apply(park %s) = %v", c1.ID, err)
	}
	// A requeued conversation waits behind those queued before it.
	if _, _, err := w.move(c1.ID, func(c *conversation.Conversation) (conversation.Change, error) {
		return conversation.Change{}, c.Requeue(t0.Add(4 * time.Minute))
	}); err != nil {
		t.Fatalf("Apply(requeue %s) = %v", c1.ID, err)
	}
	q, err := w.s.Queue(w.ctx, ws.ID, 10)
	if err != nil || !slices.Equal(ids(q), []string{c2.ID, c1.ID}) {
		t.Fatalf("Queue after requeue = %v, %v; want [%s %s]", ids(q), err, c2.ID, c1.ID)
	}
	if pos, err := w.s.QueuePosition(w.ctx, q[1]); err != nil || pos != 2 {
		t.Errorf("QueuePosition(requeued %s) = %d, %v; want 2", c1.ID, pos, err)
	}
	if as, err := w.s.AgentConversations(w.ctx, bob.ID); err != nil || len(as) != 0 {
		t.Errorf("AgentConversations(bob) after requeue = %v, %v; want none", ids(as), err)
	}
}

func TestNotified(t *testing.T) {
	w := newWorld(t)
	c := w.create(customer("alice"), t0)
	if ok, err := w.s.Notified(w.ctx, c.ID, 2); err != nil || ok {
		t.Fatalf("Notified(%s v2) before any mark = %v, %v; want false", c.ID, ok, err)
	}
	if err := w.s.MarkNotified(w.ctx, c.ID, 2); err != nil {
		t.Fatalf("MarkNotified(%s v2) = %v", c.ID, err)
	}
	for v, want := range map[int64]bool{1: false, 2: true, 3: false} {
		if ok, err := w.s.Notified(w.ctx, c.ID, v); err != nil || ok != want {
			t.Errorf("Notified(%s v%d) = %v, %v; want %v", c.ID, v, ok, err, want)
		}
	}
	if got := w.conversation(c.ID); got.Version != c.Version {
		t.Errorf("conversation version after MarkNotified = %d; want %d (marking must not change it)", got.Version, c.Version)
	}
	if msgs, _, err := w.s.Messages(w.ctx, c.ID, conversation.Page{Limit: 50}); err != nil || !slices.Equal(seqs(msgs), []int64{1}) {
		t.Errorf("Messages(%s) after MarkNotified = %v, %v; want [1]", c.ID, seqs(msgs), err)
	}
}

func TestMarkReminded(t *testing.T) {
	w := newWorld(t)
	c := w.create(customer("alice"), t0)
	at := func(d time.Duration) string { return t0.Add(d).Format("2006-01-02T15:04:05.000Z") }

	steps := []struct {
		at, since string
		want      bool
		reminded  string
	}{
		{at(15 * time.Minute), at(0), true, at(15 * time.Minute)},                // never reminded
		{at(16 * time.Minute), at(1 * time.Minute), false, at(15 * time.Minute)}, // another sweep did it since
		{at(30 * time.Minute), at(15 * time.Minute), true, at(30 * time.Minute)}, // an interval later
		{at(31 * time.Minute), at(15 * time.Minute), false, at(30 * time.Minute)},
	}
	for _, s := range steps {
		ok, err := w.s.MarkReminded(w.ctx, c.ID, s.at, s.since)
		if err != nil || ok != s.want {
			t.Errorf("MarkReminded(%s, at %s, since %s) = %v, %v; want %v", c.ID, s.at, s.since, ok, err, s.want)
		}
		if got, err := w.s.Reminded(w.ctx, c.ID); err != nil || got != s.reminded {
			t.Errorf("Reminded(%s) = %q, %v; want %q", c.ID, got, err, s.reminded)
		}
	}
	if got := w.conversation(c.ID); got.Version != c.Version {
		t.Errorf("conversation version after reminders = %d; want %d", got.Version, c.Version)
	}
	// Saving the conversation keeps the reminder: it is not part of its state.
	w.send(c.ID, customer("alice"), "k-2", "still there?", t0.Add(time.Hour))
	if got, err := w.s.Reminded(w.ctx, c.ID); err != nil || got != at(30*time.Minute) {
		t.Errorf("Reminded(%s) after a send = %q, %v; want %q", c.ID, got, err, at(30*time.Minute))
	}

	before := w.snapshot()
	if ok, err := w.s.MarkReminded(w.ctx, "c_nope", at(0), at(0)); err != nil || ok {
		t.Errorf("MarkReminded(c_nope) = %v, %v; want false, <nil>", ok, err)
	}
	w.unchanged(before, "MarkReminded of an unknown conversation")
}

// TestExpirable: the sweeper's read of conversations that may have run out
// of time takes, per mode, only those created by that mode's cutoff, in any
// open status. Open conversations are indexed by mode, returned ones apart
// (statusKey), so moves between queued, active and waiting write no index
// entry and young persistent conversations are not even read; those written
// under the older layout (their plain status) are still found.
func TestExpirable(t *testing.T) {
	w := newWorld(t)
	live := conversation.Workstream{ID: "support-live", Mode: conversation.Live, Hours: conversation.Hours{AlwaysOpen: true}}
	start := func(ws conversation.Workstream, widget, who string, at time.Time) *conversation.Conversation {
		t.Helper()
		ch, _ := startChangeIn(t, ws, widget, customer(who), "first", at)
		if err := w.s.Apply(w.ctx, ch); err != nil {
			t.Fatalf("Apply(create for %s) = %v", who, err)
		}
		return ch.Conversation
	}
	day := 24 * time.Hour
	bob := agent("bob")
	w.connectAgent(bob.ID, "b1", 10, t0)
	oldP := start(ws, widget, "alice", t0)
	oldActive := start(ws, widget, "anna", t0.Add(time.Minute))
	w.assign(oldActive.ID, bob.ID, t0.Add(10*time.Minute))
	oldWaiting := start(ws, widget, "amos", t0.Add(2*time.Minute))
	w.assign(oldWaiting.ID, bob.ID, t0.Add(10*time.Minute))
	if _, _, err := w.move(oldWaiting.ID, parkChange(bob, t0.Add(11*time.Minute))); err != nil {
		t.Fatal(err)
	}
	oldReturned := start(ws, widget, "arlo", t0.Add(3*time.Minute))
	w.assign(oldReturned.ID, bob.ID, t0.Add(10*time.Minute))
	if _, _, err := w.move(oldReturned.ID, parkChange(bob, t0.Add(11*time.Minute))); err != nil {
		t.Fatal(err)
	}
	w.send(oldReturned.ID, customer("arlo"), "back", "back again", t0.Add(12*time.Minute))
	closed := start(ws, widget, "axel", t0.Add(4*time.Minute))
	w.assign(closed.ID, bob.ID, t0.Add(10*time.Minute))
	if _, _, err := w.move(closed.ID, closeChange(bob, t0.Add(11*time.Minute))); err != nil {
		t.Fatal(err)
	}
	youngP := start(ws, widget, "bob", t0.Add(10*day))
	oldL := start(live, "live", "carol", t0.Add(10*day+time.Minute))
	youngL := start(live, "live", "dave", t0.Add(10*day+50*time.Minute))
	// Two persistent conversations as written by a release before this
	// layout: under their plain status.
	legacyOld := start(ws, widget, "erin", t0.Add(time.Hour))
	legacyYoung := start(ws, widget, "frank", t0.Add(10*day+2*time.Minute))
	for _, c := range []*conversation.Conversation{legacyOld, legacyYoung} {
		if _, err := w.db.UpdateItem(w.ctx, &dynamodb.UpdateItemInput{TableName: &w.tables.Conversations,
			Key:                       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: c.ID}},
			UpdateExpression:          aws.String("SET openStatus = :s"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: "queued"}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	for c, want := range map[*conversation.Conversation]string{oldP: "persistent#open", oldActive: "persistent#open",
		oldWaiting: "persistent#open", oldReturned: "returned", oldL: "live#open", legacyOld: "queued"} {
		out, err := w.db.GetItem(w.ctx, &dynamodb.GetItemInput{TableName: &w.tables.Conversations,
			Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: c.ID}}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if got := render(out.Item["openStatus"]); got != render(&types.AttributeValueMemberS{Value: want}) {
			t.Errorf("%s (%s) openStatus = %s; want %q", c.ID, c.Mode, got, want)
		}
	}

	cutoff := map[conversation.Mode]time.Time{conversation.Persistent: t0.Add(day), conversation.Live: t0.Add(10*day + 30*time.Minute)}
	oldPersistent := []*conversation.Conversation{oldP, oldActive, oldWaiting, oldReturned, legacyOld}
	for _, tc := range []struct {
		name   string
		cutoff map[conversation.Mode]time.Time
		want   []*conversation.Conversation
	}{
		{"both modes", cutoff, append(slices.Clone(oldPersistent), oldL)},
		{"persistent only", map[conversation.Mode]time.Time{conversation.Persistent: cutoff[conversation.Persistent]}, oldPersistent},
		{"live only", map[conversation.Mode]time.Time{conversation.Live: cutoff[conversation.Live]}, []*conversation.Conversation{oldL}},
		{"no cutoff", nil, nil},
	} {
		got, err := w.s.Expirable(w.ctx, tc.cutoff)
		if err != nil || !slices.Equal(ids(got), ids(tc.want)) {
			t.Errorf("%s: Expirable = %v, %v; want %v (oldest first)", tc.name, ids(got), err, ids(tc.want))
		}
	}
	for st, want := range map[conversation.Status][]*conversation.Conversation{
		conversation.Queued:   {oldP, legacyOld, youngP, oldL, legacyYoung, youngL},
		conversation.Active:   {oldActive},
		conversation.Waiting:  {oldWaiting},
		conversation.Returned: {oldReturned},
	} {
		got, err := w.s.ByStatus(w.ctx, st)
		if err != nil || !slices.Equal(ids(got), ids(want)) {
			t.Errorf("ByStatus(%s) = %v, %v; want %v (oldest first)", st, ids(got), err, ids(want))
		}
	}
}
