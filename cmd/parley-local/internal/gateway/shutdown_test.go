package gateway

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

func TestShutdown(t *testing.T) {
	disconnects := newRecorder()
	started, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	s := newStack(t, Config{Routes: map[string]Route{
		RouteDisconnect: {Function: fn("Disconnect", disconnects.handler(200))},
		"slow": {Function: fn("Slow", func(context.Context, events.APIGatewayWebsocketProxyRequest) error {
			close(started)
			<-release // in flight until the test says
			finished.Store(true)
			return nil
		})},
	}})
	clients := make([]*websocket.Conn, 3)
	closed := make(chan websocket.CloseError, len(clients))
	for i := range clients {
		clients[i] = s.dial(t, "", nil)
		go func(c *websocket.Conn) {
			ce, err := closeOf(c)
			if err != nil {
				t.Error(err)
			}
			closed <- ce
		}(clients[i])
	}
	write(t, clients[0], `{"action":"slow"}`)
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.g.Shutdown(ctx) }()
	// Shutdown is under way once upgrades are refused; the invocation is
	// still in flight, so it must not have returned.
	poll.Until(t, "Shutdown to refuse upgrades", func() bool { return s.refusedWith(t, "", nil) == http.StatusServiceUnavailable })
	select {
	case err := <-shut:
		t.Fatalf("Shutdown = %v with an invocation in flight; want it to wait", err)
	default:
	}
	close(release)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if !finished.Load() {
		t.Error("Shutdown returned before the in-flight invocation ended")
	}
	seen := map[string]bool{}
	for range clients {
		if ce := <-closed; ce.Code != websocket.StatusGoingAway {
			t.Errorf("client closed with %v; want 1001", ce)
		}
		rc := decodeEvent(t, disconnects.next(t)).RequestContext
		if rc.DisconnectStatusCode != 1001 || *rc.DisconnectReason != "Going away" {
			t.Errorf("$disconnect = %d %q; want 1001 Going away", rc.DisconnectStatusCode, *rc.DisconnectReason)
		}
		seen[rc.ConnectionID] = true
	}
	if len(seen) != len(clients) {
		t.Errorf("$disconnect for %d connections; want each of %d once", len(seen), len(clients))
	}
	disconnects.none(t, 50*time.Millisecond)

	if got := s.refusedWith(t, "", nil); got != http.StatusServiceUnavailable {
		t.Errorf("upgrade after Shutdown = %d; want 503", got)
	}
}

func TestShutdownGivesUpAtDeadline(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	s := newStack(t, Config{Routes: map[string]Route{
		"stuck": {Function: fn("Stuck", func(context.Context) error {
			close(started)
			<-release
			return nil
		})},
	}})
	t.Cleanup(func() { close(release) }) // runs before the stack's own Shutdown
	c := s.dial(t, "", nil)
	go func() { _, _ = closeOf(c) }() // answer the close, so only the invocation holds Shutdown up
	write(t, c, `{"action":"stuck"}`)
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.g.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v with an invocation still running; want the context's error", err)
	}
}
