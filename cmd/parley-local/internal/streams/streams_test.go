package streams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parley-chat/parley/cmd/parley-local/internal/filter"
	"github.com/parley-chat/parley/cmd/parley-local/internal/invoke"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

const streamARN = "arn:aws:dynamodb:us-east-1:123456789012:table/conversations/stream/2024-01-20T11:54:57.419"

// fakeSource is an in-memory shard: records in order, Read blocking until
// one past `after` exists. The real store is tested in its own package.
type fakeSource struct {
	mu      sync.Mutex
	recs    []events.DynamoDBEventRecord
	wake    chan struct{}
	readErr error
	served  int // records Read has returned
	waiting int // Reads blocked for want of a record
}

// counts says how many records Read has returned and how many Reads are
// blocked now.
func (s *fakeSource) counts() (served, waiting int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served, s.waiting
}

func newSource(recs ...events.DynamoDBEventRecord) *fakeSource {
	return &fakeSource{recs: recs, wake: make(chan struct{})}
}

func (s *fakeSource) ARN() string { return streamARN }

func (s *fakeSource) Latest() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.recs) == 0 {
		return ""
	}
	return s.recs[len(s.recs)-1].Change.SequenceNumber
}

func (s *fakeSource) Read(ctx context.Context, after string, max int) ([]events.DynamoDBEventRecord, error) {
	for {
		s.mu.Lock()
		if s.readErr != nil {
			s.mu.Unlock()
			return nil, s.readErr
		}
		i := slices.IndexFunc(s.recs, func(r events.DynamoDBEventRecord) bool {
			return compareSeq(r.Change.SequenceNumber, after) > 0
		})
		wake := s.wake
		if i >= 0 {
			out := slices.Clone(s.recs[i:min(len(s.recs), i+max)])
			s.served += len(out)
			s.mu.Unlock()
			return out, nil
		}
		s.waiting++
		s.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-wake:
		}
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

func (s *fakeSource) put(recs ...events.DynamoDBEventRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, recs...)
	close(s.wake)
	s.wake = make(chan struct{})
}

func (s *fakeSource) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readErr = err
	close(s.wake)
	s.wake = make(chan struct{})
}

// rec is record n of the stream: sequence number n, written just now.
func rec(n int, eventName string) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{
		EventID:        fmt.Sprintf("event-%d", n),
		EventName:      eventName,
		EventVersion:   "1.1",
		EventSource:    "aws:dynamodb",
		AWSRegion:      "us-east-1",
		EventSourceArn: streamARN,
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Now()},
			Keys:                        map[string]events.DynamoDBAttributeValue{"id": events.NewStringAttribute(fmt.Sprintf("c_%d", n))},
			NewImage: map[string]events.DynamoDBAttributeValue{
				"id":     events.NewStringAttribute(fmt.Sprintf("c_%d", n)),
				"status": events.NewStringAttribute("returned"),
			},
			SequenceNumber: fmt.Sprintf("%021d", n),
			SizeBytes:      42,
			StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}
}

func recs(from, to int) []events.DynamoDBEventRecord {
	var out []events.DynamoDBEventRecord
	for n := from; n <= to; n++ {
		out = append(out, rec(n, "MODIFY"))
	}
	return out
}

// recorder is a function whose handler records each batch it receives (as
// record numbers) and answers with respond.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	events  []events.DynamoDBEvent
	respond func(call int, batch []int) (any, error)
}

func (rc *recorder) function(t *testing.T) *invoke.Function {
	t.Helper()
	h := lambda.NewHandler(func(ctx context.Context, ev events.DynamoDBEvent) (any, error) {
		batch := make([]int, len(ev.Records))
		for i, r := range ev.Records {
			n, err := strconv.Atoi(r.Change.SequenceNumber)
			if err != nil {
				return nil, err
			}
			batch[i] = n
		}
		rc.mu.Lock()
		call := len(rc.batches)
		rc.batches = append(rc.batches, batch)
		rc.events = append(rc.events, ev)
		respond := rc.respond
		rc.mu.Unlock()
		if respond == nil {
			return nil, nil
		}
		return respond(call, batch)
	})
	return &invoke.Function{
		Name:    "NotifyFunction",
		ARN:     "arn:aws:lambda:us-east-1:123456789012:function:NotifyFunction",
		Timeout: 5 * time.Second,
		Handler: h,
		Log:     testLogger(t),
	}
}

func (rc *recorder) got() [][]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.batches)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// mapping is a TRIM_HORIZON mapping with fast retries and, unless the test
// says otherwise, up to 2 retries.
func mapping(fn *invoke.Function) Mapping {
	return Mapping{
		Name:                 "ConversationStream",
		Function:             fn,
		StartingPosition:     "TRIM_HORIZON",
		MaximumRetryAttempts: 2,
		RetryDelay:           time.Millisecond,
	}
}

// drain runs the mapping over everything in src and returns the batches.
func drain(t *testing.T, src *fakeSource, m Mapping) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := New(src, m, testLogger(t)).Drain(ctx); err != nil {
		t.Fatalf("Drain() = %v", err)
	}
}

// start runs the mapping in the background until the test ends.
func start(t *testing.T, src *fakeSource, m Mapping) *Runner {
	t.Helper()
	r := New(src, m, testLogger(t))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v; want nil after cancel", err)
		}
	})
	return r
}

// waitBatches waits until the function has received n batches.
func waitBatches(t *testing.T, rc *recorder, n int) [][]int {
	t.Helper()
	var got [][]int
	if !poll.Within(poll.Deadline, func() bool { got = rc.got(); return len(got) >= n }) {
		t.Fatalf("function received %v; want %d batches", got, n)
	}
	return got
}

// waitRunning waits until Run has taken over r, so that a Drain finds it
// running rather than running the loop itself.
func waitRunning(t *testing.T, r *Runner) {
	t.Helper()
	poll.Until(t, "the runner to run", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.state == running
	})
}

func fail(_ int, _ []int) (any, error) { return nil, errors.New("boom") }

func itemFailures(ids ...string) events.DynamoDBEventResponse {
	var r events.DynamoDBEventResponse
	for _, id := range ids {
		r.BatchItemFailures = append(r.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: id})
	}
	return r
}

func seq(n int) string { return fmt.Sprintf("%021d", n) }

func TestDelivery(t *testing.T) {
	modifyOnly, err := filter.CompileAll(`{"eventName": ["MODIFY"]}`)
	if err != nil {
		t.Fatal(err)
	}
	statusReturned, err := filter.CompileAll(
		`{"dynamodb": {"NewImage": {"status": {"S": ["queued"]}}}}`,
		`{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["returned"]}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	mixed := []events.DynamoDBEventRecord{rec(1, "INSERT"), rec(2, "MODIFY"), rec(3, "REMOVE"), rec(4, "MODIFY"), rec(5, "INSERT"), rec(6, "REMOVE")}

	tests := []struct {
		name    string
		records []events.DynamoDBEventRecord
		setup   func(*Mapping)
		respond func(call int, batch []int) (any, error)
		want    [][]int
	}{
		{"in order, default batch size", recs(1, 5), nil, nil, [][]int{{1, 2, 3, 4, 5}}},
		{"batch size", recs(1, 7), func(m *Mapping) { m.BatchSize = 3 }, nil, [][]int{{1, 2, 3}, {4, 5, 6}, {7}}},
		{"batch size 1", recs(1, 3), func(m *Mapping) { m.BatchSize = 1 }, nil, [][]int{{1}, {2}, {3}}},
		{"filter skips records", mixed, func(m *Mapping) { m.Filters = modifyOnly }, nil, [][]int{{2, 4}}},
		{"filter counts only matches toward batch size", mixed, func(m *Mapping) { m.Filters = modifyOnly; m.BatchSize = 1 }, nil, [][]int{{2}, {4}}},
		{"filters are ORed", mixed, func(m *Mapping) { m.Filters = statusReturned }, nil, [][]int{{1, 5}}},
		{"nothing passes the filter", recs(1, 3), func(m *Mapping) { m.Filters = statusReturned }, nil, nil},
		{"panic is a function error", recs(1, 2), nil, func(call int, _ []int) (any, error) {
			if call == 0 {
				panic("bad record")
			}
			return nil, nil
		}, [][]int{{1, 2}, {1, 2}}},

		// Retries.
		{"retries bounded", recs(1, 2), nil, fail, [][]int{{1, 2}, {1, 2}, {1, 2}}},
		{"no retries", recs(1, 2), func(m *Mapping) { m.MaximumRetryAttempts = 0 }, fail, [][]int{{1, 2}}},
		{"discarded batch does not block the next", recs(1, 3), func(m *Mapping) { m.BatchSize = 2; m.MaximumRetryAttempts = 1 },
			func(_ int, b []int) (any, error) {
				if b[0] == 1 {
					return nil, errors.New("poison")
				}
				return nil, nil
			}, [][]int{{1, 2}, {1, 2}, {3}}},
		{"retry until success", recs(1, 2), func(m *Mapping) { m.MaximumRetryAttempts = -1 },
			func(call int, _ []int) (any, error) {
				if call < 4 {
					return nil, errors.New("flaky")
				}
				return nil, nil
			}, [][]int{{1, 2}, {1, 2}, {1, 2}, {1, 2}, {1, 2}}},

		// Partial batch responses.
		{"partial failure retries from the failed record", recs(1, 5), func(m *Mapping) { m.ReportBatchItemFailures = true },
			func(call int, _ []int) (any, error) {
				if call == 0 {
					return itemFailures(seq(4), seq(3)), nil
				}
				return nil, nil
			}, [][]int{{1, 2, 3, 4, 5}, {3, 4, 5}}},
		{"partial failures count as retries", recs(1, 4), func(m *Mapping) { m.ReportBatchItemFailures = true; m.BatchSize = 3; m.MaximumRetryAttempts = 1 },
			func(_ int, b []int) (any, error) {
				if slices.Contains(b, 2) {
					return itemFailures(seq(2)), nil
				}
				return nil, nil
			}, [][]int{{1, 2, 3}, {2, 3}, {4}}},
		{"empty list is success", recs(1, 3), func(m *Mapping) { m.ReportBatchItemFailures = true },
			func(int, []int) (any, error) { return itemFailures(), nil }, [][]int{{1, 2, 3}}},
		{"null list is success", recs(1, 3), func(m *Mapping) { m.ReportBatchItemFailures = true },
			func(int, []int) (any, error) { return map[string]any{"batchItemFailures": nil}, nil }, [][]int{{1, 2, 3}}},
		{"empty response is success", recs(1, 3), func(m *Mapping) { m.ReportBatchItemFailures = true },
			func(int, []int) (any, error) { return map[string]any{}, nil }, [][]int{{1, 2, 3}}},
		{"empty identifier fails the whole batch", recs(1, 3), func(m *Mapping) { m.ReportBatchItemFailures = true },
			func(call int, _ []int) (any, error) {
				if call == 0 {
					return itemFailures(seq(3), ""), nil
				}
				return nil, nil
			}, [][]int{{1, 2, 3}, {1, 2, 3}}},
		{"unknown identifier fails the whole batch", recs(1, 3), func(m *Mapping) { m.ReportBatchItemFailures = true },
			func(call int, _ []int) (any, error) {
				if call == 0 {
					return itemFailures(seq(9)), nil
				}
				return nil, nil
			}, [][]int{{1, 2, 3}, {1, 2, 3}}},
		{"misspelt key fails the whole batch", recs(1, 3), func(m *Mapping) { m.ReportBatchItemFailures = true },
			func(call int, _ []int) (any, error) {
				if call == 0 {
					return map[string]any{"batchItemFailures": []any{map[string]any{"itemIdentifer": seq(2)}}}, nil
				}
				return nil, nil
			}, [][]int{{1, 2, 3}, {1, 2, 3}}},
		{"function error with partial responses on", recs(1, 3), func(m *Mapping) { m.ReportBatchItemFailures = true; m.MaximumRetryAttempts = 1 },
			fail, [][]int{{1, 2, 3}, {1, 2, 3}}},
		{"response ignored without ReportBatchItemFailures", recs(1, 3), nil,
			func(int, []int) (any, error) { return itemFailures(seq(2)), nil }, [][]int{{1, 2, 3}}},

		// Bisecting.
		{"bisect isolates the bad record", recs(1, 4), func(m *Mapping) { m.BisectBatchOnFunctionError = true; m.MaximumRetryAttempts = 0 },
			func(_ int, b []int) (any, error) {
				if slices.Contains(b, 3) {
					return nil, errors.New("poison")
				}
				return nil, nil
			}, [][]int{{1, 2, 3, 4}, {1, 2}, {3, 4}, {3}, {4}}},
		{"bisect then retry the single record", recs(1, 2), func(m *Mapping) { m.BisectBatchOnFunctionError = true; m.MaximumRetryAttempts = 1 },
			func(_ int, b []int) (any, error) {
				if slices.Contains(b, 1) {
					return nil, errors.New("poison")
				}
				return nil, nil
			}, [][]int{{1, 2}, {1}, {1}, {2}}},
		{"bisect at the reported record", recs(1, 4), func(m *Mapping) {
			m.BisectBatchOnFunctionError, m.ReportBatchItemFailures, m.MaximumRetryAttempts = true, true, 0
		}, func(_ int, b []int) (any, error) {
			if slices.Contains(b, 3) {
				return itemFailures(seq(3)), nil
			}
			return nil, nil
		}, [][]int{{1, 2, 3, 4}, {3, 4}, {3}, {4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{respond: tt.respond}
			m := mapping(rc.function(t))
			if tt.setup != nil {
				tt.setup(&m)
			}
			drain(t, newSource(tt.records...), m)
			if got := rc.got(); !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("batches = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestPayloadIsTheDynamoDBEvent(t *testing.T) {
	rc := &recorder{}
	drain(t, newSource(rec(1, "INSERT"), rec(2, "MODIFY")), mapping(rc.function(t)))
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.events) != 1 {
		t.Fatalf("events = %d; want 1", len(rc.events))
	}
	got := rc.events[0].Records
	if len(got) != 2 || got[0].EventName != "INSERT" || got[1].EventName != "MODIFY" ||
		got[1].EventSourceArn != streamARN || got[1].Change.NewImage["status"].String() != "returned" {
		t.Errorf("records = %+v; want records 1 (INSERT) and 2 (MODIFY) as written", got)
	}
}

func TestPayloadLimit(t *testing.T) {
	// Records of a third of the limit and more: two fit, three would not,
	// although BatchSize allows 100. The limit is lowered from Lambda's
	// 6 MB to keep the test small.
	big := recs(1, 5)
	for i := range big {
		big[i].Change.NewImage["transcript"] = events.NewStringAttribute(strings.Repeat("x", 1000))
	}
	rc := &recorder{}
	r := New(newSource(big...), mapping(rc.function(t)), testLogger(t))
	r.limit = 3000
	if err := r.Drain(t.Context()); err != nil {
		t.Fatalf("Drain() = %v", err)
	}
	if got, want := rc.got(), [][]int{{1, 2}, {3, 4}, {5}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("batches = %v; want %v", got, want)
	}
}

func TestStartingPosition(t *testing.T) {
	tests := []struct {
		position string
		want     [][]int
	}{
		{"TRIM_HORIZON", [][]int{{1, 2, 3}}},
		{"LATEST", [][]int{{3}}},
	}
	for _, tt := range tests {
		t.Run(tt.position, func(t *testing.T) {
			src := newSource(recs(1, 2)...)
			rc := &recorder{}
			m := mapping(rc.function(t))
			m.StartingPosition = tt.position
			r := New(src, m, testLogger(t))
			src.put(rec(3, "MODIFY"))
			if err := r.Drain(t.Context()); err != nil {
				t.Fatalf("Drain() = %v", err)
			}
			if got := rc.got(); !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("StartingPosition %s: batches = %v; want %v", tt.position, got, tt.want)
			}
		})
	}
}

func TestLatestOnEmptyStream(t *testing.T) {
	src := newSource()
	rc := &recorder{}
	m := mapping(rc.function(t))
	m.StartingPosition = "LATEST"
	start(t, src, m)
	src.put(rec(1, "INSERT"))
	if got := waitBatches(t, rc, 1); !slices.Equal(got[0], []int{1}) {
		t.Errorf("batches = %v; want [[1]]", got)
	}
}

func TestBatchingWindow(t *testing.T) {
	t.Run("no window: each write is its own batch", func(t *testing.T) {
		src := newSource()
		rc := &recorder{}
		start(t, src, mapping(rc.function(t)))
		src.put(rec(1, "MODIFY"))
		waitBatches(t, rc, 1)
		src.put(rec(2, "MODIFY"))
		if got := waitBatches(t, rc, 2); !slices.EqualFunc(got, [][]int{{1}, {2}}, slices.Equal) {
			t.Errorf("batches = %v; want [[1] [2]]", got)
		}
	})
	t.Run("window gathers later writes", func(t *testing.T) {
		src := newSource()
		rc := &recorder{}
		m := mapping(rc.function(t))
		m.BatchingWindow = 300 * time.Millisecond
		start(t, src, m)
		src.put(rec(1, "MODIFY"))
		// The second write lands once the runner holds the first, inside
		// its window.
		poll.Until(t, "the runner to read the first record", func() bool { served, _ := src.counts(); return served >= 1 })
		src.put(rec(2, "MODIFY"))
		if got := waitBatches(t, rc, 1); !slices.EqualFunc(got, [][]int{{1, 2}}, slices.Equal) {
			t.Errorf("batches = %v; want [[1 2]]", got)
		}
	})
	t.Run("a full batch does not wait for the window", func(t *testing.T) {
		src := newSource()
		rc := &recorder{}
		m := mapping(rc.function(t))
		m.BatchingWindow, m.BatchSize = 300*time.Second, 2
		start(t, src, m)
		src.put(recs(1, 3)...)
		if got := waitBatches(t, rc, 1); !slices.Equal(got[0], []int{1, 2}) {
			t.Errorf("batches = %v; want [[1 2]] first", got)
		}
	})
}

func TestDrain(t *testing.T) {
	t.Run("running runner delivers what is pending, then stops", func(t *testing.T) {
		src := newSource()
		rc := &recorder{}
		m := mapping(rc.function(t))
		m.BatchingWindow = 300 * time.Second // Drain must not sit it out
		r := New(src, m, testLogger(t))
		done := make(chan error, 1)
		go func() { done <- r.Run(t.Context()) }()
		waitRunning(t, r)
		src.put(recs(1, 3)...)
		if err := r.Drain(t.Context()); err != nil {
			t.Fatalf("Drain() = %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Run() = %v; want nil after Drain", err)
		}
		if got := rc.got(); !slices.EqualFunc(got, [][]int{{1, 2, 3}}, slices.Equal) {
			t.Errorf("batches = %v; want [[1 2 3]]", got)
		}
		if err := r.Run(t.Context()); err == nil {
			t.Errorf("Run() after Drain = nil; want an error")
		}
	})
	t.Run("idle blocked reader", func(t *testing.T) {
		src := newSource()
		rc := &recorder{}
		r := start(t, src, mapping(rc.function(t)))
		waitRunning(t, r)
		poll.Until(t, "Run to block in Read", func() bool { _, waiting := src.counts(); return waiting > 0 })
		if err := r.Drain(t.Context()); err != nil {
			t.Fatalf("Drain() = %v", err)
		}
		if got := rc.got(); len(got) != 0 {
			t.Errorf("batches = %v; want none", got)
		}
	})
	t.Run("ctx ends while retrying", func(t *testing.T) {
		rc := &recorder{respond: fail}
		m := mapping(rc.function(t))
		m.MaximumRetryAttempts, m.RetryDelay = -1, 5*time.Millisecond
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		err := New(newSource(recs(1, 1)...), m, testLogger(t)).Drain(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Drain() = %v; want context.DeadlineExceeded", err)
		}
	})
}

func TestMaximumRecordAge(t *testing.T) {
	old := rec(1, "MODIFY")
	old.Change.ApproximateCreationDateTime.Time = time.Now().Add(-time.Hour)
	dayOld := rec(2, "MODIFY")
	dayOld.Change.ApproximateCreationDateTime.Time = time.Now().Add(-25 * time.Hour)
	tests := []struct {
		name   string
		maxAge time.Duration
		want   [][]int
	}{
		{"older than MaximumRecordAge", time.Minute, [][]int{{3}}},
		{"unlimited keeps an hour-old record", 0, [][]int{{1, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &recorder{}
			m := mapping(rc.function(t))
			m.MaximumRecordAge = tt.maxAge
			drain(t, newSource(old, dayOld, rec(3, "MODIFY")), m)
			if got := rc.got(); !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("MaximumRecordAge %v: batches = %v; want %v", tt.maxAge, got, tt.want)
			}
		})
	}
}

func TestRecordsExpireWhileRetrying(t *testing.T) {
	rc := &recorder{respond: fail}
	m := mapping(rc.function(t))
	m.MaximumRetryAttempts = -1
	m.MaximumRecordAge = 30 * time.Millisecond
	drain(t, newSource(recs(1, 1)...), m) // returns only once the record has expired
	if got := rc.got(); len(got) < 2 {
		t.Errorf("batches = %v; want retries until the record expired", got)
	}
}

func TestInvalidMapping(t *testing.T) {
	rc := &recorder{}
	fn := rc.function(t)
	tests := []struct {
		name  string
		setup func(*Mapping)
	}{
		{"unknown starting position", func(m *Mapping) { m.StartingPosition = "AT_TIMESTAMP" }},
		{"missing starting position", func(m *Mapping) { m.StartingPosition = "" }},
		{"batch size too large", func(m *Mapping) { m.BatchSize = 10001 }},
		{"negative batch size", func(m *Mapping) { m.BatchSize = -1 }},
		{"window too long", func(m *Mapping) { m.BatchingWindow = 301 * time.Second }},
		{"retries below -1", func(m *Mapping) { m.MaximumRetryAttempts = -2 }},
		{"no function", func(m *Mapping) { m.Function = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mapping(fn)
			tt.setup(&m)
			if err := New(newSource(), m, testLogger(t)).Run(t.Context()); err == nil {
				t.Errorf("Run() = nil; want a configuration error")
			}
		})
	}
}

func TestSourceError(t *testing.T) {
	src := newSource()
	rc := &recorder{}
	r := New(src, mapping(rc.function(t)), testLogger(t))
	done := make(chan error, 1)
	go func() { done <- r.Run(t.Context()) }()
	boom := errors.New("stream closed")
	src.fail(boom)
	if err := <-done; !errors.Is(err, boom) {
		t.Errorf("Run() = %v; want it to wrap %v", err, boom)
	}
}

func TestRunStopsWithCtx(t *testing.T) {
	src := newSource()
	rc := &recorder{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- New(src, mapping(rc.function(t)), testLogger(t)).Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v; want nil when ctx ends", err)
	}
}

func TestCompareSeq(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"", "", 0},
		{"", "1", -1},
		{"000000000000000000010", "9", 1},
		{"000000000000000000010", "10", 0},
		{"4421584500000000017450439092", "4421584500000000017450439093", -1},
	}
	for _, tt := range tests {
		got := compareSeq(tt.a, tt.b)
		if (got > 0) != (tt.want > 0) || (got < 0) != (tt.want < 0) {
			t.Errorf("compareSeq(%q, %q) = %d; want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}
