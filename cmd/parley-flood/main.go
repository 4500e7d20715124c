// Command parley-flood floods a local stack the way issue 10's attacker
// did and measures what the flood does to everyone else: replies lost,
// how long other clients were stalled, the peak of open file descriptors
// and of resident memory of the parley-local process, and how long SIGTERM
// takes to drain it. It starts the parley-local binary it is given on a
// free loopback port with its data in memory, so a run is reproducible and
// leaves nothing behind:
//
//	go build -o bin/parley-local ./cmd/parley-local
//	go run ./cmd/parley-flood --exec bin/parley-local
//
// Scenarios (--scenario, default all): "history", one connection sending
// --requests history requests as fast as it can; "ping", --conns
// connections each sending --requests pings at once; "sigterm", a history
// flood cut short by SIGTERM, which must end the process within its drain
// deadline, every request it took answered. Every loop and wait is bounded;
// it talks to loopback only.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

func main() {
	var o options
	flag.StringVar(&o.exec, "exec", "", "parley-local binary to start (required)")
	flag.StringVar(&o.template, "template", "template.yaml", "template the stack runs")
	flag.StringVar(&o.scenario, "scenario", "all", "history, ping, sigterm or all")
	flag.IntVar(&o.requests, "requests", 2000, "requests each flooding connection sends (at most 20000)")
	flag.IntVar(&o.conns, "conns", 7, "flooding connections of the ping scenario (at most 50)")
	flag.IntVar(&o.messages, "messages", 200, "messages in the flooding customer's conversation before a history flood (at most 1000)")
	flag.IntVar(&o.limit, "limit", 200, "the history requests' limit (1-200)")
	flag.DurationVar(&o.wait, "wait", 3*time.Minute, "longest wait for the answers of one flood")
	flag.Parse()
	if o.exec == "" {
		fmt.Fprintln(os.Stderr, "parley-flood: --exec names the parley-local binary to flood")
		os.Exit(2)
	}
	o.requests = min(max(o.requests, 1), 20000)
	o.conns = min(max(o.conns, 1), 50)
	o.messages = min(max(o.messages, 1), 1000)
	o.limit = min(max(o.limit, 1), 200)
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "parley-flood:", err)
		os.Exit(1)
	}
}

type options struct {
	exec, template, scenario string
	requests, conns          int
	messages, limit          int
	wait                     time.Duration
}

// target is one started parley-local process.
type target struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	pid  int
	done chan struct{} // closed when the process has exited
	err  error         // its exit error, once done
}

func start(o options) (*target, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pick a port: %w", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	bin, err := filepath.Abs(o.exec)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--addr", addr, "--data", "", "--template", o.template, "--log-level", "error")
	cmd.Stdout = nil
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.exec, err)
	}
	t := &target{cmd: cmd, base: "http://" + addr, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() { t.err = cmd.Wait(); close(t.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(t.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return t, nil
			}
		}
		select {
		case <-t.done:
			return nil, fmt.Errorf("%s exited before it was ready: %v", o.exec, t.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.kill()
	return nil, errors.New("the stack was not ready within 60 s")
}

func (t *target) kill() {
	_ = t.cmd.Process.Kill()
	<-t.done
}

// sampler records the process's peak open file descriptors and resident
// memory while it runs.
type sampler struct {
	pid     int
	peakFDs atomic.Int64
	peakRSS atomic.Int64 // KiB
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newSampler(pid int) *sampler {
	s := &sampler{pid: pid, stop: make(chan struct{})}
	s.wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	})
	return s
}

func (s *sampler) sample() {
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid)); err == nil {
		setMax(&s.peakFDs, int64(len(ents)))
	}
	if kib := statusKiB(s.pid, "VmHWM:"); kib > 0 { // the kernel's own high-water mark
		setMax(&s.peakRSS, kib)
	}
}

func (s *sampler) close() {
	close(s.stop)
	s.wg.Wait()
}

func setMax(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}

func statusKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// conn is one WebSocket client that counts what comes back.
type conn struct {
	ws      *websocket.Conn
	mu      sync.Mutex
	replies map[string]int // requestId → answers
	gwErr   int            // API Gateway's own error frames (no requestId of ours)
	other   int
	closed  chan struct{}
	waiters map[string]chan struct{}
}

func token(base string, claims map[string]any) (string, error) {
	b, _ := json.Marshal(claims)
	resp, err := http.Post(base+"/local/token", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Token == "" {
		return "", fmt.Errorf("token: %v (HTTP %d)", err, resp.StatusCode)
	}
	return tok.Token, nil
}

func dial(ctx context.Context, base string, claims map[string]any) (*conn, error) {
	tok, err := token(base, claims)
	if err != nil {
		return nil, err
	}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws?token="+url.QueryEscape(tok), nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	c := &conn{ws: ws, replies: map[string]int{}, closed: make(chan struct{}), waiters: map[string]chan struct{}{}}
	go func() {
		defer close(c.closed)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var f map[string]any
			_ = json.Unmarshal(b, &f)
			c.mu.Lock()
			switch id, _ := f["requestId"].(string); {
			case f["type"] == nil && f["message"] != nil && f["connectionId"] != nil:
				c.gwErr++
			case id != "" && f["type"] != nil:
				c.replies[id]++
				if w := c.waiters[id]; w != nil {
					close(w)
					delete(c.waiters, id)
				}
			default:
				c.other++
			}
			c.mu.Unlock()
		}
	}()
	return c, nil
}

func (c *conn) send(ctx context.Context, v any) error {
	b, _ := json.Marshal(v)
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// do sends a request and waits for its reply.
func (c *conn) do(ctx context.Context, v map[string]any) error {
	id := v["requestId"].(string)
	w := make(chan struct{})
	c.mu.Lock()
	c.waiters[id] = w
	c.mu.Unlock()
	if err := c.send(ctx, v); err != nil {
		return err
	}
	select {
	case <-w:
		return nil
	case <-c.closed:
		return errors.New("connection closed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// answered counts the distinct requests among ids that got a reply, the
// extra replies, and API Gateway's error frames.
func (c *conn) answered(ids []string) (replied, dup, gw int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if n := c.replies[id]; n > 0 {
			replied++
			dup += n - 1
		}
	}
	return replied, dup, c.gwErr
}

// probe is a client outside the flood that keeps asking for service: a
// ping on its own connection, and now and then a whole new connection. Its
// longest wait is how long the flood stalled everyone else.
type probe struct {
	base  string
	c     *conn
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	worst time.Duration
	what  string
	fails int
}

func newProbe(ctx context.Context, base string, run int64) (*probe, error) {
	c, err := dial(ctx, base, map[string]any{"role": "customer", "sub": fmt.Sprintf("probe-%d", run), "widget": "persistent"})
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	p := &probe{base: base, c: c, stop: make(chan struct{})}
	p.wg.Go(func() { p.loop(run) })
	return p, nil
}

func (p *probe) note(d time.Duration, what string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.fails++
	}
	if d > p.worst {
		p.worst, p.what = d, what
	}
}

func (p *probe) loop(run int64) {
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		t0 := time.Now()
		err := p.c.do(ctx, map[string]any{"action": "ping", "requestId": fmt.Sprintf("probe-%d", i)})
		p.note(time.Since(t0), "ping on an open connection", err)
		if i%5 == 0 {
			t0 = time.Now()
			c, err := dial(ctx, p.base, map[string]any{"role": "customer", "sub": fmt.Sprintf("probe-%d-%d", run, i), "widget": "persistent"})
			if err == nil {
				err = c.do(ctx, map[string]any{"action": "hello", "requestId": "hello"})
				c.ws.Close(websocket.StatusNormalClosure, "probe done")
			}
			p.note(time.Since(t0), "new connection and hello", err)
		}
		cancel()
	}
}

func (p *probe) close() (time.Duration, string, int) {
	close(p.stop)
	p.wg.Wait()
	p.c.ws.Close(websocket.StatusNormalClosure, "done")
	return p.worst, p.what, p.fails
}

// flood sends n requests of action on c as fast as it can, without waiting
// for answers.
func flood(ctx context.Context, c *conn, prefix, action string, extra map[string]any, n int) (sent int, ids []string, err error) {
	for i := range n {
		id := fmt.Sprintf("%s%d", prefix, i)
		f := map[string]any{"action": action, "requestId": id}
		for k, v := range extra {
			f[k] = v
		}
		if err := c.send(ctx, f); err != nil {
			return sent, ids, err
		}
		ids = append(ids, id)
		sent++
	}
	return sent, ids, nil
}

func awaitAnswers(c *conn, ids []string, wait time.Duration) {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		r, _, gw := c.answered(ids)
		if r+gw >= len(ids) {
			return
		}
		select {
		case <-c.closed:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type result struct {
	name                   string
	sent, replied, gw, dup int
	stall                  time.Duration
	stallWhat              string
	probeFails             int
	took                   time.Duration
}

func (r result) print() {
	lost := r.sent - r.replied - r.gw
	// A request answered twice (an error frame at the integration timeout,
	// then the handler's late reply) shows as answers beyond the requests.
	extra := r.replied + r.gw + r.dup - r.sent
	fmt.Printf("%-8s sent %d: %d replies, %d API Gateway error frames, %d lost, %d answered twice; in %s\n",
		r.name, r.sent, r.replied, r.gw, max(lost, 0), max(extra, 0), r.took.Round(time.Millisecond))
	fmt.Printf("         other clients: longest wait %s (%s), %d probe requests failed\n", r.stall.Round(time.Millisecond), r.stallWhat, r.probeFails)
}

func run(o options) error {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return errors.New("needs /proc to measure file descriptors and memory")
	}
	t, err := start(o)
	if err != nil {
		return err
	}
	s := newSampler(t.pid)
	defer func() {
		select {
		case <-t.done:
		default:
			t.kill()
		}
	}()
	fmt.Printf("parley-local pid %d on %s\n", t.pid, t.base)
	ctx := context.Background()
	run := time.Now().UnixNano()
	scenarios := strings.Split(o.scenario, ",")
	if o.scenario == "all" {
		scenarios = []string{"history", "ping", "sigterm"}
	}
	// An agent online and a customer with a conversation, so history reads
	// messages.
	agent, err := dial(ctx, t.base, map[string]any{"role": "agent", "sub": fmt.Sprintf("flood-agent-%d", run), "name": "Agent"})
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if err := agent.do(ctx, map[string]any{"action": "hello", "requestId": "hello"}); err != nil {
		return fmt.Errorf("agent hello: %w", err)
	}
	for _, sc := range scenarios {
		switch sc {
		case "history", "ping":
			p, err := newProbe(ctx, t.base, run)
			if err != nil {
				return err
			}
			var res result
			start := time.Now()
			if sc == "history" {
				res, err = historyFlood(ctx, t.base, run, o)
			} else {
				res, err = pingFlood(ctx, t.base, run, o)
			}
			res.took = time.Since(start)
			res.stall, res.stallWhat, res.probeFails = p.close()
			if err != nil {
				return fmt.Errorf("%s flood: %w", sc, err)
			}
			res.print()
		case "sigterm":
			if err := sigtermFlood(ctx, t, run, o); err != nil {
				return fmt.Errorf("sigterm flood: %w", err)
			}
		default:
			return fmt.Errorf("unknown scenario %q", sc)
		}
		s.sample()
		fmt.Printf("         parley-local so far: peak %d open file descriptors, peak RSS %d MiB\n", s.peakFDs.Load(), s.peakRSS.Load()/1024)
	}
	s.close()
	return nil
}

func customerWithConversation(ctx context.Context, base, sub string, messages int) (*conn, string, error) {
	c, err := dial(ctx, base, map[string]any{"role": "customer", "sub": sub, "widget": "persistent"})
	if err != nil {
		return nil, "", err
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for i := range messages {
		id := fmt.Sprintf("open%d", i)
		msg := map[string]any{"action": "send", "requestId": id, "clientMessageId": id, "text": strings.Repeat("a long enough message ", 10)}
		if err := c.do(wctx, msg); err != nil {
			return nil, "", fmt.Errorf("message %d: %w", i, err)
		}
	}
	return c, "", nil
}

func historyFlood(ctx context.Context, base string, run int64, o options) (result, error) {
	c, _, err := customerWithConversation(ctx, base, fmt.Sprintf("flood-history-%d", run), o.messages)
	if err != nil {
		return result{}, err
	}
	defer c.ws.Close(websocket.StatusNormalClosure, "done")
	sent, ids, err := flood(ctx, c, "h", "history", map[string]any{"limit": o.limit}, o.requests)
	if err != nil {
		return result{}, err
	}
	awaitAnswers(c, ids, o.wait)
	r, dup, gw := c.answered(ids)
	return result{name: "history", sent: sent, replied: r, gw: gw, dup: dup}, nil
}

func pingFlood(ctx context.Context, base string, run int64, o options) (result, error) {
	conns := make([]*conn, o.conns)
	for i := range conns {
		c, err := dial(ctx, base, map[string]any{"role": "customer", "sub": fmt.Sprintf("flood-ping-%d-%d", run, i), "widget": "persistent"})
		if err != nil {
			return result{}, err
		}
		defer c.ws.Close(websocket.StatusNormalClosure, "done")
		conns[i] = c
	}
	var wg sync.WaitGroup
	idss := make([][]string, len(conns))
	errs := make([]error, len(conns))
	for i, c := range conns {
		wg.Go(func() { _, idss[i], errs[i] = flood(ctx, c, "p", "ping", nil, o.requests) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return result{}, err
	}
	res := result{name: "ping"}
	for i, c := range conns {
		wg.Go(func() { awaitAnswers(c, idss[i], o.wait) })
	}
	wg.Wait()
	for i, c := range conns {
		r, dup, gw := c.answered(idss[i])
		res.sent += len(idss[i])
		res.replied += r
		res.gw += gw
		res.dup += dup
	}
	return res, nil
}

func sigtermFlood(ctx context.Context, t *target, run int64, o options) error {
	c, _, err := customerWithConversation(ctx, t.base, fmt.Sprintf("flood-sigterm-%d", run), o.messages)
	if err != nil {
		return err
	}
	sent, ids, err := flood(ctx, c, "s", "history", map[string]any{"limit": o.limit}, o.requests)
	if err != nil {
		return err
	}
	// Once the first answers arrive the stack is busy with the rest.
	deadline := time.Now().Add(o.wait)
	for time.Now().Before(deadline) {
		if r, _, gw := c.answered(ids); r+gw > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := t.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	exited := false
	select {
	case <-t.done:
		exited = true
	case <-time.After(o.wait):
	}
	took := time.Since(start)
	select {
	case <-c.closed:
	case <-time.After(5 * time.Second):
	}
	r, dup, gw := c.answered(ids)
	status := "still running; killed"
	if exited {
		status = fmt.Sprintf("exited (%v)", t.err)
		if t.err == nil {
			status = "exited 0"
		}
	}
	fmt.Printf("sigterm  sent %d history requests, then SIGTERM: %s after %s; %d replies, %d API Gateway error frames, %d unanswered (not all were read before the close), %d duplicated\n",
		sent, status, took.Round(time.Millisecond), r, gw, sent-r-gw, dup)
	return nil
}
