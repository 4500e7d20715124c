package stack

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

// startChat starts a stack with agent bob online and returns a connected
// customer alice of the persistent widget whose first message made a
// conversation that bob got.
func startChat(t *testing.T) (s *Stack, alice, bob *client, convID string) {
	s = startStack(t)
	bob = s.dial(t, "bob", s.agentToken(t, "bob"))
	bob.OK("hello", nil)
	alice = s.dial(t, "alice", s.customerToken(t, "persistent", "alice"))
	ack := alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "Hello, anyone there?"})
	convID = obj(ack["conversation"])["id"].(string)
	bob.ConversationEvent(convID, "active")
	alice.ConversationEvent(convID, "active")
	return s, alice, bob, convID
}

func TestPersistentResumeOnNewConnection(t *testing.T) {
	s, alice, bob, id := startChat(t)
	// Bob joined after alice's first message: he reads it from history.
	if h := list(bob.OK("history", map[string]any{"conversationId": id})["messages"]); len(h) != 1 {
		t.Fatalf("agent history = %v", h)
	}
	for i := 2; i <= 3; i++ {
		alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": fmt.Sprintf("a%d", i), "text": fmt.Sprintf("customer %d", i)})
		bob.Next("message")
	}
	bob.OK("send", map[string]any{"conversationId": id, "clientMessageId": "b1", "text": "Hi Alice"})
	alice.Next("message")
	alice.Close() // the customer leaves; seq 4 is the last she saw

	for i := 2; i <= 4; i++ {
		bob.OK("send", map[string]any{"conversationId": id, "clientMessageId": fmt.Sprintf("b%d", i), "text": fmt.Sprintf("agent %d", i)})
	}

	// Days later, another device: the same sub finds the same conversation
	// and exactly the messages she missed.
	phone := s.dial(t, "alice-phone", s.customerToken(t, "persistent", "alice"))
	sess := phone.OK("hello", map[string]any{"lastSeq": 4})
	if sess["type"] != "session" || sess["role"] != "customer" {
		t.Fatalf("hello = %v", sess)
	}
	conv := obj(sess["conversation"])
	if conv["id"] != id || conv["status"] != "active" || num(conv["lastSeq"]) != 7 {
		t.Fatalf("session conversation = %v; want %s active lastSeq 7", conv, id)
	}
	msgs := list(sess["messages"])
	if len(msgs) != 3 || sess["hasMore"] != false {
		t.Fatalf("missed messages = %d (hasMore %v); want 3", len(msgs), sess["hasMore"])
	}
	for i, m := range msgs {
		if got := num(obj(m)["seq"]); got != 5+i {
			t.Errorf("missed[%d].seq = %d; want %d", i, got, 5+i)
		}
	}
	// Without lastSeq: the whole (short) history, ascending.
	all := list(phone.OK("hello", nil)["messages"])
	if len(all) != 7 || num(obj(all[0])["seq"]) != 1 || num(obj(all[6])["seq"]) != 7 {
		t.Fatalf("hello without lastSeq = %d messages", len(all))
	}
	// history pages by seq.
	h := phone.OK("history", map[string]any{"conversationId": id, "beforeSeq": 4, "limit": 2})
	if hm := list(h["messages"]); len(hm) != 2 || num(obj(hm[0])["seq"]) != 2 || h["hasMore"] != true {
		t.Fatalf("history before 4 limit 2 = %v", h)
	}
	h = phone.OK("history", map[string]any{"conversationId": id, "afterSeq": 5})
	if hm := list(h["messages"]); len(hm) != 2 || num(obj(hm[0])["seq"]) != 6 || h["hasMore"] != false {
		t.Fatalf("history after 5 = %v", h)
	}
}

func TestSecondDeviceOfTheSameCustomer(t *testing.T) {
	s, alice, bob, id := startChat(t)
	tablet := s.dial(t, "alice-tablet", s.customerToken(t, "persistent", "alice"))
	tablet.OK("hello", nil)
	alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": "a2", "text": "from the laptop"})
	if m := obj(tablet.Next("message")["message"]); m["text"] != "from the laptop" || num(m["seq"]) != 2 {
		t.Fatalf("tablet got %v", m)
	}
	alice.None("message", 200*time.Millisecond) // not echoed to the sending connection
	bob.OK("send", map[string]any{"conversationId": id, "clientMessageId": "b1", "text": "reply"})
	for _, c := range []*client{alice, tablet} {
		if m := obj(c.Next("message")["message"]); m["text"] != "reply" {
			t.Fatalf("%s got %v", c.Name, m)
		}
	}
	// The tablet's send without conversationId lands in the same conversation.
	ack := tablet.OK("send", map[string]any{"clientMessageId": "t1", "text": "from the tablet"})
	if obj(ack["conversation"])["id"] != id {
		t.Fatalf("tablet send went to %v; want %s", obj(ack["conversation"])["id"], id)
	}
}

func TestCloseRules(t *testing.T) {
	_, alice, bob, id := startChat(t)
	r := alice.Refused("forbidden", "close", map[string]any{"conversationId": id})
	if !strings.Contains(r["message"].(string), "only be ended by an agent") {
		t.Errorf("refusal message = %q", r["message"])
	}
	if st := obj(alice.OK("hello", nil)["conversation"])["status"]; st != "active" {
		t.Fatalf("after refused close: status %v; want active", st)
	}
	ack := bob.OK("close", map[string]any{"conversationId": id})
	conv := obj(ack["conversation"])
	if conv["status"] != "closed" || conv["closedBy"] != "agent" || conv["closedAt"] == nil {
		t.Fatalf("close ack = %v", conv)
	}
	alice.ConversationEvent(id, "closed")
	if used := num(obj(bob.OK("hello", nil)["agent"])["used"]); used != 0 {
		t.Errorf("agent used after close = %d; want 0", used)
	}
	bob.Refused("conflict", "close", map[string]any{"conversationId": id})
	// A customer send after the close starts a new conversation.
	ack = alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": "a9", "text": "one more thing"})
	if nid := obj(ack["conversation"])["id"]; nid == id || num(obj(ack["message"])["seq"]) != 1 {
		t.Fatalf("send after close = %v; want a new conversation at seq 1", ack)
	}
}

func TestLiveModeEitherSideCloses(t *testing.T) {
	s := startStack(t)
	bob := s.dial(t, "bob", s.agentToken(t, "bob"))
	bob.OK("hello", nil)
	carol := s.dial(t, "carol", s.customerToken(t, "live", "carol"))
	id := obj(carol.OK("send", map[string]any{"clientMessageId": "c1", "text": "help"})["conversation"])["id"].(string)
	bob.ConversationEvent(id, "active")
	conv := obj(carol.OK("close", map[string]any{"conversationId": id})["conversation"])
	if conv["closedBy"] != "customer" {
		t.Fatalf("live close by customer = %v", conv)
	}
	bob.ConversationEvent(id, "closed")
}

// fill connects n customers of the persistent widget who each start a
// conversation, returning them and their conversation ids.
func fill(t *testing.T, s *Stack, n int, prefix string) ([]*client, []string) {
	var cs []*client
	var ids []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s%d", prefix, i)
		c := s.dial(t, name, s.customerToken(t, "persistent", name))
		ack := c.OK("send", map[string]any{"clientMessageId": "m1", "text": "hi from " + name})
		cs = append(cs, c)
		ids = append(ids, obj(ack["conversation"])["id"].(string))
	}
	return cs, ids
}

func TestParkFreesCapacityPullsQueueAndReturnNotifies(t *testing.T) {
	s := startStack(t)
	bob := s.dial(t, "bob", s.agentToken(t, "bob"))
	bob.OK("hello", nil)
	custs, ids := fill(t, s, 4, "cust") // capacity 3: the fourth waits
	for i, id := range ids[:3] {
		bob.ConversationEvent(id, "active")
		custs[i].ConversationEvent(id, "active")
	}
	if st := obj(custs[3].OK("hello", nil)["conversation"])["status"]; st != "queued" {
		t.Fatalf("fourth conversation = %v; want queued", st)
	}
	sess := bob.OK("hello", nil)
	if a := obj(sess["agent"]); num(a["used"]) != 3 || num(a["capacity"]) != 3 || a["presence"] != "available" {
		t.Fatalf("agent = %v", a)
	}

	parked := obj(bob.OK("park", map[string]any{"conversationId": ids[0]})["conversation"])
	if parked["status"] != "waiting" {
		t.Fatalf("park = %v", parked)
	}
	// Park freed a unit, which went to the queued conversation at once.
	bob.ConversationEvent(ids[3], "active")
	custs[3].ConversationEvent(ids[3], "active")
	custs[0].None("conversation", 200*time.Millisecond) // the customer is not told of parking

	// Full again: picking the parked one back up is refused, nothing changes.
	bob.Refused("no_capacity", "pickup", map[string]any{"conversationId": ids[0]})
	bob.Refused("conflict", "send", map[string]any{"conversationId": ids[0], "clientMessageId": "b1", "text": "hello?"})

	// The customer comes back: the same agent is notified.
	custs[0].OK("send", map[string]any{"conversationId": ids[0], "clientMessageId": "m2", "text": "I'm back"})
	n := bob.Next("notification")
	if n["kind"] != "customer_returned" || n["conversationId"] != ids[0] || obj(n["conversation"])["status"] != "returned" {
		t.Fatalf("notification = %v", n)
	}
	if m := obj(bob.Next("message")["message"]); m["text"] != "I'm back" {
		t.Fatalf("agent got message %v", m)
	}
	if a := obj(obj(n["conversation"])["agent"]); a["id"] != "bob" {
		t.Fatalf("returned conversation agent = %v; want bob", a)
	}
	// Close one, then pick the returned one up.
	bob.OK("close", map[string]any{"conversationId": ids[1]})
	if c := obj(bob.OK("pickup", map[string]any{"conversationId": ids[0]})["conversation"]); c["status"] != "active" {
		t.Fatalf("pickup = %v", c)
	}
	if used := num(obj(bob.OK("hello", nil)["agent"])["used"]); used != 3 {
		t.Fatalf("used = %d; want 3", used)
	}
}

func TestOfflineAgentFindsReturnedAtNextHello(t *testing.T) {
	s, alice, bob, id := startChat(t)
	bob.OK("park", map[string]any{"conversationId": id})
	bob.Close()
	alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": "a2", "text": "back again"})
	bob2 := s.dial(t, "bob-again", s.agentToken(t, "bob"))
	sess := bob2.OK("hello", nil)
	var found map[string]any
	for _, c := range list(sess["conversations"]) {
		if obj(c)["id"] == id {
			found = obj(c)
		}
	}
	if found == nil || found["status"] != "returned" {
		t.Fatalf("agent session conversations = %v; want %s returned", sess["conversations"], id)
	}
}

func TestQueueMessagesLiveOnly(t *testing.T) {
	s := startStack(t) // no agent online: everything queues
	carol := s.dial(t, "carol", s.customerToken(t, "live", "carol"))
	id := obj(carol.OK("send", map[string]any{"clientMessageId": "c1", "text": "help"})["conversation"])["id"]
	sys := carol.Next("system")
	if sys["conversationId"] != id || sys["code"] != "queue_position" || num(sys["queuePosition"]) != 1 || sys["text"] != "You are number 1 in the queue." {
		t.Fatalf("system = %v", sys)
	}
	dave := s.dial(t, "dave", s.customerToken(t, "live", "dave"))
	dave.OK("send", map[string]any{"clientMessageId": "d1", "text": "me too"})
	if sys := dave.Next("system"); num(sys["queuePosition"]) != 2 {
		t.Fatalf("second in queue: %v", sys)
	}

	alice := s.dial(t, "alice", s.customerToken(t, "persistent", "alice"))
	alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "hello"})
	alice.None("system", 300*time.Millisecond)
}

func TestOutsideHours(t *testing.T) {
	s := startStack(t, func(o *Options) { o.ScheduleInterval = 100 * time.Millisecond })
	bob := s.dial(t, "bob", s.agentToken(t, "bob"))
	bob.OK("hello", nil)

	erin := s.dial(t, "erin", s.customerToken(t, "live-after-hours", "erin"))
	erin.Refused("outside_hours", "send", map[string]any{"clientMessageId": "e1", "text": "anyone?"})
	if sess := erin.OK("hello", nil); sess["conversation"] != nil {
		t.Fatalf("refused live send left a conversation: %v", sess["conversation"])
	}

	fay := s.dial(t, "fay", s.customerToken(t, "persistent-after-hours", "fay"))
	conv := obj(fay.OK("send", map[string]any{"clientMessageId": "f1", "text": "for tomorrow"})["conversation"])
	id := conv["id"].(string)
	if conv["status"] != "queued" {
		t.Fatalf("after-hours persistent = %v; want queued", conv)
	}
	bob.None("conversation", 400*time.Millisecond) // several sweeps: still closed, not assigned
	fay.None("system", 0)

	// The hours open: the next sweep assigns it.
	open := workstreamConfig("after-hours-persistent", "persistent", true, true)
	if err := s.Store.PutWorkstream(t.Context(), open, false); err != nil {
		t.Fatal(err)
	}
	bob.ConversationEvent(id, "active")
	fay.ConversationEvent(id, "active")
}

func TestIdempotentResend(t *testing.T) {
	_, alice, bob, id := startChat(t)
	first := alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": "same", "text": "only once"})
	again := alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": "same", "text": "only once"})
	m1, m2 := obj(first["message"]), obj(again["message"])
	if m1["id"] != m2["id"] || m1["seq"] != m2["seq"] {
		t.Fatalf("resend = %v; want the first message %v", m2, m1)
	}
	bob.Next("message")
	bob.None("message", 300*time.Millisecond)
	if last := num(obj(alice.OK("hello", nil)["conversation"])["lastSeq"]); last != 2 {
		t.Fatalf("lastSeq = %d; want 2", last)
	}
	// The same id from the agent is another sender's: a new message.
	if a := bob.OK("send", map[string]any{"conversationId": id, "clientMessageId": "same", "text": "mine"}); num(obj(a["message"])["seq"]) != 3 {
		t.Fatalf("agent send with the customer's id = %v", a)
	}
}

func TestOthersAreRefused(t *testing.T) {
	s, _, _, id := startChat(t)
	mallory := s.dial(t, "mallory", s.customerToken(t, "persistent", "mallory"))
	mallory.Refused("not_found", "history", map[string]any{"conversationId": id})
	mallory.Refused("not_found", "send", map[string]any{"conversationId": id, "clientMessageId": "x", "text": "hi"})
	mallory.Refused("not_found", "typing", map[string]any{"conversationId": id, "typing": true})
	// The same customer id on another widget is another person.
	other := s.dial(t, "alice-live", s.customerToken(t, "live", "alice"))
	other.Refused("not_found", "history", map[string]any{"conversationId": id})

	eve := s.dial(t, "eve", s.agentToken(t, "eve"))
	for _, action := range []string{"park", "pickup", "close", "history"} {
		eve.Refused("not_found", action, map[string]any{"conversationId": id})
	}
	eve.Refused("not_found", "send", map[string]any{"conversationId": id, "clientMessageId": "x", "text": "hi"})
	// A frame cannot change who its sender is.
	ack := mallory.OK("send", map[string]any{"clientMessageId": "m1", "text": "hi", "userId": "alice", "role": "agent", "sender": map[string]any{"id": "alice"}})
	if snd := obj(obj(ack["message"])["sender"]); snd["id"] != "mallory" || snd["role"] != "customer" {
		t.Fatalf("sender = %v; want mallory", snd)
	}
	mallory.Refused("forbidden", "presence", map[string]any{"status": "away"})
}

func TestBadFramesKeepTheConnection(t *testing.T) {
	_, alice, bob, id := startChat(t)
	cases := []struct {
		frame any
		code  string
	}{
		{`{not json`, "bad_request"},
		{`"just a string"`, "bad_request"},
		{`[1,2]`, "bad_request"},
		{map[string]any{"action": "dance", "requestId": "r1"}, "unknown_action"},
		{map[string]any{"requestId": "r2"}, "bad_request"},
		{map[string]any{"action": 7, "requestId": "r3"}, "bad_request"},
		{map[string]any{"action": "send", "requestId": "r4", "text": "no id"}, "bad_request"},
		{map[string]any{"action": "send", "requestId": "r5", "clientMessageId": "k", "text": 5}, "bad_request"},
		{map[string]any{"action": "send", "requestId": "r6", "clientMessageId": "k", "text": "   \n\t"}, "bad_request"},
		{map[string]any{"action": "send", "requestId": "r7", "clientMessageId": "k", "text": strings.Repeat("x", 4001)}, "bad_request"},
		{map[string]any{"action": "send", "requestId": "r8", "clientMessageId": strings.Repeat("k", 65), "text": "hi"}, "bad_request"},
		{map[string]any{"action": "history", "requestId": "r9"}, "bad_request"},
		{map[string]any{"action": "history", "requestId": "r10", "conversationId": id, "limit": 500}, "bad_request"},
		{map[string]any{"action": "history", "requestId": "r11", "conversationId": 12}, "bad_request"},
		{map[string]any{"action": "typing", "requestId": "r12", "conversationId": id, "typing": "yes"}, "bad_request"},
		{map[string]any{"action": "read", "requestId": "r13", "conversationId": id, "seq": 99}, "bad_request"},
		{map[string]any{"action": "hello", "requestId": "r14", "lastSeq": "x"}, "bad_request"},
		{map[string]any{"action": "close", "requestId": "r15", "conversationId": "c_nope"}, "not_found"},
	}
	for _, c := range cases {
		alice.Write(c.frame)
		f := alice.Next("error")
		if f["code"] != c.code {
			t.Errorf("frame %.60v → %v; want %s", c.frame, f, c.code)
		}
		if m, ok := c.frame.(map[string]any); ok && m["requestId"] != nil && f["requestId"] != m["requestId"] {
			t.Errorf("frame %.60v: reply requestId %v", c.frame, f["requestId"])
		}
		if f["message"] == "" || f["message"] == nil {
			t.Errorf("frame %.60v: error without message", c.frame)
		}
	}
	// Wrong state: parking twice.
	bob.OK("park", map[string]any{"conversationId": id})
	bob.Refused("conflict", "park", map[string]any{"conversationId": id})
	bob.Refused("bad_request", "presence", map[string]any{"status": "asleep"})
	// Still usable, and nothing was written by the refused frames.
	if p := alice.OK("ping", nil); p["type"] != "pong" {
		t.Fatalf("ping = %v", p)
	}
	if last := num(obj(alice.OK("hello", nil)["conversation"])["lastSeq"]); last != 1 {
		t.Fatalf("lastSeq after bad frames = %d; want 1", last)
	}
}

func TestTypingAndRead(t *testing.T) {
	_, alice, bob, id := startChat(t)
	alice.OK("typing", map[string]any{"conversationId": id, "typing": true})
	ty := bob.Next("typing")
	if ty["conversationId"] != id || ty["typing"] != true || obj(ty["from"])["id"] != "alice" || obj(ty["from"])["role"] != "customer" {
		t.Fatalf("typing = %v", ty)
	}
	bob.OK("read", map[string]any{"conversationId": id, "seq": 1})
	rd := alice.Next("read")
	if rd["conversationId"] != id || num(rd["seq"]) != 1 || obj(rd["by"])["id"] != "bob" || obj(rd["by"])["role"] != "agent" {
		t.Fatalf("read = %v", rd)
	}
	alice.None("typing", 100*time.Millisecond) // not echoed to the sender
}

func TestRacingCustomersNeverOverAssign(t *testing.T) {
	s := startStack(t)
	agents := []string{"ann", "ben", "cat"}
	for _, a := range agents {
		s.dial(t, a, s.agentToken(t, a)).OK("hello", nil)
	}
	if online, err := s.Store.OnlineAgents(t.Context()); err != nil || len(online) != 3 {
		t.Fatalf("online agents = %v, %v; want 3", online, err)
	}
	const n = 30
	var wg sync.WaitGroup
	clients := make([]*client, n)
	for i := range clients {
		name := fmt.Sprintf("racer%02d", i)
		clients[i] = s.dial(t, name, s.customerToken(t, "persistent", name))
	}
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Write(map[string]any{"action": "send", "requestId": "go", "clientMessageId": fmt.Sprintf("r%d", i), "text": "me first"})
		}()
	}
	wg.Wait()
	for _, c := range clients {
		if r := c.Reply("go"); r["type"] != "ack" {
			t.Fatalf("%s: %v", c.Name, r)
		}
	}
	// Assignment runs after each reply: watch it settle, checking at every
	// look that no agent ever holds more than its capacity.
	var total, queued int
	settled := poll.Within(waitFor, func() bool {
		total = 0
		for _, a := range agents {
			ag, err := s.Store.Agent(t.Context(), a)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := s.Store.AgentConversations(t.Context(), a)
			if err != nil {
				t.Fatal(err)
			}
			if ag.Used > ag.Capacity || len(cs) > ag.Capacity {
				t.Fatalf("agent %s: used %d, capacity %d, conversations %d", a, ag.Used, ag.Capacity, len(cs))
			}
			if ag.Used == len(cs) {
				total += len(cs)
			}
		}
		queue, err := s.Store.Queue(t.Context(), "support-persistent", 100)
		if err != nil {
			t.Fatal(err)
		}
		queued = len(queue)
		return total == 9 && queued == n-9
	})
	if !settled {
		t.Fatalf("assigned %d, queued %d; want 9 and %d", total, queued, n-9)
	}
}

// An agent who connects while a conversation waits gets it at once; the
// notification of that assignment races the connection's opening (API
// Gateway answers 410 until $connect returns), and that must not make the
// brand-new connection look gone.
func TestAgentConnectingToAWaitingQueueStaysConnected(t *testing.T) {
	s := startStack(t)
	alice := s.dial(t, "alice", s.customerToken(t, "persistent", "alice"))
	id := obj(alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "hi"})["conversation"])["id"].(string)
	for i := 0; i < 10; i++ {
		name := fmt.Sprintf("agent%d", i)
		c := s.dial(t, name, s.agentToken(t, name))
		ag, err := s.Store.Agent(t.Context(), name)
		if err != nil || len(ag.ConnectionIDs) != 1 {
			t.Fatalf("%s just connected: %+v, %v; want one connection", name, ag, err)
		}
		if i == 0 {
			// It got the waiting conversation, and its session says so even
			// if the notification was pushed before the connection opened.
			sess := c.OK("hello", nil)
			if cs := list(sess["conversations"]); len(cs) != 1 || obj(cs[0])["id"] != id {
				t.Fatalf("first agent's session = %v; want conversation %s", sess["conversations"], id)
			}
		}
		c.Close()
	}
}
