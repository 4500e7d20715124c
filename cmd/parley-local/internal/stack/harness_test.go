package stack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/cmd/parley-local/internal/ddblocal"
)

// waitFor bounds every wait in these tests; nothing here should take more
// than a fraction of it, but the machine is shared.
const waitFor = 15 * time.Second

func templatePath(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "template.yaml")
}

// testLog keeps the stack's logs out of the test output unless a test fails.
type testLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// backend is the DynamoDB-compatible server the tests run on: the embedded
// one (endpoint ""), or Amazon DynamoDB Local when PARLEY_BACKEND says so
// (make test runs the suite on both).
var backend struct {
	name     string
	endpoint string
}

func TestMain(m *testing.M) {
	if os.Getenv("PARLEY_BACKEND") != "dynamodb-local" {
		os.Exit(m.Run())
	}
	backend.name = "dynamodb-local"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	srv, err := ddblocal.Launch(ctx, ddblocal.Options{})
	cancel()
	if err != nil {
		// No quiet skip: the parity run fails when its backend cannot run.
		fmt.Fprintln(os.Stderr, "PARLEY_BACKEND=dynamodb-local, but DynamoDB Local cannot run:", err)
		os.Exit(1)
	}
	backend.endpoint = srv.Endpoint
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// embedded keeps a stack on the embedded store whatever the backend (for
// tests about the embedded store itself).
func embedded(o *Options) { o.DynamoDBEndpoint = embeddedStore }

const embeddedStore = "embedded"

// stackName gives each test its own tables on a shared DynamoDB Local.
func stackName(t testing.TB) string {
	h := sha256.Sum256([]byte(t.Name()))
	return "t" + hex.EncodeToString(h[:5])
}

func startStack(t testing.TB, mod ...func(*Options)) *Stack {
	t.Helper()
	lg := &testLog{}
	opts := Options{Addr: "127.0.0.1:0", Template: templatePath(t), StreamRetryDelay: 20 * time.Millisecond,
		Log: slog.New(slog.NewJSONHandler(lg, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if backend.endpoint != "" {
		opts.DynamoDBEndpoint, opts.StackName = backend.endpoint, stackName(t)
	}
	for _, m := range mod {
		m(&opts)
	}
	if opts.DynamoDBEndpoint == embeddedStore {
		opts.DynamoDBEndpoint = ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		if path := os.Getenv("PARLEY_TEST_LOG"); path != "" {
			lg.mu.Lock()
			_ = os.WriteFile(path, lg.buf.Bytes(), 0o644)
			lg.mu.Unlock()
		}
		if t.Failed() {
			lg.mu.Lock()
			out := lg.buf.String()
			lg.mu.Unlock()
			if len(out) > 20000 {
				out = out[len(out)-20000:]
			}
			t.Logf("stack log (tail):\n%s", out)
		}
	})
	return s
}

// token mints a token from the local issuer over HTTP, as any client would.
func (s *Stack) token(t testing.TB, fields map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(fields)
	resp, err := http.Post(s.URL+"/local/token", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token, Error string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 {
		t.Fatalf("POST /local/token %s = %d %s", b, resp.StatusCode, out.Error)
	}
	return out.Token
}

func (s *Stack) customerToken(t testing.TB, widget, sub string) string {
	return s.token(t, map[string]any{"role": "customer", "sub": sub, "name": strings.ToUpper(sub[:1]) + sub[1:], "widget": widget})
}

func (s *Stack) agentToken(t testing.TB, sub string) string {
	return s.token(t, map[string]any{"role": "agent", "sub": sub, "name": strings.ToUpper(sub[:1]) + sub[1:]})
}

// client is a WebSocket client speaking PROTOCOL.md.
type client struct {
	t      testing.TB
	name   string
	conn   *websocket.Conn
	frames chan map[string]any
	seq    atomic.Int64
	mu     sync.Mutex
	held   []map[string]any // frames read while waiting for another
	closed chan struct{}
}

// dialStatus tries to connect and returns the HTTP status of a refusal (0
// when the connection was accepted, which it then closes).
func (s *Stack) dialStatus(t testing.TB, query string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, s.WSURL+query, nil)
	if err == nil {
		c.Close(websocket.StatusNormalClosure, "")
		return 0
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", query, err)
	}
	return resp.StatusCode
}

func (s *Stack) dial(t testing.TB, name, token string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, s.WSURL+"?token="+token, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("%s: dial: %v (HTTP %d)", name, err, status)
	}
	conn.SetReadLimit(1 << 20)
	c := &client{t: t, name: name, conn: conn, frames: make(chan map[string]any, 1024), closed: make(chan struct{})}
	go func() {
		defer close(c.closed)
		for {
			_, b, err := conn.Read(context.Background())
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
	t.Cleanup(func() { c.close() })
	return c
}

func (c *client) close() {
	c.conn.Close(websocket.StatusNormalClosure, "bye")
	select {
	case <-c.closed:
	case <-time.After(waitFor):
	}
}

func (c *client) write(v any) {
	c.t.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("%s: write: %v", c.name, err)
	}
}

// do sends an action and returns its reply (ack, typed reply or error),
// keeping the events that arrive meanwhile for next.
func (c *client) do(action string, fields map[string]any) map[string]any {
	c.t.Helper()
	id := fmt.Sprintf("%s-%d", c.name, c.seq.Add(1))
	f := map[string]any{"action": action, "requestId": id}
	for k, v := range fields {
		f[k] = v
	}
	c.write(f)
	return c.wait(func(f map[string]any) bool { return f["requestId"] == id }, "reply to "+action)
}

// ok is do that fails the test on an error reply.
func (c *client) ok(action string, fields map[string]any) map[string]any {
	c.t.Helper()
	r := c.do(action, fields)
	if r["type"] == "error" {
		c.t.Fatalf("%s: %s %v = error %v: %v", c.name, action, fields, r["code"], r["message"])
	}
	return r
}

// refused is do that expects an error reply with code.
func (c *client) refused(code, action string, fields map[string]any) map[string]any {
	c.t.Helper()
	r := c.do(action, fields)
	if r["type"] != "error" || r["code"] != code {
		c.t.Fatalf("%s: %s %v = %v; want error %s", c.name, action, fields, r, code)
	}
	return r
}

// next returns the next frame of type typ (held frames first).
func (c *client) next(typ string) map[string]any {
	c.t.Helper()
	return c.wait(func(f map[string]any) bool { return f["type"] == typ }, "a "+typ+" frame")
}

func (c *client) wait(match func(map[string]any) bool, what string) map[string]any {
	c.t.Helper()
	c.mu.Lock()
	for i, f := range c.held {
		if match(f) {
			c.held = append(c.held[:i], c.held[i+1:]...)
			c.mu.Unlock()
			return f
		}
	}
	c.mu.Unlock()
	deadline := time.After(waitFor)
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
			held := c.held
			c.mu.Unlock()
			c.t.Fatalf("%s: no %s within %s; held frames: %v", c.name, what, waitFor, held)
		}
	}
}

// none checks that no frame of type typ arrives within d (held or new).
func (c *client) none(typ string, d time.Duration) {
	c.t.Helper()
	c.mu.Lock()
	for _, f := range c.held {
		if f["type"] == typ {
			c.mu.Unlock()
			c.t.Fatalf("%s: unexpected %s frame %v", c.name, typ, f)
		}
	}
	c.mu.Unlock()
	deadline := time.After(d)
	for {
		select {
		case f := <-c.frames:
			if f["type"] == typ {
				c.t.Fatalf("%s: unexpected %s frame %v", c.name, typ, f)
			}
			c.mu.Lock()
			c.held = append(c.held, f)
			c.mu.Unlock()
		case <-deadline:
			return
		}
	}
}

// conversationEvent waits for a `conversation` event whose conversation has status.
func (c *client) conversationEvent(id, status string) map[string]any {
	c.t.Helper()
	f := c.wait(func(f map[string]any) bool {
		if f["type"] != "conversation" {
			return false
		}
		conv, _ := f["conversation"].(map[string]any)
		return conv["id"] == id && conv["status"] == status
	}, fmt.Sprintf("conversation event %s → %s", id, status))
	return f["conversation"].(map[string]any)
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any         { l, _ := v.([]any); return l }
func num(v any) int            { f, _ := v.(float64); return int(f) }

// metrics reads GET /local/metrics.
func (s *Stack) metrics(t testing.TB) map[string]map[string]int {
	t.Helper()
	resp, err := http.Get(s.URL + "/local/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("metrics %s: %v", b, err)
	}
	return m
}

// dynamoEndpointURL is where the stack's DynamoDB answers, embedded or not.
func (s *Stack) dynamoEndpointURL() string {
	if s.db == nil {
		return s.opts.DynamoDBEndpoint
	}
	return s.URL + "/local/dynamodb"
}
