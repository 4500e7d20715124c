package gateway

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
)

// limitStack has tiny limits and records MESSAGE and DISCONNECT events.
func limitStack(t *testing.T, limits Limits) (s *stack, messages, disconnects recorder) {
	t.Helper()
	messages, disconnects = newRecorder(), newRecorder()
	s = newStack(t, Config{Limits: limits, Routes: map[string]Route{
		RouteDefault:    {Function: fn("Default", messages.handler(200))},
		RouteDisconnect: {Function: fn("Disconnect", disconnects.handler(200))},
	}})
	return s, messages, disconnects
}

// disconnected returns the $disconnect status and reason.
func disconnected(t *testing.T, r recorder) (int64, string) {
	t.Helper()
	rc := decodeEvent(t, r.next(t)).RequestContext
	if rc.DisconnectReason == nil {
		t.Fatalf("$disconnect without disconnectReason")
	}
	return rc.DisconnectStatusCode, *rc.DisconnectReason
}

func TestFrameAndMessageLimits(t *testing.T) {
	small := Limits{FrameBytes: 100, MessageBytes: 250}
	tests := []struct {
		name       string
		frames     func(c *rawConn)
		wantCode   ws.StatusCode
		wantReason string
	}{
		{
			name:       "frame over FrameBytes",
			frames:     func(c *rawConn) { c.send(ws.OpText, true, []byte(strings.Repeat("x", 101))) },
			wantCode:   closeTooBig,
			wantReason: reasonTooBig,
		},
		{
			name: "fragmented message over MessageBytes",
			frames: func(c *rawConn) {
				c.send(ws.OpText, false, []byte(strings.Repeat("x", 100)))
				c.send(ws.OpContinuation, false, []byte(strings.Repeat("x", 100)))
				c.send(ws.OpContinuation, true, []byte(strings.Repeat("x", 51)))
			},
			wantCode:   closeTooBig,
			wantReason: reasonTooBig,
		},
		{
			name:       "binary message",
			frames:     func(c *rawConn) { c.send(ws.OpBinary, true, []byte{0, 1, 2}) },
			wantCode:   closeUnsupported,
			wantReason: reasonUnsupported,
		},
		{
			name:       "invalid UTF-8",
			frames:     func(c *rawConn) { c.send(ws.OpText, true, []byte{0xff, 0xfe}) },
			wantCode:   closeInvalidData,
			wantReason: reasonInvalidData,
		},
		{
			name:       "unexpected continuation",
			frames:     func(c *rawConn) { c.send(ws.OpContinuation, true, []byte("x")) },
			wantCode:   closeProtocol,
			wantReason: reasonProtocol,
		},
		{
			name: "unmasked frame",
			frames: func(c *rawConn) {
				if err := ws.WriteFrame(c.nc, ws.NewTextFrame([]byte("x"))); err != nil {
					c.t.Fatal(err)
				}
			},
			wantCode:   closeProtocol,
			wantReason: reasonProtocol,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, messages, disconnects := limitStack(t, small)
			c := s.dialRaw(t, "")
			tt.frames(c)
			code, reason := c.closed()
			if code != tt.wantCode || reason != tt.wantReason {
				t.Errorf("close frame = %d %q; want %d %q", code, reason, tt.wantCode, tt.wantReason)
			}
			c.send(ws.OpClose, true, ws.NewCloseFrameBody(code, "")) // complete the handshake
			c.eof()
			if code, reason := disconnected(t, disconnects); code != int64(tt.wantCode) || reason != tt.wantReason {
				t.Errorf("$disconnect = %d %q; want %d %q", code, reason, tt.wantCode, tt.wantReason)
			}
			messages.none(t, 20*time.Millisecond)
		})
	}
}

func TestFragmentedMessageWithinLimits(t *testing.T) {
	s, messages, _ := limitStack(t, Limits{FrameBytes: 100, MessageBytes: 250})
	c := s.dialRaw(t, "")
	c.send(ws.OpText, false, []byte(strings.Repeat("a", 100)))
	c.send(ws.OpPing, true, []byte("between fragments")) // control frames may interleave
	if f := c.next(); f.Header.OpCode != ws.OpPong || string(f.Payload) != "between fragments" {
		t.Errorf("answer to ping = %v %q; want a pong with the ping's payload", f.Header.OpCode, f.Payload)
	}
	c.send(ws.OpContinuation, false, []byte(strings.Repeat("b", 100)))
	c.send(ws.OpContinuation, true, []byte(strings.Repeat("c", 50)))
	want := strings.Repeat("a", 100) + strings.Repeat("b", 100) + strings.Repeat("c", 50)
	if got := decodeEvent(t, messages.next(t)).Body; got != want {
		t.Errorf("MESSAGE body = %d bytes; want the 250 reassembled", len(got))
	}
}

func TestIdleTimeout(t *testing.T) {
	s, _, disconnects := limitStack(t, Limits{IdleTimeout: 150 * time.Millisecond})
	c := s.dial(t, "", nil)
	// Pings are answered but are not data: they do not keep the
	// connection open (docs/aws-behaviour.md section 5).
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	closed := make(chan websocket.CloseError, 1)
	go func() { // Ping needs a concurrent reader
		ce, err := closeOf(c)
		if err != nil {
			t.Error(err)
		}
		closed <- ce
	}()
	// Pings spread over many idle timeouts: they must not count as use.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		if err := c.Ping(ctx); err != nil {
			break // the gateway closed the connection
		}
		if i > 100 {
			t.Fatal("pings kept an idle connection open")
		}
		<-tick.C
	}
	if ce := <-closed; ce.Code != websocket.StatusGoingAway || ce.Reason != "Going away" {
		t.Errorf("idle close = %d %q; want 1001 Going away", ce.Code, ce.Reason)
	}
	if code, reason := disconnected(t, disconnects); code != 1001 || reason != "Going away" {
		t.Errorf("$disconnect = %d %q; want 1001 Going away", code, reason)
	}
}

func TestDataKeepsConnectionOpen(t *testing.T) {
	s, messages, disconnects := limitStack(t, Limits{IdleTimeout: 300 * time.Millisecond})
	c := s.dial(t, "", nil)
	// Data every 30 ms for well past IdleTimeout keeps it open.
	tick := time.NewTicker(30 * time.Millisecond)
	defer tick.Stop()
	for start := time.Now(); time.Since(start) < 450*time.Millisecond; <-tick.C {
		write(t, c, "tick")
		messages.next(t)
	}
	disconnects.none(t, 0)
	if ce := closedWith(t, c); ce.Code != websocket.StatusGoingAway {
		t.Errorf("close after going quiet = %v; want 1001", ce)
	}
}

func TestMaxDuration(t *testing.T) {
	s, _, disconnects := limitStack(t, Limits{MaxDuration: 100 * time.Millisecond})
	c := s.dial(t, "", nil)
	if ce := closedWith(t, c); ce.Code != websocket.StatusGoingAway || ce.Reason != "Going away" {
		t.Errorf("close at max duration = %d %q; want 1001 Going away", ce.Code, ce.Reason)
	}
	if code, reason := disconnected(t, disconnects); code != 1001 || reason != "Going away" {
		t.Errorf("$disconnect = %d %q; want 1001 Going away", code, reason)
	}
}

func TestClientCloses(t *testing.T) {
	t.Run("with status", func(t *testing.T) {
		s, _, disconnects := limitStack(t, Limits{})
		c := s.dialRaw(t, "")
		c.send(ws.OpClose, true, ws.NewCloseFrameBody(1001, ""))
		if code, _ := c.closed(); code != 1001 {
			t.Errorf("server's answer = %d; want the client's 1001 echoed", code)
		}
		c.eof() // the server drops TCP after answering
		if code, reason := disconnected(t, disconnects); code != 1001 || reason != "" {
			t.Errorf("$disconnect = %d %q; want 1001 \"\" as for a closed tab", code, reason)
		}
	})
	t.Run("without status", func(t *testing.T) {
		s, _, disconnects := limitStack(t, Limits{})
		c := s.dialRaw(t, "")
		c.send(ws.OpClose, true, nil)
		if f := c.next(); f.Header.OpCode != ws.OpClose || len(f.Payload) != 0 {
			t.Errorf("server's answer = %v %x; want an empty close frame", f.Header.OpCode, f.Payload)
		}
		if code, reason := disconnected(t, disconnects); code != 1005 || reason != "Client-side close frame status not set" {
			t.Errorf("$disconnect = %d %q; want 1005 Client-side close frame status not set", code, reason)
		}
	})
	t.Run("invalid status", func(t *testing.T) {
		s, _, disconnects := limitStack(t, Limits{})
		c := s.dialRaw(t, "")
		c.send(ws.OpClose, true, ws.NewCloseFrameBody(1005, "")) // 1005 must never be sent
		if code, _ := c.closed(); code != closeProtocol {
			t.Errorf("server's answer = %d; want 1002", code)
		}
		if code, _ := disconnected(t, disconnects); code != closeProtocol {
			t.Errorf("$disconnect = %d; want 1002", code)
		}
	})
	t.Run("abrupt drop", func(t *testing.T) {
		s, _, disconnects := limitStack(t, Limits{})
		c := s.dialRaw(t, "")
		_ = c.nc.Close()
		if code, reason := disconnected(t, disconnects); code != closeAbnormal || reason != "" {
			t.Errorf("$disconnect = %d %q; want 1006 \"\"", code, reason)
		}
	})
}

func TestDisconnectOnce(t *testing.T) {
	// Every way a connection can end at once: the client closes while
	// @connections deletes it and the idle timer fires.
	s, connect, disconnects := managementStack(t, Limits{IdleTimeout: 30 * time.Millisecond})
	c, id := connected(t, s, connect)
	go func() { _ = c.Close(websocket.StatusNormalClosure, "") }()
	req, _ := http.NewRequest(http.MethodDelete, s.srv.URL+"/@connections/"+id, nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	disconnects.next(t)
	disconnects.none(t, 100*time.Millisecond)
}
