package stack

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// requestsDuring counts the DynamoDB requests and Management API calls the
// handlers make while f runs (f must wait for everything it caused).
func requestsDuring(t testing.TB, s *Stack, f func()) (ddb map[string]int, mgmt map[string]int) {
	t.Helper()
	before := s.metrics(t)
	f()
	after := s.metrics(t)
	diff := func(group string) map[string]int {
		out := map[string]int{}
		for k, v := range after[group] {
			if d := v - before[group][k]; d != 0 {
				out[k] = d
			}
		}
		return out
	}
	return diff("dynamodb"), diff("managementApi")
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func format(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// A message costs a constant, small number of requests (PROTOCOL.md's cost
// target: at most 4 DynamoDB requests, one push per recipient connection),
// however many conversations, agents and connections exist.
func TestCostPerRequest(t *testing.T) {
	s, alice, bob, id := startChat(t)
	// Unrelated load that a scan-per-message design would pay for.
	fill(t, s, 5, "bystander")
	time.Sleep(100 * time.Millisecond) // let their assignment and notifications settle

	type measure struct {
		name   string
		maxDDB int
		pushes int
		run    func()
	}
	n := 0
	next := func() string { n++; return fmt.Sprintf("k%d", n) }
	for _, m := range []measure{
		{"customer send", 4, 2, func() {
			alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": next(), "text": "hi"})
			bob.Next("message")
		}},
		{"customer send without conversationId", 4, 2, func() {
			alice.OK("send", map[string]any{"clientMessageId": next(), "text": "hi"})
			bob.Next("message")
		}},
		{"agent send", 4, 2, func() {
			bob.OK("send", map[string]any{"conversationId": id, "clientMessageId": next(), "text": "hello"})
			alice.Next("message")
		}},
		{"customer hello", 3, 1, func() { alice.OK("hello", map[string]any{"lastSeq": 1}) }},
		{"agent hello", 2, 1, func() { bob.OK("hello", nil) }},
		{"typing", 2, 2, func() {
			alice.OK("typing", map[string]any{"conversationId": id, "typing": true})
			bob.Next("typing")
		}},
	} {
		ddb, mgmt := requestsDuring(t, s, m.run)
		t.Logf("%-38s DynamoDB %d (%s); Management API %d (%s)", m.name, total(ddb), format(ddb), total(mgmt), format(mgmt))
		if total(ddb) > m.maxDDB || ddb["Scan"] > 0 {
			t.Errorf("%s: %d DynamoDB requests (%s); want at most %d and no Scan", m.name, total(ddb), format(ddb), m.maxDDB)
		}
		if mgmt["PostToConnection"] != m.pushes {
			t.Errorf("%s: %d pushes; want %d", m.name, mgmt["PostToConnection"], m.pushes)
		}
	}
	// Park does more (it also offers the freed capacity to the queue), but
	// scans nothing per message.
	ddb, mgmt := requestsDuring(t, s, func() {
		bob.OK("park", map[string]any{"conversationId": id})
		time.Sleep(50 * time.Millisecond)
	})
	t.Logf("%-38s DynamoDB %d (%s); Management API %d (%s)", "park (empty queue)", total(ddb), format(ddb), total(mgmt), format(mgmt))
}

// BenchmarkSend measures a customer message end to end: the send, its
// storage and its delivery to the agent, reporting the DynamoDB requests and
// pushes each one costs.
//
//	go test -run '^$' -bench BenchmarkSend ./cmd/parley-local/internal/stack/
func BenchmarkSend(b *testing.B) {
	s := startStack(b)
	bob := s.dial(b, "bob", s.agentToken(b, "bob"))
	bob.OK("hello", nil)
	alice := s.dial(b, "alice", s.customerToken(b, "persistent", "alice"))
	id := obj(alice.OK("send", map[string]any{"clientMessageId": "warm", "text": "hi"})["conversation"])["id"].(string)
	bob.ConversationEvent(id, "active")
	before := s.metrics(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": fmt.Sprintf("b%d", i), "text": "benchmark message"})
		bob.Next("message")
	}
	b.StopTimer()
	after := s.metrics(b)
	ddb, push := 0, 0
	for k, v := range after["dynamodb"] {
		ddb += v - before["dynamodb"][k]
	}
	push = after["managementApi"]["PostToConnection"] - before["managementApi"]["PostToConnection"]
	b.ReportMetric(float64(ddb)/float64(b.N), "dynamodb-req/op")
	b.ReportMetric(float64(push)/float64(b.N), "pushes/op")
}
