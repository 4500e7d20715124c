// Package metrics counts the requests the handlers make of the local stack's
// AWS emulations (DynamoDB operations, Management API calls), so that the cost
// of a chat message is counted rather than estimated. Each request is also
// credited to the invocation that made it (the function, its route key or
// event source, and Lambda's request id), so one `send` can be costed
// exactly while other work runs beside it (docs/protocol.md section 7).
package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Group names, as GET /local/metrics spells them (docs/protocol.md section 7).
const (
	DynamoDB      = "dynamodb"
	ManagementAPI = "managementApi"
	// Access counts the IAM actions on tables and indexes that the
	// DynamoDB requests needed ("Query parley-conversations/index/queueKeys"),
	// by invocation only: what each function's policy must grant.
	Access = "access"
)

// Sources of an invocation, as the invocation list spells them.
const (
	SourceRoute      = "route"
	SourceAuthorizer = "authorizer"
	SourceStream     = "stream"
	SourceSchedule   = "schedule"
)

// keep is how many finished invocations the list holds.
const keep = 1000

// Counters is a set of named counters in groups, plus the same requests
// by invocation; the zero value is not usable, call New.
type Counters struct {
	// The global counters are counted by the serving side of every request,
	// the busiest path: they have their own lock, taken for reading while
	// the counter exists (it is then added to atomically).
	gmu sync.RWMutex
	m   map[string]map[string]*atomic.Int64

	mu           sync.Mutex
	byRoute      map[string]*Totals
	byFunction   map[string]*Totals
	unattributed map[string]map[string]int64
	// finished holds the last keep finished invocations, a ring: the one
	// numbered n sits at (n-1) % keep.
	finished [keep]Record
	seq      int64 // number of the last finished invocation
}

// Totals are the requests of a set of finished invocations.
type Totals struct {
	Invocations   int64            `json:"invocations"`
	DynamoDB      map[string]int64 `json:"dynamodb"`
	ManagementAPI map[string]int64 `json:"managementApi"`
	Access        map[string]int64 `json:"access"`
	Capacity      Capacity         `json:"capacity"`
}

// Capacity is DynamoDB capacity consumed, in read and write units, all
// tables and indexes together, as the DynamoDB server reported it in each
// response's ConsumedCapacity.
type Capacity struct {
	Read  float64 `json:"read"`
	Write float64 `json:"write"`
}

func (c *Capacity) add(o Capacity) {
	c.Read += o.Read
	c.Write += o.Write
}

// Record is one finished invocation and the requests it made.
type Record struct {
	Seq          int64  `json:"seq"`
	Function     string `json:"function"`
	RouteKey     string `json:"routeKey,omitempty"`
	Source       string `json:"source"`
	ConnectionID string `json:"connectionId,omitempty"`
	// ClientRequestID is the requestId of the frame served, when it had one.
	ClientRequestID string           `json:"clientRequestId,omitempty"`
	RequestID       string           `json:"requestId"`
	DurationMs      int64            `json:"durationMs"`
	Error           string           `json:"error,omitempty"`
	DynamoDB        map[string]int64 `json:"dynamodb"`
	ManagementAPI   map[string]int64 `json:"managementApi"`
	Access          map[string]int64 `json:"access,omitempty"`
	Capacity        Capacity         `json:"capacity"`
}

// New returns counters whose Management API group already names its three
// operations, so a reader sees 0 rather than a missing key.
func New() *Counters {
	return &Counters{
		m: map[string]map[string]*atomic.Int64{
			DynamoDB:      {},
			ManagementAPI: {"PostToConnection": new(atomic.Int64), "GetConnection": new(atomic.Int64), "DeleteConnection": new(atomic.Int64)},
		},
		byRoute:      map[string]*Totals{},
		byFunction:   map[string]*Totals{},
		unattributed: map[string]map[string]int64{DynamoDB: {}, ManagementAPI: {}},
	}
}

func managementZero() map[string]int64 {
	return map[string]int64{"PostToConnection": 0, "GetConnection": 0, "DeleteConnection": 0}
}

// Add counts one request of name in group, in the global counters only
// (the side that serves the request counts it; see Credit for the side
// that makes it).
func (c *Counters) Add(group, name string) {
	c.gmu.RLock()
	n := c.m[group][name]
	c.gmu.RUnlock()
	if n == nil {
		c.gmu.Lock()
		g := c.m[group]
		if g == nil {
			g = map[string]*atomic.Int64{}
			c.m[group] = g
		}
		if n = g[name]; n == nil {
			n = new(atomic.Int64)
			g[name] = n
		}
		c.gmu.Unlock()
	}
	n.Add(1)
}

// Credit credits one request of name in group to the invocation running in
// ctx, or to "unattributed" when ctx belongs to none.
func (c *Counters) Credit(ctx context.Context, group, name string) {
	inv, _ := ctx.Value(invocationKey{}).(*Invocation)
	c.mu.Lock()
	defer c.mu.Unlock()
	if inv == nil || inv.c != c {
		bump(c.unattributed, group, name)
		return
	}
	if inv.done {
		// A handler still at work after its deadline: its requests count
		// for its function and route, never for whoever runs next.
		c.fold(inv.rec, group, name)
		return
	}
	bump(inv.counts, group, name)
}

// CreditCapacity credits DynamoDB capacity units consumed by a request made
// with ctx to the invocation running in it (nothing when ctx belongs to
// none).
func (c *Counters) CreditCapacity(ctx context.Context, used Capacity) {
	inv, _ := ctx.Value(invocationKey{}).(*Invocation)
	if inv == nil || inv.c != c || (used.Read == 0 && used.Write == 0) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if inv.done {
		for _, t := range c.totals(inv.rec) {
			t.Capacity.add(used)
		}
		return
	}
	inv.capacity.add(used)
}

func bump(groups map[string]map[string]int64, group, name string) {
	g := groups[group]
	if g == nil {
		g = map[string]int64{}
		groups[group] = g
	}
	g[name]++
}

func (c *Counters) fold(rec Record, group, name string) {
	for _, t := range c.totals(rec) {
		t.group(group)[name]++
	}
}

// totals are the views an invocation counts in: its function's, and its
// route's when it is a route's integration (an authorizer runs on
// $connect too, but is not its integration).
func (c *Counters) totals(rec Record) []*Totals {
	function, route := rec.Function, rec.RouteKey
	if rec.Source != SourceRoute {
		route = ""
	}
	var out []*Totals
	get := func(m map[string]*Totals, k string) *Totals {
		t := m[k]
		if t == nil {
			t = &Totals{DynamoDB: map[string]int64{}, ManagementAPI: managementZero(), Access: map[string]int64{}}
			m[k] = t
		}
		return t
	}
	if function != "" {
		out = append(out, get(c.byFunction, function))
	}
	if route != "" {
		out = append(out, get(c.byRoute, route))
	}
	return out
}

func (t *Totals) group(g string) map[string]int64 {
	switch g {
	case ManagementAPI:
		return t.ManagementAPI
	case Access:
		return t.Access
	}
	return t.DynamoDB
}

// Labels say what an invocation serves; the caller of a function sets them
// in ctx (WithLabels) before invoking it.
type Labels struct {
	Source       string // SourceRoute, SourceAuthorizer, SourceStream or SourceSchedule
	RouteKey     string // route and authorizer invocations
	ConnectionID string // route and authorizer invocations
	// ClientRequestID is the requestId field of the frame a route
	// invocation serves, when it has one: how a client finds its request.
	ClientRequestID string
}

type labelsKey struct{}
type invocationKey struct{}
type clientRequestKey struct{}

// WithClientRequestID returns ctx carrying the requestId a client gave its
// frame, for the labels of the invocation that serves it.
func WithClientRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, clientRequestKey{}, id)
}

// ClientRequestID is the id WithClientRequestID put in ctx, or "".
func ClientRequestID(ctx context.Context) string {
	id, _ := ctx.Value(clientRequestKey{}).(string)
	return id
}

// WithLabels returns ctx carrying what the invocation about to start serves.
func WithLabels(ctx context.Context, l Labels) context.Context {
	return context.WithValue(ctx, labelsKey{}, l)
}

// Invocation is one running invocation collecting its requests.
type Invocation struct {
	c        *Counters
	rec      Record
	start    time.Time
	counts   map[string]map[string]int64
	capacity Capacity
	done     bool
}

// Begin starts crediting requests made with the returned ctx to one
// invocation of function (its name under functions/) with Lambda request
// id requestID; the labels come from ctx (WithLabels). Nil counters give
// ctx back and a nil Invocation, whose End does nothing.
func (c *Counters) Begin(ctx context.Context, function, requestID string) (context.Context, *Invocation) {
	if c == nil {
		return ctx, nil
	}
	l, _ := ctx.Value(labelsKey{}).(Labels)
	inv := &Invocation{c: c, start: time.Now(), counts: map[string]map[string]int64{},
		rec: Record{Function: function, RouteKey: l.RouteKey, Source: l.Source, ConnectionID: l.ConnectionID,
			ClientRequestID: l.ClientRequestID, RequestID: requestID}}
	return context.WithValue(ctx, invocationKey{}, inv), inv
}

// End finishes the invocation: its requests join the totals of its route
// and function, and it joins the list of finished invocations. failure is
// the function error's text, "" on success.
func (inv *Invocation) End(failure string) {
	if inv == nil {
		return
	}
	c := inv.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if inv.done {
		return
	}
	inv.done = true
	for _, t := range c.totals(inv.rec) {
		t.Invocations++
		t.Capacity.add(inv.capacity)
		for g, names := range inv.counts {
			for n, v := range names {
				t.group(g)[n] += v
			}
		}
	}
	c.seq++
	rec := inv.rec
	rec.Seq, rec.Error, rec.DurationMs = c.seq, failure, time.Since(inv.start).Milliseconds()
	rec.DynamoDB, rec.ManagementAPI = copyCounts(inv.counts[DynamoDB]), copyCounts(inv.counts[ManagementAPI])
	rec.Access = copyCounts(inv.counts[Access])
	rec.Capacity = inv.capacity
	c.finished[(c.seq-1)%keep] = rec
}

func copyCounts(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Snapshot returns a copy of every global counter.
func (c *Counters) Snapshot() map[string]map[string]int64 {
	c.gmu.RLock()
	defer c.gmu.RUnlock()
	out := make(map[string]map[string]int64, len(c.m))
	for g, names := range c.m {
		out[g] = make(map[string]int64, len(names))
		for k, n := range names {
			out[g][k] = n.Load()
		}
	}
	return out
}

// View is what GET /local/metrics serves.
type View struct {
	DynamoDB      map[string]int64            `json:"dynamodb"`
	ManagementAPI map[string]int64            `json:"managementApi"`
	ByRoute       map[string]Totals           `json:"byRoute"`
	ByFunction    map[string]Totals           `json:"byFunction"`
	Unattributed  map[string]map[string]int64 `json:"unattributed"`
}

// View returns a copy of every counter, global and by invocation.
func (c *Counters) View() View {
	snap := c.Snapshot()
	c.mu.Lock()
	defer c.mu.Unlock()
	v := View{DynamoDB: snap[DynamoDB], ManagementAPI: snap[ManagementAPI],
		ByRoute: copyTotals(c.byRoute), ByFunction: copyTotals(c.byFunction),
		Unattributed: map[string]map[string]int64{}}
	for g, names := range c.unattributed {
		v.Unattributed[g] = copyCounts(names)
	}
	return v
}

func copyTotals(m map[string]*Totals) map[string]Totals {
	out := make(map[string]Totals, len(m))
	for k, t := range m {
		out[k] = Totals{Invocations: t.Invocations, DynamoDB: copyCounts(t.DynamoDB), ManagementAPI: copyCounts(t.ManagementAPI),
			Access: copyCounts(t.Access), Capacity: t.Capacity}
	}
	return out
}

// Finished returns the finished invocations numbered after since (oldest
// first) and the number to pass as since next time.
func (c *Counters) Finished(since int64) ([]Record, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	first := max(since, c.seq-keep, 0) + 1
	out := make([]Record, 0, max(c.seq-first+1, 0))
	for n := first; n <= c.seq; n++ {
		out = append(out, c.finished[(n-1)%keep])
	}
	return out, c.seq
}

// ServeHTTP serves the counters as JSON (GET /local/metrics).
func (c *Counters) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, c.View())
}

// ServeInvocations serves the finished invocations after ?since=N
// (GET /local/metrics/invocations).
func (c *Counters) ServeInvocations(w http.ResponseWriter, r *http.Request) {
	var since int64
	if s := r.URL.Query().Get("since"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "since must be a whole number of 0 or more", http.StatusBadRequest)
			return
		}
		since = n
	}
	recs, next := c.Finished(since)
	writeJSON(w, struct {
		Next        int64    `json:"next"`
		Invocations []Record `json:"invocations"`
	}{next, recs})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
