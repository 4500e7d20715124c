package stack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

// invocations reads the invocations finished after cursor since
// (GET /local/metrics/invocations) and the cursor to read on from.
func (s *Stack) invocations(t testing.TB, since int64) ([]metrics.Record, int64) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/local/metrics/invocations?since=%d", s.URL, since))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		Next        int64            `json:"next"`
		Invocations []metrics.Record `json:"invocations"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("GET /local/metrics/invocations = %s: %v", b, err)
	}
	return out.Invocations, out.Next
}

// cursor is where the invocation list stands now.
func (s *Stack) cursor(t testing.TB) int64 {
	_, next := s.invocations(t, 1<<62)
	return next
}

// costOf runs f, whose last request on c is the one to cost, and returns
// that request's invocation once it has finished, found by the requestId
// of its frame: what that one request cost, whatever else (assignments,
// stream notifications, other clients) runs at the same time, since every
// request is credited to the invocation that made it.
func (s *Stack) costOf(t testing.TB, c *client, route string, f func()) metrics.Record {
	t.Helper()
	since := s.cursor(t)
	f()
	id := c.LastRequestID()
	var mine []metrics.Record
	poll.Until(t, "the "+route+" invocation of "+id+" to finish", func() bool {
		recs, _ := s.invocations(t, since)
		mine = mine[:0]
		for _, r := range recs {
			if r.ClientRequestID == id {
				mine = append(mine, r)
			}
		}
		return len(mine) > 0
	})
	if len(mine) != 1 || mine[0].RouteKey != route || mine[0].Source != metrics.SourceRoute {
		t.Fatalf("invocations of %s: %+v; want one of route %s", id, mine, route)
	}
	return mine[0]
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func format(m map[string]int64) string {
	var parts []string
	for k, v := range m {
		if v != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, v))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// A message costs a constant, small number of requests, however many
// conversations, agents and connections exist: each row is what one
// request's own invocation made, read from the local stack's per-invocation
// attribution (the README's table).
func TestCostPerRequest(t *testing.T) {
	s, alice, bob, id := startChat(t)
	// Unrelated load that a scan-per-message design would pay for, still
	// being assigned and notified while the rows below are measured.
	fill(t, s, 5, "bystander")

	n := 0
	next := func() string { n++; return fmt.Sprintf("k%d", n) }
	for _, m := range []struct {
		name   string
		route  string
		maxDDB int64
		pushes int64   // ack plus one per recipient connection
		write  float64 // most write units, as the embedded store counts them; 0: not checked
		by     *client
		run    func()
	}{
		{"customer send", "send", 3, 2, 4, alice, func() {
			alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": next(), "text": "hi"})
			bob.Next("message")
		}},
		{"customer send without conversationId", "send", 4, 2, 4, alice, func() {
			alice.OK("send", map[string]any{"clientMessageId": next(), "text": "hi"})
			bob.Next("message")
		}},
		{"agent send", "send", 3, 2, 4, bob, func() {
			bob.OK("send", map[string]any{"conversationId": id, "clientMessageId": next(), "text": "hello"})
			alice.Next("message")
		}},
		{"customer hello", "hello", 3, 1, 0, alice, func() { alice.OK("hello", map[string]any{"lastSeq": 1}) }},
		{"agent hello", "hello", 3, 1, 0, bob, func() { bob.OK("hello", nil) }},
		{"typing", "typing", 2, 2, 0, alice, func() {
			alice.OK("typing", map[string]any{"conversationId": id, "typing": true})
			bob.Next("typing")
		}},
		{"read", "read", 3, 2, 0, alice, func() {
			alice.OK("read", map[string]any{"conversationId": id, "seq": 1})
			bob.Next("read")
		}},
		{"history", "history", 2, 1, 0, alice, func() { alice.OK("history", map[string]any{"conversationId": id}) }},
		{"ping", "ping", 0, 1, 0, alice, func() { alice.OK("ping", nil) }},
	} {
		rec := s.costOf(t, m.by, m.route, m.run)
		ddb, pushes := total(rec.DynamoDB), rec.ManagementAPI["PostToConnection"]
		t.Logf("%-38s DynamoDB %d (%s); capacity read %g, write %g; Management API %d (%s)", m.name, ddb, format(rec.DynamoDB), rec.Capacity.Read, rec.Capacity.Write,
			total(rec.ManagementAPI), format(rec.ManagementAPI))
		if ddb > 0 && rec.Capacity.Read+rec.Capacity.Write == 0 {
			t.Errorf("%s: %d DynamoDB requests consumed no capacity", m.name, ddb)
		}
		if ddb > m.maxDDB || rec.DynamoDB["Scan"] > 0 {
			t.Errorf("%s: %d DynamoDB requests (%s); want at most %d and no Scan", m.name, ddb, format(rec.DynamoDB), m.maxDDB)
		}
		// Two items of under 1 KB in a transaction; no index entry written
		// (DynamoDB Local counts transactions its own way: docs/protocol.md).
		if m.write > 0 && os.Getenv("PARLEY_BACKEND") != "dynamodb-local" && rec.Capacity.Write > m.write {
			t.Errorf("%s: %g write units; want at most %g", m.name, rec.Capacity.Write, m.write)
		}
		if pushes != m.pushes {
			t.Errorf("%s: %d pushes; want %d", m.name, pushes, m.pushes)
		}
	}

	// Park does more (it also offers the freed capacity to the queue, one
	// Query per open workstream), but scans nothing.
	rec := s.costOf(t, bob, "park", func() { bob.OK("park", map[string]any{"conversationId": id}) })
	t.Logf("%-38s DynamoDB %d (%s); capacity read %g, write %g; Management API %d (%s)", "park", total(rec.DynamoDB), format(rec.DynamoDB),
		rec.Capacity.Read, rec.Capacity.Write, total(rec.ManagementAPI), format(rec.ManagementAPI))
	if rec.DynamoDB["Scan"] > 0 || rec.ManagementAPI["PostToConnection"] < 1 {
		t.Errorf("park: %s, %s; want no Scan and its ack", format(rec.DynamoDB), format(rec.ManagementAPI))
	}
	// The conversation and the agent's capacity, in a transaction, and the
	// agent's entry on the online index (it carries used): active to
	// waiting moves no conversation index entry (store.statusKey).
	if os.Getenv("PARLEY_BACKEND") != "dynamodb-local" && rec.Capacity.Write > 6 {
		t.Errorf("park: %g write units; want at most 6", rec.Capacity.Write)
	}
}

// The views by route and by function add up what the invocation list
// shows, and nothing the handlers do goes unattributed.
func TestMetricsByRouteAndFunction(t *testing.T) {
	s, alice, bob, id := startChat(t)
	// startChat's first send was acknowledged, but its invocation may still
	// be assigning the conversation: start from its end.
	var before metrics.View
	poll.Until(t, "the first send invocation to finish", func() bool {
		before = s.metricsView(t)
		return before.ByRoute["send"].Invocations == 1
	})
	for i := 0; i < 3; i++ {
		alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": fmt.Sprintf("v%d", i), "text": "hi"})
		bob.Next("message")
	}
	var after metrics.View
	poll.Until(t, "three send invocations", func() bool {
		after = s.metricsView(t)
		return after.ByRoute["send"].Invocations-before.ByRoute["send"].Invocations == 3
	})
	sends := after.ByRoute["send"]
	if got := sends.ManagementAPI["PostToConnection"] - before.ByRoute["send"].ManagementAPI["PostToConnection"]; got != 6 {
		t.Errorf("byRoute.send pushes for 3 sends = %d; want 6", got)
	}
	if got := total(sends.DynamoDB) - total(before.ByRoute["send"].DynamoDB); got < 3 || got > 9 {
		t.Errorf("byRoute.send DynamoDB requests for 3 sends = %d; want 3-9", got)
	}
	for _, fn := range []string{"message", "connect", "authorizer", "notify"} {
		if after.ByFunction[fn].Invocations == 0 {
			t.Errorf("byFunction[%q] = %+v; want invocations", fn, after.ByFunction[fn])
		}
	}
	if after.ByFunction["notify"].ManagementAPI["PostToConnection"] == 0 {
		t.Errorf("byFunction.notify = %+v; want the assignment's pushes", after.ByFunction["notify"])
	}
	for g, ops := range after.Unattributed {
		if total(ops) != 0 {
			t.Errorf("unattributed %s = %s; want none", g, format(ops))
		}
	}
	// The global counters count at least what the invocations made.
	var attributed int64
	for _, tot := range after.ByFunction {
		attributed += total(tot.DynamoDB)
	}
	if global := total(after.DynamoDB); global < attributed {
		t.Errorf("global DynamoDB count %d < attributed %d", global, attributed)
	}
}

// metricsView reads GET /local/metrics.
func (s *Stack) metricsView(t testing.TB) metrics.View {
	t.Helper()
	resp, err := http.Get(s.URL + "/local/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v metrics.View
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET /local/metrics: %v", err)
	}
	return v
}

// A send's invocation is credited the capacity the store computed for its
// requests: the units its TransactWriteItems consumed, as the embedded
// store reported them, are in its record, counted not estimated.
func TestCapacityPerInvocation(t *testing.T) {
	s := startStack(t, embedded)
	bob := s.dial(t, "bob", s.agentToken(t, "bob"))
	bob.OK("hello", nil)
	alice := s.dial(t, "alice", s.customerToken(t, "persistent", "alice"))
	ack := alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "Hello, anyone there?"})
	id := obj(ack["conversation"])["id"].(string)
	bob.ConversationEvent(id, "active")

	const probe = "a message whose transaction is measured"
	type used struct{ read, write float64 }
	var mu sync.Mutex
	var mine []used
	var writes used // every write request the store served meanwhile
	s.db.ObserveCapacity(func(op string, body []byte, read, write float64) {
		mu.Lock()
		defer mu.Unlock()
		if op == "TransactWriteItems" && strings.Contains(string(body), probe) {
			mine = append(mine, used{read, write})
		}
		writes.read += read
		writes.write += write
	})
	t.Cleanup(func() { s.db.ObserveCapacity(nil) })

	rec := s.costOf(t, alice, "send", func() {
		alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": "a2", "text": probe})
		bob.Next("message")
	})
	mu.Lock()
	defer mu.Unlock()
	if len(mine) != 1 {
		t.Fatalf("the store served %d TransactWriteItems carrying the message; want 1", len(mine))
	}
	t.Logf("customer send: DynamoDB %s; capacity read %g, write %g; its TransactWriteItems read %g, write %g",
		format(rec.DynamoDB), rec.Capacity.Read, rec.Capacity.Write, mine[0].read, mine[0].write)
	if rec.Capacity.Write <= 0 {
		t.Errorf("send invocation's write units = %g; want more than 0", rec.Capacity.Write)
	}
	// The send's only write is its transaction: its write units are the
	// transaction's, and its reads are the transaction's condition checks
	// plus its other requests' reads.
	if writesOf(rec.DynamoDB) == rec.DynamoDB["TransactWriteItems"] && rec.Capacity.Write != mine[0].write {
		t.Errorf("send invocation's write units = %g; the store computed %g for its TransactWriteItems", rec.Capacity.Write, mine[0].write)
	}
	if rec.Capacity.Read < mine[0].read {
		t.Errorf("send invocation's read units = %g; its TransactWriteItems alone read %g", rec.Capacity.Read, mine[0].read)
	}
}

// writesOf counts the write requests among an invocation's DynamoDB ones.
func writesOf(ops map[string]int64) int64 {
	return ops["PutItem"] + ops["UpdateItem"] + ops["DeleteItem"] + ops["BatchWriteItem"] + ops["TransactWriteItems"]
}
