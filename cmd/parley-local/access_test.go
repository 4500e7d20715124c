package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
	"github.com/parley-chat/parley/cmd/parley-local/internal/stack"
	"github.com/parley-chat/parley/cmd/parley-local/internal/template"
	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
	"github.com/parley-chat/parley/cmd/parley-local/localtest/wsclient"
)

// The policies are checked against what the functions do, not only against
// a list: a whole chat runs through the local stack (every route, the
// stream, the schedule), every DynamoDB request is credited with the IAM
// action and table or index it needs, and each function's policy must
// grant every one it made. A handler that starts reading another table
// fails here before it fails in AWS with AccessDenied.
func TestPoliciesGrantWhatTheFunctionsDo(t *testing.T) {
	clk := &clock{at: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := stack.Start(ctx, stack.Options{Addr: "127.0.0.1:0", Template: filepath.Join(repoRoot(), "template.yaml"),
		Now: clk.now, ScheduleInterval: 100 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	tok := func(fields map[string]any) string { return wsclient.Token(t, s.URL, fields) }
	dial := func(name string, fields map[string]any) *wsclient.Conn {
		return wsclient.Dial(t, s.WSURL+"?token="+tok(fields), name)
	}
	agent := func(sub string) map[string]any { return map[string]any{"role": "agent", "sub": sub, "name": sub} }
	customer := func(widget, sub string) map[string]any {
		return map[string]any{"role": "customer", "sub": sub, "name": sub, "widget": widget}
	}

	bob := dial("bob", agent("bob"))
	bob.OK("hello", nil)
	alice := dial("alice", customer("persistent", "alice"))
	alice.OK("hello", nil)
	ack := alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "hello"})
	id := ack["conversation"].(map[string]any)["id"].(string)
	bob.ConversationEvent(id, "active")
	alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": "a1", "text": "hello"}) // a resend
	alice.OK("typing", map[string]any{"conversationId": id, "typing": true})
	bob.OK("send", map[string]any{"conversationId": id, "clientMessageId": "b1", "text": "hi"})
	alice.OK("read", map[string]any{"conversationId": id, "seq": 2})
	alice.OK("history", map[string]any{"conversationId": id})
	bob.OK("hello", nil)
	bob.OK("park", map[string]any{"conversationId": id})
	alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": "a2", "text": "back"})
	bob.Wait("the return", func(f map[string]any) bool { return f["type"] == "notification" })
	bob.OK("pickup", map[string]any{"conversationId": id})
	bob.OK("close", map[string]any{"conversationId": id})
	alice.OK("hello", nil) // the closed conversation, shown again
	carol := dial("carol", customer("live", "carol"))
	live := carol.OK("send", map[string]any{"clientMessageId": "c1", "text": "quick question"})["conversation"].(map[string]any)["id"].(string)
	bob.ConversationEvent(live, "active")
	carol.OK("close", map[string]any{"conversationId": live})
	bob.OK("presence", map[string]any{"status": "away"})
	dan := dial("dan", customer("live", "dan"))
	dan.OK("send", map[string]any{"clientMessageId": "d1", "text": "anyone?"}) // queued: bob is away
	bob.OK("presence", map[string]any{"status": "available"})
	bob.Do("dance", nil) // $default
	erin := dial("erin", customer("persistent", "erin"))
	waiting := erin.OK("send", map[string]any{"clientMessageId": "e1", "text": "hi"})["conversation"].(map[string]any)["id"].(string)
	bob.ConversationEvent(waiting, "active")
	bob.OK("park", map[string]any{"conversationId": waiting})
	erin.OK("send", map[string]any{"conversationId": waiting, "clientMessageId": "e2", "text": "still there?"})
	// Time passes: reminders of the returned conversation, dan's live chat
	// abandoned, connections past API Gateway's 2 hours.
	clk.advance(3 * time.Hour)
	sweeps := func() int64 { return view(t, s).ByFunction["sweep"].Invocations }
	start := sweeps()
	poll.Until(t, "two sweeps", func() bool { return sweeps() >= start+2 })
	for _, c := range []*wsclient.Conn{alice, carol, dan, erin, bob} {
		c.Close()
	}
	poll.Until(t, "the disconnects", func() bool { return view(t, s).ByFunction["disconnect"].Invocations >= 5 })

	tables := physicalTables(t)
	c := loadCFN(t)
	for fn, tot := range view(t, s).ByFunction {
		logical := strings.ToUpper(fn[:1]) + fn[1:] + "Function"
		granted, _ := policyGrants(t, c, logical)
		var did []string
		for access := range tot.Access {
			did = append(did, access)
			action, resource, _ := strings.Cut(access, " ")
			table, index, _ := strings.Cut(resource, "/index/")
			g := grant{tables[table], index, action}
			if !granted[g] {
				t.Errorf("%s made %s, which its policy does not grant", logical, access)
			}
		}
		sort.Strings(did)
		t.Logf("%s: %s", logical, strings.Join(did, ", "))
	}
	for _, fn := range []string{"authorizer", "connect", "disconnect", "message", "park", "pickup", "close", "presence", "default", "notify", "sweep"} {
		if view(t, s).ByFunction[fn].Invocations == 0 {
			t.Errorf("the chat never ran %s: its policy went unchecked", fn)
		}
	}
}

type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.at }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
}

func view(t *testing.T, s *stack.Stack) metrics.View {
	t.Helper()
	resp, err := http.Get(s.URL + "/local/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v metrics.View
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("/local/metrics: %v", err)
	}
	return v
}

// physicalTables maps the tables' names (for stack "parley") to their
// logical ids.
func physicalTables(t *testing.T) map[string]string {
	t.Helper()
	tpl, err := template.Load(filepath.Join(repoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := tpl.Resolve(template.Env{StackName: "parley", Region: stack.Region, AccountID: stack.AccountID, APIID: stack.APIID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tb := range spec.Tables {
		out[tb.Name] = tb.LogicalID
	}
	if len(out) == 0 {
		t.Fatal(fmt.Errorf("template.yaml has no tables"))
	}
	return out
}
