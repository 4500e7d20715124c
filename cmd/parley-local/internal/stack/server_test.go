package stack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

// request sends one request to the stack with the given Host and headers
// and returns the status and body.
func (s *Stack) request(t *testing.T, method, path, host string, header map[string]string, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (s *Stack) port() string {
	_, p, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	return p
}

var listTables = map[string]string{"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"}

func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestHostHeaderNamesTheStack: DNS rebinding gives a page on any site the
// stack under that site's own name; a Host that is not the stack is refused.
func TestHostHeaderNamesTheStack(t *testing.T) {
	s := startStack(t, embedded)
	p := s.port()
	for _, host := range []string{"evil.example:" + p, "evil.example", "127.0.0.1.evil.example:" + p, "192.0.2.1:" + p} {
		status, body, _ := s.request(t, "POST", "/local/dynamodb", host, listTables, "{}")
		if status != http.StatusForbidden || !strings.Contains(body, "Host header") {
			t.Errorf("Host %s: %d %q; want 403 naming the Host header", host, status, body)
		}
	}
	if status := wsclient403(t, s, "evil.example:"+p, ""); status != http.StatusForbidden {
		t.Errorf("WebSocket upgrade with Host evil.example = %d; want 403", status)
	}
	for _, host := range []string{"127.0.0.1:" + p, "localhost:" + p, "LOCALHOST:" + p, "app.localhost:" + p, "127.0.0.2:" + p, "[::1]:" + p} {
		if status, body, _ := s.request(t, "POST", "/local/dynamodb", host, listTables, "{}"); status != http.StatusOK {
			t.Errorf("Host %s: %d %q; want 200", host, status, body)
		}
	}
}

// wsclient403 tries a WebSocket upgrade with the given Host and Origin and
// returns the refusal status, 0 when upgraded.
func wsclient403(t *testing.T, s *Stack, host, origin string) int {
	t.Helper()
	h := http.Header{}
	if host != "" {
		h.Set("Host", host)
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	tok := s.customerToken(t, "persistent", "guarded")
	c, resp, err := websocket.Dial(ctx, s.WSURL+"?token="+tok, &websocket.DialOptions{Host: host, HTTPHeader: h})
	if err == nil {
		_ = c.CloseNow()
		return 0
	}
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	return resp.StatusCode
}

// TestCrossSiteBrowserRequestsRefused: a page on another site must not
// reach the local-only endpoints (scan tables through /local/dynamodb,
// push a forged frame through /@connections), while the stack's own pages
// and non-browser clients do, and the WebSocket API takes any Origin.
func TestCrossSiteBrowserRequestsRefused(t *testing.T) {
	s := startStack(t, embedded)
	p := s.port()
	refused := []struct {
		method, path string
		header       map[string]string
	}{
		{"POST", "/local/dynamodb", with(listTables, "Origin", "http://evil.example")},
		{"POST", "/local/dynamodb", with(listTables, "Origin", "null")},
		{"POST", "/local/dynamodb", with(listTables, "Origin", "http://localhost:3000")},
		{"POST", "/local/dynamodb", with(listTables, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors")},
		{"POST", "/local/token", map[string]string{"Origin": "https://evil.example", "Content-Type": "text/plain"}},
		{"GET", "/local/metrics", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}},
		{"POST", "/@connections/abc", map[string]string{"Origin": "http://evil.example"}},
		{"POST", "/prod/@connections/abc", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}},
	}
	for _, r := range refused {
		status, body, h := s.request(t, r.method, r.path, "", r.header, "{}")
		if status != http.StatusForbidden || !strings.Contains(body, "local-only") && !strings.Contains(body, "local tools") {
			t.Errorf("%s %s %v: %d %q; want 403", r.method, r.path, r.header, status, body)
		}
		for k := range h {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Errorf("%s %s answered with CORS header %s", r.method, r.path, k)
			}
		}
	}
	allowed := []map[string]string{
		listTables, // SDKs, curl, the AWS CLI: no browser headers
		with(listTables, "Origin", "http://127.0.0.1:"+p, "Sec-Fetch-Site", "same-origin"),
		with(listTables, "Origin", "http://localhost:"+p), // the stack under its other loopback name
		with(listTables, "Sec-Fetch-Site", "same-origin"),
		with(listTables, "Sec-Fetch-Site", "none"), // typed into the address bar
	}
	for _, h := range allowed {
		if status, body, _ := s.request(t, "POST", "/local/dynamodb", "", h, "{}"); status != http.StatusOK {
			t.Errorf("POST /local/dynamodb %v: %d %q; want 200", h, status, body)
		}
	}
	// Following a link from elsewhere to a local page reads nothing back to
	// the other site: a top-level navigation passes.
	if status, _, _ := s.request(t, "GET", "/local/metrics", "", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, ""); status != http.StatusOK {
		t.Errorf("navigation to /local/metrics from another site = %d; want 200", status)
	}
	if status, _, _ := s.request(t, "POST", "/@connections/abc", "", nil, "{}"); status != http.StatusGone {
		t.Errorf("PostToConnection without browser headers = %d; want 410 for an unknown connection", status)
	}
	// The widget is embedded on other sites: the WebSocket API takes any Origin.
	if status := wsclient403(t, s, "", "https://shop.example"); status != 0 {
		t.Errorf("WebSocket upgrade from another site's page = %d; want it upgraded", status)
	}
}

// TestSlowRequestsAreCut: a client that sends its request slowly is cut at
// the read timeout, while a WebSocket outlives it.
func TestSlowRequestsAreCut(t *testing.T) {
	const rt = 200 * time.Millisecond
	s := startStack(t, embedded, func(o *Options) { o.ReadTimeout = rt })
	ws := s.dial(t, "patient", s.customerToken(t, "persistent", "patient"))

	nc, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "POST /local/dynamodb HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 1000\r\n\r\n{")
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(nc)) // until the server closes it
		close(ended)
	}()
	poll.Until(t, "the server to cut the slow request", func() bool {
		select {
		case <-ended:
			return true
		default:
			return false
		}
	})
	// Well past the read timeout, the WebSocket is still served.
	if poll.Within(5*rt, func() bool {
		select {
		case <-ws.Closed():
			return true
		default:
			return false
		}
	}) {
		t.Fatal("the WebSocket closed at the server's read timeout")
	}
	ws.OK("ping", nil)
}

// TestPushesReuseConnections: the handlers' pushes and store requests go
// over pooled connections (issue 10: every push opened a loopback
// connection of its own, and a ping flood ran the process out of file
// descriptors).
func TestPushesReuseConnections(t *testing.T) {
	s := startStack(t, embedded)
	// Ten customers, so that no connection or person goes over its request
	// budget (the pings must all be served to count their pushes).
	var pingers []*client
	for i := range 10 {
		name := fmt.Sprintf("pinger%d", i)
		c := s.dial(t, name, s.customerToken(t, "persistent", name))
		c.OK("ping", nil)
		pingers = append(pingers, c)
	}
	// A burst's pongs can arrive before its invocations have ended, so two
	// bursts together stay within the connection's 32 invocations.
	const bursts, burst = 20, 10
	before := s.accepted.Load()
	for b := range bursts {
		c := pingers[b%len(pingers)]
		ids := make([]string, burst)
		for i := range ids {
			ids[i] = fmt.Sprintf("p%d-%d", b, i)
			c.Write(map[string]any{"action": "ping", "requestId": ids[i]})
		}
		for _, id := range ids {
			if r := c.Reply(id); r["type"] != "pong" {
				t.Fatalf("ping %s: %v", id, r)
			}
		}
	}
	if opened := s.accepted.Load() - before; opened > 2*burst {
		t.Errorf("%d pings in bursts of %d opened %d connections to the stack; want the handlers' connections reused (at most %d)", bursts*burst, burst, opened, 2*burst)
	}
}

// TestWarnsBeyondLoopback: listening beyond loopback is logged loudly, as
// the stack has no authentication of its own.
func TestWarnsBeyondLoopback(t *testing.T) {
	var buf testLog
	startStack(t, embedded, func(o *Options) {
		o.Addr = "0.0.0.0:0"
		o.Log = slog.New(slog.NewJSONHandler(&buf, nil))
	})
	buf.mu.Lock()
	out := buf.buf.String()
	buf.mu.Unlock()
	if !strings.Contains(out, `"level":"WARN","msg":"WARNING: the local stack listens beyond loopback`) {
		t.Errorf("log of a stack on 0.0.0.0 = %s; want the warning", out)
	}
	var loop testLog
	startStack(t, embedded, func(o *Options) { o.Log = slog.New(slog.NewJSONHandler(&loop, nil)) })
	loop.mu.Lock()
	defer loop.mu.Unlock()
	if strings.Contains(loop.buf.String(), "beyond loopback") {
		t.Error("a stack on 127.0.0.1 warned that it listens beyond loopback")
	}
}
