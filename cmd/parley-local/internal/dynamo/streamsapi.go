package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// The DynamoDB Streams API (ListStreams, DescribeStream, GetShardIterator,
// GetRecords) over the embedded store's streams, so a reader built for
// DynamoDB Local or AWS (the local stack's one stream runner) reads the
// embedded store the same way. Each table's stream is one shard that never
// closes while the stream is enabled; iterators carry their position and
// stay valid (AWS expires them after 15 minutes; nothing here needs to).

const streamsTargetPrefix = "DynamoDBStreams_20120810."

// maxGetRecords is GetRecords' Limit ceiling, as in DynamoDB.
const maxGetRecords = 1000

func shardID(arn string) string {
	h := sha256.Sum256([]byte(arn))
	return "shardId-00000000000000000001-" + hex.EncodeToString(h[:4])
}

// iterator is what a shard iterator encodes.
type iterator struct {
	ARN   string `json:"a"`
	After string `json:"p"` // read records after this sequence number ("" = oldest)
}

func encodeIterator(it iterator) string {
	b, _ := json.Marshal(it)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeIterator(s string) (iterator, error) {
	var it iterator
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &it)
	}
	if err != nil || it.ARN == "" {
		//lint:ignore ST1005 DynamoDB Streams' own message, spelled as it spells it
		return it, errors.New("Invalid ShardIterator")
	}
	return it, nil
}

// streamByARN finds an enabled stream and its table by ARN.
func (s *Store) streamByARN(arn string) (tableDef, *Stream, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tables {
		if t.stream != nil && t.stream.arn == arn {
			return t.def, t.stream, true
		}
	}
	return tableDef{}, nil, false
}

func (s *Store) handleStreams(op string, body []byte) reply {
	s.ddlMu.RLock()
	defer s.ddlMu.RUnlock()
	if s.closed {
		return closedReply()
	}
	switch op {
	case "ListStreams":
		return s.listStreams(body)
	case "DescribeStream":
		return s.describeStream(body)
	case "GetShardIterator":
		return s.getShardIterator(body)
	case "GetRecords":
		return s.getRecords(body)
	}
	return errorReply(http.StatusBadRequest, "UnknownOperationException", "operation "+op+" is not supported by the local DynamoDB Streams")
}

func streamNotFound(arn string) reply {
	return errorReply(http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("Requested resource not found: Stream: %s not found", arn))
}

// maxStreamsPage is the Limit ceiling of ListStreams and DescribeStream.
const maxStreamsPage = 100

func limitError(limit, most int) reply {
	return validationError("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value %s", limit,
		map[bool]string{true: "greater than or equal to 1", false: fmt.Sprintf("less than or equal to %d", most)}[limit < 1])
}

// listStreams serves ListStreams in stream ARN order, Limit at a time.
func (s *Store) listStreams(body []byte) reply {
	var in struct {
		TableName               string
		Limit                   *int
		ExclusiveStartStreamArn string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return validationError("decode ListStreams input: %v", err)
	}
	limit := maxStreamsPage
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > maxStreamsPage {
			return limitError(*in.Limit, maxStreamsPage)
		}
		limit = *in.Limit
	}
	type entry struct{ StreamArn, StreamLabel, TableName string }
	out := []entry{}
	s.mu.Lock()
	for name, t := range s.tables {
		if t.stream != nil && (in.TableName == "" || in.TableName == name) && t.stream.arn > in.ExclusiveStartStreamArn {
			out = append(out, entry{t.stream.arn, t.def.StreamLabel, name})
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].StreamArn < out[j].StreamArn })
	rep := map[string]any{"Streams": out}
	if len(out) > limit {
		rep["Streams"] = out[:limit]
		rep["LastEvaluatedStreamArn"] = out[limit-1].StreamArn
	}
	return okReply(rep)
}

// describeStream serves DescribeStream: the stream's one shard, or none
// after it.
func (s *Store) describeStream(body []byte) reply {
	var in struct {
		StreamArn             string
		Limit                 *int
		ExclusiveStartShardId string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return validationError("decode DescribeStream input: %v", err)
	}
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > maxStreamsPage) {
		return limitError(*in.Limit, maxStreamsPage)
	}
	def, st, ok := s.streamByARN(in.StreamArn)
	if !ok {
		return streamNotFound(in.StreamArn)
	}
	rng := map[string]string{"StartingSequenceNumber": formatSeq(1)}
	if first, err := st.Read(expired(), "", 1); err == nil && len(first) > 0 {
		rng["StartingSequenceNumber"] = first[0].Change.SequenceNumber
	}
	shards := []map[string]any{}
	if id := shardID(st.arn); in.ExclusiveStartShardId < id {
		shards = append(shards, map[string]any{"ShardId": id, "SequenceNumberRange": rng})
	}
	return okReply(map[string]any{"StreamDescription": map[string]any{
		"StreamArn":               st.arn,
		"StreamLabel":             def.StreamLabel,
		"StreamStatus":            "ENABLED",
		"StreamViewType":          st.viewType,
		"CreationRequestDateTime": float64(def.Created.UnixMilli()) / 1000,
		"TableName":               def.name(),
		"KeySchema":               def.Create.KeySchema,
		"Shards":                  shards,
	}})
}

func (s *Store) getShardIterator(body []byte) reply {
	var in struct{ StreamArn, ShardId, ShardIteratorType, SequenceNumber string }
	if err := json.Unmarshal(body, &in); err != nil {
		return validationError("decode GetShardIterator input: %v", err)
	}
	_, st, ok := s.streamByARN(in.StreamArn)
	if !ok {
		return streamNotFound(in.StreamArn)
	}
	if in.ShardId != shardID(st.arn) {
		return errorReply(http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Shard does not exist")
	}
	it := iterator{ARN: st.arn}
	switch in.ShardIteratorType {
	case "TRIM_HORIZON":
	case "LATEST":
		it.After = st.Latest()
	case "AFTER_SEQUENCE_NUMBER", "AT_SEQUENCE_NUMBER":
		if in.SequenceNumber == "" || strings.Trim(in.SequenceNumber, "0123456789") != "" {
			return validationError("Invalid SequenceNumber for the shard")
		}
		it.After = in.SequenceNumber
		if in.ShardIteratorType == "AT_SEQUENCE_NUMBER" {
			it.After = seqBefore(in.SequenceNumber)
		}
	default:
		return validationError("Invalid ShardIteratorType %q", in.ShardIteratorType)
	}
	return okReply(map[string]any{"ShardIterator": encodeIterator(it)})
}

func (s *Store) getRecords(body []byte) reply {
	var in struct {
		ShardIterator string
		Limit         *int
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return validationError("decode GetRecords input: %v", err)
	}
	limit := maxGetRecords
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > maxGetRecords {
			return limitError(*in.Limit, maxGetRecords)
		}
		limit = *in.Limit
	}
	it, err := decodeIterator(in.ShardIterator)
	if err != nil {
		return validationError("%v", err)
	}
	_, st, ok := s.streamByARN(it.ARN)
	if !ok {
		return streamNotFound(it.ARN)
	}
	recs, err := st.Read(expired(), it.After, limit)
	if errors.Is(err, ErrClosed) {
		return okReply(map[string]any{"Records": []any{}}) // a closed shard: no NextShardIterator
	}
	out := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		rec := map[string]any{
			"eventID": r.EventID, "eventName": r.EventName, "eventVersion": r.EventVersion,
			"eventSource": r.EventSource, "awsRegion": r.AWSRegion, "dynamodb": r.Change,
		}
		if r.UserIdentity != nil {
			rec["userIdentity"] = r.UserIdentity
		}
		out = append(out, rec)
		it.After = r.Change.SequenceNumber
	}
	return okReply(map[string]any{"Records": out, "NextShardIterator": encodeIterator(it)})
}

// expired is a context that is already done: Stream.Read then answers with
// what it has instead of waiting (GetRecords never blocks).
func expired() context.Context {
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	cancel()
	return ctx
}

// seqBefore is the sequence number just before seq (for AT_SEQUENCE_NUMBER).
func seqBefore(seq string) string {
	b := []byte(seq)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] > '0' {
			b[i]--
			return string(b)
		}
		b[i] = '9'
	}
	return ""
}
