package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/parley-chat/parley/cmd/parley-local/internal/invoke"
	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

// Route keys API Gateway reserves. Custom route keys cannot start with "$",
// so a message whose selection yields "$connect" still goes to $default.
const (
	RouteConnect    = "$connect"
	RouteDisconnect = "$disconnect"
	RouteDefault    = "$default"
)

// Route is the integration behind one route key.
type Route struct {
	// Function is the AWS_PROXY Lambda integration.
	Function *invoke.Function
	// RouteResponse is true when the route has RouteResponseSelectionExpression
	// $default and a $default RouteResponse: the returned body is then sent
	// back to the client as a frame. Otherwise the return value is dropped,
	// as API Gateway drops it.
	RouteResponse bool
}

// Authorizer is the REQUEST Lambda authorizer on $connect.
type Authorizer struct {
	// Function is the authorizer Lambda.
	Function *invoke.Function
	// IdentitySource lists the request parameters that must be present and
	// non-empty before the function is called, e.g.
	// "route.request.querystring.token" or "route.request.header.Authorization".
	IdentitySource []string
}

// Limits are API Gateway's WebSocket quotas; a zero field takes the default.
type Limits struct {
	FrameBytes   int           // largest frame, either direction; default 32 KiB
	MessageBytes int           // largest (reassembled) message, and @connections body; default 128 KiB
	IdleTimeout  time.Duration // no data message in either direction for this long closes; default 10 min
	MaxDuration  time.Duration // a connection is closed after this long; default 2 h
	// Inflight bounds the invocations one connection may have running at
	// once, as API Gateway's throttling bounds what one client can load
	// onto the integrations; a frame over it is answered at once with API
	// Gateway's error frame "Too Many Requests" and invokes nothing.
	// Default 32, above the protocol's promised burst of 20.
	Inflight int
}

// Default quotas (docs/aws-behaviour.md section 5).
const (
	DefaultFrameBytes   = 32 << 10
	DefaultMessageBytes = 128 << 10
	DefaultIdleTimeout  = 10 * time.Minute
	DefaultMaxDuration  = 2 * time.Hour
	DefaultInflight     = 32
)

func (l Limits) withDefaults() Limits {
	if l.FrameBytes <= 0 {
		l.FrameBytes = DefaultFrameBytes
	}
	if l.MessageBytes <= 0 {
		l.MessageBytes = DefaultMessageBytes
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxDuration <= 0 {
		l.MaxDuration = DefaultMaxDuration
	}
	if l.Inflight <= 0 {
		l.Inflight = DefaultInflight
	}
	return l
}

// Config describes one WebSocket API stage, as read from the template.
type Config struct {
	APIID, Stage, Region, AccountID string
	// RouteSelectionExpression is the API's expression, e.g. "$request.body.action".
	RouteSelectionExpression string
	// Routes maps route keys ("$connect", "$disconnect", "$default" and
	// custom keys) to their integrations. A missing $connect accepts every
	// connection; a missing $disconnect is simply not called.
	Routes map[string]Route
	// Authorizer runs before $connect; nil means none.
	Authorizer *Authorizer
	Limits     Limits
	// Metrics, when set, counts Management API calls by operation name.
	Metrics *metrics.Counters
	// Log receives one JSON line per invocation; nil means slog.Default().
	Log *slog.Logger
	// FaultRate is the fraction of Management API requests that fail
	// (management.go): half with a 500, half with a 410 GoneException for
	// which the connection really drops, as a lost client does. 0 fails none.
	FaultRate float64
}

// Gateway is a running WebSocket API: its connections, their limits and the
// invocations they started. Create it with New.
type Gateway struct {
	cfg    Config
	limits Limits
	sel    selector
	log    *slog.Logger
	flight flight
	// routes counts the route invocations of connections' messages:
	// Shutdown lets them finish, and deliver their replies, before it
	// closes the connections.
	routes flight

	mu    sync.Mutex
	conns map[string]*conn // open connections only: what @connections can reach
	down  bool             // Shutdown has begun: no new connections
}

// New returns a Gateway for cfg. It starts nothing: connections arrive
// through WebSocket().
func New(cfg Config) *Gateway {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	g := &Gateway{
		cfg:    cfg,
		limits: cfg.Limits.withDefaults(),
		log:    log.With("apiId", cfg.APIID, "stage", cfg.Stage),
		conns:  map[string]*conn{},
	}
	var err error
	g.sel, err = parseSelection(cfg.RouteSelectionExpression)
	if err != nil {
		// Not fatal: API Gateway would have refused to deploy the template,
		// but locally every message still reaches $default, which is the
		// least surprising behaviour while the template is being fixed.
		g.log.Warn("route selection expression not supported; every message goes to $default", "error", err)
	}
	return g
}

// WebSocket returns the handler that upgrades GET requests to WebSocket
// connections after the authorizer and $connect accept them. The stack
// mounts it at GET /ws.
func (g *Gateway) WebSocket() http.Handler { return http.HandlerFunc(g.serveUpgrade) }

// Management returns the API Gateway Management API handler for
// POST, GET and DELETE on @connections/{id}. The stack mounts it at
// /@connections/ and /{stage}/@connections/.
func (g *Gateway) Management() http.Handler { return http.HandlerFunc(g.serveManagement) }

// Shutdown refuses new connections and new messages (each answered with an
// error frame), lets the invocations of messages already taken finish and
// deliver their replies, then closes every connection with close frame
// 1001 "Going away", calls $disconnect for each, and waits for every
// invocation still under way to end. When ctx ends first, the remaining
// sockets are dropped and ctx's error is returned.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	g.down = true
	open := make([]*conn, 0, len(g.conns))
	for _, c := range g.conns {
		open = append(open, c)
	}
	g.mu.Unlock()
	g.flight.close()
	g.routes.close()
	err := g.routes.wait(ctx)

	for _, c := range open {
		c.closeWith(closeGoingAway, reasonGoingAway, closeGoingAway, reasonGoingAway)
	}
	if err == nil {
		err = g.flight.wait(ctx)
	}
	if err != nil {
		for _, c := range open {
			c.drop() // let readers stuck in a closing handshake go
		}
		return fmt.Errorf("shut down gateway %s/%s: %w", g.cfg.APIID, g.cfg.Stage, err)
	}
	return nil
}

// register makes c reachable through @connections; false once Shutdown began.
func (g *Gateway) register(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.down {
		return false
	}
	g.conns[c.id] = c
	return true
}

// forget makes c unreachable: from now on @connections answers 410 for it.
func (g *Gateway) forget(c *conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conns[c.id] == c {
		delete(g.conns, c.id)
	}
}

func (g *Gateway) lookup(id string) *conn {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.conns[id]
}

// flight counts the work Shutdown must wait for: connections being set up,
// their readers, and every invocation. Unlike a sync.WaitGroup it may go
// from zero back up while someone waits, which happens when a message
// arrives during Shutdown's closing handshake.
type flight struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{} // closed when n drops to zero
}

func (f *flight) add() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addLocked()
}

// tryAdd is add for new work from outside, which Shutdown refuses.
func (f *flight) tryAdd() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.addLocked()
	return true
}

func (f *flight) addLocked() {
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
}

func (f *flight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.idle)
	}
}

func (f *flight) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
}

func (f *flight) wait(ctx context.Context) error {
	for {
		f.mu.Lock()
		if f.n == 0 {
			f.mu.Unlock()
			return nil
		}
		idle := f.idle
		f.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
