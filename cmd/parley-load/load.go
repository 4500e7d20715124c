package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// scenario is one load run: customers chatting with agents over real
// WebSocket connections, the way the widget and the agent app do.
type scenario struct {
	Name      string        `json:"name"`
	Customers int           `json:"customers"`
	Agents    int           `json:"agents"`
	Idle      int           `json:"idle_connections"` // extra customers connected (hello) who never send
	LiveShare float64       `json:"live_share"`       // fraction of customers on the live widget
	Rate      float64       `json:"rate_per_customer"`
	Duration  time.Duration `json:"-"`
	Messages  int           `json:"messages_per_customer,omitempty"` // 0: send until Duration is over
	// An agent replies to every ReplyEvery-th customer message, and parks a
	// persistent conversation after every ParkEvery-th reply (0: never).
	ReplyEvery int  `json:"reply_every"`
	ParkEvery  int  `json:"park_every"`
	Reconnect  bool `json:"reconnect"` // every sending customer leaves once mid-run and comes back on a new connection
}

// result is what one scenario measured.
type result struct {
	Scenario scenario `json:"scenario"`
	Backend  string   `json:"backend"`
	// Messages is every message a sender got an ack for, customers' and
	// agents' together.
	Messages         int     `json:"messages"`
	CustomerMessages int     `json:"customer_messages"`
	AgentMessages    int     `json:"agent_messages"`
	Seconds          float64 `json:"seconds"`
	MsgsPerS         float64 `json:"msgs_per_s"`
	// Delivery latency: a message's send (its timestamp, written into its
	// text) to the other party's receipt of its message event.
	Latency    quantiles `json:"delivery_latency_ms"`
	AckLatency quantiles `json:"ack_latency_ms"`
	// LatencySteady: messages sent after every customer's first send was
	// acknowledged (OpenedAfter seconds into the run).
	LatencySteady quantiles      `json:"delivery_latency_after_open_ms"`
	OpenedAfter   float64        `json:"all_open_after_s"`
	Timeline      []slice        `json:"delivery_latency_by_5s"`
	Lost          int            `json:"lost"`
	Duplicated    int            `json:"duplicated"`
	Overlap       int            `json:"resume_overlap"` // seen in a session or assignment snapshot and as an event on the same party (the client dedupes by seq)
	Gaps          int            `json:"seq_gaps"`
	SeqConflict   int            `json:"seq_conflicts"`
	Unassigned    int            `json:"unassigned_conversations"`
	Unacked       int            `json:"unacked_sends"`
	Errors        map[string]int `json:"errors_by_code"`
	Reconnects    int            `json:"reconnects"`
	Parks         int            `json:"parks"`
	Pickups       int            `json:"pickups"`
	Connections   int            `json:"connections"`
	FramesOut     int64          `json:"client_frames_sent"`
	FramesIn      int64          `json:"client_frames_received"`
	MaxFrame      int64          `json:"largest_frame_bytes"`
	// Cost, from the stack's per-invocation attribution.
	Window   window              `json:"window"`
	PerKind  map[string]kindCost `json:"per_request_kind"`
	Missed   int64               `json:"invocations_unread"`
	StackCPU float64             `json:"stack_cpu_seconds"`
	// OtherCPU is what every other process on the machine used meanwhile
	// (the machine's busy time less the stack's and this command's).
	OtherCPU    float64  `json:"other_processes_cpu_seconds"`
	LoaderCPU   float64  `json:"load_generator_cpu_seconds"`
	StoreConvs  int      `json:"conversations_in_store,omitempty"`
	Capacity    int      `json:"agent_capacity"`
	ErrorSample []string `json:"error_sample,omitempty"`
}

// quantiles of a latency distribution, in milliseconds.
type quantiles struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func quantilesOf(d []time.Duration) quantiles {
	if len(d) == 0 {
		return quantiles{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return ms(s[min(max(i, 0), len(s)-1)])
	}
	var total time.Duration
	for _, x := range s {
		total += x
	}
	return quantiles{N: len(s), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: ms(s[len(s)-1]), Mean: ms(total / time.Duration(len(s)))}
}

// slice is the delivery latency of the messages sent in one 5 s slice.
type slice struct {
	From float64 `json:"from_s"`
	N    int     `json:"n"`
	P50  float64 `json:"p50_ms"`
	P99  float64 `json:"p99_ms"`
}

// kindCost is what one kind of request's invocations cost on average.
type kindCost struct {
	Invocations int64            `json:"invocations"`
	DynamoDB    float64          `json:"dynamodb_requests"`
	ByOperation map[string]int64 `json:"dynamodb_by_operation"`
	Pushes      float64          `json:"pushes"`
	Read        float64          `json:"read_units"`
	Write       float64          `json:"write_units"`
	DurationMs  float64          `json:"duration_ms"`
	// Over3 counts invocations that made more than 3 DynamoDB requests
	// (a send that lost a race and read again); MaxDynamoDB the most.
	Over3       int64 `json:"invocations_over_3_requests"`
	MaxDynamoDB int64 `json:"max_dynamodb_requests"`
}

// party is one side's view of the run: what each connection it had
// received, by message id.
type receipt struct {
	events    int // message events, and the sender's own ack
	snapshots int // a session (on reconnect) or an assignment's messages
}

type msgInfo struct {
	conv   string
	seq    int64
	sender string // party key: c<i> or a<j>
	sentAt time.Time
}

// run is one scenario's shared state.
type run struct {
	sc      scenario
	base    string
	id      string
	started time.Time
	stopAt  time.Time

	mu        sync.Mutex
	msgs      map[string]*msgInfo // by message id
	recv      map[string]map[string]*receipt
	bySeq     map[string]map[int64]string // conversation → seq → message id
	convAgent map[string]string           // conversation → agent party
	convCust  map[string]string           // conversation → customer party
	parked    map[string]bool             // requestIds of customer sends acknowledged in a parked (waiting or returned) conversation
	latency   []time.Duration
	sentOff   []time.Duration // each latency sample's send time, from the start
	opened    time.Time       // when the last customer's first send was acknowledged
	acks      []time.Duration
	errs      map[string]int
	sample    []string
	unacked   int
	reconn    int
	parks     int
	pickups   int

	framesOut, framesIn, maxFrame atomic.Int64
}

func (r *run) fail(code, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs[code]++
	if len(r.sample) < 5 {
		r.sample = append(r.sample, code+": "+detail)
	}
}

// got records that party received message m (source: event or snapshot).
func (r *run) got(party string, m map[string]any, snapshot bool, now time.Time) {
	id, _ := m["id"].(string)
	conv, _ := m["conversationId"].(string)
	seq := int64(num(m["seq"]))
	if id == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rc := r.recv[party]
	if rc == nil {
		rc = map[string]*receipt{}
		r.recv[party] = rc
	}
	x := rc[id]
	if x == nil {
		x = &receipt{}
		rc[id] = x
	}
	if snapshot {
		x.snapshots++
	} else {
		x.events++
	}
	seqs := r.bySeq[conv]
	if seqs == nil {
		seqs = map[int64]string{}
		r.bySeq[conv] = seqs
	}
	if prev, ok := seqs[seq]; !ok {
		seqs[seq] = id
	} else if prev != id {
		r.errs["seq_conflict"]++
	}
	if !snapshot {
		if at, ok := sentAt(m); ok {
			sender := obj(m["sender"])
			// A party's own message never arrives as an event (only its ack).
			if sender["role"] != roleOf(party) {
				r.latency = append(r.latency, now.Sub(at))
				r.sentOff = append(r.sentOff, at.Sub(r.started))
			}
		}
	}
}

func roleOf(party string) string {
	if strings.HasPrefix(party, "a") {
		return "agent"
	}
	return "customer"
}

// sentAt reads the send timestamp a message carries in its text.
func sentAt(m map[string]any) (time.Time, bool) {
	text, _ := m["text"].(string)
	rest, ok := strings.CutPrefix(text, "t=")
	if !ok {
		return time.Time{}, false
	}
	ns, _, _ := strings.Cut(rest, " ")
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

func num(v any) float64 { f, _ := v.(float64); return f }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// wsConn is one client connection: a reader that hands each reply to the
// request waiting for it and each event to on.
type wsConn struct {
	r       *run
	ws      *websocket.Conn
	mu      sync.Mutex
	pending map[string]chan map[string]any
	on      func(map[string]any)
	closed  chan struct{}
	n       atomic.Int64
}

func (r *run) dial(ctx context.Context, claims map[string]any, on func(map[string]any)) (*wsConn, error) {
	b, _ := json.Marshal(claims)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/local/token", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	var tok struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.Token == "" {
		return nil, fmt.Errorf("token for %v: %v (HTTP %d)", claims, err, resp.StatusCode)
	}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.base, "http")+"/ws?token="+tok.Token, nil)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	ws.SetReadLimit(1 << 20)
	c := &wsConn{r: r, ws: ws, pending: map[string]chan map[string]any{}, on: on, closed: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *wsConn) read() {
	defer close(c.closed)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		c.r.framesIn.Add(1)
		if n := int64(len(data)); n > c.r.maxFrame.Load() {
			c.r.maxFrame.Store(n)
		}
		var f map[string]any
		if json.Unmarshal(data, &f) != nil {
			c.r.fail("bad_frame", string(data))
			continue
		}
		id, _ := f["requestId"].(string)
		if id != "" && f["type"] != nil {
			c.mu.Lock()
			ch := c.pending[id]
			delete(c.pending, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- f
				continue
			}
		}
		if f["type"] == nil {
			// API Gateway's own error frame ({"message": "Too Many Requests", ...}).
			msg, _ := f["message"].(string)
			c.r.fail("gateway: "+msg, string(data))
			if id != "" {
				c.mu.Lock()
				ch := c.pending[id]
				delete(c.pending, id)
				c.mu.Unlock()
				if ch != nil {
					ch <- map[string]any{"type": "error", "code": "gateway", "message": msg}
				}
			}
			continue
		}
		if c.on != nil {
			c.on(f)
		}
	}
}

// request sends one frame and waits for its reply.
func (c *wsConn) request(ctx context.Context, action string, fields map[string]any) (map[string]any, error) {
	id := fmt.Sprintf("%s-%d", action, c.n.Add(1))
	frame := map[string]any{"action": action, "requestId": id}
	for k, v := range fields {
		frame[k] = v
	}
	return c.requestFrame(ctx, id, frame)
}

func (c *wsConn) requestFrame(ctx context.Context, id string, frame map[string]any) (map[string]any, error) {
	ch := make(chan map[string]any, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	b, _ := json.Marshal(frame)
	c.r.framesOut.Add(1)
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, fmt.Errorf("write %s: %w", frame["action"], err)
	}
	select {
	case f := <-ch:
		return f, nil
	case <-c.closed:
		return nil, errors.New("connection closed before the reply")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close ends the connection and waits until every frame it got was read.
func (c *wsConn) close() {
	_ = c.ws.Close(websocket.StatusNormalClosure, "bye")
	<-c.closed
}

// replyErr turns an error reply into an error naming its code.
func replyErr(f map[string]any) error {
	if f["type"] != "error" {
		return nil
	}
	code, _ := f["code"].(string)
	msg, _ := f["message"].(string)
	return &codeError{code: code, msg: msg, retry: time.Duration(num(f["retryAfterMs"])) * time.Millisecond}
}

type codeError struct {
	code, msg string
	retry     time.Duration
}

func (e *codeError) Error() string { return e.code + ": " + e.msg }

// runScenario runs sc against the stack at base and measures it. setCap,
// when not nil, sets the agents' capacity before they connect.
func runScenario(ctx context.Context, t target, sc scenario) (result, error) {
	base, backend, setCap := t.base, t.backend, t.setCapacity
	r := &run{sc: sc, base: base, id: strconv.FormatInt(time.Now().UnixNano()%1e10, 36),
		msgs: map[string]*msgInfo{}, recv: map[string]map[string]*receipt{}, bySeq: map[string]map[int64]string{},
		convAgent: map[string]string{}, convCust: map[string]string{}, errs: map[string]int{}, parked: map[string]bool{}}
	res := result{Scenario: sc, Backend: backend, Capacity: 3}
	if sc.Agents < 1 {
		return res, errors.New("at least one agent")
	}
	if setCap != nil {
		res.Capacity = max(3, (sc.Customers+sc.Agents-1)/sc.Agents)
		if err := setCap(ctx, res.Capacity); err != nil {
			return res, err
		}
	}

	// Agents connect first and stay until the end.
	agents := make([]*agent, sc.Agents)
	for j := range agents {
		a := &agent{r: r, party: fmt.Sprintf("a%d", j), convs: map[string]*agentConv{}, jobs: make(chan job, 4096)}
		c, err := r.dial(ctx, map[string]any{"role": "agent", "sub": fmt.Sprintf("bench-%s-a%d", r.id, j), "name": fmt.Sprintf("Agent %d", j)}, a.on)
		if err != nil {
			return res, fmt.Errorf("agent %d: %w", j, err)
		}
		a.c = c
		if f, err := c.request(ctx, "hello", nil); err != nil || replyErr(f) != nil {
			return res, fmt.Errorf("agent %d hello: %v %v", j, err, replyErr(f))
		}
		agents[j] = a
	}
	defer func() {
		for _, a := range agents {
			if a != nil {
				a.c.close()
			}
		}
	}()
	// Idle customers: connected, in a session, sending nothing.
	var idle []*wsConn
	defer func() {
		for _, c := range idle {
			c.close()
		}
	}()
	{
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		var firstErr error
		for i := 0; i < sc.Idle; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c, err := r.dial(ctx, map[string]any{"role": "customer", "sub": fmt.Sprintf("bench-%s-idle%d", r.id, i), "widget": "persistent"}, nil)
				if err == nil {
					_, err = c.request(ctx, "hello", nil)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					firstErr = cmpErr(firstErr, err)
					return
				}
				idle = append(idle, c)
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return res, fmt.Errorf("idle customers: %w", firstErr)
		}
	}
	res.Connections = sc.Agents + sc.Idle + sc.Customers

	before, err := readView(ctx, base)
	if err != nil {
		return res, err
	}
	poll, err := startPoller(ctx, base)
	if err != nil {
		return res, err
	}
	cpu0, lcpu0, m0 := t.cpu(), selfCPU(), machineBusy()
	r.framesOut.Store(0)
	r.framesIn.Store(0)
	for _, a := range agents {
		a.wg.Add(1)
		go a.work(ctx)
	}
	r.started = time.Now()
	r.stopAt = r.started.Add(sc.Duration)
	customers := make([]*customer, sc.Customers)
	var wg sync.WaitGroup
	for i := range customers {
		widget := "persistent"
		// Live customers spread evenly among the persistent ones.
		if math.Floor(float64(i+1)*sc.LiveShare) > math.Floor(float64(i)*sc.LiveShare) {
			widget = "live"
		}
		cu := &customer{r: r, i: i, party: fmt.Sprintf("c%d", i), widget: widget}
		customers[i] = cu
		wg.Add(1)
		go func() {
			defer wg.Done()
			cu.chat(ctx)
		}()
	}
	wg.Wait()
	sendEnd := time.Now()
	for _, a := range agents {
		close(a.jobs)
	}
	for _, a := range agents {
		a.wg.Wait()
	}
	sendEnd = later(sendEnd, time.Now())

	// Wait until every message reached its recipient, or 15 s.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && (r.undelivered() > 0 || r.unassigned() > 0) {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	// Then until the stack has finished what the run started (stream
	// notifications, assignments): its invocation count stops moving.
	after, err := settle(ctx, base)
	if err != nil {
		return res, err
	}
	recs, missed := poll.finish()
	res.StackCPU = t.cpu() - cpu0
	res.LoaderCPU = selfCPU() - lcpu0
	// Counters tick at 10 ms and are read at slightly different moments:
	// a small negative remainder is zero.
	res.OtherCPU = max(0, machineBusy()-m0-res.StackCPU-res.LoaderCPU)
	res.Window = diff(after, before)
	r.mu.Lock()
	res.PerKind = perKind(recs, r.parked)
	r.mu.Unlock()
	res.Missed = missed

	for _, cu := range customers {
		if cu.c != nil {
			cu.c.close()
		}
	}
	r.tally(&res)
	res.Seconds = sendEnd.Sub(r.started).Seconds()
	if res.Seconds > 0 {
		res.MsgsPerS = float64(res.Messages) / res.Seconds
	}
	res.FramesOut, res.FramesIn, res.MaxFrame = r.framesOut.Load(), r.framesIn.Load(), r.maxFrame.Load()
	return res, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// settle waits until the stack's finished invocations stop growing.
func settle(ctx context.Context, base string) (view, error) {
	var last view
	var lastN int64 = -1
	for range 100 {
		v, err := readView(ctx, base)
		if err != nil {
			return v, err
		}
		var n int64
		for _, t := range v.ByFunction {
			n += t.Invocations
		}
		if n == lastN {
			return v, nil
		}
		last, lastN = v, n
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
	return last, nil
}

// undelivered counts acknowledged messages the other party has not yet got.
func (r *run) undelivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id, m := range r.msgs {
		to := r.recipient(m)
		if to == "" {
			continue
		}
		if x := r.recv[to][id]; x == nil {
			n++
		}
	}
	return n
}

// unassigned counts conversations with customer messages and no agent yet.
func (r *run) unassigned() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for conv := range r.convCust {
		if r.convAgent[conv] == "" {
			n++
		}
	}
	return n
}

// recipient is the other party of a message: the conversation's customer,
// or the agent it is (finally) assigned to. Called with r.mu held.
func (r *run) recipient(m *msgInfo) string {
	if roleOf(m.sender) == "agent" {
		return r.convCust[m.conv]
	}
	return r.convAgent[m.conv]
}

func (r *run) tally(res *result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res.Errors = r.errs
	res.ErrorSample = r.sample
	res.SeqConflict = r.errs["seq_conflict"]
	delete(res.Errors, "seq_conflict")
	res.Unacked = r.unacked
	res.Reconnects, res.Parks, res.Pickups = r.reconn, r.parks, r.pickups
	for id, m := range r.msgs {
		res.Messages++
		if roleOf(m.sender) == "agent" {
			res.AgentMessages++
		} else {
			res.CustomerMessages++
		}
		to := r.recipient(m)
		if to == "" {
			continue // counted below, by conversation
		}
		if r.recv[to][id] == nil {
			res.Lost++
		}
	}
	unassigned := map[string]bool{}
	for _, m := range r.msgs {
		if roleOf(m.sender) == "customer" && r.convAgent[m.conv] == "" {
			unassigned[m.conv] = true
		}
	}
	res.Unassigned = len(unassigned)
	for _, rc := range r.recv {
		for _, x := range rc {
			switch {
			case x.events > 1 || x.snapshots > 1:
				res.Duplicated++
			case x.events == 1 && x.snapshots == 1:
				res.Overlap++
			}
		}
	}
	// Every party must hold a gap-free run of seqs from 1 in each of its
	// conversations.
	for party, rc := range r.recv {
		seqs := map[string][]int64{}
		for id := range rc {
			if m := r.msgs[id]; m != nil {
				seqs[m.conv] = append(seqs[m.conv], m.seq)
			}
		}
		for conv, s := range seqs {
			slices.Sort(s)
			s = slices.Compact(s)
			if roleOf(party) == "agent" && r.convAgent[conv] != party {
				continue
			}
			if len(s) > 0 && s[len(s)-1] != int64(len(s)) {
				res.Gaps++
			}
		}
	}
	res.Latency = quantilesOf(r.latency)
	// Once every customer is in its conversation (connects, first sends
	// and assignments done), and by 5 s slice of the run.
	var steady []time.Duration
	buckets := map[int][]time.Duration{}
	for i, d := range r.latency {
		if r.started.Add(r.sentOff[i]).After(r.opened) {
			steady = append(steady, d)
		}
		buckets[int(r.sentOff[i]/(5*time.Second))] = append(buckets[int(r.sentOff[i]/(5*time.Second))], d)
	}
	res.LatencySteady = quantilesOf(steady)
	res.OpenedAfter = r.opened.Sub(r.started).Seconds()
	for i := 0; i < len(buckets)+1; i++ {
		if b, ok := buckets[i]; ok {
			q := quantilesOf(b)
			res.Timeline = append(res.Timeline, slice{From: float64(i * 5), N: q.N, P50: q.P50, P99: q.P99})
		}
	}
	res.AckLatency = quantilesOf(r.acks)
}

// customer is one sending customer.
type customer struct {
	r      *run
	i      int
	party  string
	widget string
	conv   string
	c      *wsConn
	seqs   map[int64]bool
	mu     sync.Mutex
}

func (cu *customer) on(f map[string]any) {
	now := time.Now()
	switch f["type"] {
	case "message":
		m := obj(f["message"])
		cu.note(int64(num(m["seq"])))
		cu.r.got(cu.party, m, false, now)
	}
}

func (cu *customer) note(seq int64) {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	if cu.seqs == nil {
		cu.seqs = map[int64]bool{}
	}
	cu.seqs[seq] = true
}

// contiguous is the highest seq up to which the customer has every message.
func (cu *customer) contiguous() int64 {
	cu.mu.Lock()
	defer cu.mu.Unlock()
	var n int64
	for cu.seqs[n+1] {
		n++
	}
	return n
}

func (cu *customer) connect(ctx context.Context) error {
	c, err := cu.r.dial(ctx, map[string]any{"role": "customer", "sub": fmt.Sprintf("bench-%s-c%d", cu.r.id, cu.i), "name": fmt.Sprintf("Customer %d", cu.i), "widget": cu.widget}, cu.on)
	if err != nil {
		return err
	}
	cu.c = c
	fields := map[string]any{}
	if cu.conv != "" {
		fields["lastSeq"] = cu.contiguous()
	}
	f, err := c.request(ctx, "hello", fields)
	if err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if err := replyErr(f); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	now := time.Now()
	msgs, _ := f["messages"].([]any)
	for _, m := range msgs {
		mm := obj(m)
		cu.note(int64(num(mm["seq"])))
		cu.r.got(cu.party, mm, true, now)
	}
	if f["hasMore"] == true {
		cu.r.fail("session_has_more", cu.party)
	}
	return nil
}

func (cu *customer) chat(ctx context.Context) {
	r, sc := cu.r, cu.r.sc
	interval := time.Duration(float64(time.Second) / sc.Rate)
	// Spread the customers' first sends over one interval.
	next := r.started.Add(time.Duration(rand.Float64() * float64(interval)))
	reconnectAt := time.Time{}
	if sc.Reconnect {
		reconnectAt = r.started.Add(time.Duration((0.3 + 0.4*rand.Float64()) * float64(sc.Duration)))
	}
	if err := cu.connect(ctx); err != nil {
		r.fail("connect", err.Error())
		return
	}
	for n := 0; sc.Messages == 0 || n < sc.Messages; n++ {
		if !sleepUntil(ctx, next) {
			return
		}
		if time.Now().After(r.stopAt) {
			return
		}
		if !reconnectAt.IsZero() && time.Now().After(reconnectAt) && cu.conv != "" {
			reconnectAt = time.Time{}
			cu.c.close()
			if err := cu.connect(ctx); err != nil {
				r.fail("reconnect", err.Error())
				return
			}
			r.mu.Lock()
			r.reconn++
			r.mu.Unlock()
		}
		cu.send(ctx, n)
		// Jittered pacing: ±20% around the interval.
		next = next.Add(time.Duration(float64(interval) * (0.8 + 0.4*rand.Float64())))
	}
}

// send sends message n and waits for its ack, retrying (with the same
// clientMessageId: sends are idempotent) after rate_limited.
func (cu *customer) send(ctx context.Context, n int) {
	r := cu.r
	t0 := time.Now()
	cmid := fmt.Sprintf("k%d-%d", n, t0.UnixNano())
	text := fmt.Sprintf("t=%d message %d from %s", t0.UnixNano(), n, cu.party)
	frame := map[string]any{"action": "send", "clientMessageId": cmid, "text": text}
	if cu.conv != "" {
		frame["conversationId"] = cu.conv
	}
	f, id, ok := r.sendAcked(ctx, cu.c, func(attempt int) string { return fmt.Sprintf("%s-s%d-%d", cu.party, n, attempt) }, frame)
	if ok {
		cu.acked(f, t0, id)
	}
}

// sendAcked sends frame (a send) until it is acknowledged, at most five
// times, each under a request id of its own (idOf) and the same
// clientMessageId, so a resend is idempotent: after no reply within 10 s,
// and after rate_limited or the gateway's error frame (waiting as told).
// It counts every failure; ok is false, and the send counted unacknowledged,
// when it gave up.
func (r *run) sendAcked(ctx context.Context, c *wsConn, idOf func(attempt int) string, frame map[string]any) (ack map[string]any, requestID string, ok bool) {
	for attempt := 0; attempt < 5; attempt++ {
		id := idOf(attempt)
		frame["requestId"] = id
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		f, err := c.requestFrame(sctx, id, frame)
		cancel()
		if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			// No reply within 10 s (API Gateway's own error frame names
			// no requestId of ours): resend, as a client does.
			r.fail("no_reply_in_10s", err.Error())
			continue
		}
		if err != nil {
			r.fail("transport", err.Error())
			break
		}
		if err := replyErr(f); err != nil {
			ce := err.(*codeError)
			r.fail(ce.code, ce.msg)
			// internal says "try again": the widget offers that under the
			// same clientMessageId, and the stack makes it safe (a write
			// whose outcome it could not learn is fenced out).
			if ce.code == "rate_limited" || ce.code == "gateway" || ce.code == "internal" {
				sleepUntil(ctx, time.Now().Add(max(ce.retry, 100*time.Millisecond)))
				continue
			}
			return nil, id, false
		}
		return f, id, true
	}
	r.mu.Lock()
	r.unacked++
	r.mu.Unlock()
	return nil, "", false
}

func (cu *customer) acked(f map[string]any, t0 time.Time, requestID string) {
	r := cu.r
	now := time.Now()
	m, cv := obj(f["message"]), obj(f["conversation"])
	id, _ := m["id"].(string)
	conv, _ := cv["id"].(string)
	first := cu.conv == ""
	cu.conv = conv
	cu.note(int64(num(m["seq"])))
	r.mu.Lock()
	if first && now.After(r.opened) {
		r.opened = now
	}
	if st := cv["status"]; st == "returned" || st == "waiting" {
		r.parked[requestID] = true
	}
	r.acks = append(r.acks, now.Sub(t0))
	r.msgs[id] = &msgInfo{conv: conv, seq: int64(num(m["seq"])), sender: cu.party, sentAt: t0}
	r.convCust[conv] = cu.party
	r.mu.Unlock()
	r.got(cu.party, m, false, now)
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// agent is one agent: it replies, parks and picks up, one request at a
// time, as a person at the agent app does.
type agent struct {
	r     *run
	party string
	c     *wsConn
	mu    sync.Mutex
	convs map[string]*agentConv
	jobs  chan job
	wg    sync.WaitGroup
}

type agentConv struct {
	status   string
	mode     string
	received int
	replies  int
}

type job struct {
	kind string // reply, pickup
	conv string
	n    int
}

func (a *agent) on(f map[string]any) {
	now := time.Now()
	switch f["type"] {
	case "conversation":
		cv := obj(f["conversation"])
		id, _ := cv["id"].(string)
		st, _ := cv["status"].(string)
		mode, _ := cv["mode"].(string)
		if agentID, _ := obj(cv["agent"])["id"].(string); !strings.HasSuffix(agentID, "-"+a.party) {
			return
		}
		a.mu.Lock()
		c := a.convs[id]
		if c == nil {
			c = &agentConv{}
			a.convs[id] = c
		}
		c.status, c.mode = st, mode
		a.mu.Unlock()
		if st == "active" {
			a.r.mu.Lock()
			a.r.convAgent[id] = a.party
			a.r.mu.Unlock()
		}
		if msgs, ok := f["messages"].([]any); ok {
			for _, m := range msgs {
				a.r.got(a.party, obj(m), true, now)
			}
			if f["hasMore"] == true {
				a.r.fail("assignment_has_more", id)
			}
		}
	case "message":
		m := obj(f["message"])
		a.r.got(a.party, m, false, now)
		if obj(m["sender"])["role"] != "customer" {
			return
		}
		id, _ := m["conversationId"].(string)
		a.mu.Lock()
		c := a.convs[id]
		if c == nil {
			// The message event can overtake the assignment's
			// conversation event: the agent learns of it from the message.
			c = &agentConv{status: "active"}
			a.convs[id] = c
		}
		c.received++
		reply := c.status == "active" && a.r.sc.ReplyEvery > 0 && c.received%a.r.sc.ReplyEvery == 0
		a.mu.Unlock()
		if reply && time.Now().Before(a.r.stopAt) {
			a.enqueue(job{kind: "reply", conv: id})
		}
	case "notification":
		if f["kind"] == "customer_returned" {
			id, _ := f["conversationId"].(string)
			a.enqueue(job{kind: "pickup", conv: id})
		}
	}
}

func (a *agent) enqueue(j job) {
	defer func() { _ = recover() }() // jobs closed: the run is over
	select {
	case a.jobs <- j:
	default:
		a.r.fail("agent_backlog", a.party)
	}
}

func (a *agent) work(ctx context.Context) {
	defer a.wg.Done()
	for j := range a.jobs {
		switch j.kind {
		case "reply":
			a.reply(ctx, j.conv)
		case "pickup":
			a.pickup(ctx, j)
		}
	}
}

func (a *agent) reply(ctx context.Context, conv string) {
	r := a.r
	a.mu.Lock()
	c := a.convs[conv]
	active := c != nil && c.status == "active"
	n := 0
	if c != nil {
		c.replies++
		n = c.replies
	}
	a.mu.Unlock()
	if !active {
		return
	}
	t0 := time.Now()
	cmid := fmt.Sprintf("r%d-%d", n, t0.UnixNano())
	f, _, ok := r.sendAcked(ctx, a.c, func(attempt int) string { return fmt.Sprintf("%s-s%s-%d", a.party, cmid, attempt) },
		map[string]any{"action": "send", "conversationId": conv, "clientMessageId": cmid, "text": fmt.Sprintf("t=%d reply %d from %s", t0.UnixNano(), n, a.party)})
	if !ok {
		return
	}
	now := time.Now()
	m := obj(f["message"])
	mid, _ := m["id"].(string)
	r.mu.Lock()
	r.acks = append(r.acks, now.Sub(t0))
	r.msgs[mid] = &msgInfo{conv: conv, seq: int64(num(m["seq"])), sender: a.party, sentAt: t0}
	r.mu.Unlock()
	r.got(a.party, m, false, now)

	if r.sc.ParkEvery > 0 && c.mode == "persistent" && n%r.sc.ParkEvery == 0 {
		pid := fmt.Sprintf("%s-park-%s", a.party, cmid)
		f, err := a.c.requestFrame(ctx, pid, map[string]any{"action": "park", "requestId": pid, "conversationId": conv})
		if err != nil {
			r.fail("transport", err.Error())
			return
		}
		if err := replyErr(f); err != nil {
			ce := err.(*codeError)
			r.fail(ce.code, ce.msg)
			return
		}
		a.mu.Lock()
		c.status = "waiting"
		a.mu.Unlock()
		r.mu.Lock()
		r.parks++
		r.mu.Unlock()
	}
}

func (a *agent) pickup(ctx context.Context, j job) {
	r := a.r
	id := fmt.Sprintf("%s-pickup-%s-%d-%d", a.party, j.conv, j.n, time.Now().UnixNano())
	f, err := a.c.requestFrame(ctx, id, map[string]any{"action": "pickup", "requestId": id, "conversationId": j.conv})
	if err != nil {
		r.fail("transport", err.Error())
		return
	}
	if err := replyErr(f); err != nil {
		ce := err.(*codeError)
		r.fail("pickup: "+ce.code, ce.msg)
		return
	}
	a.mu.Lock()
	if c := a.convs[j.conv]; c != nil {
		c.status = "active"
	}
	a.mu.Unlock()
	r.mu.Lock()
	r.pickups++
	r.mu.Unlock()
}

// perKind averages the invocations by what they served, told apart by the
// requestId of the frame (this command names them) or by function.
func perKind(recs []record, parked map[string]bool) map[string]kindCost {
	type acc struct {
		n          int64
		ddb, push  int64
		rd, wr     float64
		dur        int64
		ops        map[string]int64
		over, most int64
	}
	by := map[string]*acc{}
	for _, rec := range recs {
		kind := rec.Function
		if rec.RouteKey != "" {
			kind = "route " + rec.RouteKey
		}
		id := rec.ClientRequestID
		switch {
		case rec.RouteKey == "send" && strings.HasPrefix(id, "c") && strings.HasSuffix(id, "-s0-0"):
			kind = "customer send (first, opens the conversation)"
		case rec.RouteKey == "send" && strings.HasPrefix(id, "c") && parked[id]:
			kind = "customer send (into a parked conversation)"
		case rec.RouteKey == "send" && strings.HasPrefix(id, "c"):
			kind = "customer send"
		case rec.RouteKey == "send" && strings.HasPrefix(id, "a"):
			kind = "agent send"
		case rec.Source == "stream":
			kind = rec.Function + " (stream)"
		case rec.Source == "schedule":
			kind = rec.Function + " (schedule)"
		case rec.Source == "authorizer":
			kind = "authorizer"
		}
		x := by[kind]
		if x == nil {
			x = &acc{ops: map[string]int64{}}
			by[kind] = x
		}
		x.n++
		if d := sum(rec.DynamoDB); d > 3 {
			x.over++
		}
		x.most = max(x.most, sum(rec.DynamoDB))
		x.ddb += sum(rec.DynamoDB)
		x.push += rec.ManagementAPI["PostToConnection"]
		x.rd += rec.Capacity.Read
		x.wr += rec.Capacity.Write
		x.dur += rec.DurationMs
		for k, v := range rec.DynamoDB {
			x.ops[k] += v
		}
	}
	out := map[string]kindCost{}
	for k, x := range by {
		n := float64(x.n)
		out[k] = kindCost{Invocations: x.n, DynamoDB: float64(x.ddb) / n, ByOperation: x.ops, Pushes: float64(x.push) / n,
			Read: x.rd / n, Write: x.wr / n, DurationMs: float64(x.dur) / n, Over3: x.over, MaxDynamoDB: x.most}
	}
	return out
}
