package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Close codes the gateway sends or reports in $disconnect.
const (
	closeNormal      = 1000
	closeGoingAway   = 1001
	closeProtocol    = 1002
	closeUnsupported = 1003
	closeNoStatus    = 1005
	closeAbnormal    = 1006
	closeInvalidData = 1007
	closeTooBig      = 1009
)

// Reasons as API Gateway reports them in $disconnect (docs/aws-behaviour.md
// section 1), and RFC 6455 names where API Gateway's text is unknown.
const (
	reasonGoingAway   = "Going away"
	reasonNormal      = "Connection Closed Normally"
	reasonNoStatus    = "Client-side close frame status not set"
	reasonProtocol    = "Protocol error"
	reasonUnsupported = "Unsupported data"
	reasonInvalidData = "Invalid frame payload data"
	reasonTooBig      = "Message too big"
)

const (
	// closeWait bounds how long a close the gateway started waits for the
	// peer's close frame before dropping the socket (RFC 6455 7.1.1: the
	// server closes TCP, ideally after the peer has answered).
	closeWait = 2 * time.Second
	// writeTimeout bounds one frame write, so that a client that stopped
	// reading cannot hold a sender (and the connection's write lock) forever.
	writeTimeout = 10 * time.Second
)

// errGone is what a send to a closing or closed connection returns; the
// Management API turns it into 410 GoneException.
var errGone = errors.New("connection is gone")

// conn is one WebSocket connection after $connect accepted it.
type conn struct {
	g           *Gateway
	id          string
	connectedAt time.Time
	host        string // domainName
	sourceIP    string
	userAgent   string
	authorizer  map[string]any // requestContext.authorizer of every event; nil without an authorizer

	// nc, br and bw are set once the handshake is written, before ready is
	// closed; they stay nil when the upgrade failed. Only the reader, which
	// starts after ready, and code that waited on ready may use them.
	nc    net.Conn
	br    *bufio.Reader
	bw    *bufio.Writer
	ready chan struct{}

	// wmu serializes writes: frames of one message must not interleave with
	// another sender's, whether from @connections, an error frame or a pong.
	wmu sync.Mutex

	mu         sync.Mutex
	lastActive time.Time // last data message in either direction
	closing    bool      // a close frame was sent or answered: no more data frames
	ended      bool      // $disconnect has been started
	inflight   int       // route invocations of this connection's messages running now

	done chan struct{} // closed when the reader has ended; stops the watchdog
}

// serve reads the connection until it ends, then makes sure $disconnect
// runs: an abrupt drop, with no close frame either way, reports 1006.
func (c *conn) serve() {
	defer c.g.flight.done()
	defer close(c.done)
	defer c.nc.Close()
	defer c.end(closeAbnormal, "")
	go c.watch()
	if err := c.read(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.g.log.Debug("connection read ended", "connectionId", c.id, "error", err)
	}
}

// read is the frame loop. It checks each frame header against the limits
// before reading the payload, so a peer-declared length never allocates.
func (c *conn) read() error {
	lim := c.g.limits
	state := ws.StateServerSide
	var msg []byte // the text message being reassembled
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			return fmt.Errorf("read frame header on %s: %w", c.id, err)
		}
		closing := c.isClosing()
		if closing && h.OpCode != ws.OpClose {
			// After our close frame only the peer's close matters.
			if err := c.discard(h); err != nil {
				return err
			}
			continue
		}
		if err := ws.CheckHeader(h, state); err != nil {
			c.fail(closeProtocol, reasonProtocol)
			if err := c.discard(h); err != nil {
				return err
			}
			continue
		}

		if h.OpCode.IsControl() {
			payload, err := c.payload(h, nil)
			if err != nil {
				return err
			}
			switch h.OpCode {
			case ws.OpClose:
				c.peerClosed(payload)
				return nil
			case ws.OpPing:
				// Answered, as RFC 6455 requires, but pings are not data:
				// they do not keep an idle connection open in API Gateway.
				c.writeControl(ws.OpPong, payload)
			}
			continue
		}

		switch {
		case h.Length > int64(lim.FrameBytes):
			c.fail(closeTooBig, reasonTooBig)
		case h.OpCode == ws.OpBinary:
			c.fail(closeUnsupported, reasonUnsupported) // API Gateway closes on binary frames with 1003
		case int64(len(msg))+h.Length > int64(lim.MessageBytes):
			c.fail(closeTooBig, reasonTooBig)
		}
		if c.isClosing() {
			if err := c.discard(h); err != nil {
				return err
			}
			continue
		}

		if msg, err = c.payload(h, msg); err != nil {
			return err
		}
		if !h.Fin {
			state = state.Set(ws.StateFragmented)
			continue
		}
		state = state.Clear(ws.StateFragmented)
		if !utf8.Valid(msg) {
			c.fail(closeInvalidData, reasonInvalidData) // RFC 6455 8.1: text must be UTF-8
			continue
		}
		now := time.Now()
		c.touch(now)
		c.dispatch(string(msg), now)
		msg = msg[:0]
	}
}

// payload reads h's payload, unmasked, appended to buf.
func (c *conn) payload(h ws.Header, buf []byte) ([]byte, error) {
	n := len(buf)
	buf = append(buf, make([]byte, h.Length)...)
	if _, err := io.ReadFull(c.br, buf[n:]); err != nil {
		return nil, fmt.Errorf("read frame payload on %s: %w", c.id, err)
	}
	if h.Masked {
		ws.Cipher(buf[n:], h.Mask, 0)
	}
	return buf, nil
}

func (c *conn) discard(h ws.Header) error {
	if _, err := io.CopyN(io.Discard, c.br, h.Length); err != nil {
		return fmt.Errorf("skip frame payload on %s: %w", c.id, err)
	}
	return nil
}

// peerClosed handles the peer's close frame: the answer to our own close,
// or the peer starting the closing handshake, which we answer by echoing
// its status code before dropping TCP.
func (c *conn) peerClosed(payload []byte) {
	if !c.markClosing() {
		return // the peer answered our close: the handshake is complete
	}
	code, reason := ws.ParseCloseFrameData(payload)
	dcode, dreason := int(code), reason
	var reply []byte
	switch {
	case len(payload) == 0:
		dcode, dreason = closeNoStatus, reasonNoStatus
	case len(payload) == 1 || ws.CheckCloseFrameData(code, reason) != nil:
		dcode, dreason = closeProtocol, reasonProtocol
		reply = ws.NewCloseFrameBody(closeProtocol, "")
	default:
		reply = ws.NewCloseFrameBody(code, "")
	}
	c.end(dcode, dreason)
	c.writeControl(ws.OpClose, reply)
}

// fail closes the connection for a protocol or limit violation; the close
// code is also what $disconnect reports.
func (c *conn) fail(code int, reason string) { c.closeWith(code, reason, code, reason) }

// closeWith starts a closing handshake from the gateway's side: the close
// frame carries code and reason, $disconnect reports dcode and dreason.
// Only the first close of a connection counts.
func (c *conn) closeWith(code int, reason string, dcode int, dreason string) {
	if !c.markClosing() {
		return
	}
	c.end(dcode, dreason)
	<-c.ready
	if c.nc == nil {
		return
	}
	c.writeControl(ws.OpClose, ws.NewCloseFrameBody(ws.StatusCode(code), reason))
	_ = c.nc.SetReadDeadline(time.Now().Add(closeWait))
}

// drop closes the socket without a closing handshake, if there is one yet.
func (c *conn) drop() {
	select {
	case <-c.ready:
		if c.nc != nil {
			_ = c.nc.Close()
		}
	default:
	}
}

// end records that the connection is over, the first time only: it leaves
// the @connections table at once and $disconnect is invoked, once.
func (c *conn) end(code int, reason string) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	c.mu.Unlock()
	c.g.forget(c)
	c.g.disconnect(c, code, reason)
}

func (c *conn) markClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.closing = true
	return true
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

func (c *conn) touch(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at.After(c.lastActive) {
		c.lastActive = at
	}
}

func (c *conn) lastActiveAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastActive
}

// send writes one text message, split into frames of at most FrameBytes as
// API Gateway splits what it sends. It fails with errGone once the
// connection is closing.
func (c *conn) send(p []byte) error {
	if len(p) > c.g.limits.MessageBytes {
		return fmt.Errorf("send %d bytes to %s: over the %d byte message limit", len(p), c.id, c.g.limits.MessageBytes)
	}
	<-c.ready
	c.wmu.Lock()
	defer c.wmu.Unlock()
	// Checked under wmu: a close frame, once written, is the last frame.
	if c.isClosing() || c.nc == nil {
		return fmt.Errorf("send to %s: %w", c.id, errGone)
	}
	op := ws.OpText
	for {
		n := min(len(p), c.g.limits.FrameBytes)
		h := ws.Header{Fin: n == len(p), OpCode: op, Length: int64(n)}
		if err := c.writeFrame(h, p[:n]); err != nil {
			// Half a message cannot be taken back; the socket is dropped
			// and the reader reports the abrupt end.
			_ = c.nc.Close()
			return fmt.Errorf("send to %s: %w: %w", c.id, errGone, err)
		}
		p, op = p[n:], ws.OpContinuation
		if len(p) == 0 {
			break
		}
	}
	c.touch(time.Now())
	return nil
}

func (c *conn) writeControl(op ws.OpCode, payload []byte) {
	<-c.ready
	if c.nc == nil {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writeFrame(ws.Header{Fin: true, OpCode: op, Length: int64(len(payload))}, payload); err != nil {
		_ = c.nc.Close()
	}
}

func (c *conn) writeFrame(h ws.Header, p []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := ws.WriteHeader(c.bw, h); err != nil {
		return fmt.Errorf("write frame header: %w", err)
	}
	if _, err := c.bw.Write(p); err != nil {
		return fmt.Errorf("write frame payload: %w", err)
	}
	if err := c.bw.Flush(); err != nil {
		return fmt.Errorf("flush frame: %w", err)
	}
	return nil
}

// watch closes the connection when it has been idle for IdleTimeout or open
// for MaxDuration. API Gateway's close code for both is unverified; 1001
// "Going away" is what clients see from a server that ends a session.
func (c *conn) watch() {
	lim := c.g.limits
	maxAt := c.connectedAt.Add(lim.MaxDuration)
	next := func() time.Duration {
		at := c.lastActiveAt().Add(lim.IdleTimeout)
		if maxAt.Before(at) {
			at = maxAt
		}
		return time.Until(at)
	}
	timer := time.NewTimer(next())
	defer timer.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-timer.C:
			if d := next(); d > 0 {
				timer.Reset(d) // there was traffic since the timer was set
				continue
			}
			c.closeWith(closeGoingAway, reasonGoingAway, closeGoingAway, reasonGoingAway)
			return
		}
	}
}

// disconnect invokes $disconnect for c, once per connection (conn.end).
// It is best-effort, as in API Gateway: a failure is logged and that is all.
func (g *Gateway) disconnect(c *conn, code int, reason string) {
	g.log.Info("connection closed", "connectionId", c.id, "disconnectStatusCode", code, "disconnectReason", reason)
	rt, ok := g.cfg.Routes[RouteDisconnect]
	if !ok || rt.Function == nil {
		return
	}
	at := time.Now()
	g.flight.add()
	go func() {
		defer g.flight.done()
		requestID := newID()
		_, _ = g.invoke(context.Background(), rt.Function, RouteDisconnect, c.id, requestID, c.disconnectEvent(requestID, code, reason, at))
	}()
}
