package dynamo

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// seqWidth is the fixed width of sequence numbers: 21 digits hold any
// uint64, and fixed width makes string order numeric order.
const seqWidth = 21

// defaultReadMax is Lambda's default BatchSize for DynamoDB streams.
const defaultReadMax = 100

func formatSeq(n uint64) string { return fmt.Sprintf("%0*d", seqWidth, n) }

// Stream is the change log of one table: a single shard, records in commit
// order. It keeps records for 24 hours and at most a bounded number of them,
// dropping the oldest, as DynamoDB Streams trims by age. Records live in
// memory only: they do not survive a restart of the store.
type Stream struct {
	arn        string
	viewType   string
	now        func() time.Time
	maxRecords int
	retention  time.Duration

	mu      sync.Mutex
	records []events.DynamoDBEventRecord // oldest first
	wake    chan struct{}                // closed and replaced on every append, so Read can wait without polling
	closed  bool
}

func newStream(arn, viewType string, now func() time.Time, maxRecords int, retention time.Duration) *Stream {
	return &Stream{arn: arn, viewType: viewType, now: now, maxRecords: maxRecords, retention: retention, wake: make(chan struct{})}
}

// ARN is the stream's ARN:
// arn:aws:dynamodb:{region}:{account}:table/{name}/stream/{label}.
func (st *Stream) ARN() string { return st.arn }

// Latest returns the SequenceNumber of the newest record, "" when there is
// none. Reading after it returns only records written from now on.
func (st *Stream) Latest() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.records) == 0 {
		return ""
	}
	return st.records[len(st.records)-1].Change.SequenceNumber
}

// Read returns up to max records (100 when max <= 0) whose SequenceNumber
// comes after `after`, oldest first; after "" starts at the oldest retained
// record, as does a position older than it. When there is no such record
// Read blocks until one is written or ctx ends. Once the stream is closed
// and drained it returns ErrClosed. The records' top-level image maps are
// the caller's; nested values are shared, so treat them as read-only.
func (st *Stream) Read(ctx context.Context, after string, max int) ([]events.DynamoDBEventRecord, error) {
	if max <= 0 {
		max = defaultReadMax
	}
	for {
		st.mu.Lock()
		st.trim()
		i := sort.Search(len(st.records), func(i int) bool {
			return seqAfter(st.records[i].Change.SequenceNumber, after)
		})
		if i < len(st.records) {
			out := make([]events.DynamoDBEventRecord, min(max, len(st.records)-i))
			copy(out, st.records[i:])
			st.mu.Unlock()
			for j := range out {
				c := &out[j].Change
				c.Keys, c.NewImage, c.OldImage = maps.Clone(c.Keys), maps.Clone(c.NewImage), maps.Clone(c.OldImage)
				if u := out[j].UserIdentity; u != nil {
					cp := *u
					out[j].UserIdentity = &cp
				}
			}
			return out, nil
		}
		closed, wake := st.closed, st.wake
		st.mu.Unlock()
		if closed {
			return nil, fmt.Errorf("read stream %s: %w", st.arn, ErrClosed)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("read stream %s: %w", st.arn, ctx.Err())
		case <-wake:
		}
	}
}

// append adds records in commit order and wakes readers.
func (st *Stream) append(recs []events.DynamoDBEventRecord) {
	if len(recs) == 0 {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	st.records = append(st.records, recs...)
	st.trim()
	close(st.wake)
	st.wake = make(chan struct{})
}

// close ends the stream: no more records, and readers waiting on it return.
func (st *Stream) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.closed {
		st.closed = true
		close(st.wake)
	}
}

// trim drops records past retention or over the cap. The caller holds mu.
func (st *Stream) trim() {
	drop := max(0, len(st.records)-st.maxRecords)
	cutoff := st.now().Add(-st.retention)
	for drop < len(st.records) && st.records[drop].Change.ApproximateCreationDateTime.Before(cutoff) {
		drop++
	}
	if drop > 0 {
		// Reslicing is O(1); clearing lets the dropped images be collected
		// before append next reallocates the array.
		clear(st.records[:drop])
		st.records = st.records[drop:]
	}
}

// seqAfter reports whether sequence number seq comes after pos, comparing
// as decimal numbers so that positions of another width still work.
func seqAfter(seq, pos string) bool {
	if pos == "" {
		return true
	}
	seq, pos = strings.TrimLeft(seq, "0"), strings.TrimLeft(pos, "0")
	if len(seq) != len(pos) {
		return len(seq) > len(pos)
	}
	return seq > pos
}
