package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"
)

func TestSelectionKey(t *testing.T) {
	tests := []struct {
		expr, body, want string
	}{
		{"$request.body.action", `{"action":"send"}`, "send"},
		{"$request.body.action", `{"action":12}`, "12"},
		{"$request.body.action", `{"action":1.50}`, "1.50"},
		{"$request.body.action", `{"action":true}`, "true"},
		{"$request.body.action", `{"action":null}`, ""},
		{"$request.body.action", `{"other":"send"}`, ""},
		{"$request.body.action", `not json`, ""},
		{"$request.body.action", `{"action":"send"} {}`, ""},
		{"$request.body.action", `["send"]`, ""},
		{"$request.body.action", `{"action":{"x":1}}`, `{"x":1}`},
		{"$request.body.route.name", `{"route":{"name":"park"}}`, "park"},
		{"$request.body.route.name", `{"route":"park"}`, ""},
		{"${request.body.action}", `{"action":"send"}`, "send"},
	}
	for _, tt := range tests {
		sel, err := parseSelection(tt.expr)
		if err != nil {
			t.Fatalf("parseSelection(%q) = %v", tt.expr, err)
		}
		if got := sel.key(tt.body); got != tt.want {
			t.Errorf("key(%s, %s) = %q; want %q", tt.expr, tt.body, got, tt.want)
		}
	}
	for _, bad := range []string{"", "$request.body.", "$request.header.x", "action", "$request.body.a..b"} {
		if _, err := parseSelection(bad); err == nil {
			t.Errorf("parseSelection(%q) = nil error; want unsupported", bad)
		}
	}
}

// routed returns a route handler that reports its route key and body.
func routed(got chan<- string) func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	return func(_ context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		got <- ev.RequestContext.RouteKey + " " + ev.Body
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: "dropped"}, nil
	}
}

func echo(_ context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: "echo " + ev.Body}, nil
}

func TestRouting(t *testing.T) {
	got := make(chan string, 8)
	s := newStack(t, Config{Routes: map[string]Route{
		"send":       {Function: fn("Send", routed(got))},
		"12":         {Function: fn("Twelve", routed(got))},
		RouteDefault: {Function: fn("Default", routed(got))},
		// Never reachable from a frame: custom keys cannot start with "$".
		RouteDisconnect: {Function: fn("Disconnect", func(context.Context, events.APIGatewayWebsocketProxyRequest) error { return nil })},
	}})
	c := s.dial(t, "", nil)
	for _, tt := range []struct{ body, want string }{
		{`{"action":"send","text":"hi"}`, `send {"action":"send","text":"hi"}`},
		{`{"action":12}`, `12 {"action":12}`},
		{`{"action":"nope"}`, `$default {"action":"nope"}`},
		{`{"action":"$disconnect"}`, `$default {"action":"$disconnect"}`},
		{`hello`, `$default hello`},
		{`{}`, `$default {}`},
	} {
		write(t, c, tt.body)
		select {
		case g := <-got:
			if g != tt.want {
				t.Errorf("frame %s routed as %q; want %q", tt.body, g, tt.want)
			}
		case <-time.After(wait):
			t.Fatalf("frame %s was not routed", tt.body)
		}
	}
	// One-way routes: nothing the functions returned comes back.
	write(t, c, `{"action":"send"}`)
	<-got
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, p, err := c.Read(ctx); err == nil {
		t.Errorf("one-way route sent %q back; want its return value dropped", p)
	}
}

// errorFrame is API Gateway's error frame, decoded.
type errorFrame struct {
	Message      string `json:"message"`
	ConnectionID string `json:"connectionId"`
	RequestID    string `json:"requestId"`
}

func readErrorFrame(t *testing.T, c *websocket.Conn) (errorFrame, string) {
	t.Helper()
	raw := read(t, c)
	var f errorFrame
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		t.Fatalf("error frame %q: %v", raw, err)
	}
	if !idPattern.MatchString(f.ConnectionID) || !idPattern.MatchString(f.RequestID) {
		t.Errorf("error frame %s; want connectionId and requestId", raw)
	}
	return f, raw
}

func TestForbiddenWithoutDefault(t *testing.T) {
	s := newStack(t, Config{Routes: map[string]Route{"echo": {Function: fn("Echo", echo), RouteResponse: true}}})
	c := s.dial(t, "", nil)
	write(t, c, `{"action":"nope"}`)
	f, raw := readErrorFrame(t, c)
	if f.Message != "Forbidden" || !strings.HasPrefix(raw, `{"message": "Forbidden", "connectionId":"`) {
		t.Errorf("unmatched frame got %s; want API Gateway's Forbidden frame", raw)
	}
	write(t, c, `{"action":"echo"}`)
	if got := read(t, c); got != `echo {"action":"echo"}` {
		t.Errorf("after Forbidden, echo = %q; want the connection still routing", got)
	}
}

func TestIntegrationFailureKeepsConnection(t *testing.T) {
	slowFn := fn("Slow", func(ctx context.Context) error {
		<-ctx.Done()                        // runs past its deadline
		<-time.After(10 * time.Millisecond) // and then some: the case under test
		return nil
	})
	slowFn.Timeout = 50 * time.Millisecond
	s := newStack(t, Config{Routes: map[string]Route{
		"boom": {Function: fn("Boom", func(context.Context) error { panic("nil pointer") })},
		"fail": {Function: fn("Fail", func(context.Context) error { return errors.New("table missing") })},
		"slow": {Function: slowFn},
		"echo": {Function: fn("Echo", echo), RouteResponse: true},
	}})
	c := s.dial(t, "", nil)
	var connID string
	for _, action := range []string{"boom", "fail", "slow"} {
		write(t, c, `{"action":"`+action+`"}`)
		f, raw := readErrorFrame(t, c)
		if f.Message != "Internal server error" || !strings.HasPrefix(raw, `{"message": "Internal server error", "connectionId":"`) {
			t.Errorf("%s got %s; want the Internal server error frame", action, raw)
		}
		if connID != "" && f.ConnectionID != connID {
			t.Errorf("%s error frame connectionId = %s; want %s", action, f.ConnectionID, connID)
		}
		connID = f.ConnectionID
		write(t, c, `{"action":"echo","after":"`+action+`"}`)
		if got, want := read(t, c), `echo {"action":"echo","after":"`+action+`"}`; got != want {
			t.Errorf("after %s, echo = %q; want %q", action, got, want)
		}
	}
	var failed int
	for _, l := range s.logs.lines() {
		if l["msg"] == "integration failed" {
			failed++
		}
	}
	if failed != 3 {
		t.Errorf("%d 'integration failed' log lines; want 3", failed)
	}
}

func TestMessagesRunConcurrently(t *testing.T) {
	release := make(chan struct{})
	s := newStack(t, Config{Routes: map[string]Route{
		"slow": {Function: fn("Slow", func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			<-release
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: "slow done"}, nil
		}), RouteResponse: true},
		"echo": {Function: fn("Echo", echo), RouteResponse: true},
	}})
	c := s.dial(t, "", nil)
	write(t, c, `{"action":"slow"}`)
	write(t, c, `{"action":"echo"}`)
	if got := read(t, c); got != `echo {"action":"echo"}` {
		t.Errorf("first reply = %q; want echo's while slow is still running", got)
	}
	close(release)
	if got := read(t, c); got != "slow done" {
		t.Errorf("second reply = %q; want slow's", got)
	}
}

func TestRouteResponseBase64(t *testing.T) {
	s := newStack(t, Config{Routes: map[string]Route{
		RouteDefault: {Function: fn("B64", func(context.Context, json.RawMessage) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: "aGk=", IsBase64Encoded: true}, nil
		}), RouteResponse: true},
	}})
	c := s.dial(t, "", nil)
	write(t, c, "x")
	if got := read(t, c); got != "hi" {
		t.Errorf("base64 route response = %q; want hi", got)
	}
}

func TestInvocationLog(t *testing.T) {
	s := newStack(t, Config{Routes: map[string]Route{"echo": {Function: fn("Echo", echo), RouteResponse: true}}})
	c := s.dial(t, "", nil)
	write(t, c, `{"action":"echo"}`)
	read(t, c)
	for _, l := range s.logs.lines() {
		if l["route"] != "echo" {
			continue
		}
		for _, k := range []string{"connectionId", "requestId", "duration", "function", "lambdaRequestId"} {
			if _, ok := l[k]; !ok {
				t.Errorf("log line %v has no %s", l, k)
			}
		}
		return
	}
	t.Errorf("no JSON log line with route echo in %v", s.logs.lines())
}
