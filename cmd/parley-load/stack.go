package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// localStack is a parley-local process this command started: on a free
// loopback port, with a temporary --data folder, stopped with SIGTERM (the
// stack drains and exits 0) and its folder removed.
type localStack struct {
	base     string // http://127.0.0.1:port
	dynamoDB string // the store's endpoint, as the stack's banner names it
	backend  string // "embedded" or "dynamodb-local"
	cmd      *exec.Cmd
	data     string
	done     chan struct{}
	err      error
	stderr   *tail
}

// startStack runs bin; with dynamoDBLocal the stack runs on Amazon DynamoDB
// Local instead of its embedded store.
func startStack(ctx context.Context, bin, template string, dynamoDBLocal, inMemory bool) (*localStack, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pick a port: %w", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	abs, err := filepath.Abs(bin)
	if err != nil {
		return nil, fmt.Errorf("locate %s: %w", bin, err)
	}
	data, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return nil, fmt.Errorf("make a data folder: %w", err)
	}
	dataArg := data
	if inMemory {
		dataArg = ""
	}
	args := []string{"--addr", addr, "--data", dataArg, "--template", template, "--log-level", "error"}
	s := &localStack{base: "http://" + addr, backend: "embedded", data: data, done: make(chan struct{}), stderr: &tail{}}
	if dynamoDBLocal {
		args = append(args, "--dynamodb-local")
		s.backend = "dynamodb-local"
	}
	s.cmd = exec.Command(abs, args...)
	s.cmd.Stderr = s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("stdout of %s: %w", bin, err)
	}
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(data)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	banner := make(chan string, 1)
	go func() {
		// The banner names the store's endpoint; the rest is drained.
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); !sent && len(f) >= 2 && f[0] == "DynamoDB" {
				banner <- f[1]
				sent = true
			}
		}
		if !sent {
			close(banner)
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { s.err = s.cmd.Wait(); close(s.done) }()

	// DynamoDB Local (a JVM) can take a while on first use.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-s.done:
			_ = os.RemoveAll(data)
			return nil, fmt.Errorf("%s exited before it was ready: %v: %s", bin, s.err, s.stderr)
		case <-ctx.Done():
			s.stop()
			return nil, fmt.Errorf("wait for %s: %w", s.base, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("the stack was not ready within 3 minutes")
		}
	}
	select {
	case ep, ok := <-banner:
		if !ok || ep == "" {
			s.stop()
			return nil, errors.New("the stack's banner names no DynamoDB endpoint")
		}
		s.dynamoDB = ep
	case <-time.After(10 * time.Second):
		s.stop()
		return nil, errors.New("the stack printed no banner")
	}
	return s, nil
}

// stop sends SIGTERM, waits for the stack to drain and exit, and removes its
// data folder. It reports an exit other than 0.
func (s *localStack) stop() error {
	defer os.RemoveAll(s.data)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop the stack: %w", err)
	}
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("the stack did not stop within 60 s of SIGTERM; killed")
	}
	if s.err != nil {
		return fmt.Errorf("the stack exited with %v: %s", s.err, s.stderr)
	}
	return nil
}

// cpuSeconds is the user and system CPU time so far of the stack process
// and of the processes it started (DynamoDB Local's JVM), from /proc
// (Linux), or -1 where that cannot be read.
func (s *localStack) cpuSeconds() float64 { return treeCPU(s.cmd.Process.Pid) }

// treeCPU sums procCPU over pid and its descendants.
func treeCPU(pid int) float64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return -1
	}
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 1 {
				parent[p], _ = strconv.Atoi(f[1])
			}
		}
	}
	total := procCPU(pid)
	if total < 0 {
		return -1
	}
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				if c := procCPU(p); c > 0 {
					total += c
				}
				break
			}
		}
	}
	return total
}

// machineBusy is the CPU seconds every process of the machine has used
// since boot (/proc/stat: user, nice, system, irq, softirq, steal), or -1.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return -1
	}
	var busy float64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseFloat(f[i], 64)
		busy += v
	}
	return busy / 100
}

func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

// tail keeps the last 4 KB written to it (the stack's stderr, for errors).
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// totals is one entry of /local/metrics' byRoute and byFunction views.
type totals struct {
	Invocations   int64            `json:"invocations"`
	DynamoDB      map[string]int64 `json:"dynamodb"`
	ManagementAPI map[string]int64 `json:"managementApi"`
	Capacity      capacity         `json:"capacity"`
}

type capacity struct {
	Read  float64 `json:"read"`
	Write float64 `json:"write"`
}

// view is GET /local/metrics (docs/protocol.md section 7).
type view struct {
	DynamoDB      map[string]int64            `json:"dynamodb"`
	ManagementAPI map[string]int64            `json:"managementApi"`
	ByRoute       map[string]totals           `json:"byRoute"`
	ByFunction    map[string]totals           `json:"byFunction"`
	Unattributed  map[string]map[string]int64 `json:"unattributed"`
}

func readView(ctx context.Context, base string) (view, error) {
	var v view
	if err := getJSON(ctx, base+"/local/metrics", &v); err != nil {
		return v, fmt.Errorf("read /local/metrics: %w", err)
	}
	return v, nil
}

// record is one finished invocation of GET /local/metrics/invocations.
type record struct {
	Seq             int64            `json:"seq"`
	Function        string           `json:"function"`
	RouteKey        string           `json:"routeKey"`
	Source          string           `json:"source"`
	ClientRequestID string           `json:"clientRequestId"`
	DurationMs      int64            `json:"durationMs"`
	Error           string           `json:"error"`
	DynamoDB        map[string]int64 `json:"dynamodb"`
	ManagementAPI   map[string]int64 `json:"managementApi"`
	Capacity        capacity         `json:"capacity"`
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// sub is after minus before, by key.
func sub(after, before map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// window is what every invocation cost between two snapshots of
// /local/metrics.
type window struct {
	Invocations   int64            `json:"invocations"`
	ByFunction    map[string]int64 `json:"invocations_by_function"`
	DynamoDB      map[string]int64 `json:"dynamodb"`
	ManagementAPI map[string]int64 `json:"management_api"`
	Capacity      capacity         `json:"capacity"`
	Send          totals           `json:"send_route"`
}

func diff(after, before view) window {
	w := window{ByFunction: map[string]int64{}, DynamoDB: map[string]int64{}, ManagementAPI: map[string]int64{}}
	for fn, a := range after.ByFunction {
		b := before.ByFunction[fn]
		if n := a.Invocations - b.Invocations; n != 0 {
			w.ByFunction[fn] = n
			w.Invocations += n
		}
		for k, v := range sub(a.DynamoDB, b.DynamoDB) {
			w.DynamoDB[k] += v
		}
		for k, v := range sub(a.ManagementAPI, b.ManagementAPI) {
			w.ManagementAPI[k] += v
		}
		w.Capacity.Read += a.Capacity.Read - b.Capacity.Read
		w.Capacity.Write += a.Capacity.Write - b.Capacity.Write
	}
	a, b := after.ByRoute["send"], before.ByRoute["send"]
	w.Send = totals{
		Invocations:   a.Invocations - b.Invocations,
		DynamoDB:      sub(a.DynamoDB, b.DynamoDB),
		ManagementAPI: sub(a.ManagementAPI, b.ManagementAPI),
		Capacity:      capacity{Read: a.Capacity.Read - b.Capacity.Read, Write: a.Capacity.Write - b.Capacity.Write},
	}
	return w
}

// poller reads every finished invocation as it is listed, so the cost of
// each kind of request (a customer's send, an agent's, a park) can be told
// apart by the requestId of its frame.
type poller struct {
	base   string
	mu     sync.Mutex
	recs   []record
	next   int64
	missed int64 // invocations that left the stack's list of 1000 unread
	stop   chan struct{}
	done   chan struct{}
}

func startPoller(ctx context.Context, base string) (*poller, error) {
	p := &poller{base: base, stop: make(chan struct{}), done: make(chan struct{})}
	var out struct {
		Next int64 `json:"next"`
	}
	if err := getJSON(ctx, base+"/local/metrics/invocations?since="+strconv.FormatInt(1<<62, 10), &out); err != nil {
		return nil, fmt.Errorf("read the invocation cursor: %w", err)
	}
	p.next = out.Next
	go func() {
		defer close(p.done)
		for {
			p.poll(ctx)
			select {
			case <-p.stop:
				p.poll(ctx)
				return
			case <-ctx.Done():
				return
			// The stack keeps its last 1000 invocations; reading them
			// twice a second keeps up with 2,000 a second and adds
			// little to the stack's own work.
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	return p, nil
}

func (p *poller) poll(ctx context.Context) {
	for {
		var out struct {
			Next        int64    `json:"next"`
			Invocations []record `json:"invocations"`
		}
		p.mu.Lock()
		since := p.next
		p.mu.Unlock()
		if err := getJSON(ctx, fmt.Sprintf("%s/local/metrics/invocations?since=%d", p.base, since), &out); err != nil {
			return
		}
		p.mu.Lock()
		expect := since + 1
		for _, r := range out.Invocations {
			if r.Seq > expect {
				p.missed += r.Seq - expect
			}
			expect = r.Seq + 1
			p.recs = append(p.recs, r)
		}
		if out.Next > p.next {
			p.next = out.Next
		}
		n := len(out.Invocations)
		p.mu.Unlock()
		if n < 1000 {
			return
		}
	}
}

// finish stops polling once the last invocations are read.
func (p *poller) finish() ([]record, int64) {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.recs, p.missed
}
