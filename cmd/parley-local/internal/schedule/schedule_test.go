package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parley-chat/parley/cmd/parley-local/internal/invoke"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

const (
	ruleARN     = "arn:aws:events:us-east-1:123456789012:rule/parley-SweepSchedule-1A2B3C"
	scheduleARN = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/parley-SweepSchedule"
)

// sweeper is a function whose handler records every payload it receives and
// answers with respond.
type sweeper struct {
	mu       sync.Mutex
	payloads []json.RawMessage
	respond  func(call int) error
}

func (sw *sweeper) function(t *testing.T) *invoke.Function {
	h := lambda.NewHandler(func(ctx context.Context, ev json.RawMessage) (any, error) {
		sw.mu.Lock()
		call := len(sw.payloads)
		sw.payloads = append(sw.payloads, ev)
		respond := sw.respond
		sw.mu.Unlock()
		if respond != nil {
			return nil, respond(call)
		}
		return nil, nil
	})
	return &invoke.Function{Name: "SweepFunction", ARN: "arn:aws:lambda:us-east-1:123456789012:function:SweepFunction",
		Timeout: 5 * time.Second, Handler: h, Log: testLogger(t)}
}

func (sw *sweeper) got() []json.RawMessage {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return slices.Clone(sw.payloads)
}

func (sw *sweeper) wait(t *testing.T, n int) []json.RawMessage {
	t.Helper()
	var got []json.RawMessage
	if !poll.Within(poll.Deadline, func() bool { got = sw.got(); return len(got) >= n }) {
		t.Fatalf("function received %d payloads; want %d", len(got), n)
	}
	return got
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func sweep(fn *invoke.Function) Schedule {
	return Schedule{
		Name:       "SweepSchedule",
		Function:   fn,
		Expression: "rate(1 minute)",
		Interval:   10 * time.Millisecond,
		Kind:       KindRule,
		Enabled:    true,
		RuleARN:    ruleARN,
		Region:     "us-east-1",
		AccountID:  "123456789012",
		RetryDelay: time.Millisecond,
	}
}

// start runs the schedules until the returned stop is called, which waits
// for Run to return.
func start(t *testing.T, schedules ...Schedule) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		Run(ctx, schedules, testLogger(t))
		close(done)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestPayload(t *testing.T) {
	at := time.Date(2024, 1, 20, 11, 55, 0, 123456789, time.FixedZone("CET", 3600))
	tests := []struct {
		name  string
		setup func(*Schedule)
		want  string // exact JSON, with the id blanked
	}{
		{"rule envelope", nil,
			`{"version":"0","id":"","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2024-01-20T10:55:00Z","region":"us-east-1","resources":["` + ruleARN + `"],"detail":{}}`},
		{"scheduler default payload", func(s *Schedule) { s.Kind, s.RuleARN = KindScheduler, scheduleARN },
			`{"version":"0","id":"","detail-type":"Scheduled Event","source":"aws.scheduler","account":"123456789012","time":"2024-01-20T10:55:00Z","region":"us-east-1","resources":["` + scheduleARN + `"],"detail":"{}"}`},
		{"rule input verbatim", func(s *Schedule) { s.Input = `{"job": "sweep", "arn": "<aws.scheduler.schedule-arn>"}` },
			`{"job": "sweep", "arn": "<aws.scheduler.schedule-arn>"}`},
		{"scheduler input with context attributes", func(s *Schedule) {
			s.Kind, s.RuleARN = KindScheduler, scheduleARN
			s.Input = `{"arn":"<aws.scheduler.schedule-arn>","at":"<aws.scheduler.scheduled-time>","try":"<aws.scheduler.attempt-number>"}`
		}, `{"arn":"` + scheduleARN + `","at":"2024-01-20T10:55:00Z","try":"1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sweep(nil)
			if tt.setup != nil {
				tt.setup(&s)
			}
			b, err := s.Payload(at)
			if err != nil {
				t.Fatalf("Payload() = %v", err)
			}
			id := regexp.MustCompile(`"id":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"`)
			got := id.ReplaceAllString(string(b), `"id":""`)
			if got != tt.want {
				t.Errorf("Payload(%v) = %s; want %s", at, b, tt.want)
			}
			if s.Input == "" {
				var ev events.CloudWatchEvent
				if err := json.Unmarshal(b, &ev); err != nil {
					t.Errorf("Payload() does not decode as events.CloudWatchEvent: %v", err)
				}
			}
		})
	}
}

func TestPayloadExecutionID(t *testing.T) {
	s := sweep(nil)
	s.Kind, s.Input = KindScheduler, `{"id":"<aws.scheduler.execution-id>"}`
	a, _ := s.Payload(time.Now())
	b, _ := s.Payload(time.Now())
	if !regexp.MustCompile(`^\{"id":"[0-9a-f]{16}"\}$`).Match(a) || string(a) == string(b) {
		t.Errorf("Payload() = %s then %s; want a fresh 16-hex-digit execution id each run", a, b)
	}
}

func TestRunOnInterval(t *testing.T) {
	sw := &sweeper{}
	stop := start(t, sweep(sw.function(t)))
	got := sw.wait(t, 3)
	stop()
	var prev time.Time
	ids := map[string]bool{}
	for i, raw := range got {
		var ev events.CloudWatchEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("payload %d = %s: %v", i, raw, err)
		}
		if ev.Version != "0" || ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" ||
			ev.AccountID != "123456789012" || ev.Region != "us-east-1" || !slices.Equal(ev.Resources, []string{ruleARN}) ||
			string(ev.Detail) != "{}" || ev.Time.Location() != time.UTC {
			t.Errorf("payload %d = %s; want the scheduled event envelope", i, raw)
		}
		if ids[ev.ID] {
			t.Errorf("payload %d reuses id %s; want one id per run", i, ev.ID)
		}
		ids[ev.ID] = true
		if ev.Time.Before(prev) {
			t.Errorf("payload %d time %v before the previous %v", i, ev.Time, prev)
		}
		prev = ev.Time
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		failures int // the first n invocations fail
		want     int // invocations of the first run's event
	}{
		{"success is not retried", 0, 1},
		{"one failure, one retry", 1, 2},
		{"retried twice, then dropped", 10, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw := &sweeper{respond: func(call int) error {
				if call < tt.failures {
					return errors.New("sweep failed")
				}
				return nil
			}}
			s := sweep(sw.function(t))
			s.fire(t.Context(), time.Now(), testLogger(t)) // one run, retries included

			got := sw.got()
			if len(got) != tt.want {
				t.Fatalf("invocations = %d; want %d", len(got), tt.want)
			}
			for i, p := range got {
				if string(p) != string(got[0]) {
					t.Errorf("retry %d payload = %s; want the first attempt's %s", i, p, got[0])
				}
			}
		})
	}
}

func TestRetryAbandonedAtShutdown(t *testing.T) {
	sw := &sweeper{respond: func(int) error { return errors.New("down") }}
	s := sweep(sw.function(t))
	s.RetryDelay = time.Hour
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		s.fire(ctx, time.Now(), testLogger(t))
		close(done)
	}()
	sw.wait(t, 1)
	cancel()
	<-done
	if got := len(sw.got()); got != 1 {
		t.Errorf("invocations = %d; want 1, the retry dropped at shutdown", got)
	}
}

func TestRunSkipsWhatCannotRun(t *testing.T) {
	good := &sweeper{}
	bad := &sweeper{}
	disabled := &sweeper{}
	badExpr := sweep(bad.function(t))
	badExpr.Name, badExpr.Interval, badExpr.Expression = "BadExpression", 0, "rate(5 minute)"
	badKind := sweep(bad.function(t))
	badKind.Name, badKind.Kind = "BadKind", "Cron"
	badInput := sweep(bad.function(t))
	badInput.Name, badInput.Input = "BadInput", "not json"
	off := sweep(disabled.function(t))
	off.Name, off.Enabled = "Disabled", false
	overridden := sweep(good.function(t))
	overridden.Expression = "every minute" // the interval wins, with a warning

	stop := start(t, badExpr, badKind, badInput, off, overridden)
	good.wait(t, 2)
	stop()
	if n := len(bad.got()) + len(disabled.got()); n != 0 {
		t.Errorf("invalid or disabled schedules ran %d times; want 0", n)
	}
}

func TestRunWaitsForInvocations(t *testing.T) {
	release := make(chan struct{})
	sw := &sweeper{respond: func(int) error { <-release; return nil }}
	s := sweep(sw.function(t))
	s.Interval = time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	returned := make(chan struct{})
	go func() {
		Run(ctx, []Schedule{s}, testLogger(t))
		close(returned)
	}()
	sw.wait(t, 1)
	cancel()
	select {
	case <-returned:
		t.Fatal("Run returned while an invocation was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-returned
}

func TestCronSchedule(t *testing.T) {
	// A cron schedule with no Interval waits for its minute; with nothing
	// due in the test's lifetime, Run must still return promptly on cancel.
	sw := &sweeper{}
	s := sweep(sw.function(t))
	s.Interval, s.Expression = 0, "cron(0 0 1 1 ? 2199)"
	stop := start(t, s)
	stop()
	if got := sw.got(); len(got) != 0 {
		t.Errorf("invocations = %d; want 0", len(got))
	}
}

func TestLogMentionsSchedule(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	sw := &sweeper{}
	s := sweep(sw.function(t))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { Run(ctx, []Schedule{s}, slog.New(slog.NewTextHandler(w, nil))); close(done) }()
	sw.wait(t, 1)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "scheduled invocation done") || !strings.Contains(buf.String(), "schedule=SweepSchedule") {
		t.Errorf("log = %s; want a line per invocation naming the schedule", buf.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
