package stack

import (
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

// clock is the handlers' time, moved by the test.
type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
}

func startSwept(t *testing.T) (*Stack, *clock) {
	clk := &clock{at: time.Now()}
	s := startStack(t, func(o *Options) {
		o.Now = clk.Now
		o.ScheduleInterval = 200 * time.Millisecond
	})
	return s, clk
}

// gone waits until the store has seen every connection of a customer go.
func (s *Stack) gone(t *testing.T, widget, customer string) {
	t.Helper()
	poll.Until(t, "customer "+customer+"'s connections to go", func() bool {
		c, err := s.Store.Customer(t.Context(), widget, customer)
		if err != nil {
			t.Fatal(err)
		}
		return len(c.ConnectionIDs) == 0
	})
}

// sweeps waits until n more sweeps have finished than when it was called:
// with n of 2, at least one whole sweep ran after the call, whatever the
// sweep in progress then saw.
func (s *Stack) sweeps(t *testing.T, n int64) {
	t.Helper()
	start := s.metricsView(t).ByFunction["sweep"].Invocations
	poll.Until(t, "the sweeps to run", func() bool {
		return s.metricsView(t).ByFunction["sweep"].Invocations >= start+n
	})
}

func TestSweepAutoCloses(t *testing.T) {
	s, clk := startSwept(t)
	bob := s.dial(t, "bob", s.agentToken(t, "bob"))
	bob.OK("hello", nil)
	carol := s.dial(t, "carol", s.customerToken(t, "live", "carol"))
	live := obj(carol.OK("send", map[string]any{"clientMessageId": "c1", "text": "quick question"})["conversation"])["id"].(string)
	bob.ConversationEvent(live, "active")
	alice := s.dial(t, "alice", s.customerToken(t, "persistent", "alice"))
	persistent := obj(alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "long story"})["conversation"])["id"].(string)
	bob.ConversationEvent(persistent, "active")

	// A live chat stays open while its customer is connected, and for 20
	// minutes after they leave.
	clk.Advance(25 * time.Minute)
	bob.None("conversation", 200*time.Millisecond)
	carol.Close()
	s.gone(t, "live", "carol")
	clk.Advance(10 * time.Minute)
	bob.None("conversation", 200*time.Millisecond)
	clk.Advance(11 * time.Minute)
	if c := bob.ConversationEvent(live, "closed"); c["closedBy"] != "system" {
		t.Fatalf("live auto-close = %v; want closedBy system", c)
	}

	// A persistent chat outlives its connections; 30 silent days end it.
	// (Days on, the sweep also drops every connection as past API
	// Gateway's 2 hours, so the outcome is read from the store.)
	alice.Close()
	s.gone(t, "persistent", "alice")
	clk.Advance(29 * 24 * time.Hour)
	s.sweeps(t, 2)
	if c, err := s.Store.Conversation(t.Context(), persistent); err != nil || c.Status != "active" {
		t.Fatalf("persistent after 29 days = %v, %v; want still active", c, err)
	}
	clk.Advance(2 * 24 * time.Hour)
	poll.Until(t, "the persistent chat to close after 31 silent days", func() bool {
		c, err := s.Store.Conversation(t.Context(), persistent)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == "closed" && c.ClosedBy != "system" {
			t.Fatalf("persistent closed by %q; want system", c.ClosedBy)
		}
		return c.Status == "closed"
	})
	if ag, err := s.Store.Agent(t.Context(), "bob"); err != nil || ag.Used != 0 {
		t.Fatalf("capacity after auto-closes: %+v, %v; want used 0", ag, err)
	}
}

func TestSweepRemindsOfReturnedConversations(t *testing.T) {
	s, clk := startSwept(t)
	bob := s.dial(t, "bob", s.agentToken(t, "bob"))
	bob.OK("hello", nil)
	alice := s.dial(t, "alice", s.customerToken(t, "persistent", "alice"))
	id := obj(alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "hi"})["conversation"])["id"].(string)
	bob.ConversationEvent(id, "active")
	bob.OK("park", map[string]any{"conversationId": id})
	alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": "a2", "text": "back"})
	if n := bob.Next("notification"); n["reminder"] != nil {
		t.Fatalf("first notification = %v; want the return itself", n)
	}
	clk.Advance(16 * time.Minute)
	n := bob.Next("notification")
	if n["kind"] != "customer_returned" || n["conversationId"] != id || n["reminder"] != true {
		t.Fatalf("reminder = %v", n)
	}
	// Once per interval, not once per tick.
	bob.None("notification", 300*time.Millisecond)
}

func TestSweepRequeuesWhenTheAgentStaysAway(t *testing.T) {
	s, clk := startSwept(t)
	ws := workstreamConfig("support-persistent", "persistent", true, true)
	ws.RequeueReturnedAfterSeconds = 600
	if err := s.Store.PutWorkstream(t.Context(), ws, false); err != nil {
		t.Fatal(err)
	}
	bob := s.dial(t, "bob", s.agentToken(t, "bob"))
	bob.OK("hello", nil)
	alice := s.dial(t, "alice", s.customerToken(t, "persistent", "alice"))
	id := obj(alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "hi"})["conversation"])["id"].(string)
	bob.ConversationEvent(id, "active")
	bob.OK("park", map[string]any{"conversationId": id})
	bob.Close() // bob goes home
	alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": "a2", "text": "anyone?"})
	ann := s.dial(t, "ann", s.agentToken(t, "ann"))
	ann.OK("hello", nil)
	ann.None("conversation", 200*time.Millisecond) // still bob's: he may come back
	clk.Advance(11 * time.Minute)
	c := ann.ConversationEvent(id, "active")
	if obj(c["agent"])["id"] != "ann" {
		t.Fatalf("requeued conversation went to %v; want ann", c["agent"])
	}
}

func TestSweepDropsConnectionsPastTwoHours(t *testing.T) {
	s, clk := startSwept(t)
	alice := s.dial(t, "alice", s.customerToken(t, "persistent", "alice"))
	alice.OK("hello", nil)
	clk.Advance(2*time.Hour + time.Minute)
	select {
	case <-alice.Closed():
	case <-time.After(waitFor):
		t.Fatal("connection older than 2 hours still open")
	}
	s.gone(t, "persistent", "alice")
}
