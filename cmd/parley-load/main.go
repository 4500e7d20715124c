// Command parley-load drives a running local stack (make run) with many
// customers and agents chatting at once over real WebSockets, and reports
// message throughput, send-to-delivery latency, and the DynamoDB requests
// and pushes each message cost (its send invocations' own requests, from
// GET /local/metrics). Its loops are bounded; it talks to the address it is
// given, loopback by default.
//
//	go run ./cmd/parley-load --url http://127.0.0.1:8080 --customers 30 --agents 3 --messages 20
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

func main() {
	var (
		base      = flag.String("url", "http://127.0.0.1:8080", "the local stack")
		customers = flag.Int("customers", 30, "customers, each with one conversation")
		agents    = flag.Int("agents", 3, "agents online (capacity 3 each by default)")
		messages  = flag.Int("messages", 20, "messages each assigned customer sends")
		widget    = flag.String("widget", "persistent", "the customers' widget")
		timeout   = flag.Duration("timeout", 2*time.Minute, "give up after this long")
	)
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, strings.TrimRight(*base, "/"), *customers, *agents, *messages, *widget); err != nil {
		fmt.Fprintln(os.Stderr, "parley-load:", err)
		os.Exit(1)
	}
}

type conn struct {
	ws     *websocket.Conn
	frames chan map[string]any
}

func dial(ctx context.Context, base string, claims map[string]any) (*conn, error) {
	b, _ := json.Marshal(claims)
	resp, err := http.Post(base+"/local/token", "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var tok struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.Token == "" {
		return nil, fmt.Errorf("token for %v: %v (HTTP %d)", claims, err, resp.StatusCode)
	}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws?token="+tok.Token, nil)
	if err != nil {
		return nil, err
	}
	c := &conn{ws: ws, frames: make(chan map[string]any, 4096)}
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
	return c, nil
}

func (c *conn) send(ctx context.Context, v any) error {
	b, _ := json.Marshal(v)
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// await returns the first frame match accepts.
func (c *conn) await(ctx context.Context, match func(map[string]any) bool) (map[string]any, error) {
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return nil, errors.New("connection closed")
			}
			if match(f) {
				return f, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// routeCost is what the invocations of one route cost, as GET /local/metrics
// credits each request to the invocation that made it.
type routeCost struct {
	Invocations   int            `json:"invocations"`
	DynamoDB      map[string]int `json:"dynamodb"`
	ManagementAPI map[string]int `json:"managementApi"`
}

// sendCost reads what the stack's send invocations have cost so far.
func sendCost(base string) (routeCost, error) {
	resp, err := http.Get(base + "/local/metrics")
	if err != nil {
		return routeCost{}, err
	}
	defer resp.Body.Close()
	var m struct {
		ByRoute map[string]routeCost `json:"byRoute"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return routeCost{}, fmt.Errorf("read /local/metrics: %w", err)
	}
	return m.ByRoute["send"], nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func run(ctx context.Context, base string, nCustomers, nAgents, nMessages int, widget string) error {
	run := time.Now().UnixNano()
	// Agents stay connected (and so available) until the run ends.
	for i := 0; i < nAgents; i++ {
		c, err := dial(ctx, base, map[string]any{"role": "agent", "sub": fmt.Sprintf("load-agent-%d-%d", run, i), "name": fmt.Sprintf("Agent %d", i)})
		if err != nil {
			return fmt.Errorf("agent %d: %w", i, err)
		}
		defer c.ws.Close(websocket.StatusNormalClosure, "done")
	}
	// Customers open conversations; those that get an agent chat.
	type chat struct {
		c    *conn
		conv string
	}
	var (
		mu     sync.Mutex
		chats  []chat
		queued int
		wg     sync.WaitGroup
		errs   []error
	)
	for i := 0; i < nCustomers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial(ctx, base, map[string]any{"role": "customer", "sub": fmt.Sprintf("load-%d-%d", run, i), "widget": widget})
			if err == nil {
				err = c.send(ctx, map[string]any{"action": "send", "requestId": "open", "clientMessageId": "open", "text": "hello"})
			}
			var ack map[string]any
			if err == nil {
				ack, err = c.await(ctx, func(f map[string]any) bool { return f["requestId"] == "open" })
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			conv, _ := ack["conversation"].(map[string]any)
			id, _ := conv["id"].(string)
			// Wait briefly for an agent; the rest stay queued.
			wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_, err = c.await(wctx, func(f map[string]any) bool {
				cv, _ := f["conversation"].(map[string]any)
				return f["type"] == "conversation" && cv["status"] == "active"
			})
			cancel()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				queued++
				return
			}
			chats = append(chats, chat{c, id})
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d customers failed, first: %w", len(errs), errs[0])
	}
	fmt.Printf("%d customers, %d agents: %d conversations active, %d queued\n", nCustomers, nAgents, len(chats), queued)

	before, err := sendCost(base)
	if err != nil {
		return err
	}
	var latencies []time.Duration
	start := time.Now()
	for _, ch := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := 0; m < nMessages; m++ {
				id := fmt.Sprintf("m%d", m)
				t0 := time.Now()
				if err := ch.c.send(ctx, map[string]any{"action": "send", "requestId": id, "conversationId": ch.conv, "clientMessageId": id, "text": "load message"}); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if _, err := ch.c.await(ctx, func(f map[string]any) bool { return f["requestId"] == id }); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				mu.Lock()
				latencies = append(latencies, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(errs) > 0 {
		return fmt.Errorf("%d sends failed, first: %w", len(errs), errs[0])
	}
	// Every send was acknowledged, but its invocation may still be
	// delivering to the agent: wait until all of them have finished.
	var after routeCost
	for {
		if after, err = sendCost(base); err != nil {
			return err
		}
		if after.Invocations-before.Invocations >= len(latencies) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
	}
	sent := len(latencies)
	if sent == 0 {
		return errors.New("no conversation got an agent: nothing was sent")
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(float64(len(latencies))*p))] }
	ddb := sum(after.DynamoDB) - sum(before.DynamoDB)
	push := after.ManagementAPI["PostToConnection"] - before.ManagementAPI["PostToConnection"]
	fmt.Printf("%d messages in %s: %.0f msg/s\n", sent, elapsed.Round(time.Millisecond), float64(sent)/elapsed.Seconds())
	fmt.Printf("send → ack latency: p50 %s, p95 %s, p99 %s, max %s\n", pct(0.50), pct(0.95), pct(0.99), latencies[len(latencies)-1])
	fmt.Printf("per message: %.2f DynamoDB requests, %.2f pushes\n", float64(ddb)/float64(sent), float64(push)/float64(sent))
	return nil
}
