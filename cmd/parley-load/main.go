// Command parley-load drives a local stack with many customers and agents
// chatting at once over real WebSockets (customers send, agents reply, park
// and pick up, customers leave and come back on a new connection), checks
// every message by id and seq on every party, and reports throughput,
// send-to-delivery latency, messages lost and duplicated, errors by code,
// and what each message cost in DynamoDB requests, capacity units and
// pushes (from the stack's per-invocation attribution, GET /local/metrics).
//
// One run against a stack that is already running (make run):
//
//	go run ./cmd/parley-load --url http://127.0.0.1:8080 --customers 30 --agents 3 --messages 20
//
// The benchmark suites start their own stacks (bin/parley-local on a free
// port, a temporary --data folder) and stop them; make bench and make
// bench-quick run them:
//
//	go run ./cmd/parley-load --exec bin/parley-local --suite quick --out bench/out
//	go run ./cmd/parley-load --exec bin/parley-local --suite full --out bench/out --report BENCHMARKS.md
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"
)

type options struct {
	url, exec, template, suite, out, report, gobench, render string
	dynamoDBLocal, inMemory                                  bool
	sc                                                       scenario
	timeout                                                  time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080", "a running local stack (one run; ignored with --exec)")
	flag.StringVar(&o.exec, "exec", "", "start this parley-local binary for the run, and stop it after")
	flag.StringVar(&o.template, "template", "template.yaml", "the SAM template the started stack runs")
	flag.BoolVar(&o.dynamoDBLocal, "dynamodb-local", false, "the started stack runs on Amazon DynamoDB Local")
	flag.BoolVar(&o.inMemory, "in-memory", false, `the started stack keeps its data in memory (--data ""), not in a temporary folder`)
	flag.StringVar(&o.suite, "suite", "", `"quick" or "full": the benchmark suite (needs --exec); empty: one run`)
	flag.StringVar(&o.out, "out", "bench/out", "where the suites write summary.json and the plots")
	flag.StringVar(&o.report, "report", "", "the full suite's Markdown report (BENCHMARKS.md)")
	flag.StringVar(&o.gobench, "gobench", "", "go test -bench output to include in the report")
	flag.StringVar(&o.render, "render", "", "write --report from this summary.json of an earlier full run, running nothing")
	flag.IntVar(&o.sc.Customers, "customers", 30, "customers sending")
	flag.IntVar(&o.sc.Agents, "agents", 3, "agents online")
	flag.IntVar(&o.sc.Idle, "idle", 0, "extra customers connected who send nothing")
	flag.IntVar(&o.sc.Messages, "messages", 20, "messages each customer sends (0: until --duration)")
	flag.DurationVar(&o.sc.Duration, "duration", 30*time.Second, "how long customers send")
	flag.Float64Var(&o.sc.Rate, "rate", 2, "messages a second each customer sends")
	flag.Float64Var(&o.sc.LiveShare, "live", 0.5, "share of customers on the live widget (the rest: persistent)")
	flag.IntVar(&o.sc.ReplyEvery, "reply-every", 2, "agents reply to every n-th customer message")
	flag.IntVar(&o.sc.ParkEvery, "park-every", 3, "agents park a persistent conversation after every n-th reply (0: never)")
	flag.BoolVar(&o.sc.Reconnect, "reconnect", true, "every customer leaves once mid-run and comes back on a new connection")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up after this long")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var err error
	switch {
	case o.render != "":
		err = render(o)
	case o.suite == "":
		err = single(ctx, o)
	case o.suite == "quick" || o.suite == "full":
		if o.exec == "" {
			err = errors.New("--suite needs --exec (the suites start their own stacks)")
			break
		}
		err = suite(ctx, o)
	default:
		err = fmt.Errorf("--suite %q: want quick or full", o.suite)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley-load:", err)
		os.Exit(1)
	}
}

// single is one scenario, on a running stack or on one started for it.
func single(ctx context.Context, o options) error {
	o.sc.Name = "run"
	t := target{base: strings.TrimRight(o.url, "/"), backend: "running stack", cpu: func() float64 { return -1 }}
	if o.exec != "" {
		s, err := startStack(ctx, o.exec, o.template, o.dynamoDBLocal, o.inMemory)
		if err != nil {
			return err
		}
		defer func() {
			if err := s.stop(); err != nil {
				slog.Error("stop the stack", "error", err.Error())
			}
		}()
		t = targetOf(s)
	}
	res, err := runScenario(ctx, t, o.sc)
	if err != nil {
		return err
	}
	printResult(res)
	return nil
}

func printResult(r result) {
	fmt.Printf("%s on %s: %d customers (+%d idle), %d agents (capacity %d)\n", r.Scenario.Name, r.Backend, r.Scenario.Customers, r.Scenario.Idle, r.Scenario.Agents, r.Capacity)
	fmt.Printf("  %d messages (%d customer, %d agent) in %.1f s: %.0f msg/s; %d reconnects, %d parks, %d pickups\n",
		r.Messages, r.CustomerMessages, r.AgentMessages, r.Seconds, r.MsgsPerS, r.Reconnects, r.Parks, r.Pickups)
	fmt.Printf("  delivery latency ms: p50 %.1f p95 %.1f p99 %.1f max %.1f (n=%d); ack p50 %.1f p99 %.1f\n",
		r.Latency.P50, r.Latency.P95, r.Latency.P99, r.Latency.Max, r.Latency.N, r.AckLatency.P50, r.AckLatency.P99)
	fmt.Printf("  after all opened (%.1f s): p50 %.1f p99 %.1f; by 5 s: %v\n", r.OpenedAfter, r.LatencySteady.P50, r.LatencySteady.P99, r.Timeline)
	fmt.Printf("  lost %d, duplicated %d, resume overlap %d, seq gaps %d, seq conflicts %d, unassigned %d, unacked %d\n",
		r.Lost, r.Duplicated, r.Overlap, r.Gaps, r.SeqConflict, r.Unassigned, r.Unacked)
	if len(r.Errors) > 0 {
		fmt.Printf("  errors by code: %v (e.g. %v)\n", r.Errors, r.ErrorSample)
	}
	pm := perMessage(r)
	fmt.Printf("  per message (send invocations): %.2f DynamoDB requests, %.2f write units, %.2f read units, %.2f pushes\n",
		pm.SendDynamoDB, pm.SendWrite, pm.SendRead, pm.SendPushes)
	fmt.Printf("  per message (every invocation): %.2f DynamoDB requests, %.2f write units, %.2f read units, %.2f pushes, %.2f invocations\n",
		pm.AllDynamoDB, pm.AllWrite, pm.AllRead, pm.AllPushes, pm.AllInvocations)
	if k, ok := r.PerKind["customer send"]; ok {
		fmt.Printf("  customer send: %.2f DynamoDB requests %v, %.2f write units, %.2f read units, %.2f pushes\n", k.DynamoDB, k.ByOperation, k.Write, k.Read, k.Pushes)
	}
	if r.StackCPU >= 0 {
		fmt.Printf("  CPU: stack %.1f s, load generator %.1f s, other processes %.1f s (%.2f ms of stack CPU per message)\n", r.StackCPU, r.LoaderCPU, r.OtherCPU, 1000*r.StackCPU/float64(max(r.Messages, 1)))
	}
}

// selfCPU is this process's user and system CPU seconds so far.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// render rewrites the report from a full run's summary.json.
func render(o options) error {
	b, err := os.ReadFile(o.render)
	if err != nil {
		return fmt.Errorf("read %s: %w", o.render, err)
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode %s: %w", o.render, err)
	}
	if o.report == "" {
		return errors.New("--render needs --report")
	}
	return writeReport(o, s)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
