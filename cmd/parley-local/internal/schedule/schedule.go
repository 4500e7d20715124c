// Package schedule runs the template's scheduled functions for the local
// stack: SAM Schedule events (EventBridge rules) and ScheduleV2 events
// (EventBridge Scheduler), each invoked on its rate() or cron() expression,
// or on a fixed interval for development.
//
// Both services invoke Lambda asynchronously, so a function error is
// retried twice with the same event, as Lambda's asynchronous invocation
// does (there, one and two minutes later), and a tick may run while the
// previous one is still going. Payloads:
//
//   - Schedule: the EventBridge scheduled event, events.CloudWatchEvent with
//     source "aws.events", detail-type "Scheduled Event", detail {}, the
//     scheduled time, and the rule's ARN in resources.
//   - ScheduleV2: EventBridge Scheduler's default payload, which has source
//     "aws.scheduler" and, unlike the rule's, detail as the JSON string
//     "{}" rather than an object (cloud-custodian#9566,
//     aws-lambda-java-libs#479); events.CloudWatchEvent still decodes it,
//     Detail being raw JSON.
//   - With Input (either kind): Input verbatim, nothing of the envelope;
//     for ScheduleV2 with Scheduler's context attributes
//     (<aws.scheduler.schedule-arn>, <aws.scheduler.scheduled-time>,
//     <aws.scheduler.execution-id>, <aws.scheduler.attempt-number>)
//     replaced.
//
// What is not emulated: time zones (ScheduleExpressionTimezone; cron runs in
// UTC), StartDate/EndDate, FlexibleTimeWindow, one-time at() schedules,
// the Scheduler's and the rule's own RetryPolicy and dead-letter queues
// (they concern delivery failures, which cannot happen in-process), the
// function's async-invocation settings (MaximumRetryAttempts,
// MaximumEventAgeInSeconds, destinations): retries are always two. Missed
// ticks (the host was asleep) are skipped, not replayed.
package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/cmd/parley-local/internal/invoke"
	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

// Schedule is one Schedule or ScheduleV2 event of a function in the
// template.
type Schedule struct {
	Name       string // the event's logical id in the template
	Function   *invoke.Function
	Expression string        // "rate(1 minute)", "rate(5 minutes)", "cron(0/5 * * * ? *)"
	Interval   time.Duration // if > 0, runs every Interval instead (--schedule-interval)
	// Kind is "Schedule" (an EventBridge rule) or "ScheduleV2" (EventBridge
	// Scheduler); it decides the payload.
	Kind    string
	Input   string // the event's Input: sent verbatim when set
	Enabled bool
	// RuleARN is the rule's ARN for Schedule and the schedule's ARN
	// (arn:aws:scheduler:{region}:{account}:schedule/default/{name}) for
	// ScheduleV2: resources[0] of the payload.
	RuleARN           string
	Region, AccountID string
	// RetryDelay is the wait before the first retry of a failed
	// invocation, doubled before the second; 0 means Lambda's one minute.
	RetryDelay time.Duration
}

// The kinds of scheduled event, named as SAM's event types.
const (
	// KindRule is a Schedule event: an EventBridge rule.
	KindRule = "Schedule"
	// KindScheduler is a ScheduleV2 event: an EventBridge Scheduler schedule.
	KindScheduler = "ScheduleV2"
)

const (
	asyncRetries      = 2 // Lambda retries a failed asynchronous invocation twice
	defaultRetryDelay = time.Minute
)

// Run invokes each enabled schedule's function on its schedule until ctx
// ends, then waits for invocations in flight before returning. Schedules
// that cannot run (bad expression, unknown kind, invalid Input) are logged
// and skipped; the others run regardless. Invocations are not cut short by
// ctx (each still has its function's timeout), but pending retries are
// dropped.
func Run(ctx context.Context, schedules []Schedule, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	var wg sync.WaitGroup
	for _, s := range schedules {
		l := log.With("schedule", s.Name, "function", functionName(s.Function), "kind", s.Kind)
		next, err := s.plan(l)
		if err != nil {
			l.Error("schedule not started", "error", err.Error())
			continue
		}
		if !s.Enabled {
			l.Info("schedule disabled")
			continue
		}
		wg.Go(func() { s.loop(ctx, next, &wg, l) })
	}
	wg.Wait()
}

func functionName(f *invoke.Function) string {
	if f == nil {
		return ""
	}
	return f.Name
}

// plan checks the schedule and returns when it runs next after a time.
func (s Schedule) plan(log *slog.Logger) (func(time.Time) time.Time, error) {
	if s.Function == nil {
		return nil, errors.New("no function")
	}
	if s.Kind != KindRule && s.Kind != KindScheduler {
		return nil, fmt.Errorf("kind %q is neither %s nor %s", s.Kind, KindRule, KindScheduler)
	}
	if s.Input != "" && !json.Valid([]byte(s.Input)) {
		// Lambda targets take JSON; Scheduler rejects anything else for them.
		return nil, fmt.Errorf("input is not valid JSON: %.60q", s.Input)
	}
	next, err := ParseExpression(s.Expression)
	if s.Interval > 0 {
		if err != nil {
			log.Warn("schedule expression ignored in favour of the interval", "error", err.Error())
		}
		d := s.Interval
		return func(after time.Time) time.Time { return after.Add(d) }, nil
	}
	return next, err
}

// loop sleeps until each run and starts its invocation.
func (s Schedule) loop(ctx context.Context, next func(time.Time) time.Time, wg *sync.WaitGroup, log *slog.Logger) {
	at := next(time.Now())
	log.Info("schedule started", "expression", s.Expression, "interval", s.Interval.String(), "next", at.UTC().Format(time.RFC3339))
	for {
		if at.IsZero() {
			log.Info("schedule has no further runs")
			return
		}
		if sleep(ctx, time.Until(at)) != nil {
			return
		}
		run := at
		wg.Go(func() { s.fire(ctx, run, log) })
		at = next(at)
		if now := time.Now(); !at.IsZero() && !at.After(now) {
			at = next(now) // fell behind: skip what was missed rather than replay it
		}
	}
}

// fire delivers one run: an asynchronous invocation, retried twice on a
// function error with the same payload.
func (s Schedule) fire(ctx context.Context, at time.Time, log *slog.Logger) {
	payload, err := s.Payload(at)
	if err != nil {
		log.Error("scheduled event not built", "error", err.Error())
		return
	}
	at = at.UTC().Truncate(time.Second)
	log = log.With("scheduledTime", at.Format(time.RFC3339))
	// The invocation outlives a shutdown, as the function's own timeout
	// bounds it and Run promises to wait for it.
	ictx := metrics.WithLabels(context.WithoutCancel(ctx), metrics.Labels{Source: metrics.SourceSchedule})
	delay := s.RetryDelay
	if delay <= 0 {
		delay = defaultRetryDelay
	}
	for attempt := 1; ; attempt++ {
		_, requestID, err := s.Function.Invoke(ictx, payload)
		if err == nil {
			log.Info("scheduled invocation done", "attempt", attempt, "requestId", requestID)
			return
		}
		if attempt > asyncRetries {
			log.Error("scheduled event dropped after retries", "attempts", attempt, "requestId", requestID, "error", err.Error())
			return
		}
		log.Warn("scheduled invocation failed; retrying", "attempt", attempt, "requestId", requestID, "retryIn", delay.String(), "error", err.Error())
		if sleep(ctx, delay) != nil {
			log.Warn("scheduled event retry abandoned at shutdown", "attempt", attempt)
			return
		}
		delay *= 2
	}
}

// Payload returns what the function receives for the run scheduled at at.
func (s Schedule) Payload(at time.Time) ([]byte, error) {
	at = at.UTC().Truncate(time.Second)
	if s.Input != "" {
		if s.Kind != KindScheduler {
			return []byte(s.Input), nil
		}
		return []byte(strings.NewReplacer(
			"<aws.scheduler.schedule-arn>", s.RuleARN,
			"<aws.scheduler.scheduled-time>", at.Format(time.RFC3339),
			"<aws.scheduler.execution-id>", executionID(),
			"<aws.scheduler.attempt-number>", "1", // Scheduler delivers once; Lambda's retries reuse the payload
		).Replace(s.Input)), nil
	}
	ev := events.CloudWatchEvent{
		Version:    "0",
		ID:         invoke.RequestID(),
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		AccountID:  s.AccountID,
		Time:       at,
		Region:     s.Region,
		Resources:  []string{s.RuleARN},
		Detail:     json.RawMessage(`{}`),
	}
	if s.Kind == KindScheduler {
		ev.Source = "aws.scheduler"
		ev.Detail = json.RawMessage(`"{}"`)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("marshal scheduled event for %s: %w", s.Name, err)
	}
	return b, nil
}

// executionID looks like Scheduler's, e.g. d32c5kddcf5bb8c3.
func executionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
