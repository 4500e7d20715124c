// Package wsclient is a WebSocket client speaking Parley's protocol
// (docs/protocol.md) for tests: it queues the frames a connection receives and
// lets a test wait for the reply to a request or for an event of a type,
// keeping the frames it passes over for later waits.
package wsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// WaitFor bounds every wait; nothing should take more than a fraction of
// it, but test machines are shared.
const WaitFor = 60 * time.Second

// Conn is one test client's connection.
type Conn struct {
	Name string

	t      testing.TB
	ws     *websocket.Conn
	frames chan map[string]any
	closed chan struct{}
	seq    atomic.Int64
	lastID atomic.Value // string: the requestId Do sent last
	mu     sync.Mutex
	held   []map[string]any // frames read while waiting for another
}

// Dial connects to url (the WebSocket API with ?token=...) and fails the
// test when the upgrade is refused. The connection closes when the test ends.
func Dial(t testing.TB, url, name string) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitFor)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("%s: dial: %v (HTTP %d)", name, err, status)
	}
	ws.SetReadLimit(1 << 20)
	c := &Conn{Name: name, t: t, ws: ws, frames: make(chan map[string]any, 1024), closed: make(chan struct{})}
	go func() {
		defer close(c.closed)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var f map[string]any
			if err := json.Unmarshal(b, &f); err != nil {
				f = map[string]any{"type": "<not json>", "raw": string(b)}
			}
			c.frames <- f
		}
	}()
	t.Cleanup(c.Close)
	return c
}

// Status tries to connect to url and returns the HTTP status of a refused
// upgrade, or 0 when the connection was accepted (it is then closed).
func Status(t testing.TB, url string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitFor)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, url, nil)
	if err == nil {
		ws.Close(websocket.StatusNormalClosure, "")
		return 0
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return resp.StatusCode
}

// Close closes the connection and waits for it to end.
func (c *Conn) Close() {
	c.ws.Close(websocket.StatusNormalClosure, "bye")
	select {
	case <-c.closed:
	case <-time.After(WaitFor):
	}
}

// Closed is closed once the connection has ended, from either side.
func (c *Conn) Closed() <-chan struct{} { return c.closed }

// Write sends a frame: a string as is, anything else as JSON.
func (c *Conn) Write(v any) {
	c.t.Helper()
	var b []byte
	if s, ok := v.(string); ok {
		b = []byte(s)
	} else {
		b, _ = json.Marshal(v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), WaitFor)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("%s: write: %v", c.Name, err)
	}
}

// Wait returns the first frame (held ones first) that match accepts,
// keeping the others for later waits; it fails the test after WaitFor.
func (c *Conn) Wait(what string, match func(map[string]any) bool) map[string]any {
	c.t.Helper()
	c.mu.Lock()
	for i, f := range c.held {
		if match(f) {
			c.held = slices.Delete(c.held, i, i+1)
			c.mu.Unlock()
			return f
		}
	}
	c.mu.Unlock()
	deadline := time.After(WaitFor)
	for {
		select {
		case f := <-c.frames:
			if match(f) {
				return f
			}
			c.mu.Lock()
			c.held = append(c.held, f)
			c.mu.Unlock()
		case <-deadline:
			c.mu.Lock()
			held := slices.Clone(c.held)
			c.mu.Unlock()
			c.t.Fatalf("%s: no %s within %s; held frames: %v", c.Name, what, WaitFor, held)
		}
	}
}

// Next returns the next frame of type typ.
func (c *Conn) Next(typ string) map[string]any {
	c.t.Helper()
	return c.Wait("a "+typ+" frame", func(f map[string]any) bool { return f["type"] == typ })
}

// None checks that no frame of type typ is held or arrives within d.
func (c *Conn) None(typ string, d time.Duration) {
	c.t.Helper()
	c.mu.Lock()
	for _, f := range c.held {
		if f["type"] == typ {
			c.mu.Unlock()
			c.t.Fatalf("%s: unexpected %s frame %v", c.Name, typ, f)
		}
	}
	c.mu.Unlock()
	deadline := time.After(d)
	for {
		select {
		case f := <-c.frames:
			if f["type"] == typ {
				c.t.Fatalf("%s: unexpected %s frame %v", c.Name, typ, f)
			}
			c.mu.Lock()
			c.held = append(c.held, f)
			c.mu.Unlock()
		case <-deadline:
			return
		}
	}
}

// Reply waits for the frame answering requestID.
func (c *Conn) Reply(requestID string) map[string]any {
	c.t.Helper()
	return c.Wait("reply to "+requestID, func(f map[string]any) bool { return f["requestId"] == requestID })
}

// Until returns, in order, every frame received before the one answering
// requestID (held ones included), and that one. Pushes to one connection
// arrive in order, so a reply requested last fences the frames before it.
func (c *Conn) Until(requestID string) (before []map[string]any, fence map[string]any) {
	c.t.Helper()
	fence = c.Reply(requestID)
	c.mu.Lock()
	before, c.held = c.held, nil
	c.mu.Unlock()
	return before, fence
}

// Do sends an action with a fresh requestId and returns its reply (ack,
// typed reply or error).
func (c *Conn) Do(action string, fields map[string]any) map[string]any {
	c.t.Helper()
	id := fmt.Sprintf("%s-%d", c.Name, c.seq.Add(1))
	c.lastID.Store(id)
	f := map[string]any{"action": action, "requestId": id}
	for k, v := range fields {
		f[k] = v
	}
	c.Write(f)
	return c.Reply(id)
}

// LastRequestID is the requestId of the last frame Do sent ("" before any).
func (c *Conn) LastRequestID() string {
	id, _ := c.lastID.Load().(string)
	return id
}

// OK is Do that fails the test on an error reply.
func (c *Conn) OK(action string, fields map[string]any) map[string]any {
	c.t.Helper()
	r := c.Do(action, fields)
	if r["type"] == "error" {
		c.t.Fatalf("%s: %s %v = error %v: %v", c.Name, action, fields, r["code"], r["message"])
	}
	return r
}

// Refused is Do that expects an error reply with code.
func (c *Conn) Refused(code, action string, fields map[string]any) map[string]any {
	c.t.Helper()
	r := c.Do(action, fields)
	if r["type"] != "error" || r["code"] != code {
		c.t.Fatalf("%s: %s %v = %v; want error %s", c.Name, action, fields, r, code)
	}
	return r
}

// ConversationEvent waits for a `conversation` event about conversation id
// in status, and returns the conversation.
func (c *Conn) ConversationEvent(id, status string) map[string]any {
	c.t.Helper()
	f := c.Wait(fmt.Sprintf("conversation event %s → %s", id, status), func(f map[string]any) bool {
		conv, _ := f["conversation"].(map[string]any)
		return f["type"] == "conversation" && conv["id"] == id && conv["status"] == status
	})
	return f["conversation"].(map[string]any)
}

// Token mints a token from the local stack's issuer at baseURL (POST
// /local/token, docs/protocol.md 7), as any client would.
func Token(t testing.TB, baseURL string, fields map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(fields)
	resp, err := http.Post(baseURL+"/local/token", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token, Error string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /local/token %s = %d %s", b, resp.StatusCode, out.Error)
	}
	return out.Token
}
