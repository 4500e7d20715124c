package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// summary is bench/out/summary.json: the headline run's figures under the
// keys make bench-quick promises, then everything else the suite measured.
type summary struct {
	Suite       string  `json:"suite"`
	GeneratedAt string  `json:"generated_at"`
	Commit      string  `json:"commit"`
	Machine     machine `json:"machine"`
	Command     string  `json:"command"`

	Messages                   int     `json:"messages"`
	Lost                       int     `json:"lost"`
	Duplicated                 int     `json:"duplicated"`
	DynamoDBRequestsPerMessage float64 `json:"dynamodb_requests_per_message"`
	WriteUnitsPerMessage       float64 `json:"write_units_per_message"`
	ReadUnitsPerMessage        float64 `json:"read_units_per_message"`
	PushesPerMessage           float64 `json:"pushes_per_message"`
	P50Ms                      float64 `json:"p50_ms"`
	P95Ms                      float64 `json:"p95_ms"`
	P99Ms                      float64 `json:"p99_ms"`
	MsgsPerS                   float64 `json:"msgs_per_s"`
	USDPerMillionMessages      float64 `json:"usd_per_million_messages"`
	// The figures above: the send invocations' own per message (the
	// steady-state cost of a message); AllInvocations: every invocation of
	// the run's window, per message, which the cost model prices.
	PerMessage   rates     `json:"per_message"`
	CustomerSend *kindCost `json:"customer_send,omitempty"`
	CostModel    costModel `json:"cost_model"`
	// USDSendPath prices the send invocations' own costs only (see
	// sendPath); usd_per_million_messages prices every invocation of the run.
	USDSendPath    float64          `json:"usd_per_million_messages_send_path"`
	CostModelSend  costModel        `json:"cost_model_send_path"`
	Headline       result           `json:"headline_run"`
	LoadSweep      []result         `json:"load_sweep,omitempty"`
	StoreSweep     []result         `json:"store_size_sweep,omitempty"`
	DynamoDBLocal  *result          `json:"dynamodb_local_run,omitempty"`
	SimpleChat     []scanCost       `json:"simple_chat_sample,omitempty"`
	ColdStart      *coldStartReport `json:"cold_start,omitempty"`
	DurationSecond float64          `json:"suite_seconds"`
}

type machine struct {
	CPUs  int    `json:"cpus"`
	Model string `json:"cpu_model"`
	Go    string `json:"go"`
	OS    string `json:"os"`
}

func machineOf() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	// The benchmark's own outputs, which make bench rewrites before this
	// run, are not changes to what is measured.
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!BENCHMARKS.md", ":!bench/out").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}

// The scenarios. Rates are per customer; agents reply to every second
// customer message and park a persistent conversation after every third
// reply; every customer leaves once and comes back on a new connection.
func chatScenario(name string, customers, agents, idle int, rate float64, d time.Duration) scenario {
	return scenario{Name: name, Customers: customers, Agents: agents, Idle: idle, LiveShare: 0.5, Rate: rate,
		Duration: d, ReplyEvery: 2, ParkEvery: 3, Reconnect: true}
}

var (
	quickScenario   = chatScenario("quick: 50 customers, 5 agents", 50, 5, 0, 1, 15*time.Second)
	targetScenario  = chatScenario("200 customers, 20 agents", 200, 20, 0, 0.5, 25*time.Second)
	loadSweepPoints = []scenario{
		chatScenario("10 customers, 1 agent", 10, 1, 0, 0.5, 20*time.Second),
		chatScenario("50 customers, 5 agents", 50, 5, 0, 0.5, 20*time.Second),
		chatScenario("100 customers, 10 agents", 100, 10, 0, 0.5, 20*time.Second),
		targetScenario,
		chatScenario("200 customers, 20 agents, 780 idle connections", 200, 20, 780, 0.5, 25*time.Second),
		chatScenario("400 customers, 40 agents", 400, 40, 0, 0.5, 20*time.Second),
	}
	storeSizes    = []int{10, 1000, 10000}
	storeScenario = chatScenario("20 customers, 2 agents", 20, 2, 0, 1, 15*time.Second)
	scanSizes     = []int{10, 1000, 10000}
)

func suite(ctx context.Context, o options) error {
	began := time.Now()
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", o.out, err)
	}
	sum := summary{Suite: o.suite, GeneratedAt: began.UTC().Format(time.RFC3339), Commit: commit(), Machine: machineOf(),
		Command: "make bench-quick"}
	if o.suite == "full" {
		sum.Command = "make bench"
	}

	if o.suite == "quick" {
		r, err := onStack(ctx, o, false, func(t target) (result, error) { return runScenario(ctx, t, quickScenario) })
		if err != nil {
			return err
		}
		printResult(r)
		sum.headline(r)
	} else {
		slog.Info("cold start: building every function for arm64 and amd64, timing amd64 init")
		cs, err := measureColdStart(ctx, 20)
		if err != nil {
			return err
		}
		sum.ColdStart = &cs

		_, err = onStack(ctx, o, false, func(t target) (result, error) {
			for _, sc := range loadSweepPoints {
				slog.Info("load sweep", "scenario", sc.Name)
				r, err := runScenario(ctx, t, sc)
				if err != nil {
					return r, fmt.Errorf("%s: %w", sc.Name, err)
				}
				printResult(r)
				sum.LoadSweep = append(sum.LoadSweep, r)
				if sc.Name == targetScenario.Name {
					sum.headline(r)
				}
			}
			return result{}, nil
		})
		if err != nil {
			return err
		}

		_, err = onStack(ctx, o, false, func(t target) (result, error) {
			have := 0
			for _, n := range storeSizes {
				slog.Info("store-size sweep: pre-filling", "conversations", n)
				if err := prefill(ctx, t, have, n-have, 2); err != nil {
					return result{}, err
				}
				have = n
				if _, err := settle(ctx, t.base); err != nil {
					return result{}, err
				}
				sc := storeScenario
				sc.Name = fmt.Sprintf("%s, %d conversations in the store", sc.Name, n)
				r, err := runScenario(ctx, t, sc)
				if err != nil {
					return r, fmt.Errorf("%s: %w", sc.Name, err)
				}
				r.StoreConvs = n
				printResult(r)
				sum.StoreSweep = append(sum.StoreSweep, r)
			}
			sc, err := measureScan(ctx, t, scanSizes)
			sum.SimpleChat = append(sum.SimpleChat, sc...)
			return result{}, err
		})
		if err != nil {
			return err
		}

		_, err = onStack(ctx, o, true, func(t target) (result, error) {
			slog.Info("DynamoDB Local", "scenario", targetScenario.Name)
			r, err := runScenario(ctx, t, targetScenario)
			if err != nil {
				return r, err
			}
			printResult(r)
			sum.DynamoDBLocal = &r
			sc, err := measureScan(ctx, t, scanSizes)
			sum.SimpleChat = append(sum.SimpleChat, sc...)
			return r, err
		})
		if err != nil {
			return err
		}
	}
	sum.DurationSecond = time.Since(began).Seconds()
	if err := writeJSON(filepath.Join(o.out, "summary.json"), sum); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", filepath.Join(o.out, "summary.json"))
	if o.suite == "full" && o.report != "" {
		if err := writeReport(o, sum); err != nil {
			return err
		}
		fmt.Printf("wrote %s\n", o.report)
	}
	return nil
}

func (s *summary) headline(r result) {
	pm := perMessage(r)
	s.Headline = r
	s.PerMessage = pm
	s.Messages, s.Lost, s.Duplicated = r.Messages, r.Lost, r.Duplicated
	s.DynamoDBRequestsPerMessage, s.WriteUnitsPerMessage, s.ReadUnitsPerMessage, s.PushesPerMessage = pm.SendDynamoDB, pm.SendWrite, pm.SendRead, pm.SendPushes
	s.P50Ms, s.P95Ms, s.P99Ms, s.MsgsPerS = r.Latency.P50, r.Latency.P95, r.Latency.P99, r.MsgsPerS
	s.CostModel = model(pm)
	s.CostModelSend = model(sendPath(pm))
	s.USDSendPath = s.CostModelSend.Total
	s.USDPerMillionMessages = s.CostModel.Total
	if k, ok := r.PerKind["customer send"]; ok {
		s.CustomerSend = &k
	}
}

// onStack starts a stack, runs f on it, and stops it.
func onStack(ctx context.Context, o options, dynamoDBLocal bool, f func(target) (result, error)) (result, error) {
	s, err := startStack(ctx, o.exec, o.template, dynamoDBLocal, o.inMemory)
	if err != nil {
		return result{}, err
	}
	r, err := f(targetOf(s))
	if serr := s.stop(); serr != nil && err == nil {
		err = serr
	}
	return r, err
}
