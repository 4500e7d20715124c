package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/aws/smithy-go"
	"github.com/coder/websocket"
	"github.com/gobwas/ws"

	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

// connected dials and returns the client and its connection id, learnt the
// way a handler learns it: from the $connect event.
func connected(t *testing.T, s *stack, ids recorder) (*websocket.Conn, string) {
	t.Helper()
	c := s.dial(t, "", &websocket.DialOptions{HTTPHeader: http.Header{"User-Agent": {"parley-test/1"}}})
	return c, decodeEvent(t, ids.next(t)).RequestContext.ConnectionID
}

func managementStack(t *testing.T, limits Limits) (*stack, recorder, recorder) {
	connect, disconnect := newRecorder(), newRecorder()
	s := newStack(t, Config{Limits: limits, Routes: map[string]Route{
		RouteConnect:    {Function: fn("Connect", connect.handler(200))},
		RouteDisconnect: {Function: fn("Disconnect", disconnect.handler(200))},
		RouteDefault:    {Function: fn("Default", func(context.Context, json.RawMessage) error { return nil })},
	}})
	return s, connect, disconnect
}

func TestManagementWithSDK(t *testing.T) {
	s, connect, disconnect := managementStack(t, Limits{})
	c, id := connected(t, s, connect)
	ctx := context.Background()
	api := s.client()

	if _, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(`{"type":"pong"}`)}); err != nil {
		t.Fatalf("PostToConnection = %v", err)
	}
	if got := read(t, c); got != `{"type":"pong"}` {
		t.Errorf("client got %q; want the posted frame", got)
	}

	write(t, c, "activity") // to $default: moves lastActiveAt
	before := time.Now().Add(-time.Second)
	info, err := api.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetConnection = %v", err)
	}
	if aws.ToString(info.Identity.SourceIp) != "127.0.0.1" || aws.ToString(info.Identity.UserAgent) != "parley-test/1" {
		t.Errorf("GetConnection identity = %s, %s; want 127.0.0.1, parley-test/1", aws.ToString(info.Identity.SourceIp), aws.ToString(info.Identity.UserAgent))
	}
	if info.ConnectedAt == nil || info.LastActiveAt == nil || info.ConnectedAt.Before(before.Add(-wait)) || info.LastActiveAt.Before(*info.ConnectedAt) {
		t.Errorf("GetConnection connectedAt, lastActiveAt = %v, %v; want recent and in order", info.ConnectedAt, info.LastActiveAt)
	}

	if _, err := api.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)}); err != nil {
		t.Fatalf("DeleteConnection = %v", err)
	}
	if ce := closedWith(t, c); ce.Code != websocket.StatusNormalClosure {
		t.Errorf("client close after DeleteConnection = %v; want 1000", ce)
	}
	rc := decodeEvent(t, disconnect.next(t)).RequestContext
	if rc.DisconnectStatusCode != 1000 || *rc.DisconnectReason != "Connection Closed Normally" || rc.ConnectionID != id {
		t.Errorf("$disconnect after DeleteConnection = %d %q on %s; want 1000 Connection Closed Normally on %s", rc.DisconnectStatusCode, *rc.DisconnectReason, rc.ConnectionID, id)
	}
	disconnect.none(t, 50*time.Millisecond) // once, though the client answered the close too

	for name, call := range map[string]func(id string) error{
		"PostToConnection": func(id string) error {
			_, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("x")})
			return err
		},
		"GetConnection": func(id string) error {
			_, err := api.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
			return err
		},
		"DeleteConnection": func(id string) error {
			_, err := api.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)})
			return err
		},
	} {
		for _, target := range []string{id, newID()} {
			err := call(target)
			if gone, ok := errors.AsType[*types.GoneException](err); !ok {
				t.Errorf("%s(%s) = %v; want *types.GoneException", name, target, err)
			} else if gone.ErrorCode() != "GoneException" {
				t.Errorf("%s(%s) error code = %q; want GoneException", name, target, gone.ErrorCode())
			}
		}
	}

	got := s.metrics.Snapshot()[metrics.ManagementAPI]
	if got["PostToConnection"] != 3 || got["GetConnection"] != 3 || got["DeleteConnection"] != 3 {
		t.Errorf("Management API counters = %v; want 3 of each", got)
	}
}

func TestPostTooLarge(t *testing.T) {
	s, connect, _ := managementStack(t, Limits{FrameBytes: 64, MessageBytes: 256})
	c, id := connected(t, s, connect)
	_, err := s.client().PostToConnection(context.Background(), &apigatewaymanagementapi.PostToConnectionInput{
		ConnectionId: aws.String(id), Data: []byte(strings.Repeat("x", 257)),
	})
	var tooLarge *types.PayloadTooLargeException
	if !errors.As(err, &tooLarge) {
		t.Errorf("PostToConnection(257 bytes) = %v; want *types.PayloadTooLargeException", err)
	}
	// The connection is unharmed and a message at the limit goes through,
	// split into frames of at most FrameBytes.
	want := strings.Repeat("y", 256)
	if _, err := s.client().PostToConnection(context.Background(), &apigatewaymanagementapi.PostToConnectionInput{
		ConnectionId: aws.String(id), Data: []byte(want),
	}); err != nil {
		t.Fatalf("PostToConnection(256 bytes) = %v", err)
	}
	if got := read(t, c); got != want {
		t.Errorf("client got %d bytes; want the 256 posted", len(got))
	}
}

func TestPostIsFragmentedAtFrameLimit(t *testing.T) {
	s, connect, _ := managementStack(t, Limits{FrameBytes: 100, MessageBytes: 1000})
	raw := s.dialRaw(t, "")
	id := decodeEvent(t, connect.next(t)).RequestContext.ConnectionID
	msg := strings.Repeat("abcdefghij", 25) // 250 bytes: 100 + 100 + 50
	if _, err := s.client().PostToConnection(context.Background(), &apigatewaymanagementapi.PostToConnectionInput{
		ConnectionId: aws.String(id), Data: []byte(msg),
	}); err != nil {
		t.Fatal(err)
	}
	var frames []string
	var got string
	for {
		f := raw.next()
		frames = append(frames, fmt.Sprintf("%v/%v/%d", f.Header.OpCode, f.Header.Fin, len(f.Payload)))
		got += string(f.Payload)
		if f.Header.Fin {
			break
		}
	}
	want := []string{
		fmt.Sprintf("%v/false/100", ws.OpText),
		fmt.Sprintf("%v/false/100", ws.OpContinuation),
		fmt.Sprintf("%v/true/50", ws.OpContinuation),
	}
	if fmt.Sprint(frames) != fmt.Sprint(want) || got != msg {
		t.Errorf("frames = %v; want %v carrying the message", frames, want)
	}
}

func TestConcurrentPostsAreSerialized(t *testing.T) {
	s, connect, _ := managementStack(t, Limits{FrameBytes: 16, MessageBytes: 1024})
	c, id := connected(t, s, connect)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			msg := fmt.Sprintf("%02d:%s", i, strings.Repeat(fmt.Sprint(i%10), 60)) // several frames each
			if _, err := s.client().PostToConnection(context.Background(), &apigatewaymanagementapi.PostToConnectionInput{
				ConnectionId: aws.String(id), Data: []byte(msg),
			}); err != nil {
				t.Errorf("PostToConnection %d = %v", i, err)
			}
		})
	}
	seen := map[string]bool{}
	for range n {
		got := read(t, c)
		i := got[:2]
		if want := fmt.Sprintf("%s:%s", i, strings.Repeat(string(i[1]), 60)); got != want {
			t.Errorf("message %q interleaved; want %q", got, want)
		}
		seen[i] = true
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("got %d distinct messages; want %d", len(seen), n)
	}
}

func TestManagementPaths(t *testing.T) {
	s, connect, _ := managementStack(t, Limits{})
	c, id := connected(t, s, connect)
	for _, tt := range []struct {
		path      string
		status    int
		errorType string
	}{
		{"/@connections/" + url.PathEscape(id), http.StatusOK, ""},
		{"/prod/@connections/" + strings.ReplaceAll(id, "=", "%3D"), http.StatusOK, ""},
		{"/dev/@connections/" + url.PathEscape(id), http.StatusForbidden, "ForbiddenException"},
		{"/prod/@connections/", http.StatusForbidden, "ForbiddenException"},
		{"/prod/@connections/" + url.PathEscape(newID()), http.StatusGone, "GoneException"},
	} {
		// Straight to the handler: the stack's mux would not route /dev/.
		rec := httptest.NewRecorder()
		s.g.Management().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader("hi")))
		resp := rec.Result()
		var body struct{ Message string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != tt.status || resp.Header.Get("X-Amzn-ErrorType") != tt.errorType {
			t.Errorf("POST %s = %d %q; want %d %q", tt.path, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tt.status, tt.errorType)
		}
		if tt.errorType != "" && body.Message == "" {
			t.Errorf("POST %s error body has no message", tt.path)
		}
		if tt.status == http.StatusOK {
			if got := read(t, c); got != "hi" {
				t.Errorf("POST %s delivered %q; want hi", tt.path, got)
			}
		}
	}
}

func TestHandlerRepliesThroughManagementAPI(t *testing.T) {
	// The usual reply path: a route handler posts to its own connection
	// with the SDK, aimed at https://{domainName}/{stage} as in AWS.
	var s *stack
	s = newStack(t, Config{Routes: map[string]Route{
		"ping": {Function: fn("Ping", func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			rc := ev.RequestContext
			api := apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
				BaseEndpoint: aws.String("http://" + rc.DomainName + "/" + rc.Stage),
				Region:       "eu-west-1",
				Credentials:  s.client().Options().Credentials,
			})
			_, err := api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(rc.ConnectionID), Data: []byte(`{"type":"pong"}`)})
			return events.APIGatewayProxyResponse{StatusCode: 200}, err
		})},
	}})
	c := s.dial(t, "", nil)
	write(t, c, `{"action":"ping"}`)
	if got := read(t, c); got != `{"type":"pong"}` {
		t.Errorf("reply = %q; want the handler's PostToConnection", got)
	}
}

// Compile-time check that the SDK's typed errors are smithy API errors,
// which is what lets errors.As find them.
var _ smithy.APIError = (*types.GoneException)(nil)
