package streams

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// StreamsAPI is the part of *dynamodbstreams.Client the source uses.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

var (
	_ StreamsAPI = (*dynamodbstreams.Client)(nil)
	_ Source     = (*APISource)(nil)
)

// APISourceOptions tunes an APISource. Zero values mean the defaults.
type APISourceOptions struct {
	// PollInterval is the pause between rounds of GetRecords while the
	// stream has nothing new. 0 means 250 ms: Lambda polls each shard about
	// four times a second.
	PollInterval time.Duration
	// Log receives what the source works around: expired iterators,
	// trimmed records, vanished shards, API failures it retries. nil means
	// slog.Default().
	Log *slog.Logger
}

const (
	defaultPollInterval = 250 * time.Millisecond
	// maxAPIBackoff bounds the wait between attempts while the API fails
	// (DynamoDB Local restarting, throttling).
	maxAPIBackoff = 5 * time.Second
	// getRecordsLimit is the most records GetRecords returns in one call.
	getRecordsLimit = 1000
	// latestTimeout bounds Latest, which has no ctx of its own.
	latestTimeout = 30 * time.Second
	// eventSourceDynamoDB is what Lambda puts in eventSource.
	eventSourceDynamoDB = "aws:dynamodb"
)

// APISource is a Source over the DynamoDB Streams API (AWS, or Amazon
// DynamoDB Local), read the way Lambda's event source mapping reads it.
//
// A stream is a tree of shards: a shard closes when DynamoDB rotates or
// splits it, and its children carry on. The source reads a parent to its
// end before its children, which keeps each item's changes in order, and
// hands out the records of all readable shards as one sequence, merged by
// SequenceNumber. Positions are SequenceNumbers: Read(after) returns the
// records that follow `after` in that sequence. Continuing from the last
// record returned uses the iterators already held; any other position is
// found again through the API (AFTER_SEQUENCE_NUMBER on the shard whose
// range holds it), so a retried batch reads the same records again.
// Shards trimmed away are skipped.
//
// With a single open shard at a time, which is what DynamoDB Local and
// small tables have, that sequence is exactly stream order. A table with
// several open shards at once is read as one merged sequence, while Lambda
// would run one batch per shard in parallel.
type APISource struct {
	api    StreamsAPI
	arn    string
	region string
	poll   time.Duration
	log    *slog.Logger

	// mu is held through each step of Read and Latest, API calls included,
	// but not while Read waits between polls, so Drain's Latest never waits
	// for a quiet stream.
	mu         sync.Mutex
	shards     map[string]*apiShard // by ShardId: as last listed, plus trimmed ones still holding records
	listed     bool                 // DescribeStream has been read at least once
	positioned bool                 // seek has run: the shards continue after last
	last       string               // the last SequenceNumber Read returned, or the position sought
}

// apiShard is what the source knows of one shard and how far it has read
// it.
type apiShard struct {
	id, parent string
	start, end string // SequenceNumberRange; end is "" while the shard is open
	iter       string // continues after pos; "" when none is held
	pos        string // the last SequenceNumber read from this shard (or sought in it); "" means TRIM_HORIZON
	floor      string // records up to here come before the position sought, so they are skipped
	buf        []events.DynamoDBEventRecord
	done       bool // read to its end, or gone
	gone       bool // no longer listed: trimmed away
}

// NewAPISource returns a source reading the stream streamARN through api.
// Records carry region as their awsRegion, as Lambda delivers them (the
// stream's own records may say otherwise: DynamoDB Local's say
// "ddblocal"). The source does no I/O until Latest or Read.
func NewAPISource(api StreamsAPI, streamARN, region string, opts APISourceOptions) *APISource {
	if opts.PollInterval <= 0 {
		opts.PollInterval = defaultPollInterval
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &APISource{
		api:    api,
		arn:    streamARN,
		region: region,
		poll:   opts.PollInterval,
		log:    opts.Log.With("eventSourceArn", streamARN),
		shards: map[string]*apiShard{},
	}
}

// ARN returns the stream's ARN, which records carry as eventSourceARN.
func (s *APISource) ARN() string { return s.arn }

// Latest returns the SequenceNumber of the newest record in the stream, ""
// when it has none. Streams have no such call, so Latest reads forward to
// the end of the open shards and keeps what it read for Read. If the API
// fails it logs the error and returns the newest record it knows of.
func (s *APISource) Latest() string {
	ctx, cancel := context.WithTimeout(context.Background(), latestTimeout)
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.positioned {
		// Nothing read yet: the read-ahead starts at TRIM_HORIZON, where a
		// Read("") would start, so what it buffers serves either start.
		if err := s.seek(ctx, ""); err != nil {
			s.log.Error("stream not read; Latest knows no record", "error", err.Error())
			return ""
		}
	}
	for {
		progress, err := s.fetch(ctx)
		if err != nil {
			s.log.Error("stream read ahead failed; Latest may be behind", "error", err.Error())
			break
		}
		if !progress {
			break
		}
	}
	newest := s.last
	for _, sh := range s.shards {
		if n := len(sh.buf); n > 0 && compareSeq(sh.buf[n-1].Change.SequenceNumber, newest) > 0 {
			newest = sh.buf[n-1].Change.SequenceNumber
		}
	}
	return newest
}

// Read returns up to limit records (100 when limit <= 0) that follow `after`
// ("" = the oldest retained record), blocking until there is at least one
// or ctx ends. While the stream is quiet it polls GetRecords every
// PollInterval. API failures that may pass (network, throttling, server
// errors) are logged and retried; others are returned.
func (s *APISource) Read(ctx context.Context, after string, limit int) ([]events.DynamoDBEventRecord, error) {
	if limit <= 0 {
		limit = defaultBatchSize
	}
	wait := s.poll
	for {
		s.mu.Lock()
		recs, progress, err := s.step(ctx, after, limit)
		s.mu.Unlock()
		switch {
		case len(recs) > 0:
			return recs, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil && !retryable(err):
			return nil, err
		case err != nil:
			s.log.Warn("stream read failed; retrying", "after", after, "retryIn", wait.String(), "error", err.Error())
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			wait = min(2*wait, max(maxAPIBackoff, s.poll))
		case progress:
			wait = s.poll // a shard ended or records came that sit before `after`: look again now
		default:
			wait = s.poll
			if err := sleep(ctx, s.poll); err != nil {
				return nil, err
			}
		}
	}
}

// step is one turn of Read: position the shards after `after` if they are
// elsewhere, hand out buffered records, or else make one round of
// GetRecords. progress reports that the round changed something. The
// caller holds mu.
func (s *APISource) step(ctx context.Context, after string, limit int) (recs []events.DynamoDBEventRecord, progress bool, err error) {
	if !s.positioned || after != s.last {
		if err := s.seek(ctx, after); err != nil {
			return nil, false, err
		}
	}
	if recs := s.take(limit); len(recs) > 0 {
		return recs, true, nil
	}
	progress, err = s.fetch(ctx)
	if err != nil {
		return nil, false, err
	}
	return s.take(limit), progress, nil
}

// seek positions the shards to continue after `after`. A position among
// the records already read only drops the records up to it; any other
// restarts the shards: those that end at or before it are done, the one
// whose range holds it continues AFTER_SEQUENCE_NUMBER, the rest start at
// TRIM_HORIZON skipping records up to it. The caller holds mu.
func (s *APISource) seek(ctx context.Context, after string) error {
	if !s.listed {
		if err := s.describe(ctx); err != nil {
			return err
		}
	}
	s.positioned, s.last = true, after
	if after != "" && s.buffered(after) {
		for _, sh := range s.shards {
			sh.buf = slices.DeleteFunc(sh.buf, func(r events.DynamoDBEventRecord) bool {
				return compareSeq(r.Change.SequenceNumber, after) <= 0
			})
		}
		return nil
	}
	for id, sh := range s.shards {
		if sh.gone {
			delete(s.shards, id)
			continue
		}
		*sh = apiShard{id: sh.id, parent: sh.parent, start: sh.start, end: sh.end, floor: after}
		switch {
		case after == "":
		case sh.end != "" && compareSeq(sh.end, after) <= 0:
			sh.done = true
		case compareSeq(sh.start, after) <= 0:
			sh.pos = after
		}
	}
	return nil
}

// buffered reports whether seq is a record read but not yet returned.
func (s *APISource) buffered(seq string) bool {
	for _, sh := range s.shards {
		for _, r := range sh.buf {
			if r.Change.SequenceNumber == seq {
				return true
			}
		}
	}
	return false
}

// take hands out up to limit buffered records, lowest SequenceNumber first
// among shards whose ancestors have handed out everything. The caller
// holds mu.
func (s *APISource) take(limit int) []events.DynamoDBEventRecord {
	var out []events.DynamoDBEventRecord
	for len(out) < limit {
		var next *apiShard
		for _, sh := range s.shards {
			if len(sh.buf) == 0 || !s.servable(sh) {
				continue
			}
			if next == nil || compareSeq(sh.buf[0].Change.SequenceNumber, next.buf[0].Change.SequenceNumber) < 0 {
				next = sh
			}
		}
		if next == nil {
			break
		}
		n := 1
		if len(next.buf) > 1 && !s.others(next) {
			n = min(len(next.buf), limit-len(out)) // the usual case, one shard: no merging to do
		}
		out = append(out, next.buf[:n]...)
		clear(next.buf[:n])
		next.buf = next.buf[n:]
	}
	if len(out) > 0 {
		s.last = out[len(out)-1].Change.SequenceNumber
	}
	return out
}

// servable reports whether sh's records may be handed out: a child's
// records follow every record of its ancestors.
func (s *APISource) servable(sh *apiShard) bool {
	for p, depth := s.shards[sh.parent], 0; p != nil && depth < len(s.shards); p, depth = s.shards[p.parent], depth+1 {
		if len(p.buf) > 0 {
			return false
		}
	}
	return true
}

// others reports whether a shard other than sh holds buffered records.
func (s *APISource) others(sh *apiShard) bool {
	for _, o := range s.shards {
		if o != sh && len(o.buf) > 0 {
			return true
		}
	}
	return false
}

// describe lists the stream's shards (DescribeStream, page by page) and
// merges them into what the source knows. A shard no longer listed has
// been trimmed away: it is dropped, or kept done until its buffered
// records are handed out. The caller holds mu.
func (s *APISource) describe(ctx context.Context) error {
	listed := map[string]bool{}
	var start *string
	for {
		out, err := s.api.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(s.arn), ExclusiveStartShardId: start})
		if err != nil {
			return fmt.Errorf("describe stream: %w", err)
		}
		d := out.StreamDescription
		if d == nil {
			return errors.New("describe stream: no StreamDescription in the answer")
		}
		for _, l := range d.Shards {
			id := aws.ToString(l.ShardId)
			listed[id] = true
			sh := s.shards[id]
			if sh == nil {
				sh = &apiShard{id: id, parent: aws.ToString(l.ParentShardId)}
				s.shards[id] = sh
			}
			if r := l.SequenceNumberRange; r != nil {
				sh.start, sh.end = aws.ToString(r.StartingSequenceNumber), aws.ToString(r.EndingSequenceNumber)
			}
		}
		if d.LastEvaluatedShardId == nil || *d.LastEvaluatedShardId == "" {
			break
		}
		start = d.LastEvaluatedShardId
	}
	for id, sh := range s.shards {
		switch {
		case listed[id]:
		case len(sh.buf) == 0:
			delete(s.shards, id)
		default:
			sh.gone, sh.done, sh.iter = true, true, ""
		}
	}
	s.listed = true
	return nil
}

// readable returns the shards to read now: not done, with no parent or a
// parent read to its end. Oldest first.
func (s *APISource) readable() []*apiShard {
	var out []*apiShard
	for _, sh := range s.shards {
		if p := s.shards[sh.parent]; sh.done || p != nil && !p.done {
			continue
		}
		out = append(out, sh)
	}
	slices.SortFunc(out, func(a, b *apiShard) int {
		if c := compareSeq(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return out
}

// fetch makes one GetRecords call on each readable shard. It reports
// progress when records arrived or a shard ended, so the caller looks
// again at once rather than after PollInterval. The caller holds mu.
func (s *APISource) fetch(ctx context.Context) (bool, error) {
	shards := s.readable()
	if len(shards) == 0 {
		// Every shard is read to its end: a rotation may have opened a
		// child since the last listing.
		if err := s.describe(ctx); err != nil {
			return false, err
		}
		shards = s.readable()
	}
	progress, ended := false, false
	for _, sh := range shards {
		n, err := s.fetchShard(ctx, sh)
		if err != nil {
			return progress, err
		}
		progress = progress || n > 0 || sh.done
		ended = ended || sh.done
	}
	if ended {
		// "A shard whose iterator comes back with no NextShardIterator is
		// closed": its children are listed by now.
		if err := s.describe(ctx); err != nil {
			return progress, err
		}
	}
	return progress, nil
}

// fetchShard reads one page of sh into its buffer and returns how many
// records the page held, replacing an expired iterator and skipping
// trimmed records as it goes. The caller holds mu.
func (s *APISource) fetchShard(ctx context.Context, sh *apiShard) (int, error) {
	for attempt := 0; ; attempt++ {
		if sh.iter == "" {
			if err := s.iterate(ctx, sh); err != nil || sh.done {
				return 0, err
			}
		}
		out, err := s.api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(sh.iter), Limit: aws.Int32(getRecordsLimit)})
		if err != nil && attempt < 3 && ctx.Err() == nil {
			if _, ok := errors.AsType[*types.ExpiredIteratorException](err); ok {
				// Iterators last 15 minutes, and a quiet mapping holds one
				// for longer; pos says where to pick up.
				s.log.Info("stream shard iterator expired; getting a new one", "shardId", sh.id, "after", sh.pos)
				sh.iter = ""
				continue
			}
			if _, ok := errors.AsType[*types.TrimmedDataAccessException](err); ok {
				s.skipTrimmed(sh, err)
				continue
			}
			if _, ok := errors.AsType[*types.ResourceNotFoundException](err); ok {
				s.log.Warn("stream shard gone; skipping it", "shardId", sh.id, "after", sh.pos, "error", err.Error())
				sh.iter, sh.done = "", true
				return 0, nil
			}
		}
		if err != nil {
			return 0, fmt.Errorf("get records from shard %s after %q: %w", sh.id, sh.pos, err)
		}
		for _, r := range out.Records {
			rec, err := eventRecord(r, s.arn, s.region)
			if err != nil {
				return 0, fmt.Errorf("shard %s: %w", sh.id, err)
			}
			seq := rec.Change.SequenceNumber
			sh.pos = seq
			if compareSeq(seq, sh.floor) > 0 {
				sh.buf = append(sh.buf, rec)
			}
		}
		if out.NextShardIterator == nil || *out.NextShardIterator == "" {
			sh.iter, sh.done = "", true
			s.log.Debug("stream shard read to its end", "shardId", sh.id, "endingSequenceNumber", sh.end)
		} else {
			sh.iter = *out.NextShardIterator
		}
		return len(out.Records), nil
	}
}

// iterate gets an iterator continuing after sh.pos, or at TRIM_HORIZON
// when nothing of sh has been read. The caller holds mu.
func (s *APISource) iterate(ctx context.Context, sh *apiShard) error {
	for attempt := 0; ; attempt++ {
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(s.arn), ShardId: aws.String(sh.id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
		if sh.pos != "" {
			in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(sh.pos)
		}
		out, err := s.api.GetShardIterator(ctx, in)
		if err == nil {
			if out.ShardIterator == nil || *out.ShardIterator == "" {
				sh.done = true // nothing left to iterate
				return nil
			}
			sh.iter = *out.ShardIterator
			return nil
		}
		if attempt < 2 && ctx.Err() == nil {
			if _, ok := errors.AsType[*types.TrimmedDataAccessException](err); ok && sh.pos != "" {
				s.skipTrimmed(sh, err)
				continue
			}
			if _, ok := errors.AsType[*types.ResourceNotFoundException](err); ok {
				s.log.Warn("stream shard gone; skipping it", "shardId", sh.id, "error", err.Error())
				sh.done = true
				return nil
			}
			if code(err) == "ValidationException" && sh.pos != "" {
				// The position is not in this shard: seek took a sibling
				// whose range also covers it. Read the shard from the start,
				// skipping what comes before the position.
				s.log.Debug("stream position not in shard; reading it from TRIM_HORIZON", "shardId", sh.id, "after", sh.pos)
				sh.floor = maxSeq(sh.floor, sh.pos)
				sh.pos = ""
				continue
			}
		}
		return fmt.Errorf("get iterator for shard %s after %q: %w", sh.id, sh.pos, err)
	}
}

// skipTrimmed moves sh to TRIM_HORIZON after its position has been trimmed
// (records older than 24 hours are gone): what was there is lost, as it
// would be for Lambda. Records already read stay skipped.
func (s *APISource) skipTrimmed(sh *apiShard, err error) {
	s.log.Warn("stream records trimmed before they were read; skipping to the shard's TRIM_HORIZON",
		"shardId", sh.id, "after", sh.pos, "error", err.Error())
	sh.floor = maxSeq(sh.floor, sh.pos)
	sh.pos, sh.iter = "", ""
}

func maxSeq(a, b string) string {
	if compareSeq(a, b) >= 0 {
		return a
	}
	return b
}

// code returns the API error code of err, "" when it has none.
func code(err error) string {
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		return ae.ErrorCode()
	}
	return ""
}

// retryable reports whether err may pass by itself: no answer (the
// endpoint is restarting or unreachable), throttling, or a server fault.
// A request the API refuses (an unknown stream, bad credentials) is not.
func retryable(err error) bool {
	switch code(err) {
	case "LimitExceededException", "ThrottlingException", "RequestLimitExceeded", "ProvisionedThroughputExceededException":
		return true
	}
	if re, ok := errors.AsType[*smithyhttp.ResponseError](err); ok {
		return re.HTTPStatusCode() >= 500
	}
	_, sendFailed := errors.AsType[*smithyhttp.RequestSendError](err)
	return sendFailed
}

// eventRecord converts a stream record into the record Lambda delivers:
// eventSource aws:dynamodb, awsRegion the function's region,
// eventSourceARN the stream's ARN.
func eventRecord(r types.Record, streamARN, region string) (events.DynamoDBEventRecord, error) {
	d := r.Dynamodb
	if d == nil {
		return events.DynamoDBEventRecord{}, fmt.Errorf("record %s has no dynamodb section", aws.ToString(r.EventID))
	}
	seq := aws.ToString(d.SequenceNumber)
	rec := events.DynamoDBEventRecord{
		AWSRegion:      region,
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    eventSourceDynamoDB,
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: streamARN,
		Change: events.DynamoDBStreamRecord{
			SequenceNumber: seq,
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		},
	}
	if d.ApproximateCreationDateTime != nil {
		rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
	}
	var err error
	if rec.Change.Keys, err = eventImage(d.Keys); err != nil {
		return rec, fmt.Errorf("record %s Keys: %w", seq, err)
	}
	if rec.Change.NewImage, err = eventImage(d.NewImage); err != nil {
		return rec, fmt.Errorf("record %s NewImage: %w", seq, err)
	}
	if rec.Change.OldImage, err = eventImage(d.OldImage); err != nil {
		return rec, fmt.Errorf("record %s OldImage: %w", seq, err)
	}
	if u := r.UserIdentity; u != nil {
		// Set on TTL deletes: {"type":"Service","principalId":"dynamodb.amazonaws.com"}.
		rec.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(u.Type), PrincipalID: aws.ToString(u.PrincipalId)}
	}
	return rec, nil
}

// eventImage converts an item image; nil stays nil, so absent images stay
// absent from the JSON.
func eventImage(m map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		ev, err := eventValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = ev
	}
	return out, nil
}

// eventValue converts one attribute value, of any type, into the form
// Lambda's events carry.
func eventValue(v types.AttributeValue) (events.DynamoDBAttributeValue, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value), nil
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value), nil
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value), nil
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			ev, err := eventValue(e)
			if err != nil {
				return events.DynamoDBAttributeValue{}, fmt.Errorf("element %d: %w", i, err)
			}
			l[i] = ev
		}
		return events.NewListAttribute(l), nil
	case *types.AttributeValueMemberM:
		m, err := eventImage(v.Value)
		if err != nil {
			return events.DynamoDBAttributeValue{}, err
		}
		if m == nil {
			m = map[string]events.DynamoDBAttributeValue{}
		}
		return events.NewMapAttribute(m), nil
	case *types.UnknownUnionMember:
		return events.DynamoDBAttributeValue{}, fmt.Errorf("attribute value of unknown type %q", v.Tag)
	default:
		return events.DynamoDBAttributeValue{}, fmt.Errorf("attribute value of unknown type %T", v)
	}
}
