package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/coder/websocket"
	"github.com/gobwas/ws"

	"github.com/parley-chat/parley/cmd/parley-local/internal/invoke"
	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

// wait bounds every wait in these tests; nothing should come near it.
const wait = 5 * time.Second

// idPattern is the shape of API Gateway's connection, request and message ids.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{15}=$`)

// fn wraps a Go handler the way the functions' mains hand it to lambda.Start.
func fn(name string, handler any) *invoke.Function {
	return &invoke.Function{
		Name:    name,
		ARN:     "arn:aws:lambda:eu-west-1:123456789012:function:" + name,
		Timeout: 2 * time.Second,
		Handler: invoke.NewHandler(handler),
		Log:     slog.New(slog.DiscardHandler),
	}
}

// recorder collects the raw events a test function received.
type recorder chan json.RawMessage

func newRecorder() recorder { return make(recorder, 64) }

// handler returns a route handler that records its event and answers status.
func (r recorder) handler(status int) func(context.Context, json.RawMessage) (events.APIGatewayProxyResponse, error) {
	return func(_ context.Context, ev json.RawMessage) (events.APIGatewayProxyResponse, error) {
		r <- append(json.RawMessage(nil), ev...)
		return events.APIGatewayProxyResponse{StatusCode: status}, nil
	}
}

func (r recorder) next(t *testing.T) json.RawMessage {
	t.Helper()
	select {
	case ev := <-r:
		return ev
	case <-time.After(wait):
		t.Fatal("no event within the wait")
		return nil
	}
}

// none asserts that nothing arrives for a short while.
func (r recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-r:
		t.Fatalf("unexpected event %s", ev)
	case <-time.After(d):
	}
}

// syncBuffer is a log sink safe for the gateway's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// stack is a gateway behind a real HTTP server, mounted as parley-local
// mounts it.
type stack struct {
	g       *Gateway
	srv     *httptest.Server
	logs    *syncBuffer
	metrics *metrics.Counters
}

func newStack(t *testing.T, cfg Config) *stack {
	t.Helper()
	s := &stack{logs: &syncBuffer{}, metrics: metrics.New()}
	if cfg.APIID == "" {
		cfg.APIID, cfg.Stage, cfg.Region, cfg.AccountID = "abc123", "prod", "eu-west-1", "123456789012"
	}
	if cfg.RouteSelectionExpression == "" {
		cfg.RouteSelectionExpression = "$request.body.action"
	}
	cfg.Metrics = s.metrics
	cfg.Log = slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.g = New(cfg)
	mux := http.NewServeMux()
	mux.Handle("GET /ws", s.g.WebSocket())
	mux.Handle("/@connections/", s.g.Management())
	mux.Handle("/"+cfg.Stage+"/@connections/", s.g.Management())
	s.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := s.g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown = %v; want nil", err)
		}
		s.srv.Close()
	})
	return s
}

func (s *stack) url(query string) string {
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws"
	if query != "" {
		u += "?" + query
	}
	return u
}

// dial connects a coder/websocket client and fails the test if refused.
func (s *stack) dial(t *testing.T, query string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, s.url(query), opts)
	if err != nil {
		t.Fatalf("Dial(%s) = %v; want a connection", s.url(query), err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// refusedWith dials and returns the HTTP status of the refused upgrade.
func (s *stack) refusedWith(t *testing.T, query string, header http.Header) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, s.url(query), &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		_ = c.CloseNow()
		t.Fatalf("Dial(%s) upgraded; want a refusal", query)
	}
	if resp == nil {
		t.Fatalf("Dial(%s) = %v with no HTTP response; want a refusal status", query, err)
	}
	return resp.StatusCode
}

// client is the real Management API client, pointed at the stack the way
// handlers point it at API Gateway: BaseEndpoint = https://{domain}/{stage}.
func (s *stack) client() *apigatewaymanagementapi.Client {
	return apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		BaseEndpoint: aws.String(s.srv.URL + "/prod"),
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", ""),
	})
}

// read reads one text message from a coder/websocket client.
func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	typ, p, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("Read = %v; want a message", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("Read type = %v; want text", typ)
	}
	return string(p)
}

func write(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("Write(%q) = %v", msg, err)
	}
}

// closedWith reads until the connection closes and returns the close frame.
func closedWith(t *testing.T, c *websocket.Conn) websocket.CloseError {
	t.Helper()
	ce, err := closeOf(c)
	if err != nil {
		t.Fatal(err)
	}
	return ce
}

// closeOf is closedWith for goroutines other than the test's, which must
// not call t.Fatal.
func closeOf(c *websocket.Conn) (websocket.CloseError, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			return ce, fmt.Errorf("Read = %w; want a close frame", err)
		}
		return ce, nil
	}
}

// rawConn is a frame-level client for the limit tests, which need frames
// no well-behaved client library would send.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	r  io.Reader
}

func (s *stack) dialRaw(t *testing.T, query string) *rawConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	nc, br, _, err := ws.Dial(ctx, s.url(query))
	if err != nil {
		t.Fatalf("ws.Dial = %v", err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	var r io.Reader = nc
	if br != nil {
		r = io.MultiReader(br, nc)
	}
	return &rawConn{t: t, nc: nc, r: bufio.NewReader(r)}
}

// send writes one masked client frame.
func (c *rawConn) send(op ws.OpCode, fin bool, payload []byte) {
	c.t.Helper()
	p := append([]byte(nil), payload...)
	if err := ws.WriteFrame(c.nc, ws.MaskFrameInPlace(ws.NewFrame(op, fin, p))); err != nil {
		c.t.Fatalf("write %v frame = %v", op, err)
	}
}

// next reads one server frame.
func (c *rawConn) next() ws.Frame {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(wait))
	//lint:ignore SA1019 the peer is the gateway under test, whose frames its own limits bound
	f, err := ws.ReadFrame(c.r)
	if err != nil {
		c.t.Fatalf("read frame = %v", err)
	}
	if f.Header.Masked {
		c.t.Fatalf("server frame is masked")
	}
	return f
}

// closed reads frames until the server's close frame and returns it.
func (c *rawConn) closed() (ws.StatusCode, string) {
	c.t.Helper()
	for {
		f := c.next()
		if f.Header.OpCode == ws.OpClose {
			code, reason := ws.ParseCloseFrameData(f.Payload)
			return code, reason
		}
	}
}

// eof asserts that the server dropped TCP (after its close handshake).
func (c *rawConn) eof() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(wait))
	if _, err := io.ReadAll(c.r); err != nil {
		c.t.Fatalf("read after close = %v; want EOF", err)
	}
}

// keys returns the sorted keys of a JSON object.
func keys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// field returns one member of a JSON object.
func field(t *testing.T, raw json.RawMessage, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return m[name]
}

func decodeEvent(t *testing.T, raw json.RawMessage) events.APIGatewayWebsocketProxyRequest {
	t.Helper()
	var ev events.APIGatewayWebsocketProxyRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return ev
}
