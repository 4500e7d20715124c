// Package streams runs DynamoDB Streams event source mappings for the local
// stack: it reads one stream shard in order and invokes a function with
// events.DynamoDBEvent batches the way Lambda's event source mapping does.
// Delivery is at least once.
//
//   - One batch in flight per shard, records in stream order.
//   - Records that fail FilterCriteria are skipped for good; only matching
//     records count toward BatchSize.
//   - A batch closes at BatchSize records, at 6 MB of payload, or when the
//     batching window (started by its first matching record) ends; with no
//     window it holds whatever the stream had ready.
//   - A function error (returned, panic, timeout) retries the batch after a
//     doubling backoff; each retry counts toward MaximumRetryAttempts, after
//     which the records are discarded with an error log listing their
//     sequence numbers, as Lambda does without an on-failure destination.
//     Records older than MaximumRecordAge (or, without one, than the
//     stream's 24-hour retention) are discarded before any attempt.
//   - BisectBatchOnFunctionError halves a batch that failed from its first
//     record; splitting does not count as a retry, so only single records
//     use up the quota.
//   - With ReportBatchItemFailures, {"batchItemFailures":[{"itemIdentifier":
//     seq}]} checkpoints the records before the lowest reported sequence
//     number and retries the rest of the batch from it (counted as a retry,
//     or, with bisection on, as a split). An empty or null list, an empty
//     object, no response, or a response that is not an object is success;
//     a batchItemFailures that is not a list of objects, or an
//     itemIdentifier that is missing, empty, not a string or not in the
//     batch, fails the whole batch.
//
// Local choices where Lambda leaves room: a retried batch holds the same
// records (or their remainder), not a fresh read that may pick up newer
// ones; the backoff starts at Mapping.RetryDelay and doubles up to 30 s;
// the batching window starts with a batch's first matching record (Lambda
// starts it when the previous invocation completes, which on a busy stream
// is the same moment).
//
// What is not emulated: on-failure destinations (discarded batches are only
// logged), ParallelizationFactor (one batch in flight per shard),
// TumblingWindowInSeconds, throttling and concurrency limits, the
// persistence of the mapping's position across restarts (a new Runner
// starts from StartingPosition), and Lambda's polling cadence (records are
// handed over as soon as the source has them).
package streams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/cmd/parley-local/internal/filter"
	"github.com/parley-chat/parley/cmd/parley-local/internal/invoke"
	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

// Source is one stream shard; the embedded store's *dynamo.Stream satisfies
// it.
type Source interface {
	ARN() string
	// Latest returns the SequenceNumber of the newest record, "" when none.
	Latest() string
	// Read blocks until at least one record after `after` exists (after ""
	// = oldest retained) or ctx ends, and returns up to max records in
	// order. SequenceNumbers are decimal strings that compare as integers.
	Read(ctx context.Context, after string, max int) ([]events.DynamoDBEventRecord, error)
}

// Mapping is one DynamoDB event of a function in the template, with the
// event source mapping's settings. Zero values mean Lambda's defaults
// except where noted.
type Mapping struct {
	Name             string           // the event's logical id in the template
	Function         *invoke.Function // the function the mapping invokes
	BatchSize        int              // 1..10000; 0 means Lambda's default, 100
	BatchingWindow   time.Duration    // MaximumBatchingWindowInSeconds, at most 300 s
	StartingPosition string           // "TRIM_HORIZON" or "LATEST"
	// MaximumRetryAttempts bounds retries of a failed batch; -1 (Lambda's
	// default, which template readers must pass explicitly) retries until
	// the records expire. 0 means no retries, as in Lambda.
	MaximumRetryAttempts int
	// MaximumRecordAge discards records older than this before each
	// attempt; 0 means unlimited, that is until the records leave the
	// stream after 24 hours, as -1 does in Lambda.
	MaximumRecordAge           time.Duration
	BisectBatchOnFunctionError bool
	ReportBatchItemFailures    bool // FunctionResponseTypes: [ReportBatchItemFailures]
	Filters                    filter.Criteria
	// RetryDelay is local only: the first backoff between retries, doubling
	// up to 30 s. 0 means 100 ms.
	RetryDelay time.Duration
}

const (
	defaultBatchSize  = 100
	maxBatchSize      = 10000
	maxBatchingWindow = 300 * time.Second
	defaultRetryDelay = 100 * time.Millisecond
	maxRetryDelay     = 30 * time.Second
	// streamRetention is how long DynamoDB Streams keeps a record; a record
	// retried "until it expires" is given up after it.
	streamRetention = 24 * time.Hour
	// maxPayload is Lambda's limit on a synchronous invocation's payload.
	maxPayload = 6 << 20
)

// Runner delivers one Source to one Mapping's function.
type Runner struct {
	src   Source
	m     Mapping
	log   *slog.Logger
	start string // read after this position first
	err   error  // a configuration error found by New, reported by Run and Drain
	limit int    // payload bytes per invocation: maxPayload, smaller in tests

	mu         sync.Mutex
	state      runState
	drainTo    *string            // set by Drain: the position to reach before stopping
	cancelRead context.CancelFunc // interrupts a blocked Read when Drain begins
	stop       context.CancelFunc // ends the loop when Drain gives up
	done       chan struct{}      // closed when the loop has returned
	runErr     error              // what the loop returned
	drained    bool               // the loop stopped because a drain completed
}

type runState int

const (
	idle runState = iota
	running
	stopped
)

// New prepares a runner. A LATEST mapping starts after the newest record at
// the time of New, as a mapping created on a live stream does. Invalid
// settings are reported by Run and Drain.
func New(src Source, m Mapping, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.Default()
	}
	r := &Runner{src: src, m: m, limit: maxPayload, done: make(chan struct{})}
	fn := ""
	if m.Function != nil {
		fn = m.Function.Name
	}
	r.log = log.With("mapping", m.Name, "function", fn, "eventSourceArn", src.ARN())
	if r.m.BatchSize == 0 {
		r.m.BatchSize = defaultBatchSize
	}
	if r.m.RetryDelay <= 0 {
		r.m.RetryDelay = defaultRetryDelay
	}
	switch {
	case m.Function == nil:
		r.err = errors.New("no function")
	case r.m.BatchSize < 1 || r.m.BatchSize > maxBatchSize:
		r.err = fmt.Errorf("BatchSize %d is outside 1..%d", m.BatchSize, maxBatchSize)
	case m.BatchingWindow < 0 || m.BatchingWindow > maxBatchingWindow:
		r.err = fmt.Errorf("MaximumBatchingWindowInSeconds %v is outside 0..300", m.BatchingWindow.Seconds())
	case m.MaximumRetryAttempts < -1 || m.MaximumRetryAttempts > 10000:
		r.err = fmt.Errorf("MaximumRetryAttempts %d is outside -1..10000", m.MaximumRetryAttempts)
	case m.MaximumRecordAge < 0:
		r.err = fmt.Errorf("MaximumRecordAge %v is negative", m.MaximumRecordAge)
	}
	switch m.StartingPosition {
	case "TRIM_HORIZON":
	case "LATEST":
		r.start = src.Latest()
	default:
		// DynamoDB streams offer no AT_TIMESTAMP, and SAM requires the property.
		r.err = fmt.Errorf("StartingPosition %q is not TRIM_HORIZON or LATEST", m.StartingPosition)
	}
	if r.err != nil {
		r.err = fmt.Errorf("stream mapping %s: %w", m.Name, r.err)
	}
	return r
}

// Run delivers records until ctx ends, Drain completes, or the source
// fails. It returns nil when stopped by ctx or Drain; a batch in flight when
// ctx ends is not checkpointed, so it is delivered again by the next run
// over the same records, as Lambda would (at least once).
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.state != idle {
		r.mu.Unlock()
		return fmt.Errorf("stream mapping %s: Run called on a runner that already ran", r.m.Name)
	}
	ctx = r.begin(ctx)
	r.mu.Unlock()
	return r.run(ctx)
}

// Drain delivers every record up to src.Latest() at the time of the call
// (retrying failures as configured), then stops the runner and returns, so
// that a graceful shutdown loses nothing already written. Records written
// meanwhile may be delivered too. If Run is not running, Drain does the
// delivering itself. If ctx ends first, Drain stops the runner anyway and
// returns ctx's error.
func (r *Runner) Drain(ctx context.Context) error {
	target := r.src.Latest()
	r.mu.Lock()
	r.drainTo = &target
	if r.cancelRead != nil {
		r.cancelRead()
	}
	switch r.state {
	case stopped:
		r.mu.Unlock()
		return r.drainResult(ctx)
	case idle:
		rctx := r.begin(ctx)
		r.mu.Unlock()
		r.run(rctx)
		return r.drainResult(ctx)
	}
	stop := r.stop
	r.mu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		stop()
		<-r.done
	}
	return r.drainResult(ctx)
}

// drainResult tells Drain's caller whether the drain completed. The loop
// has returned.
func (r *Runner) drainResult(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.drained:
		return nil
	case r.runErr != nil:
		return r.runErr
	case ctx.Err() != nil:
		return fmt.Errorf("drain stream mapping %s: %w", r.m.Name, ctx.Err())
	default:
		return fmt.Errorf("drain stream mapping %s: the runner stopped before the drain completed", r.m.Name)
	}
}

// begin marks the runner running, with a context Drain can cancel. The
// caller holds mu.
func (r *Runner) begin(ctx context.Context) context.Context {
	r.state = running
	ctx, r.stop = context.WithCancel(ctx)
	return ctx
}

func (r *Runner) run(ctx context.Context) (err error) {
	defer func() {
		r.mu.Lock()
		r.state, r.runErr = stopped, err
		r.stop()
		r.mu.Unlock()
		close(r.done)
	}()
	if r.err != nil {
		return r.err
	}
	r.log.Info("stream mapping started", "startingPosition", r.m.StartingPosition, "after", r.start,
		"batchSize", r.m.BatchSize, "batchingWindow", r.m.BatchingWindow.String())
	pos := r.start
	var buf []item
	for {
		batch, err := r.collect(ctx, &pos, &buf)
		switch {
		case errors.Is(err, errDrained):
			r.mu.Lock()
			r.drained = true
			r.mu.Unlock()
			r.log.Info("stream mapping drained", "position", pos)
			return nil
		case ctx.Err() != nil:
			r.log.Info("stream mapping stopped", "position", pos)
			return nil
		case err != nil:
			r.log.Error("stream mapping stopped", "error", err.Error())
			return err
		}
		if err := r.deliver(ctx, batch); err != nil {
			r.log.Info("stream mapping stopped", "position", pos, "reason", err.Error())
			return nil
		}
	}
}

// item is one record read from the source, with the JSON the filter and the
// payload use.
type item struct {
	rec events.DynamoDBEventRecord
	raw []byte
}

func (it item) seq() string { return it.rec.Change.SequenceNumber }

// errDrained stops the loop once a drain has delivered everything.
var errDrained = errors.New("drained")

// collect assembles the next batch of matching records: up to BatchSize and
// 6 MB, waiting up to BatchingWindow after the first matching record for
// more. Records that fail the filter are skipped for good. It returns
// errDrained when a drain is complete and ctx's error when ctx ends.
func (r *Runner) collect(ctx context.Context, pos *string, buf *[]item) ([]item, error) {
	var batch []item
	size := len(`{"Records":[]}`)
	var deadline time.Time
	for {
		for len(*buf) > 0 && len(batch) < r.m.BatchSize {
			it := (*buf)[0]
			if len(batch) > 0 && size+len(it.raw)+1 > r.limit {
				return batch, nil
			}
			*buf = (*buf)[1:]
			if !r.m.Filters.Match(it.raw) {
				r.log.Debug("record filtered out", "sequenceNumber", it.seq(), "eventName", it.rec.EventName)
				continue
			}
			if len(batch) == 0 && r.m.BatchingWindow > 0 {
				deadline = time.Now().Add(r.m.BatchingWindow)
			}
			batch = append(batch, it)
			size += len(it.raw) + 1
		}
		if len(batch) >= r.m.BatchSize {
			return batch, nil
		}
		windowOpen := len(batch) > 0 && r.m.BatchingWindow > 0 && time.Now().Before(deadline)
		if len(batch) > 0 && !windowOpen {
			return batch, nil
		}

		rctx, cancel, caughtUp := r.readContext(ctx, *pos, deadline, len(batch) > 0)
		if caughtUp { // draining, and everything up to the target is read
			if len(batch) > 0 {
				return batch, nil // don't sit out the window on shutdown
			}
			return nil, errDrained
		}
		recs, err := r.src.Read(rctx, *pos, r.m.BatchSize-len(batch))
		interrupted := rctx.Err() != nil // before cancel, which sets it
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if interrupted {
				continue // the window closed or a drain began: look again
			}
			return nil, fmt.Errorf("read stream %s after %q: %w", r.src.ARN(), *pos, err)
		}
		for _, rec := range recs {
			raw, err := json.Marshal(rec)
			if err != nil {
				return nil, fmt.Errorf("marshal record %s: %w", rec.Change.SequenceNumber, err)
			}
			*buf = append(*buf, item{rec: rec, raw: raw})
			*pos = rec.Change.SequenceNumber
		}
	}
}

// readContext returns the context for the next Read: ctx, bounded by the
// window's deadline while a batch is open, and cancelled when a drain
// begins. caughtUp reports that a drain is on and pos has reached its
// target, so there is nothing left to wait for. Checking and registering
// under one lock is what keeps a Drain from missing a blocked Read.
func (r *Runner) readContext(ctx context.Context, pos string, deadline time.Time, open bool) (context.Context, context.CancelFunc, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.drainTo != nil && compareSeq(pos, *r.drainTo) >= 0 {
		return nil, nil, true
	}
	var rctx context.Context
	var cancel context.CancelFunc
	if open {
		rctx, cancel = context.WithDeadline(ctx, deadline)
	} else {
		rctx, cancel = context.WithCancel(ctx)
	}
	if r.drainTo == nil {
		r.cancelRead = cancel
	}
	return rctx, func() {
		r.mu.Lock()
		r.cancelRead = nil
		r.mu.Unlock()
		cancel()
	}, false
}

// attempt is a batch on its way to the function, with the retries it has
// used.
type attempt struct {
	items   []item
	retries int
}

// deliver invokes the function with batch until every record in it is
// either delivered or discarded. It returns an error only when ctx ends.
func (r *Runner) deliver(ctx context.Context, batch []item) error {
	queue := []attempt{{items: batch}}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		a.items = r.dropExpired(a.items)
		if len(a.items) == 0 {
			continue
		}
		from, err := r.invoke(ctx, a)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if from < 0 {
			continue
		}
		if from > 0 {
			rest := attempt{items: a.items[from:], retries: a.retries}
			if r.m.BisectBatchOnFunctionError {
				// "the batch is bisected at the returned sequence number and
				// Lambda retries only the remaining records": a split, which
				// does not count as a retry.
				queue = slices.Insert(queue, 0, rest)
				continue
			}
			a = rest
		}
		if r.m.BisectBatchOnFunctionError && len(a.items) > 1 {
			// Splitting does not count towards the retry quota, so even
			// MaximumRetryAttempts 0 bisects down to single records.
			h := len(a.items) / 2
			queue = slices.Insert(queue, 0,
				attempt{items: a.items[:h], retries: a.retries},
				attempt{items: a.items[h:], retries: a.retries})
			continue
		}
		if r.m.MaximumRetryAttempts >= 0 && a.retries >= r.m.MaximumRetryAttempts {
			r.discard(a.items, fmt.Sprintf("retry attempts exhausted (%d)", r.m.MaximumRetryAttempts), err)
			continue
		}
		if err := sleep(ctx, r.backoff(a.retries)); err != nil {
			return err
		}
		a.retries++
		queue = slices.Insert(queue, 0, a)
	}
	return nil
}

// invoke runs the function once on a. It returns -1 when every record
// succeeded, otherwise the index of the first record to retry from (0 for a
// whole-batch failure) and the reason.
func (r *Runner) invoke(ctx context.Context, a attempt) (int, error) {
	var payload bytes.Buffer
	payload.WriteString(`{"Records":[`)
	for i, it := range a.items {
		if i > 0 {
			payload.WriteByte(',')
		}
		payload.Write(it.raw)
	}
	payload.WriteString(`]}`)

	start := time.Now()
	out, requestID, err := r.m.Function.Invoke(metrics.WithLabels(ctx, metrics.Labels{Source: metrics.SourceStream}), payload.Bytes())
	log := r.log.With("records", len(a.items), "firstSequenceNumber", a.items[0].seq(),
		"lastSequenceNumber", a.items[len(a.items)-1].seq(), "attempt", a.retries+1,
		"requestId", requestID, "durationMs", time.Since(start).Milliseconds())
	if ctx.Err() != nil {
		log.InfoContext(ctx, "stream batch interrupted by shutdown; it will be delivered again")
		return 0, ctx.Err()
	}
	if err != nil {
		log.WarnContext(ctx, "stream batch failed", "outcome", "function error", "error", err.Error())
		return 0, err
	}
	if !r.m.ReportBatchItemFailures {
		log.InfoContext(ctx, "stream batch delivered", "outcome", "ok")
		return -1, nil
	}
	from, err := failedFrom(a.items, out)
	switch {
	case err != nil:
		log.WarnContext(ctx, "stream batch failed", "outcome", "invalid batch item failures", "error", err.Error())
		return 0, err
	case from < 0:
		log.InfoContext(ctx, "stream batch delivered", "outcome", "ok")
		return -1, nil
	default:
		log.WarnContext(ctx, "stream batch partly failed", "outcome", "batch item failures",
			"retryFrom", a.items[from].seq(), "delivered", from)
		return from, fmt.Errorf("batch item failure at %s", a.items[from].seq())
	}
}

// failedFrom reads a partial batch response. It returns -1 for success (no
// response, null or empty batchItemFailures, or a response that is not an
// object), the index of the lowest reported sequence number, or an error
// when the response fails the whole batch: an itemIdentifier that is
// missing, null, empty, not a string or not in the batch.
func failedFrom(items []item, out []byte) (int, error) {
	var resp map[string]json.RawMessage
	if len(bytes.TrimSpace(out)) == 0 || json.Unmarshal(out, &resp) != nil || resp == nil {
		return -1, nil
	}
	raw, ok := resp["batchItemFailures"]
	if !ok || string(raw) == "null" {
		return -1, nil
	}
	var failures []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &failures); err != nil {
		return 0, fmt.Errorf("batchItemFailures is not a list of objects: %w", err)
	}
	from := -1
	for _, f := range failures {
		var id string
		if err := json.Unmarshal(f["itemIdentifier"], &id); err != nil || id == "" {
			return 0, fmt.Errorf("batch item failure without a usable itemIdentifier: %s", mapJSON(f))
		}
		i := slices.IndexFunc(items, func(it item) bool { return it.seq() == id })
		if i < 0 {
			return 0, fmt.Errorf("itemIdentifier %q is not a sequence number of the batch", id)
		}
		if from < 0 || i < from {
			from = i
		}
	}
	return from, nil
}

func mapJSON(m map[string]json.RawMessage) string {
	b, _ := json.Marshal(m)
	return string(b)
}

// dropExpired discards records older than MaximumRecordAge, or than the
// stream's 24-hour retention when no age is set. Records without a
// creation time never expire.
func (r *Runner) dropExpired(items []item) []item {
	maxAge := r.m.MaximumRecordAge
	reason := "older than MaximumRecordAge " + maxAge.String()
	if maxAge <= 0 {
		maxAge, reason = streamRetention, "expired from the stream (24 h)"
	}
	cutoff := time.Now().Add(-maxAge)
	var expired []item
	kept := make([]item, 0, len(items))
	for _, it := range items {
		t := it.rec.Change.ApproximateCreationDateTime.Time
		if !t.IsZero() && t.Before(cutoff) {
			expired = append(expired, it)
			continue
		}
		kept = append(kept, it)
	}
	if len(expired) > 0 {
		r.discard(expired, reason, nil)
	}
	return kept
}

// discard gives up on records, as Lambda does without an on-failure
// destination: they are logged and skipped.
func (r *Runner) discard(items []item, reason string, cause error) {
	seqs := make([]string, len(items))
	for i, it := range items {
		seqs[i] = it.seq()
	}
	args := []any{"reason", reason, "records", len(items), "sequenceNumbers", strings.Join(seqs, ",")}
	if cause != nil {
		args = append(args, "error", cause.Error())
	}
	r.log.Error("stream records discarded", args...)
}

func (r *Runner) backoff(retries int) time.Duration {
	d := r.m.RetryDelay
	for i := 0; i < retries && d < maxRetryDelay; i++ {
		d *= 2
	}
	return min(d, max(maxRetryDelay, r.m.RetryDelay))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// compareSeq compares sequence numbers as integers; "" comes before all.
func compareSeq(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
