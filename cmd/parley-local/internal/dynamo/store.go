package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

// ErrClosed is returned by Stream.Read once its stream can get no more
// records (the store closed, the table was deleted or its stream disabled)
// and every retained record after the caller's position has been read.
var ErrClosed = errors.New("dynamo: stream closed")

const (
	targetPrefix    = "DynamoDB_20120810."
	maxRequestBytes = 16 << 20 // BatchWriteItem's own limit; anything larger is not DynamoDB traffic

	defaultFlushInterval   = time.Second
	defaultTTLInterval     = 30 * time.Second
	defaultCompactBytes    = 64 << 20
	defaultStreamCap       = 100000
	defaultStreamRetention = 24 * time.Hour
)

// Options configures a Store; the zero value keeps everything in memory.
type Options struct {
	Dir           string            // "" keeps everything in memory; otherwise snapshot + write-ahead log live here
	Region        string            // for ARNs, default "us-east-1"
	AccountID     string            // for ARNs, default "000000000000"
	Log           *slog.Logger      // nil = slog.Default()
	Metrics       *metrics.Counters // counts every request by operation name; nil ok
	FlushInterval time.Duration     // group-commit fsync interval, default 1s
	TTLInterval   time.Duration     // how often expired items are deleted, default 30s
	Now           func() time.Time  // default time.Now
	// FaultRate is the fraction of item and query requests answered with a
	// throttling error instead (faults.go), to test that clients retry as
	// they must against DynamoDB; 0 serves every request.
	FaultRate float64
}

// Store is a DynamoDB-compatible server: an in-memory engine of its own
// (engine.go) behind a write path that adds durability, streams and TTL. It
// is safe for concurrent use.
type Store struct {
	opts Options
	log  *slog.Logger

	// ddlMu is held exclusively by CreateTable, UpdateTable, DeleteTable and
	// Close and shared by every other request.
	ddlMu  sync.RWMutex
	closed bool // guarded by ddlMu

	// writeMu serializes item writes, so that the images read before and
	// after a write belong to that write alone and log and stream order is
	// commit order. Reads share it, so they never see a write half applied
	// (see index.go).
	// Requests wait for it with their context (rwlock.go).
	writeMu rwLock
	seq     uint64                // last stream sequence number handed out; guarded by writeMu
	tokens  map[string]tokenEntry // TransactWriteItems' ClientRequestTokens; guarded by writeMu

	mu     sync.Mutex        // guards tables (the map; each table's data is guarded by writeMu)
	tables map[string]*table // every table: definition, items, stream

	wal             *wal // nil when Dir is ""
	unlockDir       func() error
	compactAt       int64 // log size that triggers a snapshot; tests lower it
	compactBackoff  int64 // extra log growth to wait for after a failed compaction
	streamCap       int
	streamRetention time.Duration

	observer atomic.Pointer[CapacityObserver] // ObserveCapacity's

	panics   atomic.Int64    // requests that panicked (each answered 500 and logged)
	faults   atomic.Int64    // requests answered with an injected throttling error
	testHook func(op string) // tests only: runs before each request is served

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// table is one table's definition, its items and, when enabled, its stream.
type table struct {
	def    tableDef
	data   *tableData
	stream *Stream
}

// Open starts a store. With opts.Dir set it first rebuilds the tables and
// items of the previous run from the snapshot and write-ahead log there.
func Open(opts Options) (*Store, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = defaultFlushInterval
	}
	if opts.TTLInterval <= 0 {
		opts.TTLInterval = defaultTTLInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{
		opts:            opts,
		log:             opts.Log.With("component", "dynamodb"),
		tables:          map[string]*table{},
		compactAt:       defaultCompactBytes,
		streamCap:       defaultStreamCap,
		streamRetention: defaultStreamRetention,
		done:            make(chan struct{}),
	}
	// Seeding sequence numbers from the clock keeps them increasing across
	// restarts, although the records themselves are not kept.
	if now := opts.Now(); now.Year() >= 1970 && now.Year() < 2200 {
		s.seq = uint64(now.UnixNano())
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("open dynamodb store in %s: %w", opts.Dir, err)
		}
		unlock, err := lockDir(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("open dynamodb store in %s: %w", opts.Dir, err)
		}
		prev := newReplayed()
		w, err := openWAL(opts.Dir, s.log, prev.apply)
		if err == nil {
			if err = s.rebuild(prev); err != nil {
				_ = w.close()
			}
		}
		if err != nil {
			_ = unlock()
			return nil, fmt.Errorf("open dynamodb store in %s: %w", opts.Dir, err)
		}
		s.wal, s.unlockDir = w, unlock
		s.wg.Go(s.syncLoop)
	}
	s.wg.Go(s.ttlLoop)
	return s, nil
}

// Close stops the background work, writes a snapshot and fsyncs it, so that
// every acknowledged write is on disk. Streams end: Read returns ErrClosed
// once their records are read. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.wg.Wait()
		s.ddlMu.Lock()
		defer s.ddlMu.Unlock()
		s.closed = true
		if s.wal != nil {
			var errs []error
			if err := s.compact(); err != nil {
				errs = append(errs, err) // the log is still complete; the fsync below keeps it
			}
			if err := s.wal.close(); err != nil {
				errs = append(errs, err)
			}
			if err := s.unlockDir(); err != nil {
				errs = append(errs, err)
			}
			if err := errors.Join(errs...); err != nil {
				s.closeErr = fmt.Errorf("close dynamodb store in %s: %w", s.opts.Dir, err)
			}
		}
		s.mu.Lock()
		for _, t := range s.tables {
			if t.stream != nil {
				t.stream.close()
			}
		}
		s.mu.Unlock()
	})
	return s.closeErr
}

// crash stops the store the way kill -9 would, for tests: no snapshot, no
// fsync, the log file just closed.
func (s *Store) crash() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.wg.Wait()
		s.ddlMu.Lock()
		defer s.ddlMu.Unlock()
		s.closed = true
		if s.wal != nil {
			s.wal.abandon()
			_ = s.unlockDir()
		}
	})
}

// Stream returns the change log of table, or nil when the table has no
// stream enabled.
func (s *Store) Stream(table string) *Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tables[table]; t != nil {
		return t.stream
	}
	return nil
}

// ServeHTTP serves DynamoDB's JSON 1.0 protocol: a POST whose X-Amz-Target
// header names the operation (DynamoDB_20120810.PutItem). The path is
// ignored, so the store can be mounted anywhere.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep := s.serveSafely(r)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", newID())
	if c := rep.consumed; c != nil {
		w.Header().Set(ConsumedCapacityHeader, fmt.Sprintf("read=%g,write=%g", ptrOr0(c.ReadCapacityUnits), ptrOr0(c.WriteCapacityUnits)))
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// serveSafely is serve with a panic turned into what DynamoDB answers when
// it fails inside: a 500 InternalServerError, and a log line with the
// stack. Every lock a request takes is released by defer, so the store
// goes on serving.
func (s *Store) serveSafely(r *http.Request) (rep reply) {
	defer func() {
		if p := recover(); p != nil {
			s.panics.Add(1)
			s.log.Error("request panicked", "target", r.Header.Get("X-Amz-Target"), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			rep = errorReply(http.StatusInternalServerError, "InternalServerError", "Internal server error")
		}
	}()
	if s.testHook != nil {
		s.testHook(r.Header.Get("X-Amz-Target"))
	}
	return s.serve(r)
}

func (s *Store) serve(r *http.Request) reply {
	if r.Method != http.MethodPost {
		return errorReply(http.StatusMethodNotAllowed, "UnknownOperationException", "DynamoDB takes POST requests only")
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	streamsOp, isStreams := strings.CutPrefix(target, streamsTargetPrefix)
	if isStreams && streamsOp != "" {
		op, ok = streamsOp, true
	}
	if !ok || op == "" {
		return errorReply(http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("unknown X-Amz-Target %q", target))
	}
	if s.opts.Metrics != nil {
		s.opts.Metrics.Add(metrics.DynamoDB, op)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "read request: "+err.Error())
	}
	if len(body) > maxRequestBytes {
		return errorReply(http.StatusRequestEntityTooLarge, "ValidationException", "Request size exceeded the maximum allowed")
	}
	if !json.Valid(body) {
		return errorReply(http.StatusBadRequest, "SerializationException", "request body is not valid JSON")
	}
	if rep, failed := s.fault(op); failed {
		return rep
	}
	if isStreams {
		return s.handleStreams(op, body)
	}
	if err := r.Context().Err(); err != nil {
		return gaveUp(err) // the caller is gone: do nothing for it
	}
	rep := s.handle(r.Context(), op, body)
	if f := s.observer.Load(); f != nil && rep.ok() {
		if read, write, ok := consumedUnits(rep.body); ok {
			(*f)(op, body, read, write)
		}
	}
	return rep
}

func ptrOr0(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

// CapacityObserver is told, after each request whose reply reports
// ConsumedCapacity, the operation, the request body and the read and write
// units the reply reports, all tables and indexes together.
type CapacityObserver func(op string, body []byte, read, write float64)

// ObserveCapacity makes the store call f after every request that reported
// consumed capacity (nil stops it): how a test ties what a client counted
// to what the store computed.
func (s *Store) ObserveCapacity(f CapacityObserver) {
	if f == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&f)
}

// consumedUnits adds up the ConsumedCapacity of a reply.
func consumedUnits(body []byte) (read, write float64, ok bool) {
	var out struct{ ConsumedCapacity json.RawMessage }
	if json.Unmarshal(body, &out) != nil || len(out.ConsumedCapacity) == 0 {
		return 0, 0, false
	}
	var many []capacityReport
	if json.Unmarshal(out.ConsumedCapacity, &many) != nil {
		var one capacityReport
		if json.Unmarshal(out.ConsumedCapacity, &one) != nil {
			return 0, 0, false
		}
		many = []capacityReport{one}
	}
	for _, c := range many {
		if c.ReadCapacityUnits != nil {
			read += *c.ReadCapacityUnits
		}
		if c.WriteCapacityUnits != nil {
			write += *c.WriteCapacityUnits
		}
	}
	return read, write, true
}

func (s *Store) handle(ctx context.Context, op string, body []byte) reply {
	switch op {
	case "CreateTable", "UpdateTable", "DeleteTable":
		s.ddlMu.Lock()
		defer s.ddlMu.Unlock()
		if s.closed {
			return closedReply()
		}
		switch op {
		case "CreateTable":
			return s.createTable(body)
		case "UpdateTable":
			return s.updateTable(body)
		default:
			return s.deleteTable(body)
		}
	}

	s.ddlMu.RLock()
	defer s.ddlMu.RUnlock()
	if s.closed {
		return closedReply()
	}
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems":
		return s.writeItems(ctx, op, body, nil)
	case "Query", "Scan", "GetItem", "BatchGetItem", "TransactGetItems":
		if err := s.writeMu.rlock(ctx, s.done); err != nil {
			return gaveUp(err)
		}
		defer s.writeMu.RUnlock()
		switch op {
		case "Query":
			return s.query(body)
		case "Scan":
			return s.scan(body)
		case "GetItem":
			return s.getItem(body)
		case "BatchGetItem":
			return s.batchGetItem(body)
		}
		return s.transactGetItems(body)
	case "DescribeTable":
		return s.describeTable(ctx, body)
	case "ListTables":
		return s.listTables(body)
	case "UpdateTimeToLive":
		return s.updateTimeToLive(body)
	case "DescribeTimeToLive":
		return s.describeTimeToLive(body)
	}
	return errorReply(http.StatusBadRequest, "UnknownOperationException", "operation "+op+" is not supported by the local DynamoDB")
}

// gaveUp answers a request that stopped waiting: its caller went away
// (nobody reads this) or the store began to close.
func gaveUp(err error) reply {
	if errors.Is(err, errStoreClosing) {
		return closedReply()
	}
	return errorReply(http.StatusServiceUnavailable, "ServiceUnavailable", "request abandoned before it was served: "+err.Error())
}

func closedReply() reply {
	return errorReply(http.StatusServiceUnavailable, "ServiceUnavailable", "the local DynamoDB store is closed")
}

// table returns a copy of the named table's definition and its stream.
func (s *Store) table(name string) (tableDef, *Stream, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[name]
	if !ok {
		return tableDef{}, nil, false
	}
	return t.def, t.stream, true
}

// syncLoop is the group commit: acknowledged writes are in the OS already,
// and one fsync per interval makes them survive a power cut too.
func (s *Store) syncLoop() {
	tick := time.NewTicker(s.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
			if err := s.wal.sync(); err != nil {
				s.log.Error("fsync write-ahead log", "err", err)
			}
		}
	}
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return hex.EncodeToString(b)
}
