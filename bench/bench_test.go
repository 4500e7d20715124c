// Package bench holds the Go benchmarks of the chat's hot paths: the
// chat service's send and assignment on the real embedded store, and a
// whole local stack serving WebSocket sends (the one to profile). They are
// not part of make test (benchmarks run only with -bench); make bench runs
// them and cmd/parley-load puts their figures into BENCHMARKS.md.
//
//	go test -run '^$' -bench . -benchmem ./bench/
package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/coder/websocket"

	"github.com/parley-chat/parley/cmd/parley-local/localtest"
	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
	"github.com/parley-chat/parley/shared/wire"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// counted is the store's DynamoDB client, counting the requests the store
// makes and the capacity the server reports for them (every request asks
// for ReturnConsumedCapacity TOTAL, as the local stack's handlers do).
type counted struct {
	store.DB
	requests atomic.Int64
	mu       sync.Mutex
	read     float64
	write    float64
}

func (c *counted) add(cc ...types.ConsumedCapacity) {
	c.requests.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range cc {
		r, w := deref(x.ReadCapacityUnits), deref(x.WriteCapacityUnits)
		if r == 0 && w == 0 {
			w = deref(x.CapacityUnits) // a server that gives only the total
		}
		c.read += r
		c.write += w
	}
}

func (c *counted) units() (float64, float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read, c.write
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func one(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}

const total = types.ReturnConsumedCapacityTotal

// counting makes one request asking for its consumed capacity (unless the
// caller asked itself) and adds what the answer reports.
func counting[O any](c *counted, ask *types.ReturnConsumedCapacity, do func() (O, error), used func(O) []types.ConsumedCapacity) (O, error) {
	if *ask == "" {
		*ask = total
	}
	out, err := do()
	if err == nil {
		c.add(used(out)...)
	}
	return out, err
}

func (c *counted) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return counting(c, &in.ReturnConsumedCapacity, func() (*dynamodb.GetItemOutput, error) { return c.DB.GetItem(ctx, in, o...) },
		func(out *dynamodb.GetItemOutput) []types.ConsumedCapacity { return one(out.ConsumedCapacity) })
}

func (c *counted) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return counting(c, &in.ReturnConsumedCapacity, func() (*dynamodb.PutItemOutput, error) { return c.DB.PutItem(ctx, in, o...) },
		func(out *dynamodb.PutItemOutput) []types.ConsumedCapacity { return one(out.ConsumedCapacity) })
}

func (c *counted) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return counting(c, &in.ReturnConsumedCapacity, func() (*dynamodb.UpdateItemOutput, error) { return c.DB.UpdateItem(ctx, in, o...) },
		func(out *dynamodb.UpdateItemOutput) []types.ConsumedCapacity { return one(out.ConsumedCapacity) })
}

func (c *counted) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return counting(c, &in.ReturnConsumedCapacity, func() (*dynamodb.DeleteItemOutput, error) { return c.DB.DeleteItem(ctx, in, o...) },
		func(out *dynamodb.DeleteItemOutput) []types.ConsumedCapacity { return one(out.ConsumedCapacity) })
}

func (c *counted) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return counting(c, &in.ReturnConsumedCapacity, func() (*dynamodb.QueryOutput, error) { return c.DB.Query(ctx, in, o...) },
		func(out *dynamodb.QueryOutput) []types.ConsumedCapacity { return one(out.ConsumedCapacity) })
}

func (c *counted) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return counting(c, &in.ReturnConsumedCapacity, func() (*dynamodb.ScanOutput, error) { return c.DB.Scan(ctx, in, o...) },
		func(out *dynamodb.ScanOutput) []types.ConsumedCapacity { return one(out.ConsumedCapacity) })
}

func (c *counted) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return counting(c, &in.ReturnConsumedCapacity, func() (*dynamodb.BatchGetItemOutput, error) { return c.DB.BatchGetItem(ctx, in, o...) },
		func(out *dynamodb.BatchGetItemOutput) []types.ConsumedCapacity { return out.ConsumedCapacity })
}

func (c *counted) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return counting(c, &in.ReturnConsumedCapacity, func() (*dynamodb.TransactWriteItemsOutput, error) { return c.DB.TransactWriteItems(ctx, in, o...) },
		func(out *dynamodb.TransactWriteItemsOutput) []types.ConsumedCapacity { return out.ConsumedCapacity })
}

// pushes counts the frames the service hands to API Gateway: what a push
// does beyond arriving is the gateway's, measured end to end in
// BenchmarkStackSend and by cmd/parley-load.
type pushes struct{ n atomic.Int64 }

func (p *pushes) Post(ctx context.Context, id string, frame []byte) error {
	p.n.Add(1)
	return nil
}

func (p *pushes) Disconnect(ctx context.Context, id string) error { return nil }

// service is the chat service on the real embedded store, seeded as the
// local stack seeds it, with agents of the given capacity, and request
// budgets out of the way (they are per connection; a benchmark is one).
type service struct {
	svc  *chat.Service
	st   *store.Store
	db   *counted
	push *pushes
	ctx  context.Context
	n    atomic.Int64
}

func newService(b *testing.B, capacity int) *service {
	client, tables := localtest.DynamoDB(b)
	s := &service{db: &counted{DB: client}, push: &pushes{}, ctx: b.Context()}
	s.st = store.New(s.db, tables)
	big := conversation.Limit{Burst: 1e9, Rate: 1e9}
	s.svc = chat.New(s.st, s.push, chat.Options{Log: slog.New(slog.DiscardHandler), ConnectionLimit: big, UserLimit: big})
	if err := s.st.PutAgentDefaults(s.ctx, conversation.AgentDefaults{Capacity: capacity}, false); err != nil {
		b.Fatal(err)
	}
	for _, ws := range []struct {
		widget, id string
		mode       conversation.Mode
		keep       bool
	}{
		{"persistent", "support-persistent", conversation.Persistent, true},
		{"live", "support-live", conversation.Live, false},
	} {
		cfg := store.WorkstreamConfig{ID: ws.id, Mode: string(ws.mode), KeepSameAgent: ws.keep, Units: 1}
		cfg.Hours.TimeZone, cfg.Hours.AlwaysOpen = "UTC", true
		if err := s.st.PutWorkstream(s.ctx, cfg, false); err != nil {
			b.Fatal(err)
		}
		if err := s.st.PutWidget(s.ctx, conversation.Widget{ID: ws.widget, Workstream: ws.id}, false); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// connect opens a connection as $connect does.
func (s *service) connect(b *testing.B, role conversation.Role, id, widget string) chat.Caller {
	c := chat.Caller{Participant: conversation.Participant{Role: role, ID: id, Name: id}, Widget: widget, ConnectionID: fmt.Sprintf("k%d=", s.n.Add(1))}
	res, err := s.svc.Connect(s.ctx, conversation.Connection{ID: c.ConnectionID, Role: role, UserID: id, Name: id, Widget: widget, ConnectedAt: time.Now()})
	if err != nil {
		b.Fatalf("connect %s: %v", id, err)
	}
	if err := s.svc.Deliver(s.ctx, "", res); err != nil {
		b.Fatal(err)
	}
	return c
}

// send stores one message and delivers it, as the send route does.
func (s *service) send(b *testing.B, c chat.Caller, conv, cmid string) *wire.Ack {
	res, err := s.svc.Send(s.ctx, c, nil, &wire.Send{ConversationID: conv, ClientMessageID: cmid, Text: "a benchmark message of ordinary length"})
	if err != nil {
		b.Fatalf("send %s: %v", cmid, err)
	}
	if err := s.svc.Deliver(s.ctx, c.ConnectionID, res); err != nil {
		b.Fatal(err)
	}
	return res.Reply.(*wire.Ack)
}

// assign runs the assignment the conversations stream runs for a newly
// queued conversation.
func (s *service) assign(b *testing.B, conv string) {
	c, err := s.st.Conversation(s.ctx, conv)
	if err != nil {
		b.Fatal(err)
	}
	res, err := s.svc.AssignQueue(s.ctx, c.Workstream, []*conversation.Conversation{c})
	if err != nil {
		b.Fatalf("assign %s: %v", conv, err)
	}
	if err := s.svc.Deliver(s.ctx, "", res); err != nil {
		b.Fatal(err)
	}
}

func (s *service) report(b *testing.B, req0 int64, r0, w0 float64, p0 int64) {
	r, w := s.db.units()
	n := float64(b.N)
	b.ReportMetric(float64(s.db.requests.Load()-req0)/n, "dynamodb-req/op")
	b.ReportMetric((w-w0)/n, "wcu/op")
	b.ReportMetric((r-r0)/n, "rcu/op")
	b.ReportMetric(float64(s.push.n.Load()-p0)/n, "pushes/op")
}

// BenchmarkServiceSend is a customer's message into an active conversation:
// read, move, one write, the parties read, two pushes (ack and agent). The
// sends go round a set of conversations, as many customers' do, so no one
// conversation's send budget is spent.
func BenchmarkServiceSend(b *testing.B) {
	s := newService(b, 1000)
	s.connect(b, conversation.AgentRole, "bob", "")
	const convs = 256
	callers := make([]chat.Caller, convs)
	ids := make([]string, convs)
	for i := range callers {
		callers[i] = s.connect(b, conversation.Customer, fmt.Sprintf("cust%d", i), "persistent")
		ids[i] = s.send(b, callers[i], "", "open").Conversation.ID
		s.assign(b, ids[i])
	}
	req0, p0 := s.db.requests.Load(), s.push.n.Load()
	r0, w0 := s.db.units()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % convs
		s.send(b, callers[k], ids[k], fmt.Sprintf("m%d", i))
	}
	b.StopTimer()
	s.report(b, req0, r0, w0, p0)
}

// BenchmarkAssign is one newly queued conversation given to an agent, with
// 1, 10 and 100 agents online: the queue read, the agents read and the
// assigning transaction. The customer's opening send is outside the timer;
// the pushes telling both parties come afterwards from the conversations
// stream (route.Notify), not from AssignQueue, so pushes/op is 0 here.
func BenchmarkAssign(b *testing.B) {
	for _, agents := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("agents=%d", agents), func(b *testing.B) {
			s := newService(b, 1<<20)
			for j := range agents {
				s.connect(b, conversation.AgentRole, fmt.Sprintf("agent%d", j), "")
			}
			var req, p int64
			var rd, wr float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				c := s.connect(b, conversation.Customer, fmt.Sprintf("cust%d", i), "persistent")
				conv := s.send(b, c, "", "open").Conversation.ID
				req0, p0 := s.db.requests.Load(), s.push.n.Load()
				r0, w0 := s.db.units()
				b.StartTimer()
				s.assign(b, conv)
				b.StopTimer()
				r1, w1 := s.db.units()
				req, p, rd, wr = req+s.db.requests.Load()-req0, p+s.push.n.Load()-p0, rd+r1-r0, wr+w1-w0
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(float64(req)/n, "dynamodb-req/op")
			b.ReportMetric(wr/n, "wcu/op")
			b.ReportMetric(rd/n, "rcu/op")
			b.ReportMetric(float64(p)/n, "pushes/op")
		})
	}
}

// BenchmarkStackSend is a customer's message through a whole local stack
// in this process: the WebSocket frame, the gateway, the send function,
// the embedded store over HTTP, the pushes, and the agent's receipt. Run it
// with -cpuprofile to see where a message's CPU goes.
func BenchmarkStackSend(b *testing.B) {
	s := localtest.Stack(b)
	db := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("parleylocal", "parleylocal", "")},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(s.DynamoDBEndpoint()) })
	st := store.New(db, store.Tables{Settings: "parley-settings"})
	if err := st.PutAgentDefaults(b.Context(), conversation.AgentDefaults{Capacity: 1000}, false); err != nil {
		b.Fatal(err)
	}
	agent := dialWS(b, s.URL, map[string]any{"role": "agent", "sub": "bob", "name": "Bob"})
	agent.request(b, map[string]any{"action": "hello"})
	const convs = 64
	custs := make([]*wsClient, convs)
	ids := make([]string, convs)
	for i := range custs {
		custs[i] = dialWS(b, s.URL, map[string]any{"role": "customer", "sub": fmt.Sprintf("cust%d", i), "widget": "persistent"})
		ack := custs[i].request(b, map[string]any{"action": "send", "clientMessageId": "open", "text": "hello"})
		ids[i] = obj(ack["conversation"])["id"].(string)
		agent.await(b, func(f map[string]any) bool {
			return f["type"] == "conversation" && obj(f["conversation"])["id"] == ids[i] && obj(f["conversation"])["status"] == "active"
		})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % convs
		ack := custs[k].request(b, map[string]any{"action": "send", "conversationId": ids[k], "clientMessageId": fmt.Sprintf("m%d", i), "text": "a benchmark message of ordinary length"})
		id := obj(ack["message"])["id"]
		agent.await(b, func(f map[string]any) bool { return f["type"] == "message" && obj(f["message"])["id"] == id })
	}
}

// BenchmarkStackSendParallel is BenchmarkStackSend with 64 customers
// sending at once (each waits for its ack, not for the agent's receipt):
// the stack under concurrent load, to profile for CPU and lock contention
// (-cpuprofile, -mutexprofile).
func BenchmarkStackSendParallel(b *testing.B) {
	s := localtest.Stack(b)
	db := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("parleylocal", "parleylocal", "")},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(s.DynamoDBEndpoint()) })
	st := store.New(db, store.Tables{Settings: "parley-settings"})
	if err := st.PutAgentDefaults(b.Context(), conversation.AgentDefaults{Capacity: 1000}, false); err != nil {
		b.Fatal(err)
	}
	agent := dialWS(b, s.URL, map[string]any{"role": "agent", "sub": "bob", "name": "Bob"})
	agent.request(b, map[string]any{"action": "hello"})
	const convs = 64
	type cust struct {
		c  *wsClient
		id string
	}
	pool := make(chan cust, convs)
	for i := 0; i < convs; i++ {
		c := dialWS(b, s.URL, map[string]any{"role": "customer", "sub": fmt.Sprintf("cust%d", i), "widget": "persistent"})
		ack := c.request(b, map[string]any{"action": "send", "clientMessageId": "open", "text": "hello"})
		id := obj(ack["conversation"])["id"].(string)
		agent.await(b, func(f map[string]any) bool {
			return f["type"] == "conversation" && obj(f["conversation"])["id"] == id && obj(f["conversation"])["status"] == "active"
		})
		pool <- cust{c, id}
	}
	go func() {
		for range agent.frames { // the agent's copies, read and dropped
		}
	}()
	var n atomic.Int64
	b.SetParallelism(convs / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := <-pool
		for pb.Next() {
			c.c.request(b, map[string]any{"action": "send", "conversationId": c.id, "clientMessageId": fmt.Sprintf("m%d", n.Add(1)), "text": "a benchmark message of ordinary length"})
		}
	})
}

type wsClient struct {
	ws     *websocket.Conn
	frames chan map[string]any
	n      int
}

func dialWS(b *testing.B, base string, claims map[string]any) *wsClient {
	body, _ := json.Marshal(claims)
	resp, err := http.Post(base+"/local/token", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	var tok struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	ws, _, err := websocket.Dial(b.Context(), "ws"+strings.TrimPrefix(base, "http")+"/ws?token="+tok.Token, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ws.Close(websocket.StatusNormalClosure, "done") })
	c := &wsClient{ws: ws, frames: make(chan map[string]any, 1024)}
	go func() {
		defer close(c.frames)
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var f map[string]any
			if json.Unmarshal(data, &f) == nil {
				c.frames <- f
			}
		}
	}()
	return c
}

func (c *wsClient) request(b *testing.B, frame map[string]any) map[string]any {
	c.n++
	id := fmt.Sprintf("r%d", c.n)
	frame["requestId"] = id
	data, _ := json.Marshal(frame)
	if err := c.ws.Write(b.Context(), websocket.MessageText, data); err != nil {
		b.Fatal(err)
	}
	f := c.await(b, func(f map[string]any) bool { return f["requestId"] == id })
	if f["type"] == "error" {
		b.Fatalf("%v: %v", frame, f)
	}
	return f
}

// await returns the first frame match accepts; the others are dropped.
func (c *wsClient) await(b *testing.B, match func(map[string]any) bool) map[string]any {
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				b.Fatal("connection closed")
			}
			if match(f) {
				return f
			}
		case <-b.Context().Done():
			b.Fatal(b.Context().Err())
		}
	}
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// BenchmarkSweep is one tick of the scheduled sweep (rate(1 minute) in
// template.yaml) with 10, 100 and 1,000 open persistent conversations in
// the store, a third of them parked: what the housekeeping costs per
// minute as the open conversations grow, none of them due for anything.
func BenchmarkSweep(b *testing.B) {
	for _, open := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("open=%d", open), func(b *testing.B) {
			s := newService(b, 1<<20)
			agent := s.connect(b, conversation.AgentRole, "bob", "")
			for i := range open {
				c := s.connect(b, conversation.Customer, fmt.Sprintf("cust%d", i), "persistent")
				conv := s.send(b, c, "", "open").Conversation.ID
				s.assign(b, conv)
				if i%3 == 0 {
					if _, err := s.svc.Park(s.ctx, agent, nil, &wire.Park{ConversationID: conv}); err != nil {
						b.Fatalf("park %s: %v", conv, err)
					}
				}
			}
			req0, p0 := s.db.requests.Load(), s.push.n.Load()
			r0, w0 := s.db.units()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rep, _, err := s.svc.Sweep(s.ctx)
				if err != nil {
					b.Fatal(err)
				}
				if rep != (chat.SweepReport{}) {
					b.Fatalf("a sweep with nothing due did %+v", rep)
				}
			}
			b.StopTimer()
			s.report(b, req0, r0, w0, p0)
		})
	}
}
