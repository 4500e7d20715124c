package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// The reply comes first, then the other connections' frames; nothing is
// done behind the reply: assigning the new conversation is the stream's
// (AssignQueue), which the send's deadline cannot cut short.
func TestSendRepliesThenDeliversAndTheStreamAssigns(t *testing.T) {
	w := newWorld(t)
	bob := w.connect("bob", "")
	alice := w.connect("alice", "persistent")
	phone := w.connect("alice", "persistent")

	req, _ := wire.Decode([]byte(`{"action":"send","requestId":"r1","clientMessageId":"a1","text":"hello"}`))
	res, err := w.svc.Serve(w.ctx, alice, req)
	if err != nil {
		t.Fatal(err)
	}
	ack, ok := res.Reply.(*wire.Ack)
	if !ok || ack.Message == nil || ack.Message.Seq != 1 || ack.Conversation.Status != "queued" {
		t.Fatalf("Send reply = %#v; want an ack of seq 1 in a queued conversation", res.Reply)
	}
	if len(res.Out) != 1 || !slices.Equal(res.Out[0].ConnectionIDs, []string{phone.ConnectionID}) || res.Then != nil {
		t.Fatalf("Send result: out %+v, then %v; want the message for the other device, nothing after", res.Out, res.Then != nil)
	}
	if err := w.svc.Deliver(w.ctx, alice.ConnectionID, res); err != nil {
		t.Fatal(err)
	}
	if got := w.conversation(ack.Conversation.ID); got.Status != conversation.Queued {
		t.Fatalf("after the send the conversation is %s; want queued until the stream", got.Status)
	}
	w.settle()
	if got := w.conversation(ack.Conversation.ID); got.Status != conversation.Active || got.Agent == nil || got.Agent.ID != "bob" {
		t.Errorf("after the stream: %s with %+v; want active with bob", got.Status, got.Agent)
	}
	if a := w.agent("bob"); a.Used != 1 {
		t.Errorf("bob uses %d; want 1", a.Used)
	}
	if f := w.push.to(alice.ConnectionID); len(f) < 1 || f[0]["requestId"] != "r1" {
		t.Errorf("alice got %v; want her ack first", f)
	}
	if f := w.push.of(phone.ConnectionID, "message"); len(f) != 1 {
		t.Errorf("alice's phone got %v; want the message", w.push.to(phone.ConnectionID))
	}
	if f := w.push.of(bob.ConnectionID, "conversation"); len(f) != 1 || f[0]["messages"] == nil {
		t.Errorf("bob got %v; want the assignment, with its messages", w.push.to(bob.ConnectionID))
	}
}

// Conversations never stay queued while an agent has room, however the
// first sends race each other and their customers' next messages: every
// free unit is taken, and none twice.
func TestRacingFirstSendsLeaveNoFreeAgent(t *testing.T) {
	w := newWorld(t)
	agents := []chat.Caller{w.connect("ann", ""), w.connect("ben", ""), w.connect("cat", "")} // 3 × capacity 3
	const customers = 15
	var wg sync.WaitGroup
	for i := range customers {
		c := w.connect(fmt.Sprintf("racer%02d", i), "persistent")
		wg.Go(func() {
			// A first message and, at once, a second, each bumping the
			// conversation under any assigner.
			for n := 1; n <= 2; n++ {
				w.ok(c, fmt.Sprintf(`{"action":"send","clientMessageId":"m%d","text":"me first"}`, n))
			}
		})
	}
	wg.Wait()
	used := 0
	for _, a := range agents {
		ag := w.agent(a.ID)
		cs, err := w.st.AgentConversations(w.ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ag.Used != ag.Capacity || len(cs) != ag.Capacity {
			t.Errorf("agent %s: used %d of %d with %d conversations; want full", a.ID, ag.Used, ag.Capacity, len(cs))
		}
		used += ag.Used
	}
	queue, err := w.st.Queue(w.ctx, "support-persistent", 100)
	if err != nil {
		t.Fatal(err)
	}
	if used != 9 || len(queue) != customers-9 {
		t.Errorf("assigned %d, queued %d; want 9 and %d", used, len(queue), customers-9)
	}
}

// Twenty sends racing into one conversation from two devices are all
// stored, once each, with gap-free seqs: a lost race is retried, never
// answered with conflict.
func TestConcurrentSendsAreAllAccepted(t *testing.T) {
	w := newWorld(t)
	w.connect("bob", "")
	laptop, phone := w.connect("alice", "persistent"), w.connect("alice", "persistent")
	id := idOf(w.ok(laptop, `{"action":"send","clientMessageId":"first","text":"hi"}`))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var seqs []int
	for i := range 20 {
		dev := []chat.Caller{laptop, phone}[i%2]
		wg.Go(func() {
			r := w.do(dev, fmt.Sprintf(`{"action":"send","conversationId":%q,"clientMessageId":"c%d","text":"racing"}`, id, i))
			if r["type"] != "ack" {
				t.Errorf("send %d = %v; want ack", i, r)
				return
			}
			mu.Lock()
			seqs = append(seqs, int(obj(r["message"])["seq"].(float64)))
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != i+2 {
			t.Fatalf("seqs %v; want 2-21 once each", seqs)
		}
	}
	if c := w.conversation(id); c.LastSeq != 21 {
		t.Errorf("lastSeq %d; want 21", c.LastSeq)
	}
}

// A customer's park, pickup or presence is forbidden before the store is
// asked anything.
func TestAgentOnlyActionsRefuseCustomersUnread(t *testing.T) {
	w := newWorld(t)
	alice := w.connect("alice", "persistent")
	st := &counting{Store: w.st}
	svc := chat.New(countingStore{st}, w.push, chat.Options{Log: slog.New(slog.DiscardHandler)})
	for _, frame := range []string{
		`{"action":"park","conversationId":"c_SOMEONEELSESCONVERSATION"}`,
		`{"action":"pickup","conversationId":"c_SOMEONEELSESCONVERSATION"}`,
		`{"action":"presence","status":"away"}`,
	} {
		req, err := wire.Decode([]byte(frame))
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.Serve(context.Background(), alice, req)
		if wire.CodeOf(err) != wire.CodeForbidden {
			t.Errorf("customer %s = %v; want forbidden", frame, err)
		}
	}
	if n := st.calls.Load(); n != 0 {
		t.Errorf("the store was asked %d times; want none", n)
	}
}

// countingStore counts the reads agent-only refusals must not make.
type countingStore struct{ *counting }

func (c countingStore) Conversation(ctx context.Context, id string) (*conversation.Conversation, error) {
	c.calls.Add(1)
	return c.Store.Conversation(ctx, id)
}

func (c countingStore) Agent(ctx context.Context, id string) (conversation.Agent, error) {
	c.calls.Add(1)
	return c.Store.Agent(ctx, id)
}

func (c countingStore) SetPresence(ctx context.Context, id string, p conversation.Presence) (conversation.Agent, error) {
	c.calls.Add(1)
	return c.Store.SetPresence(ctx, id, p)
}

// Park frees the agent's capacity at once, and the follow-up gives it to
// the oldest queued conversation.
func TestParkHandsFreedCapacityToTheQueue(t *testing.T) {
	w := newWorld(t)
	bob := w.connect("bob", "")
	var ids []string
	for i := range 4 {
		c := w.connect(fmt.Sprintf("cust%d", i), "persistent")
		ids = append(ids, idOf(w.ok(c, `{"action":"send","clientMessageId":"m1","text":"hello"}`)))
	}
	if c := w.conversation(ids[3]); c.Status != conversation.Queued {
		t.Fatalf("fourth = %s; want queued (capacity 3)", c.Status)
	}
	w.ok(bob, fmt.Sprintf(`{"action":"park","conversationId":%q}`, ids[0]))
	if c := w.conversation(ids[3]); c.Status != conversation.Active || c.Agent.ID != "bob" {
		t.Errorf("after park the fourth is %s; want active with bob", c.Status)
	}
	if a := w.agent("bob"); a.Used != 3 {
		t.Errorf("bob uses %d; want 3 (one parked, the fourth taken)", a.Used)
	}
}

// When the stream brings several queued conversations in one batch and
// the agents have room for fewer, the oldest are assigned: a later
// customer never overtakes an earlier one, whichever place a pass starts.
func TestTheOldestQueuedAreAssignedFirst(t *testing.T) {
	for round := range 8 {
		w := newWorld(t)
		w.manual = true
		w.connect("bob", "")
		w.settle()
		var ids []string
		for i := range 6 {
			c := w.connect(fmt.Sprintf("cust%d", i), "persistent")
			ids = append(ids, idOf(w.ok(c, `{"action":"send","clientMessageId":"m1","text":"hello"}`)))
			w.clock.advance(time.Millisecond)
		}
		w.settle() // one batch: six queued, room for three
		for i, id := range ids {
			c := w.conversation(id)
			if want := i < 3; (c.Status == conversation.Active) != want {
				t.Fatalf("round %d: conversation %d is %s; want the three oldest active, the rest queued", round, i, c.Status)
			}
		}
	}
}

// A stream notification is strict: a failed push leaves the transition
// unmarked, so Lambda delivers the record again; a gone connection is
// forgotten, not a failure.
func TestNotifyIsStrict(t *testing.T) {
	w := newWorld(t)
	w.manual = true
	bob := w.connect("bob", "")
	alice := w.connect("alice", "persistent")
	id := idOf(w.ok(alice, `{"action":"send","clientMessageId":"m1","text":"hello"}`))
	w.stream.take() // the new conversation, assigned here by hand:
	if res, err := w.svc.AssignQueue(w.ctx, "support-persistent", nil); err != nil || len(res.Out) != 0 {
		t.Fatalf("AssignQueue = %+v, %v", res, err)
	}
	changes := w.stream.take()
	if len(changes) != 1 || changes[0][1].Status != conversation.Active {
		t.Fatalf("assignment wrote %v; want the one queued → active change", changes)
	}
	before, after := changes[0][0], changes[0][1]

	failing := &failingPusher{pusher: w.push, fail: bob.ConnectionID}
	svc := chat.New(w.st, failing, chat.Options{Log: slog.New(slog.DiscardHandler)})
	res, err := svc.Notify(w.ctx, before, after)
	if err != nil || !res.Strict {
		t.Fatalf("Notify = %+v, %v; want a strict result", res, err)
	}
	if err := svc.Deliver(w.ctx, "", res); err == nil {
		t.Fatal("Deliver with bob's push failing = <nil>; want the failure")
	}
	if done, _ := w.st.Notified(w.ctx, id, after.Version); done {
		t.Error("the transition was marked notified though bob's push failed")
	}
	res, _ = w.svc.Notify(w.ctx, before, after)
	if err := w.svc.Deliver(w.ctx, "", res); err != nil {
		t.Fatal(err)
	}
	if done, _ := w.st.Notified(w.ctx, id, after.Version); !done {
		t.Error("after a good delivery the transition is not marked notified")
	}
	if f := w.push.of(bob.ConnectionID, "conversation"); len(f) != 1 {
		t.Errorf("bob got %d conversation events; want 1", len(f))
	}
	// Again (at-least-once delivery): nothing more is pushed.
	res, _ = w.svc.Notify(w.ctx, before, after)
	if len(res.Out) != 0 {
		t.Errorf("a redelivered transition pushes %+v; want nothing", res.Out)
	}
}

type failingPusher struct {
	*pusher
	fail string
}

func (p *failingPusher) Post(ctx context.Context, id string, frame []byte) error {
	if id == p.fail {
		return fmt.Errorf("post to %s: throttled", id)
	}
	return p.pusher.Post(ctx, id, frame)
}

// A push to a connection the gateway no longer has forgets it.
func TestGoneConnectionsAreForgotten(t *testing.T) {
	w := newWorld(t)
	w.connect("bob", "")
	alice := w.connect("alice", "persistent")
	tab := w.connect("alice", "persistent")
	w.clock.mu.Lock()
	w.clock.at = w.clock.at.Add(time.Minute) // past the grace of a connection still opening
	w.clock.mu.Unlock()
	w.push.mu.Lock()
	w.push.gone[tab.ConnectionID] = true
	w.push.mu.Unlock()
	w.ok(alice, `{"action":"send","clientMessageId":"m1","text":"hello"}`)
	cust, err := w.st.Customer(w.ctx, "persistent", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cust.ConnectionIDs, []string{alice.ConnectionID}) {
		t.Errorf("alice's connections = %v; want only %s (the gone tab forgotten)", cust.ConnectionIDs, alice.ConnectionID)
	}
}

// What the agent app's list shows comes with each conversation: how far
// each party has read (a sender has read its own message) and a preview of
// the newest message.
func TestConversationsCarryReadMarksAndPreview(t *testing.T) {
	w := newWorld(t)
	bob := w.connect("bob", "")
	alice := w.connect("alice", "persistent")
	long := strings.Repeat("e", 300)
	ack := w.ok(alice, fmt.Sprintf(`{"action":"send","clientMessageId":"a1","text":%q}`, long))
	id := idOf(ack)
	conv := obj(ack["conversation"])
	if r := obj(conv["read"]); r["customer"] != 1.0 || r["agent"] != 0.0 {
		t.Errorf("read after alice's first message = %v; want customer 1, agent 0", r)
	}
	lm := obj(conv["lastMessage"])
	if lm["seq"] != 1.0 || obj(lm["sender"])["id"] != "alice" || len([]rune(lm["text"].(string))) != conversation.PreviewRunes {
		t.Errorf("lastMessage = %v; want seq 1 by alice, text cut to %d characters", lm, conversation.PreviewRunes)
	}
	w.ok(bob, fmt.Sprintf(`{"action":"read","conversationId":%q,"seq":1}`, id))
	w.ok(bob, fmt.Sprintf(`{"action":"send","conversationId":%q,"clientMessageId":"b1","text":"Hi Alice"}`, id))
	w.ok(alice, fmt.Sprintf(`{"action":"send","conversationId":%q,"clientMessageId":"a2","text":"thanks"}`, id))
	sess := w.ok(bob, `{"action":"hello"}`)
	got := obj(sess["conversations"].([]any)[0])
	if r := obj(got["read"]); r["customer"] != 3.0 || r["agent"] != 2.0 {
		t.Errorf("agent session read = %v; want customer 3, agent 2 (his own reply; alice's thanks unread)", r)
	}
	if lm := obj(got["lastMessage"]); lm["text"] != "thanks" || lm["seq"] != 3.0 {
		t.Errorf("agent session lastMessage = %v; want alice's thanks, seq 3", lm)
	}
}

// A customer whose conversation an agent closed still finds it at the next
// hello, and may read its history; writing again starts a new one.
func TestReturningCustomerSeesTheClosedConversation(t *testing.T) {
	w := newWorld(t)
	bob := w.connect("bob", "")
	alice := w.connect("alice", "persistent")
	id := idOf(w.ok(alice, `{"action":"send","clientMessageId":"a1","text":"my order is late"}`))
	w.ok(bob, fmt.Sprintf(`{"action":"close","conversationId":%q}`, id))

	later := w.connect("alice", "persistent")
	sess := w.ok(later, `{"action":"hello"}`)
	prev := obj(sess["previousConversation"])
	if sess["conversation"] != nil || prev["id"] != id || prev["status"] != "closed" {
		t.Fatalf("session = %v; want no open conversation and %s as previousConversation", sess, id)
	}
	h := w.ok(later, fmt.Sprintf(`{"action":"history","conversationId":%q}`, id))
	if msgs := h["messages"].([]any); len(msgs) != 1 {
		t.Errorf("history of the closed conversation = %v; want its message", h)
	}
	// Another customer, or alice on another widget, gets nothing of it.
	mallory := w.connect("mallory", "persistent")
	if r := w.do(mallory, fmt.Sprintf(`{"action":"history","conversationId":%q}`, id)); r["code"] != "not_found" {
		t.Errorf("mallory's history of alice's conversation = %v; want not_found", r)
	}
	if s := w.ok(w.connect("alice", "live"), `{"action":"hello"}`); s["previousConversation"] != nil {
		t.Errorf("alice on the live widget sees %v; want nothing of the persistent one", s["previousConversation"])
	}
	next := w.ok(later, `{"action":"send","clientMessageId":"a2","text":"another question"}`)
	if idOf(next) == id {
		t.Error("a send after the close went into the closed conversation")
	}
}

// The agent a conversation is assigned to gets its messages with the
// assignment event.
func TestAssignmentEventCarriesTheMessages(t *testing.T) {
	w := newWorld(t)
	alice := w.connect("alice", "persistent")
	id := idOf(w.ok(alice, `{"action":"send","clientMessageId":"a1","text":"hello?"}`))
	w.ok(alice, fmt.Sprintf(`{"action":"send","conversationId":%q,"clientMessageId":"a2","text":"anyone?"}`, id))
	before := w.conversation(id)
	bob := w.connect("bob", "") // takes the queued conversation
	after := w.conversation(id)
	if after.Status != conversation.Active {
		t.Fatalf("after bob connected: %s; want active", after.Status)
	}
	res, err := w.svc.Notify(w.ctx, before, after)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Deliver(w.ctx, "", res); err != nil {
		t.Fatal(err)
	}
	evs := w.push.of(bob.ConnectionID, "conversation")
	if len(evs) != 1 {
		t.Fatalf("bob got %v; want one conversation event", w.push.to(bob.ConnectionID))
	}
	msgs, _ := evs[0]["messages"].([]any)
	if len(msgs) != 2 || obj(msgs[0])["text"] != "hello?" || evs[0]["hasMore"] != false {
		t.Errorf("assignment event messages = %v, hasMore %v; want both of alice's, hasMore false", msgs, evs[0]["hasMore"])
	}
	if f := w.push.of(alice.ConnectionID, "conversation"); len(f) != 1 || f[0]["messages"] != nil {
		t.Errorf("alice's conversation event = %v; want one, without messages", f)
	}
}

// However large the messages, a session, a history page and an assignment
// event fit in one frame under API Gateway's 128 KiB, say hasMore when cut,
// and paging on gets every message once.
func TestRepliesAreCutBySize(t *testing.T) {
	w := newWorld(t)
	alice := w.connect("alice", "persistent")
	big := strings.Repeat("😀", conversation.MaxTextRunes) // 16 KB each
	id := idOf(w.ok(alice, fmt.Sprintf(`{"action":"send","clientMessageId":"m1","text":%q}`, big)))
	for i := 2; i <= 12; i++ {
		w.ok(alice, fmt.Sprintf(`{"action":"send","conversationId":%q,"clientMessageId":"m%d","text":%q}`, id, i, big))
	}
	sess := w.ok(alice, `{"action":"hello"}`)
	msgs := sess["messages"].([]any)
	if sess["hasMore"] != true || len(msgs) == 0 || len(msgs) >= 12 || obj(msgs[len(msgs)-1])["seq"] != 12.0 {
		t.Fatalf("hello: %d messages, hasMore %v; want the newest that fit, with hasMore", len(msgs), sess["hasMore"])
	}
	// Page back to the first message, every page one frame.
	seen := map[float64]bool{}
	for _, m := range msgs {
		seen[obj(m)["seq"].(float64)] = true
	}
	before := obj(msgs[0])["seq"].(float64)
	for pages := 0; before > 1; pages++ {
		if pages > 12 {
			t.Fatal("history never reached the first message")
		}
		h := w.ok(alice, fmt.Sprintf(`{"action":"history","conversationId":%q,"beforeSeq":%d,"limit":200}`, id, int(before)))
		page := h["messages"].([]any)
		if len(page) == 0 {
			t.Fatalf("history before %v = %v; want messages", before, h)
		}
		for _, m := range page {
			seq := obj(m)["seq"].(float64)
			if seen[seq] {
				t.Fatalf("seq %v delivered twice", seq)
			}
			seen[seq] = true
		}
		before = obj(page[0])["seq"].(float64)
	}
	if len(seen) != 12 {
		t.Errorf("paged through %d messages; want 12", len(seen))
	}
	// Forward from the start, as a client catching up does.
	h := w.ok(alice, fmt.Sprintf(`{"action":"history","conversationId":%q,"afterSeq":0,"limit":200}`, id))
	if page := h["messages"].([]any); h["hasMore"] != true || obj(page[0])["seq"] != 1.0 {
		t.Errorf("history after 0: %d messages from %v, hasMore %v; want the oldest that fit, with hasMore", len(page), obj(page[0])["seq"], h["hasMore"])
	}
	for _, f := range w.push.to(alice.ConnectionID) {
		if b, _ := json.Marshal(f); len(b) > wire.MaxFrameBytes {
			t.Errorf("a %s frame of %d bytes reached the client", f["type"], len(b))
		}
	}
}

// An agent holding more conversations than one frame can list still gets
// a session: as many as fit, with hasMore.
func TestAgentSessionIsCutBySize(t *testing.T) {
	w := newWorld(t)
	if err := w.st.PutAgentDefaults(w.ctx, conversation.AgentDefaults{Capacity: 400}, false); err != nil {
		t.Fatal(err)
	}
	w.svc = chat.New(w.stream, w.push, chat.Options{Now: w.clock.now, Log: slog.New(slog.DiscardHandler)}) // no cached defaults
	bob := w.connect("bob", "")
	preview := strings.Repeat("😀", conversation.PreviewRunes)
	const n = 220 // about 900 bytes each in a session: well over 128 KiB
	for i := range n {
		c := w.connect(fmt.Sprintf("c%03d", i), "persistent")
		w.ok(c, fmt.Sprintf(`{"action":"send","clientMessageId":"m","text":%q}`, preview))
	}
	if a := w.agent("bob"); a.Used != n {
		t.Fatalf("bob holds %d; want %d", a.Used, n)
	}
	sess := w.ok(bob, `{"action":"hello"}`)
	cs := sess["conversations"].([]any)
	if sess["hasMore"] != true || len(cs) == 0 || len(cs) >= n {
		t.Errorf("agent session: %d conversations, hasMore %v; want as many as fit, with hasMore", len(cs), sess["hasMore"])
	}
}

// Each connection and each user has a request budget, kept in memory: over
// it a request is rate_limited with when to retry, and served again then;
// a burst of 20 and 5 a second sustained always pass. Sends have a budget
// per conversation too, kept on the conversation.
func TestRequestBudgets(t *testing.T) {
	w := newWorld(t)
	alice := w.connect("alice", "persistent")
	other := w.connect("alice", "persistent")
	for i := range 20 { // a well-behaved burst
		if err := w.svc.Admit(alice); err != nil {
			t.Fatalf("request %d of a burst of 20 = %v; want served", i+1, err)
		}
	}
	var err error
	for err == nil {
		err = w.svc.Admit(alice)
	}
	var rl *conversation.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || wire.CodeOf(err) != wire.CodeRateLimited {
		t.Fatalf("over the burst: %v; want rate_limited with a retry time", err)
	}
	if err := w.svc.Admit(other); err != nil {
		t.Errorf("alice's other connection = %v; want served (the user's budget is larger)", err)
	}
	w.clock.mu.Lock()
	w.clock.at = w.clock.at.Add(rl.RetryAfter)
	w.clock.mu.Unlock()
	if err := w.svc.Admit(alice); err != nil {
		t.Errorf("after %s: %v; want served again", rl.RetryAfter, err)
	}
	// 5 a second sustained, for a minute.
	bob := w.connect("bob", "")
	for i := range 300 {
		w.clock.mu.Lock()
		w.clock.at = w.clock.at.Add(200 * time.Millisecond)
		w.clock.mu.Unlock()
		if err := w.svc.Admit(bob); err != nil {
			t.Fatalf("request %d at 5 a second = %v; want served", i+1, err)
		}
	}

	// A conversation takes sends at conversation.SendLimit, whoever sends.
	id := idOf(w.ok(alice, `{"action":"send","clientMessageId":"s0","text":"hi"}`))
	var refused map[string]any
	third := w.connect("alice", "persistent")
	for i := 1; i <= int(conversation.SendLimit.Burst)+5 && refused == nil; i++ {
		dev := []chat.Caller{alice, other, third}[i%3]
		if r := w.do(dev, fmt.Sprintf(`{"action":"send","conversationId":%q,"clientMessageId":"s%d","text":"flood"}`, id, i)); r["type"] == "error" {
			refused = r
		}
	}
	if refused == nil || refused["code"] != "rate_limited" || refused["retryAfterMs"].(float64) <= 0 {
		t.Fatalf("a flood of sends into one conversation: %v; want rate_limited with retryAfterMs", refused)
	}
	if c := w.conversation(id); c.LastSeq != int64(conversation.SendLimit.Burst) {
		t.Errorf("stored %d messages; want the budget's %v, nothing of the refused", c.LastSeq, conversation.SendLimit.Burst)
	}
}

// A user has at most conversation.MaxConnectionsPerUser connections; one
// more is refused (rate_limited, which $connect answers with 429) and none
// is recorded; once one has gone, a new one gets in.
func TestConnectionsPerUserAreCapped(t *testing.T) {
	w := newWorld(t)
	var first chat.Caller
	for i := range conversation.MaxConnectionsPerUser {
		c := w.connect("alice", "persistent")
		if i == 0 {
			first = c
		}
	}
	extra := conversation.Connection{ID: "k-extra", Role: conversation.Customer, UserID: "alice", Name: "alice", Widget: "persistent", ConnectedAt: w.clock.now()}
	if _, err := w.svc.Connect(w.ctx, extra); !errors.Is(err, conversation.ErrRateLimited) {
		t.Fatalf("connection #%d = %v; want rate_limited", conversation.MaxConnectionsPerUser+1, err)
	}
	if cust, _ := w.st.Customer(w.ctx, "persistent", "alice"); len(cust.ConnectionIDs) != conversation.MaxConnectionsPerUser {
		t.Errorf("alice has %d connections; want %d", len(cust.ConnectionIDs), conversation.MaxConnectionsPerUser)
	}
	if err := w.svc.Disconnect(w.ctx, first.ConnectionID, nil, 1001, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Connect(w.ctx, extra); err != nil {
		t.Errorf("connection after one left = %v; want <nil>", err)
	}
}

// An agent whose $disconnect was lost still looks online; a conversation
// assigned to it finds every connection gone when the assignment is told,
// and goes back to the queue, to an agent who is there.
func TestGhostAgentLosesTheAssignment(t *testing.T) {
	w := newWorld(t)
	ghost := w.connect("ghost", "")
	w.clock.mu.Lock()
	w.clock.at = w.clock.at.Add(time.Minute) // past a new connection's grace
	w.clock.mu.Unlock()
	w.push.mu.Lock()
	w.push.gone[ghost.ConnectionID] = true // the gateway closed it; nobody told Parley
	w.push.mu.Unlock()

	alice := w.connect("alice", "persistent")
	id := idOf(w.ok(alice, `{"action":"send","clientMessageId":"a1","text":"hello"}`))
	// The stream assigned it to the ghost, which looked online; telling it
	// so found every connection gone: offline, and the conversation back in
	// the queue.
	if got := w.conversation(id); got.Status != conversation.Queued || got.Agent != nil {
		t.Fatalf("after the assignment to the ghost was told: %s with %+v; want queued again", got.Status, got.Agent)
	}
	if g := w.agent("ghost"); g.CurrentPresence() != conversation.Offline || g.Used != 0 {
		t.Errorf("ghost: %s using %d; want offline using 0", g.CurrentPresence(), g.Used)
	}
	w.connect("carol", "") // an agent who is there
	if got := w.conversation(id); got.Status != conversation.Active || got.Agent == nil || got.Agent.ID != "carol" {
		t.Errorf("after carol connected: %s with %+v; want active with carol", got.Status, got.Agent)
	}
}

// A send whose write landed but whose answer was lost (a server error, a
// timeout on the way back) is still this request's to deliver: the
// recipient gets it once, the sender its ack, and the client's resend is
// answered from the store without a second delivery.
func TestASendWhoseAnswerIsLostIsDelivered(t *testing.T) {
	for _, tc := range []struct {
		name string
		late func(ctx context.Context) error
	}{
		{"server error", func(context.Context) error {
			return errors.New("operation error DynamoDB: TransactWriteItems, https response error StatusCode: 500, InternalServerError")
		}},
		// The answer comes after the send's deadline for writing: what is
		// left of the request's is enough to check and deliver.
		{"deadline", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			bob := w.connect("bob", "")
			alice := w.connect("alice", "persistent")
			id := idOf(w.ok(alice, `{"action":"send","requestId":"r1","clientMessageId":"a1","text":"hello"}`))

			w.stream.answerLate(tc.late)
			ctx, cancel := context.WithTimeout(w.ctx, 3*time.Second)
			defer cancel()
			req, _ := wire.Decode([]byte(`{"action":"send","requestId":"r2","conversationId":"` + id + `","clientMessageId":"a2","text":"are you there?"}`))
			res, err := w.svc.Serve(ctx, alice, req)
			if err != nil {
				t.Fatalf("send whose answer was lost = %v; want its ack", err)
			}
			if ack, ok := res.Reply.(*wire.Ack); !ok || ack.Message == nil || ack.Message.Seq != 2 {
				t.Fatalf("reply %#v; want the ack of seq 2", res.Reply)
			}
			if err := w.svc.Deliver(w.ctx, alice.ConnectionID, res); err != nil {
				t.Fatal(err)
			}
			if got := w.push.of(bob.ConnectionID, "message"); len(got) != 1 || obj(got[0]["message"])["seq"] != 2.0 {
				t.Fatalf("bob got %v; want seq 2 once", got)
			}

			w.ok(alice, `{"action":"send","requestId":"r3","conversationId":"`+id+`","clientMessageId":"a2","text":"are you there?"}`)
			if got := w.push.of(bob.ConnectionID, "message"); len(got) != 1 {
				t.Errorf("after the resend bob got %d messages; want the one", len(got))
			}
			if c := w.conversation(id); c.LastSeq != 2 {
				t.Errorf("lastSeq %d; want 2: the send is stored once", c.LastSeq)
			}
		})
	}
}

// A send's attempts stop a second before its deadline, or halfway to it
// when less is left, so that delivering always has time.
func TestWriteDeadlineLeavesTimeToDeliver(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct{ left, want time.Duration }{
		{10 * time.Second, 9 * time.Second},
		{2 * time.Second, time.Second},
		{time.Second, 500 * time.Millisecond},
	} {
		ctx, cancel := context.WithDeadline(context.Background(), now.Add(tc.left))
		if got := chat.WriteDeadline(ctx, now).Sub(now); got != tc.want {
			t.Errorf("with %v left, writes end after %v; want %v", tc.left, got, tc.want)
		}
		cancel()
	}
}

// A write the store applies only after its request gave up on it (DynamoDB
// Local under load does; DynamoDB may) must not land unseen: the request
// fences the conversation, so the late write fails, the sender is told to
// try again, and its resend is stored and delivered like a first send.
func TestASendThatWouldLandAfterItsRequestIsFencedOut(t *testing.T) {
	w := newWorld(t)
	bob := w.connect("bob", "")
	alice := w.connect("alice", "persistent")
	id := idOf(w.ok(alice, `{"action":"send","requestId":"r1","clientMessageId":"a1","text":"hello"}`))

	w.stream.holdNext()
	ctx, cancel := context.WithTimeout(w.ctx, 3*time.Second)
	defer cancel()
	req, _ := wire.Decode([]byte(`{"action":"send","requestId":"r2","conversationId":"` + id + `","clientMessageId":"a2","text":"are you there?"}`))
	if _, err := w.svc.Serve(ctx, alice, req); err == nil {
		t.Fatal("a send whose write never answered was acked")
	}
	if err := w.stream.release(); !errors.Is(err, conversation.ErrStale) {
		t.Fatalf("the late write = %v; want it refused as stale", err)
	}
	if c := w.conversation(id); c.LastSeq != 1 {
		t.Fatalf("lastSeq %d after the late write; want 1", c.LastSeq)
	}

	ack := w.ok(alice, `{"action":"send","requestId":"r3","conversationId":"`+id+`","clientMessageId":"a2","text":"are you there?"}`)
	if seq := obj(ack["message"])["seq"]; seq != 2.0 {
		t.Fatalf("resend acked seq %v; want 2", seq)
	}
	if got := w.push.of(bob.ConnectionID, "message"); len(got) != 1 || obj(got[0]["message"])["seq"] != 2.0 {
		t.Fatalf("bob got %v; want seq 2 once", got)
	}
}

// Only a live queue tells its average wait, so only live assignments pay
// the write that times it.
func TestOnlyLiveAssignmentsAreTimed(t *testing.T) {
	w := newWorld(t)
	w.connect("bob", "")
	alice, carol := w.connect("alice", "persistent"), w.connect("carol", "live")
	w.manual = true
	w.ok(alice, `{"action":"send","requestId":"r1","clientMessageId":"a1","text":"hello"}`)
	w.ok(carol, `{"action":"send","requestId":"r1","clientMessageId":"c1","text":"hello"}`)
	w.clock.advance(30 * time.Second)
	w.settle()
	if got := w.agent("bob").Used; got != 2 {
		t.Fatalf("bob uses %d; want both conversations assigned", got)
	}
	for ws, want := range map[string]time.Duration{"support-live": 30 * time.Second, "support-persistent": 0} {
		if got, err := w.st.AverageWait(w.ctx, ws); err != nil || got != want {
			t.Errorf("AverageWait(%s) = %v, %v; want %v", ws, got, err, want)
		}
	}
}

// TestAReplyOutlastsAFailingGateway: a reply whose push failed after the
// push client's own attempts (the gateway kept answering 500) is tried again
// while the invocation has time, since every request gets exactly one
// answer; a delivery to the other party is not (the seq gap brings it).
func TestAReplyOutlastsAFailingGateway(t *testing.T) {
	w := newWorld(t)
	bob := w.connect("bob", "")
	alice := w.connect("alice", "persistent")
	first := w.ok(alice, `{"action":"send","clientMessageId":"m1","text":"hello"}`)
	id := obj(first["conversation"])["id"]
	w.push.mu.Lock()
	w.push.failing[alice.ConnectionID] = 3
	w.push.failing[bob.ConnectionID] = 1
	w.push.mu.Unlock()
	acks, events := len(w.push.of(alice.ConnectionID, "ack")), len(w.push.of(bob.ConnectionID, "message"))
	ack := w.ok(alice, fmt.Sprintf(`{"action":"send","requestId":"r2","conversationId":%q,"clientMessageId":"m2","text":"still there?"}`, id))
	if ack["type"] != "ack" || ack["requestId"] != "r2" {
		t.Errorf("alice's reply = %v; want the ack of r2", ack)
	}
	if got := len(w.push.of(alice.ConnectionID, "ack")) - acks; got != 1 {
		t.Errorf("alice got %d acks of r2; want exactly 1", got)
	}
	w.push.mu.Lock()
	left := w.push.failing[alice.ConnectionID]
	w.push.mu.Unlock()
	if left != 0 {
		t.Errorf("%d of alice's failures left; want the reply tried past all 3", left)
	}
	if got := len(w.push.of(bob.ConnectionID, "message")) - events; got != 0 {
		t.Errorf("bob got %d message events through a failed push; want 0 (deliveries are not retried)", got)
	}
}
