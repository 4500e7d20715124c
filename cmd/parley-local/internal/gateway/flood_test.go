package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

// TestInflightBound: one connection cannot load more than Limits.Inflight
// invocations onto the integrations; every frame over the bound is still
// answered, once, with API Gateway's error frame, and invokes nothing.
func TestInflightBound(t *testing.T) {
	const bound, frames = 3, 10
	release := make(chan struct{})
	var running, invoked atomic.Int32
	s := newStack(t, Config{Limits: Limits{Inflight: bound}, Routes: map[string]Route{
		"slow": {Function: fn("Slow", func(_ context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			invoked.Add(1)
			running.Add(1)
			defer running.Add(-1)
			<-release
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: "done " + ev.Body}, nil
		}), RouteResponse: true},
		"echo": {Function: fn("Echo", echo), RouteResponse: true},
	}})
	c := s.dial(t, "", nil)
	for i := range bound {
		write(t, c, fmt.Sprintf(`{"action":"slow","n":%d}`, i))
	}
	poll.Until(t, "the first invocations to run", func() bool { return running.Load() == bound })
	for i := bound; i < frames; i++ {
		write(t, c, fmt.Sprintf(`{"action":"slow","n":%d}`, i))
	}
	for range frames - bound {
		if f, raw := readErrorFrame(t, c); f.Message != "Too Many Requests" {
			t.Errorf("frame over the bound got %s; want API Gateway's Too Many Requests frame", raw)
		}
	}
	close(release)
	done := map[string]bool{}
	for range bound {
		done[read(t, c)] = true
	}
	for i := range bound {
		if want := fmt.Sprintf(`done {"action":"slow","n":%d}`, i); !done[want] {
			t.Errorf("replies = %v; want %q among them", done, want)
		}
	}
	if got := invoked.Load(); got != bound {
		t.Errorf("invocations = %d; want %d (frames over the bound invoke nothing)", got, bound)
	}
	// The slots are free again.
	write(t, c, `{"action":"echo"}`)
	if got := read(t, c); got != `echo {"action":"echo"}` {
		t.Errorf("after the flood, echo = %q", got)
	}
}

// TestShutdownAnswersRequestsItTook: a request the gateway took before
// Shutdown gets its reply before the connection closes (issue 10: SIGTERM
// closed the sockets first and the replies of the requests in flight were
// lost); one that arrives during Shutdown gets an error frame.
func TestShutdownAnswersRequestsItTook(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	s := newStack(t, Config{Routes: map[string]Route{
		"slow": {Function: fn("Slow", func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			close(started)
			<-release
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: "slow done"}, nil
		}), RouteResponse: true},
		"echo": {Function: fn("Echo", echo), RouteResponse: true},
	}})
	c := s.dial(t, "", nil)
	write(t, c, `{"action":"slow"}`)
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.g.Shutdown(ctx) }()
	poll.Until(t, "Shutdown to refuse upgrades", func() bool { return s.refusedWith(t, "", nil) == http.StatusServiceUnavailable })

	write(t, c, `{"action":"echo"}`)
	if f, raw := readErrorFrame(t, c); f.Message != "Going away" {
		t.Errorf("frame sent during Shutdown got %s; want an error frame", raw)
	}
	close(release)
	if got := read(t, c); got != "slow done" {
		t.Errorf("reply of the request taken before Shutdown = %q; want it delivered before the close", got)
	}
	if ce := closedWith(t, c); !strings.Contains(ce.Reason, "Going away") {
		t.Errorf("close = %v; want 1001 Going away after the reply", ce)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
}

// TestManagementFaults: with FaultRate 1 every Management API call fails,
// as a 500 (nothing delivered) or a 410 (and the connection really
// drops, $disconnect reporting 1006), in the SDK's typed errors.
func TestManagementFaults(t *testing.T) {
	disconnects := newRecorder()
	s := newStack(t, Config{FaultRate: 1, Routes: map[string]Route{
		RouteDisconnect: {Function: fn("Disconnect", disconnects.handler(200))},
		"whoami": {Function: fn("WhoAmI", func(_ context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: ev.RequestContext.ConnectionID}, nil
		}), RouteResponse: true},
	}})
	for range 20 {
		c := s.dial(t, "", nil)
		write(t, c, `{"action":"whoami"}`)
		id := read(t, c)
		_, err := s.client().PostToConnection(context.Background(), &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("x")})
		var gone *types.GoneException
		switch {
		case errors.As(err, &gone):
			if _, err := closeOf(c); err == nil {
				t.Error("after a 410 fault the connection closed with a close frame; want the socket dropped")
			}
			if rc := decodeEvent(t, disconnects.next(t)).RequestContext; rc.ConnectionID != id || rc.DisconnectStatusCode != 1006 {
				t.Errorf("$disconnect after a 410 fault = %s %d; want %s 1006", rc.ConnectionID, rc.DisconnectStatusCode, id)
			}
			return
		case err == nil:
			t.Fatal("PostToConnection succeeded at FaultRate 1")
		default:
			var re interface{ HTTPStatusCode() int }
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError {
				t.Fatalf("PostToConnection fault = %v; want a 500 or a GoneException", err)
			}
		}
		_ = c.CloseNow()
		disconnects.next(t)
	}
	t.Error("no 410 fault in 20 calls")
}
