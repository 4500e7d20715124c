package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// chaosClient is a client that does what a real one must against AWS: it
// reconnects when its connection drops and sends a request again (with the
// same clientMessageId, which makes a send idempotent) when it got no
// answer or an internal error. One request at a time, so an error frame
// of API Gateway's, which carries no requestId of ours, belongs to it.
type chaosClient struct {
	s      *Stack
	name   string
	claims map[string]any

	mu       sync.Mutex
	ws       *websocket.Conn
	frames   chan map[string]any
	closed   chan struct{}
	seq      int
	redials  int
	retries  int
	requests int
	why      map[string]int // retries by reason
}

func newChaosClient(s *Stack, name string, claims map[string]any) *chaosClient {
	return &chaosClient{s: s, name: name, claims: claims, why: map[string]int{}}
}

// connect dials until it has a connection (a 410 fault can drop one while
// $connect's handlers run); false after many tries.
func (c *chaosClient) connect(t *testing.T) bool {
	for range 50 {
		tok := c.s.token(t, c.claims)
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		ws, _, err := websocket.Dial(ctx, c.s.WSURL+"?token="+tok, nil)
		cancel()
		if err != nil {
			continue
		}
		ws.SetReadLimit(1 << 20)
		frames, closed := make(chan map[string]any, 1024), make(chan struct{})
		go func() {
			defer close(closed)
			for {
				_, b, err := ws.Read(context.Background())
				if err != nil {
					return
				}
				var f map[string]any
				if json.Unmarshal(b, &f) == nil {
					select {
					case frames <- f:
					default: // a slow test drops events, never replies it waits for
					}
				}
			}
		}()
		c.mu.Lock()
		c.ws, c.frames, c.closed = ws, frames, closed
		c.redials++
		c.mu.Unlock()
		return true
	}
	return false
}

func (c *chaosClient) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws != nil {
		_ = c.ws.Close(websocket.StatusNormalClosure, "done")
	}
}

// errRetry marks an answer a client must retry: no answer, a dropped
// connection, API Gateway's error frame, or an internal error.
var errRetry = errors.New("retry")

// try sends one request and waits for its answer on the current connection.
func (c *chaosClient) try(action string, fields map[string]any) (map[string]any, error) {
	c.mu.Lock()
	c.seq++
	id := fmt.Sprintf("%s-%d", c.name, c.seq)
	ws, frames, closed := c.ws, c.frames, c.closed
	c.mu.Unlock()
	f := map[string]any{"action": action, "requestId": id}
	for k, v := range fields {
		f[k] = v
	}
	b, _ := json.Marshal(f)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, fmt.Errorf("%w: write: %v", errRetry, err)
	}
	// An invocation outlives its Lambda timeout (10 s) only by its own
	// retries: past 30 s nothing is coming.
	timeout := time.After(30 * time.Second)
	for {
		select {
		case f := <-frames:
			switch {
			case f["requestId"] == id && f["type"] == "error" && f["code"] == "internal":
				return f, fmt.Errorf("%w: %v", errRetry, f["message"])
			case f["requestId"] == id:
				return f, nil
			case f["type"] == nil && f["message"] != nil:
				return f, fmt.Errorf("%w: API Gateway error frame %v", errRetry, f["message"])
			}
		case <-closed:
			return nil, fmt.Errorf("%w: connection dropped", errRetry)
		case <-timeout:
			return nil, fmt.Errorf("%w: no answer", errRetry)
		}
	}
}

// do sends a request until it is answered, reconnecting as needed; the
// answer, or an error when even that failed.
func (c *chaosClient) do(t *testing.T, action string, fields map[string]any) (map[string]any, error) {
	c.mu.Lock()
	c.requests++
	c.mu.Unlock()
	var last error
	for attempt := range 25 {
		if attempt > 0 {
			c.mu.Lock()
			c.retries++
			c.mu.Unlock()
		}
		c.mu.Lock()
		dead := c.ws == nil
		if !dead {
			select {
			case <-c.closed:
				dead = true
			default:
			}
		}
		c.mu.Unlock()
		if dead && !c.connect(t) {
			return nil, fmt.Errorf("%s: cannot connect", c.name)
		}
		f, err := c.try(action, fields)
		if err == nil {
			return f, nil
		}
		reason := err.Error()
		switch {
		case strings.Contains(reason, "API Gateway error frame"):
			reason = "API Gateway error frame"
		case strings.Contains(reason, "write"):
			reason = "write on a dropped connection"
		case strings.HasPrefix(reason, "retry: ") && !strings.Contains(reason, "connection dropped") && !strings.Contains(reason, "no answer"):
			reason = "error internal"
		}
		c.mu.Lock()
		c.why[strings.TrimPrefix(reason, "retry: ")]++
		c.mu.Unlock()
		last = err
		if !errors.Is(err, errRetry) {
			return f, err
		}
	}
	return nil, fmt.Errorf("%s %s %v: no answer after 25 attempts, last: %w", c.name, action, fields, last)
}

// TestChatUnderFaults runs customers and agents chatting while a tenth of
// the store's requests are throttled and a tenth of the Management API's
// fail (half of those dropping the connection). Clients behave as they
// must against AWS: they reconnect and resend with the same
// clientMessageId. Then no message may be lost or stored twice, every
// request must have been answered, and every conversation must be
// reachable by its customer and its agent.
func TestChatUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole chat under faults")
	}
	s := startStack(t, func(o *Options) { o.FaultRate = 0.1 })
	const customers, agents, messages = 6, 2, 6
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	fail := func(err error) { errs <- err }

	agentClients := make([]*chaosClient, agents)
	for i := range agentClients {
		a := newChaosClient(s, fmt.Sprintf("agent%d", i), map[string]any{"role": "agent", "sub": fmt.Sprintf("agent%d", i), "name": fmt.Sprintf("Agent %d", i)})
		agentClients[i] = a
		if _, err := a.do(t, "hello", nil); err != nil {
			t.Fatal(err)
		}
	}
	convOf := make([]string, customers)
	custClients := make([]*chaosClient, customers)
	for i := range custClients {
		custClients[i] = newChaosClient(s, fmt.Sprintf("cust%d", i), map[string]any{"role": "customer", "sub": fmt.Sprintf("cust%d", i), "name": fmt.Sprintf("Customer %d", i), "widget": "persistent"})
	}
	var customersWG sync.WaitGroup
	for i, c := range custClients {
		customersWG.Go(func() {
			for k := range messages {
				ack, err := c.do(t, "send", map[string]any{"clientMessageId": fmt.Sprintf("c%d-%d", i, k), "text": fmt.Sprintf("customer %d message %d", i, k)})
				if err != nil {
					fail(err)
					return
				}
				if ack["type"] == "error" {
					fail(fmt.Errorf("%s send %d refused: %v", c.name, k, ack))
					return
				}
				id, _ := obj(ack["conversation"])["id"].(string)
				if convOf[i] != "" && convOf[i] != id {
					fail(fmt.Errorf("%s message %d went to conversation %s, the first to %s", c.name, k, id, convOf[i]))
				}
				convOf[i] = id
			}
		})
	}
	// Agents answer every conversation they hold, each one message per
	// round, until the customers are done.
	customersDone := make(chan struct{})
	agentSent := make([]map[string]int, agents) // conversation → replies sent
	for i, a := range agentClients {
		agentSent[i] = map[string]int{}
		wg.Go(func() {
			for round := 0; ; round++ {
				if round == 2000 {
					fail(fmt.Errorf("%s: still not done after %d rounds", a.name, round))
					return
				}
				sess, err := a.do(t, "hello", nil)
				if err != nil {
					fail(err)
					return
				}
				finished := true
				for _, cv := range list(sess["conversations"]) {
					if id, _ := obj(cv)["id"].(string); agentSent[i][id] < messages {
						finished = false
					}
				}
				select {
				case <-customersDone:
					if finished {
						return
					}
				default:
				}
				for _, cv := range list(sess["conversations"]) {
					id, _ := obj(cv)["id"].(string)
					if obj(cv)["status"] != "active" || agentSent[i][id] >= messages {
						continue
					}
					n := agentSent[i][id]
					ack, err := a.do(t, "send", map[string]any{"conversationId": id, "clientMessageId": fmt.Sprintf("a-%s-%s-%d", a.name, id, n), "text": fmt.Sprintf("agent reply %d", n)})
					if err != nil {
						fail(err)
						return
					}
					if ack["type"] == "error" && ack["code"] == "not_found" {
						// The conversation left this agent since its hello: a
						// dropped connection made the agent unreachable when
						// the conversation was assigned to it, so it went
						// back to the queue, to whoever is there. The next
						// hello says where things stand.
						a.why["conversation went to another agent"]++
						continue
					}
					if ack["type"] == "error" {
						fail(fmt.Errorf("%s send into %s refused: %v", a.name, id, ack))
						continue
					}
					agentSent[i][id] = n + 1
				}
				a.awaitEvent(200 * time.Millisecond) // a new message or conversation, or look again
			}
		})
	}
	// Customers first, then the agents stop.
	customersWG.Wait()
	close(customersDone)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	// Afterwards: every conversation reachable, every message once.
	requests, retries := 0, 0
	why := map[string]int{}
	for i, c := range custClients {
		sess, err := c.do(t, "hello", nil)
		if err != nil {
			t.Fatal(err)
		}
		conv := obj(sess["conversation"])
		if conv["id"] != convOf[i] {
			t.Errorf("%s's session conversation = %v; want %s", c.name, conv["id"], convOf[i])
			continue
		}
		h, err := c.do(t, "history", map[string]any{"conversationId": convOf[i], "limit": 200})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for j, m := range list(h["messages"]) {
			seen[obj(m)["clientMessageId"].(string)]++
			if got := num(obj(m)["seq"]); got != j+1 {
				t.Errorf("%s message %d has seq %d; want gap-free seqs", convOf[i], j, got)
			}
		}
		for k := range messages {
			if id := fmt.Sprintf("c%d-%d", i, k); seen[id] != 1 {
				t.Errorf("%s: customer message %s stored %d times; want once", convOf[i], id, seen[id])
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s: message %s stored %d times", convOf[i], id, n)
			}
		}
		requests, retries = requests+c.requests, retries+c.retries
		for k, v := range c.why {
			why[k] += v
		}
	}
	// Every conversation an agent chatted in is still held by an agent: the
	// one who chatted, or the one it went to when the first was found
	// unreachable.
	held := map[string]bool{}
	for _, a := range agentClients {
		sess, err := a.do(t, "hello", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, cv := range list(sess["conversations"]) {
			held[obj(cv)["id"].(string)] = true
		}
	}
	for i, a := range agentClients {
		for id := range agentSent[i] {
			if !held[id] {
				t.Errorf("no agent reaches conversation %s, which %s chatted in", id, a.name)
			}
		}
		requests, retries = requests+a.requests, retries+a.retries
		for k, v := range a.why {
			why[k] += v
		}
		a.close()
	}
	for _, c := range custClients {
		c.close()
	}
	if s.db != nil && s.faultCount() == 0 {
		t.Error("no store request was throttled: the faults were not injected")
	}
	replies := 0
	for _, m := range agentSent {
		for _, n := range m {
			replies += n
		}
	}
	if replies == 0 {
		t.Error("the agents sent nothing: no conversation was assigned")
	}
	// A connection that stays open must answer every request: silence is
	// a broken protocol, however well a retry hides it.
	if why["no answer"] > 0 {
		t.Errorf("%d requests got no answer on a connection that stayed open", why["no answer"])
	}
	t.Logf("%d requests answered, %d retries (%v); %d agent replies; %d store requests throttled", requests, retries, why, replies, s.faultCount())
}

// awaitEvent waits until an event arrives on the current connection (or
// it drops), at most d.
func (c *chaosClient) awaitEvent(d time.Duration) {
	c.mu.Lock()
	frames, closed := c.frames, c.closed
	c.mu.Unlock()
	select {
	case <-frames:
	case <-closed:
	case <-time.After(d):
	}
}

func (s *Stack) faultCount() int64 {
	if s.db == nil {
		return 0
	}
	return s.db.Faults()
}
