package streams

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/parley-chat/parley/cmd/parley-local/internal/ddblocal"
	"github.com/parley-chat/parley/cmd/parley-local/internal/filter"
	"github.com/parley-chat/parley/cmd/parley-local/internal/invoke"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

// The converter is checked value by value, every DynamoDB type, against the
// JSON Lambda puts in an event.
func TestAPIEventValue(t *testing.T) {
	tests := []struct {
		name string
		in   types.AttributeValue
		want string
	}{
		{"S", &types.AttributeValueMemberS{Value: "waiting"}, `{"S":"waiting"}`},
		{"N", &types.AttributeValueMemberN{Value: "-12.50"}, `{"N":"-12.50"}`},
		{"B", &types.AttributeValueMemberB{Value: []byte{0, 1, 0xfe}}, `{"B":"AAH+"}`},
		{"BOOL", &types.AttributeValueMemberBOOL{Value: true}, `{"BOOL":true}`},
		{"NULL", &types.AttributeValueMemberNULL{Value: true}, `{"NULL":true}`},
		{"SS", &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, `{"SS":["a","b"]}`},
		{"NS", &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}}, `{"NS":["1","2.5"]}`},
		{"BS", &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}}, `{"BS":["AQ==","AgM="]}`},
		{"L", &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "x"},
			&types.AttributeValueMemberNULL{Value: true},
			&types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBOOL{Value: false}}},
		}}, `{"L":[{"S":"x"},{"NULL":true},{"L":[{"BOOL":false}]}]}`},
		{"empty L", &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, `{"L":[]}`},
		{"M", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"n":  &types.AttributeValueMemberN{Value: "3"},
			"bs": &types.AttributeValueMemberBS{Value: [][]byte{{9}}},
			"m":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"ns": &types.AttributeValueMemberNS{Value: []string{"7"}}}},
		}}, `{"M":{"bs":{"BS":["CQ=="]},"m":{"M":{"ns":{"NS":["7"]}}},"n":{"N":"3"}}}`},
		{"empty M", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}, `{"M":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := eventValue(tt.in)
			if err != nil {
				t.Fatalf("eventValue(%s) error = %v", tt.name, err)
			}
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("marshal %s: %v", tt.name, err)
			}
			if string(got) != tt.want {
				t.Errorf("eventValue(%s) = %s; want %s", tt.name, got, tt.want)
			}
			// What Lambda's Go runtime decodes must be what was sent.
			var back events.DynamoDBAttributeValue
			if err := json.Unmarshal(got, &back); err != nil {
				t.Errorf("unmarshal %s: %v", got, err)
			}
		})
	}

	for _, in := range []types.AttributeValue{
		&types.UnknownUnionMember{Tag: "X"},
		&types.AttributeValueMemberL{Value: []types.AttributeValue{&types.UnknownUnionMember{Tag: "X"}}},
		&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.UnknownUnionMember{Tag: "X"}}},
	} {
		if _, err := eventValue(in); err == nil || !strings.Contains(err.Error(), `"X"`) {
			t.Errorf("eventValue(%#v) error = %v; want one naming the unknown type", in, err)
		}
	}
}

// A TTL delete is a REMOVE carrying userIdentity; awsRegion and
// eventSourceARN come from the mapping, not from the record.
func TestAPIEventRecord(t *testing.T) {
	at := time.Unix(1428537600, 0).UTC()
	r := types.Record{
		AwsRegion:    aws.String("ddblocal"),
		EventID:      aws.String("c81e728d9d4c2f636f067f89cc14862c"),
		EventName:    types.OperationTypeRemove,
		EventSource:  aws.String("aws:dynamodb"),
		EventVersion: aws.String("1.1"),
		UserIdentity: &types.Identity{Type: aws.String("Service"), PrincipalId: aws.String("dynamodb.amazonaws.com")},
		Dynamodb: &types.StreamRecord{
			ApproximateCreationDateTime: &at,
			Keys:                        map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "c_1"}},
			OldImage: map[string]types.AttributeValue{
				"id":        &types.AttributeValueMemberS{Value: "c_1"},
				"expiresAt": &types.AttributeValueMemberN{Value: "1428537000"},
			},
			SequenceNumber: aws.String("4421584500000000017450439092"),
			SizeBytes:      aws.Int64(59),
			StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	}
	const arn = "arn:aws:dynamodb:us-east-1:123456789012:table/conversations/stream/2015-06-27T00:48:05.899"
	got, err := eventRecord(r, arn, "eu-west-1")
	if err != nil {
		t.Fatalf("eventRecord() error = %v", err)
	}
	b, _ := json.Marshal(got)
	want := `{"awsRegion":"eu-west-1","dynamodb":{"ApproximateCreationDateTime":1428537600,` +
		`"Keys":{"id":{"S":"c_1"}},"OldImage":{"expiresAt":{"N":"1428537000"},"id":{"S":"c_1"}},` +
		`"SequenceNumber":"4421584500000000017450439092","SizeBytes":59,"StreamViewType":"NEW_AND_OLD_IMAGES"},` +
		`"eventID":"c81e728d9d4c2f636f067f89cc14862c","eventName":"REMOVE","eventSource":"aws:dynamodb",` +
		`"eventVersion":"1.1","eventSourceARN":"` + arn + `",` +
		`"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}`
	if string(b) != want {
		t.Errorf("eventRecord() =\n%s\nwant\n%s", b, want)
	}

	r.Dynamodb.NewImage = map[string]types.AttributeValue{"x": &types.UnknownUnionMember{Tag: "X"}}
	if _, err := eventRecord(r, arn, "eu-west-1"); err == nil || !strings.Contains(err.Error(), "NewImage") {
		t.Errorf("eventRecord(unknown value in NewImage) error = %v; want one naming NewImage", err)
	}
	r.Dynamodb = nil
	if _, err := eventRecord(r, arn, "eu-west-1"); err == nil {
		t.Errorf("eventRecord(no dynamodb section) error = nil; want one")
	}
}

// TestAPISource runs the source against Amazon DynamoDB Local, one server
// for all subtests, a table each.
func TestAPISource(t *testing.T) {
	local := startDynamoDBLocal(t)

	t.Run("ReadsChangesInOrder", func(t *testing.T) {
		t.Parallel()
		tbl := local.table(t)
		tbl.put(t, `{"id":{"S":"c_1"},"status":{"S":"waiting"}}`)
		tbl.put(t, `{"id":{"S":"c_1"},"status":{"S":"returned"},"agent":{"S":"a_1"}}`)
		tbl.delete(t, "c_1")
		start := time.Now()

		src := tbl.source(t, nil)
		got := readN(t, src, "", 3)
		wantNames := []string{"INSERT", "MODIFY", "REMOVE"}
		wantNew := []string{
			`{"id":{"S":"c_1"},"status":{"S":"waiting"}}`,
			`{"agent":{"S":"a_1"},"id":{"S":"c_1"},"status":{"S":"returned"}}`,
			`null`,
		}
		wantOld := []string{`null`, wantNew[0], wantNew[1]}
		ids := map[string]bool{}
		for i, r := range got {
			if r.EventName != wantNames[i] {
				t.Errorf("record %d eventName = %s; want %s", i, r.EventName, wantNames[i])
			}
			if i > 0 && compareSeq(r.Change.SequenceNumber, got[i-1].Change.SequenceNumber) <= 0 {
				t.Errorf("record %d SequenceNumber %s does not follow %s", i, r.Change.SequenceNumber, got[i-1].Change.SequenceNumber)
			}
			if s := jsonOf(t, r.Change.Keys); s != `{"id":{"S":"c_1"}}` {
				t.Errorf("record %d Keys = %s; want c_1", i, s)
			}
			if s := jsonOf(t, r.Change.NewImage); s != wantNew[i] {
				t.Errorf("record %d (%s) NewImage = %s; want %s", i, r.EventName, s, wantNew[i])
			}
			if s := jsonOf(t, r.Change.OldImage); s != wantOld[i] {
				t.Errorf("record %d (%s) OldImage = %s; want %s", i, r.EventName, s, wantOld[i])
			}
			if r.EventSource != "aws:dynamodb" || r.EventVersion != "1.1" || r.AWSRegion != "us-east-1" ||
				r.EventSourceArn != tbl.arn || r.Change.StreamViewType != "NEW_AND_OLD_IMAGES" {
				t.Errorf("record %d = source %q version %q region %q arn %q view %q; want aws:dynamodb 1.1 us-east-1 %s NEW_AND_OLD_IMAGES",
					i, r.EventSource, r.EventVersion, r.AWSRegion, r.EventSourceArn, r.Change.StreamViewType, tbl.arn)
			}
			if r.EventID == "" || ids[r.EventID] {
				t.Errorf("record %d eventID %q is empty or repeated", i, r.EventID)
			}
			ids[r.EventID] = true
			if r.Change.SizeBytes <= 0 {
				t.Errorf("record %d SizeBytes = %d; want > 0", i, r.Change.SizeBytes)
			}
			// DynamoDB Local rounds the time down to the minute (the API
			// reference says to the second), hence the wide window.
			if at := r.Change.ApproximateCreationDateTime.Time; at.Before(start.Add(-2*time.Minute)) || at.After(time.Now().Add(time.Minute)) {
				t.Errorf("record %d ApproximateCreationDateTime = %v; want about %v", i, at, start)
			}
			if r.UserIdentity != nil {
				t.Errorf("record %d userIdentity = %+v; want none for a delete by a client", i, r.UserIdentity)
			}
		}
	})

	t.Run("EveryAttributeType", func(t *testing.T) {
		t.Parallel()
		tbl := local.table(t)
		item := `{"b":{"B":"AAH+"},"bool":{"BOOL":true},"bs":{"BS":["AQ==","AgM="]},"id":{"S":"c_1"},` +
			`"l":{"L":[{"S":"x"},{"N":"1"},{"NULL":true},{"L":[]},{"M":{"k":{"BOOL":false}}}]},` +
			`"m":{"M":{"inner":{"M":{"ss":{"SS":["p","q"]}}},"n":{"N":"2.5"}}},` +
			`"n":{"N":"-42"},"ns":{"NS":["1","2.5"]},"null":{"NULL":true},"ss":{"SS":["a","b"]}}`
		tbl.put(t, item)
		got := readN(t, tbl.source(t, nil), "", 1)
		if s := jsonOf(t, got[0].Change.NewImage); s != item {
			t.Errorf("NewImage =\n%s\nwant\n%s", s, item)
		}
	})

	t.Run("Latest", func(t *testing.T) {
		t.Parallel()
		tbl := local.table(t)
		src := tbl.source(t, nil)
		if got := src.Latest(); got != "" {
			t.Fatalf("Latest() on an empty stream = %q; want \"\"", got)
		}
		for i := range 3 {
			tbl.put(t, fmt.Sprintf(`{"id":{"S":"c_%d"}}`, i))
		}
		latest := src.Latest()
		all := readN(t, tbl.source(t, nil), "", 3)
		if want := all[2].Change.SequenceNumber; latest != want {
			t.Fatalf("Latest() = %q; want the third record's %q", latest, want)
		}
		if got := src.Latest(); got != latest {
			t.Errorf("Latest() again = %q; want %q", got, latest)
		}
		// Latest read ahead; a read from the start still gets everything.
		if got := readN(t, src, "", 3); seqs(got) != seqs(all) {
			t.Errorf("Read(\"\") after Latest = %s; want %s", seqs(got), seqs(all))
		}

		// A LATEST mapping: a fresh source, positioned at Latest, sees only
		// what is written next.
		fresh := tbl.source(t, nil)
		latest = fresh.Latest()
		tbl.put(t, `{"id":{"S":"c_new"}}`)
		got := readN(t, fresh, latest, 1)
		if s := jsonOf(t, got[0].Change.Keys); s != `{"id":{"S":"c_new"}}` {
			t.Errorf("Read(after Latest) = %s; want only the record written after it", s)
		}
		if l := fresh.Latest(); l != got[0].Change.SequenceNumber {
			t.Errorf("Latest() = %q; want the new record's %q", l, got[0].Change.SequenceNumber)
		}
	})

	t.Run("ReadAfterAndRetry", func(t *testing.T) {
		t.Parallel()
		tbl := local.table(t)
		for i := range 5 {
			tbl.put(t, fmt.Sprintf(`{"id":{"S":"c_%d"}}`, i))
		}
		api := &faultyAPI{StreamsAPI: local.streams}
		src := NewAPISource(api, tbl.arn, "us-east-1", APISourceOptions{PollInterval: 10 * time.Millisecond, Log: apiLogger(t, nil)})
		first := readN(t, src, "", 2)
		if len(first) != 2 {
			t.Fatalf("Read(\"\", 2) = %d records; want 2", len(first))
		}
		iterators := api.iterators()
		rest := readN(t, src, first[1].Change.SequenceNumber, 3)
		all := append(slices.Clone(first), rest...)
		if got := api.iterators(); !slices.Equal(got, iterators) {
			t.Errorf("continuing after the last record returned got iterators %v; want it to keep its own", got[len(iterators):])
		}
		for i, r := range all {
			if want := fmt.Sprintf(`{"id":{"S":"c_%d"}}`, i); jsonOf(t, r.Change.Keys) != want {
				t.Errorf("record %d Keys = %s; want %s", i, jsonOf(t, r.Change.Keys), want)
			}
		}

		// The runner retries from a record it has read past: the records
		// after it come again, read from the API.
		again := readN(t, src, all[0].Change.SequenceNumber, 4)
		if seqs(again) != seqs(all[1:]) || again[0].EventID != all[1].EventID {
			t.Errorf("Read(after first) = %s; want %s", seqs(again), seqs(all[1:]))
		}
		if got := api.iterators(); !slices.Contains(got[len(iterators):], "AFTER_SEQUENCE_NUMBER") {
			t.Errorf("re-reading got iterators %v; want AFTER_SEQUENCE_NUMBER", got[len(iterators):])
		}
		if got := readN(t, src, "", 5); seqs(got) != seqs(all) {
			t.Errorf("Read(\"\") again = %s; want %s", seqs(got), seqs(all))
		}
		// A source that never returned the position finds it too.
		if got := readN(t, tbl.source(t, nil), all[2].Change.SequenceNumber, 2); seqs(got) != seqs(all[3:]) {
			t.Errorf("fresh Read(after third) = %s; want %s", seqs(got), seqs(all[3:]))
		}
	})

	t.Run("BlocksUntilAWrite", func(t *testing.T) {
		t.Parallel()
		tbl := local.table(t)
		src := tbl.source(t, nil)
		type result struct {
			recs []events.DynamoDBEventRecord
			err  error
		}
		done := make(chan result, 1)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		go func() {
			recs, err := src.Read(ctx, "", 10)
			done <- result{recs, err}
		}()
		select {
		case r := <-done:
			t.Fatalf("Read() on an empty stream returned %d records, %v; want it to wait", len(r.recs), r.err)
		case <-time.After(50 * time.Millisecond):
		}
		tbl.put(t, `{"id":{"S":"c_late"}}`)
		r := <-done
		if r.err != nil || len(r.recs) != 1 || jsonOf(t, r.recs[0].Change.Keys) != `{"id":{"S":"c_late"}}` {
			t.Fatalf("Read() = %d records, %v; want the record written while it waited", len(r.recs), r.err)
		}
	})

	t.Run("CancelledWhileWaiting", func(t *testing.T) {
		t.Parallel()
		tbl := local.table(t)
		tbl.put(t, `{"id":{"S":"c_1"}}`)
		src := tbl.source(t, nil)
		last := readN(t, src, "", 1)[0].Change.SequenceNumber
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(30*time.Millisecond, cancel)
		recs, err := src.Read(ctx, last, 10)
		if !errors.Is(err, context.Canceled) || len(recs) != 0 {
			t.Errorf("Read() cancelled while waiting = %d records, %v; want context.Canceled", len(recs), err)
		}
		// The source is still usable at the same position.
		tbl.put(t, `{"id":{"S":"c_2"}}`)
		if got := readN(t, src, last, 1); jsonOf(t, got[0].Change.Keys) != `{"id":{"S":"c_2"}}` {
			t.Errorf("Read() after the cancel = %s; want c_2", jsonOf(t, got[0].Change.Keys))
		}
	})

	t.Run("ExpiredIterator", func(t *testing.T) {
		t.Parallel()
		tbl := local.table(t)
		tbl.put(t, `{"id":{"S":"c_1"}}`)
		api := &faultyAPI{StreamsAPI: local.streams}
		var logs lockedBuffer
		src := NewAPISource(api, tbl.arn, "us-east-1", APISourceOptions{PollInterval: 10 * time.Millisecond, Log: apiLogger(t, &logs)})
		first := readN(t, src, "", 1)
		// The iterator the source holds is now 20 minutes old, past the
		// 15 minutes DynamoDB Local allows.
		api.ageNext.Store(true)
		tbl.put(t, `{"id":{"S":"c_2"}}`)
		got := readN(t, src, first[0].Change.SequenceNumber, 1)
		if jsonOf(t, got[0].Change.Keys) != `{"id":{"S":"c_2"}}` {
			t.Errorf("Read() after the iterator expired = %s; want c_2 alone", jsonOf(t, got[0].Change.Keys))
		}
		if codes := api.errorCodes(); !slices.Contains(codes, "ExpiredIteratorException") {
			t.Errorf("DynamoDB Local answered %v; want an ExpiredIteratorException", codes)
		}
		if !strings.Contains(logs.String(), "iterator expired") {
			t.Errorf("log = %s; want the expiry noted", logs.String())
		}
	})

	t.Run("TrimmedData", func(t *testing.T) {
		t.Parallel()
		tbl := local.table(t)
		tbl.put(t, `{"id":{"S":"c_1"}}`)
		api := &faultyAPI{StreamsAPI: local.streams}
		var logs lockedBuffer
		src := NewAPISource(api, tbl.arn, "us-east-1", APISourceOptions{PollInterval: 10 * time.Millisecond, Log: apiLogger(t, &logs)})
		first := readN(t, src, "", 1)
		api.trimNext.Store(true)
		tbl.put(t, `{"id":{"S":"c_2"}}`)
		// From TRIM_HORIZON again, c_1 is still there (DynamoDB Local trims
		// nothing for 24 hours); what was read is not handed out twice.
		got := readN(t, src, first[0].Change.SequenceNumber, 1)
		if jsonOf(t, got[0].Change.Keys) != `{"id":{"S":"c_2"}}` {
			t.Errorf("Read() after TrimmedDataAccessException = %s; want c_2", jsonOf(t, got[0].Change.Keys))
		}
		if !strings.Contains(logs.String(), "trimmed") || !strings.Contains(logs.String(), "TRIM_HORIZON") {
			t.Errorf("log = %s; want the skip to TRIM_HORIZON noted", logs.String())
		}
	})

	t.Run("DisabledStreamClosesItsShard", func(t *testing.T) {
		t.Parallel()
		tbl := local.table(t)
		tbl.put(t, `{"id":{"S":"c_1"}}`)
		tbl.put(t, `{"id":{"S":"c_2"}}`)
		src := tbl.source(t, nil)
		first := readN(t, src, "", 1)
		tbl.disableStream(t)
		got := readN(t, src, first[0].Change.SequenceNumber, 1)
		if jsonOf(t, got[0].Change.Keys) != `{"id":{"S":"c_2"}}` {
			t.Errorf("Read() on the closed shard = %s; want c_2", jsonOf(t, got[0].Change.Keys))
		}
		if latest := src.Latest(); latest != got[0].Change.SequenceNumber {
			t.Errorf("Latest() = %q; want %q", latest, got[0].Change.SequenceNumber)
		}
		// Read to its end with no child: nothing more will come, which is
		// waiting, not an error.
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		if recs, err := src.Read(ctx, got[0].Change.SequenceNumber, 10); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Read() past the end of a disabled stream = %d records, %v; want it to wait until ctx ends", len(recs), err)
		}
	})

	t.Run("UnknownStream", func(t *testing.T) {
		t.Parallel()
		src := NewAPISource(local.streams, "arn:aws:dynamodb:ddblocal:000000000000:table/missing/stream/2024-01-01T00:00:00.000",
			"us-east-1", APISourceOptions{PollInterval: 10 * time.Millisecond, Log: apiLogger(t, nil)})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := src.Read(ctx, "", 10)
		if _, ok := errors.AsType[*types.ResourceNotFoundException](err); !ok {
			t.Errorf("Read() on a stream that does not exist = %v; want ResourceNotFoundException", err)
		}
	})

	t.Run("RunnerDeliversFilteredBatches", func(t *testing.T) {
		t.Parallel()
		tbl := local.table(t)
		modifyOnly, err := filter.CompileAll(`{"eventName": ["MODIFY"]}`)
		if err != nil {
			t.Fatal(err)
		}
		rc := &apiRecorder{}
		r := New(tbl.source(t, nil), Mapping{
			Name: "ConversationStream", Function: rc.function(t), StartingPosition: "TRIM_HORIZON",
			BatchSize: 2, MaximumRetryAttempts: 2, RetryDelay: time.Millisecond, Filters: modifyOnly,
		}, apiLogger(t, nil))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		runDone := make(chan error, 1)
		go func() { runDone <- r.Run(ctx) }()

		tbl.put(t, `{"id":{"S":"c_1"},"status":{"S":"waiting"}}`)  // INSERT
		tbl.put(t, `{"id":{"S":"c_1"},"status":{"S":"active"}}`)   // MODIFY
		tbl.put(t, `{"id":{"S":"c_2"},"status":{"S":"waiting"}}`)  // INSERT
		tbl.put(t, `{"id":{"S":"c_2"},"status":{"S":"active"}}`)   // MODIFY
		tbl.put(t, `{"id":{"S":"c_1"},"status":{"S":"returned"}}`) // MODIFY
		tbl.delete(t, "c_2")                                       // REMOVE
		delivered := rc.wait(t, 3)
		want := []string{"c_1 waiting→active", "c_2 waiting→active", "c_1 active→returned"}
		if got := describeChanges(delivered); !slices.Equal(got, want) {
			t.Errorf("function received %v; want %v", got, want)
		}
		for _, b := range rc.got() {
			if len(b) > 2 {
				t.Errorf("batch of %d records; want at most BatchSize 2", len(b))
			}
		}

		// Drain delivers what was written before it and stops Run.
		tbl.put(t, `{"id":{"S":"c_1"},"status":{"S":"closed"}}`)
		dctx, dcancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer dcancel()
		if err := r.Drain(dctx); err != nil {
			t.Fatalf("Drain() = %v", err)
		}
		if got := describeChanges(rc.all()); len(got) != 4 || got[3] != "c_1 returned→closed" {
			t.Errorf("after Drain the function has %v; want the last change too", got)
		}
		if err := <-runDone; err != nil {
			t.Errorf("Run() = %v; want nil after Drain", err)
		}
	})

	t.Run("RunnerStartsAtLatest", func(t *testing.T) {
		t.Parallel()
		tbl := local.table(t)
		tbl.put(t, `{"id":{"S":"c_1"},"status":{"S":"waiting"}}`)
		tbl.put(t, `{"id":{"S":"c_1"},"status":{"S":"active"}}`)
		rc := &apiRecorder{}
		r := New(tbl.source(t, nil), Mapping{
			Name: "ConversationStream", Function: rc.function(t), StartingPosition: "LATEST",
			MaximumRetryAttempts: 2, RetryDelay: time.Millisecond,
		}, apiLogger(t, nil))
		tbl.put(t, `{"id":{"S":"c_1"},"status":{"S":"returned"}}`)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := r.Drain(ctx); err != nil {
			t.Fatalf("Drain() = %v", err)
		}
		if got := describeChanges(rc.all()); !slices.Equal(got, []string{"c_1 active→returned"}) {
			t.Errorf("a LATEST mapping delivered %v; want only the change made after it started", got)
		}
	})
}

// TestAPISourceShardLineage covers what DynamoDB Local does not do within
// a test: it rotates a shard only when the shard is 4 hours old, and never
// splits or trims one. A scripted StreamsAPI builds the shard trees.
func TestAPISourceShardLineage(t *testing.T) {
	newSource := func(t *testing.T, api *scriptedAPI) *APISource {
		return NewAPISource(api, scriptedARN, "us-east-1", APISourceOptions{PollInterval: time.Millisecond, Log: apiLogger(t, nil)})
	}

	t.Run("Rotation", func(t *testing.T) {
		api := &scriptedAPI{}
		api.open("shard-1", "")
		api.write("shard-1", "a", "b")
		src := newSource(t, api)
		first := readN(t, src, "", 2)

		api.close("shard-1")
		api.open("shard-2", "shard-1")
		api.write("shard-2", "c")
		got := readN(t, src, first[1].Change.SequenceNumber, 1)
		if keys(got) != "c" {
			t.Errorf("Read() across the rotation = %s; want c", keys(got))
		}
		api.write("shard-2", "d")
		if latest := src.Latest(); latest != scriptedSeq(4) {
			t.Errorf("Latest() = %q; want d's %q", latest, scriptedSeq(4))
		}
		if got := readN(t, src, got[0].Change.SequenceNumber, 1); keys(got) != "d" {
			t.Errorf("Read() after c = %s; want d", keys(got))
		}
		// A retry from the parent shard reads on into the child.
		if got := readN(t, src, first[0].Change.SequenceNumber, 3); keys(got) != "b c d" {
			t.Errorf("Read(after a) = %s; want b c d", keys(got))
		}
		if got := readN(t, newSource(t, api), "", 4); keys(got) != "a b c d" {
			t.Errorf("fresh Read(\"\") = %s; want a b c d", keys(got))
		}
	})

	t.Run("SplitReadsParentFirst", func(t *testing.T) {
		api := &scriptedAPI{}
		api.open("parent", "")
		api.write("parent", "p1", "p2")
		src := newSource(t, api)
		// The source has read part of the parent when it splits.
		first := readN(t, src, "", 1)
		api.write("parent", "p3")
		api.close("parent")
		api.open("left", "parent")
		api.open("right", "parent")
		api.write("right", "r1")
		api.write("left", "l1")
		api.write("right", "r2")
		got := readN(t, src, first[0].Change.SequenceNumber, 5)
		if keys(got) != "p2 p3 r1 l1 r2" {
			t.Errorf("Read() across a split = %s; want the parent's p2 p3, then both children in order", keys(got))
		}
	})

	t.Run("TrimmedParentIsSkipped", func(t *testing.T) {
		api := &scriptedAPI{}
		api.open("old", "")
		api.write("old", "gone")
		api.close("old")
		api.open("current", "old")
		api.write("current", "kept")
		api.trim("old")
		if got := readN(t, newSource(t, api), "", 1); keys(got) != "kept" {
			t.Errorf("Read(\"\") = %s; want kept", keys(got))
		}
	})

	t.Run("ShardTrimmedWhileRead", func(t *testing.T) {
		api := &scriptedAPI{}
		api.open("old", "")
		api.write("old", "a", "b")
		api.close("old")
		api.open("current", "old")
		api.write("current", "c")
		src := newSource(t, api)
		first := readN(t, src, "", 1)
		// The source has handed out a, and holds b, when the parent ages
		// out of the stream.
		api.trim("old")
		if got := readN(t, src, first[0].Change.SequenceNumber, 2); keys(got) != "b c" {
			t.Errorf("Read(after a) = %s; want b c: what was read before the trim is not lost", keys(got))
		}
		// Starting over, the parent is gone.
		if got := readN(t, src, "", 1); keys(got) != "c" {
			t.Errorf("Read(\"\") after the trim = %s; want c", keys(got))
		}
	})
}

// A failure that may pass (here a refused connection, as while DynamoDB
// Local restarts) is logged and retried; Lambda's mapping keeps polling too.
func TestAPISourceRetriesTransientFailures(t *testing.T) {
	api := &scriptedAPI{}
	api.open("shard-1", "")
	api.write("shard-1", "a")
	api.failNext = &smithyhttp.RequestSendError{Err: errors.New("dial tcp 127.0.0.1:8000: connect: connection refused")}
	var logs lockedBuffer
	src := NewAPISource(api, scriptedARN, "us-east-1", APISourceOptions{PollInterval: time.Millisecond, Log: apiLogger(t, &logs)})
	if got := readN(t, src, "", 1); keys(got) != "a" {
		t.Errorf("Read() after a refused connection = %s; want a", keys(got))
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("log = %s; want the failure noted", logs.String())
	}
}

// readN reads from src until it has n records after `after`, failing the
// test if that takes more than 10 s.
func readN(t *testing.T, src Source, after string, n int) []events.DynamoDBEventRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var out []events.DynamoDBEventRecord
	for len(out) < n {
		recs, err := src.Read(ctx, after, n-len(out))
		if err != nil {
			t.Fatalf("Read(after %q) after %d of %d records: %v", after, len(out), n, err)
		}
		if len(recs) > n-len(out) {
			t.Fatalf("Read(max %d) = %d records", n-len(out), len(recs))
		}
		out = append(out, recs...)
		after = recs[len(recs)-1].Change.SequenceNumber
	}
	return out
}

func seqs(recs []events.DynamoDBEventRecord) string {
	s := make([]string, len(recs))
	for i, r := range recs {
		s[i] = r.Change.SequenceNumber
	}
	return strings.Join(s, ",")
}

// keys lists the records' id keys.
func keys(recs []events.DynamoDBEventRecord) string {
	s := make([]string, len(recs))
	for i, r := range recs {
		s[i] = r.Change.Keys["id"].String()
	}
	return strings.Join(s, " ")
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return string(b)
}

// describeChanges renders MODIFY records as "id old→new" of their status.
func describeChanges(recs []events.DynamoDBEventRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s %s→%s", r.Change.Keys["id"].String(),
			r.Change.OldImage["status"].String(), r.Change.NewImage["status"].String()))
	}
	return out
}

// apiLogger logs to the test's output, and to buf when it is not nil.
func apiLogger(t *testing.T, buf *lockedBuffer) *slog.Logger {
	var w io.Writer = t.Output()
	if buf != nil {
		w = io.MultiWriter(w, buf)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// apiRecorder is a function that records the records it receives.
type apiRecorder struct {
	mu      sync.Mutex
	batches [][]events.DynamoDBEventRecord
}

func (rc *apiRecorder) function(t *testing.T) *invoke.Function {
	return &invoke.Function{
		Name:    "NotifyFunction",
		ARN:     "arn:aws:lambda:us-east-1:123456789012:function:NotifyFunction",
		Timeout: 5 * time.Second,
		Handler: lambda.NewHandler(func(ctx context.Context, ev events.DynamoDBEvent) error {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			rc.batches = append(rc.batches, ev.Records)
			return nil
		}),
		Log: apiLogger(t, nil),
	}
}

func (rc *apiRecorder) got() [][]events.DynamoDBEventRecord {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.batches)
}

func (rc *apiRecorder) all() []events.DynamoDBEventRecord {
	return slices.Concat(rc.got()...)
}

// wait waits until the function has received n records.
func (rc *apiRecorder) wait(t *testing.T, n int) []events.DynamoDBEventRecord {
	t.Helper()
	var all []events.DynamoDBEventRecord
	if !poll.Within(poll.Deadline, func() bool { all = rc.all(); return len(all) >= n }) {
		t.Fatalf("function received %v; want %d records", describeChanges(all), n)
	}
	return all
}

// faultyAPI passes calls to DynamoDB Local, ageing or failing the next
// GetRecords on request, and notes what it sees.
type faultyAPI struct {
	StreamsAPI
	ageNext  atomic.Bool // make the next GetRecords use an iterator 20 minutes old
	trimNext atomic.Bool // fail the next GetRecords with TrimmedDataAccessException

	mu        sync.Mutex
	iterTypes []string // ShardIteratorType of each GetShardIterator
	codes     []string // error codes of failed GetRecords
}

func (f *faultyAPI) GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	f.mu.Lock()
	f.iterTypes = append(f.iterTypes, string(in.ShardIteratorType))
	f.mu.Unlock()
	return f.StreamsAPI.GetShardIterator(ctx, in, opts...)
}

func (f *faultyAPI) GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	if f.trimNext.CompareAndSwap(true, false) {
		return nil, &types.TrimmedDataAccessException{Message: aws.String("injected: the position was trimmed")}
	}
	if f.ageNext.CompareAndSwap(true, false) {
		aged, err := ageIterator(aws.ToString(in.ShardIterator))
		if err != nil {
			return nil, err
		}
		cp := *in
		cp.ShardIterator = &aged
		in = &cp
	}
	out, err := f.StreamsAPI.GetRecords(ctx, in, opts...)
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		f.mu.Lock()
		f.codes = append(f.codes, ae.ErrorCode())
		f.mu.Unlock()
	}
	return out, err
}

func (f *faultyAPI) iterators() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.iterTypes)
}

func (f *faultyAPI) errorCodes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.codes)
}

// ageIterator rewrites a DynamoDB Local shard iterator,
// "<stream arn>|001|base64(<shard id>|<sequence number>|<creation ms, 30 digits>)",
// as if it had been created 20 minutes ago.
func ageIterator(it string) (string, error) {
	i := strings.LastIndex(it, "|")
	raw, err := base64.StdEncoding.DecodeString(it[i+1:])
	fields := strings.Split(string(raw), "|")
	if i < 0 || err != nil || len(fields) != 3 {
		return "", fmt.Errorf("shard iterator %q is not in DynamoDB Local 1.25's format; cannot age it", it)
	}
	fields[2] = fmt.Sprintf("%030d", time.Now().Add(-20*time.Minute).UnixMilli())
	return it[:i+1] + base64.StdEncoding.EncodeToString([]byte(strings.Join(fields, "|"))), nil
}

const scriptedARN = "arn:aws:dynamodb:us-east-1:123456789012:table/conversations/stream/2024-01-20T11:54:57.419"

// scriptedSeq is sequence number n in AWS's style: longer than a uint64.
func scriptedSeq(n int) string { return fmt.Sprintf("44215845%020d", n) }

// scriptedAPI is a stream whose shards the test opens, writes, closes and
// trims. It lists one shard per DescribeStream page, so the source must
// follow LastEvaluatedShardId.
type scriptedAPI struct {
	mu       sync.Mutex
	shards   []*scriptedShard // in listing order
	seq      int
	failNext error // returned by the next GetRecords
}

type scriptedShard struct {
	id, parent string
	start      string
	recs       []types.Record
	closed     bool
	trimmed    bool
}

func (a *scriptedAPI) open(id, parent string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.shards = append(a.shards, &scriptedShard{id: id, parent: parent, start: scriptedSeq(a.seq + 1)})
}

func (a *scriptedAPI) find(id string) *scriptedShard {
	for _, sh := range a.shards {
		if sh.id == id {
			return sh
		}
	}
	panic("no shard " + id)
}

func (a *scriptedAPI) write(id string, keys ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sh := a.find(id)
	for _, k := range keys {
		a.seq++
		sh.recs = append(sh.recs, types.Record{
			EventID: aws.String("event-" + k), EventName: types.OperationTypeInsert,
			EventSource: aws.String("aws:dynamodb"), EventVersion: aws.String("1.1"),
			Dynamodb: &types.StreamRecord{
				Keys:           map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: k}},
				NewImage:       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: k}},
				SequenceNumber: aws.String(scriptedSeq(a.seq)),
				SizeBytes:      aws.Int64(int64(len(k) + 2)),
				StreamViewType: types.StreamViewTypeNewAndOldImages,
			},
		})
	}
}

func (a *scriptedAPI) close(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.find(id).closed = true
}

func (a *scriptedAPI) trim(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.find(id).trimmed = true
}

func (a *scriptedAPI) DescribeStream(_ context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var listed []*scriptedShard
	for _, sh := range a.shards {
		if !sh.trimmed {
			listed = append(listed, sh)
		}
	}
	i := 0
	if in.ExclusiveStartShardId != nil {
		i = slices.IndexFunc(listed, func(sh *scriptedShard) bool { return sh.id == *in.ExclusiveStartShardId }) + 1
	}
	d := &types.StreamDescription{StreamArn: in.StreamArn, StreamStatus: types.StreamStatusEnabled}
	if i < len(listed) {
		sh := listed[i]
		r := &types.SequenceNumberRange{StartingSequenceNumber: aws.String(sh.start)}
		if sh.closed && len(sh.recs) > 0 {
			r.EndingSequenceNumber = sh.recs[len(sh.recs)-1].Dynamodb.SequenceNumber
		}
		s := types.Shard{ShardId: aws.String(sh.id), SequenceNumberRange: r}
		if sh.parent != "" {
			s.ParentShardId = aws.String(sh.parent)
		}
		d.Shards = []types.Shard{s}
		if i+1 < len(listed) {
			d.LastEvaluatedShardId = aws.String(sh.id)
		}
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: d}, nil
}

// Iterators are "<shard id>/<index of the next record>".
func (a *scriptedAPI) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sh := a.find(aws.ToString(in.ShardId))
	if sh.trimmed {
		return nil, &types.ResourceNotFoundException{Message: aws.String("shard trimmed")}
	}
	next := 0
	switch in.ShardIteratorType {
	case types.ShardIteratorTypeTrimHorizon:
	case types.ShardIteratorTypeAfterSequenceNumber:
		next = slices.IndexFunc(sh.recs, func(r types.Record) bool { return *r.Dynamodb.SequenceNumber == aws.ToString(in.SequenceNumber) }) + 1
		if next == 0 {
			return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "Invalid SequenceNumber for the shard"}
		}
	default:
		return nil, fmt.Errorf("scripted stream: iterator type %s not scripted", in.ShardIteratorType)
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s/%d", sh.id, next))}, nil
}

func (a *scriptedAPI) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.failNext; err != nil {
		a.failNext = nil
		return nil, err
	}
	id, n, _ := strings.Cut(aws.ToString(in.ShardIterator), "/")
	next, err := strconv.Atoi(n)
	if err != nil {
		return nil, fmt.Errorf("scripted stream: bad iterator %q", *in.ShardIterator)
	}
	sh := a.find(id)
	if sh.trimmed {
		return nil, &types.ResourceNotFoundException{Message: aws.String("shard trimmed")}
	}
	end := min(len(sh.recs), next+int(aws.ToInt32(in.Limit)))
	out := &dynamodbstreams.GetRecordsOutput{Records: slices.Clone(sh.recs[next:end])}
	if !sh.closed || end < len(sh.recs) {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s/%d", id, end))
	}
	return out, nil
}

// dynamoDBLocal is a running Amazon DynamoDB Local with clients aimed at
// it.
type dynamoDBLocal struct {
	db      *dynamodb.Client
	streams *dynamodbstreams.Client
	tables  atomic.Int64
}

// startDynamoDBLocal starts DynamoDB Local in memory on a free port (the
// local stack's own launcher, which installs it into the user cache on
// first use) and stops it when the test ends. A test that needs it fails
// when it cannot be started: a skipped test would hide that nothing was
// tested.
func startDynamoDBLocal(t *testing.T) *dynamoDBLocal {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	srv, err := ddblocal.Launch(ctx, ddblocal.Options{})
	if err != nil {
		t.Fatalf("DynamoDB Local is needed: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("parley", "parley", "")}
	return &dynamoDBLocal{
		db:      dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) }),
		streams: dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) }),
	}
}

// localTable is a table in DynamoDB Local with a NEW_AND_OLD_IMAGES
// stream, keyed by the string id.
type localTable struct {
	local *dynamoDBLocal
	name  string
	arn   string
}

func (l *dynamoDBLocal) table(t *testing.T) *localTable {
	t.Helper()
	name := fmt.Sprintf("conversations-%d", l.tables.Add(1))
	out, err := l.db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: dbtypes.ScalarAttributeTypeS}},
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: dbtypes.KeyTypeHash}},
		BillingMode:          dbtypes.BillingModePayPerRequest,
		StreamSpecification:  &dbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: dbtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	return &localTable{local: l, name: name, arn: aws.ToString(out.TableDescription.LatestStreamArn)}
}

// source reads the table's stream, polling every 10 ms.
func (tbl *localTable) source(t *testing.T, logs *lockedBuffer) *APISource {
	return NewAPISource(tbl.local.streams, tbl.arn, "us-east-1", APISourceOptions{PollInterval: 10 * time.Millisecond, Log: apiLogger(t, logs)})
}

// put writes an item given in DynamoDB JSON.
func (tbl *localTable) put(t *testing.T, item string) {
	t.Helper()
	var av map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal([]byte(item), &av); err != nil {
		t.Fatalf("item %s: %v", item, err)
	}
	if _, err := tbl.local.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(tbl.name), Item: sdkItem(av)}); err != nil {
		t.Fatalf("put %s into %s: %v", item, tbl.name, err)
	}
}

func (tbl *localTable) delete(t *testing.T, id string) {
	t.Helper()
	key := map[string]dbtypes.AttributeValue{"id": &dbtypes.AttributeValueMemberS{Value: id}}
	if _, err := tbl.local.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(tbl.name), Key: key}); err != nil {
		t.Fatalf("delete %s from %s: %v", id, tbl.name, err)
	}
}

func (tbl *localTable) disableStream(t *testing.T) {
	t.Helper()
	if _, err := tbl.local.db.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{
		TableName:           aws.String(tbl.name),
		StreamSpecification: &dbtypes.StreamSpecification{StreamEnabled: aws.Bool(false)},
	}); err != nil {
		t.Fatalf("disable the stream of %s: %v", tbl.name, err)
	}
}

// sdkItem turns an item in Lambda's form into the SDK's, so tests can
// write items as the same JSON they expect to read back.
func sdkItem(m map[string]events.DynamoDBAttributeValue) map[string]dbtypes.AttributeValue {
	out := make(map[string]dbtypes.AttributeValue, len(m))
	for k, v := range m {
		out[k] = sdkValue(v)
	}
	return out
}

func sdkValue(v events.DynamoDBAttributeValue) dbtypes.AttributeValue {
	switch v.DataType() {
	case events.DataTypeString:
		return &dbtypes.AttributeValueMemberS{Value: v.String()}
	case events.DataTypeNumber:
		return &dbtypes.AttributeValueMemberN{Value: v.Number()}
	case events.DataTypeBinary:
		return &dbtypes.AttributeValueMemberB{Value: v.Binary()}
	case events.DataTypeBoolean:
		return &dbtypes.AttributeValueMemberBOOL{Value: v.Boolean()}
	case events.DataTypeNull:
		return &dbtypes.AttributeValueMemberNULL{Value: true}
	case events.DataTypeStringSet:
		return &dbtypes.AttributeValueMemberSS{Value: v.StringSet()}
	case events.DataTypeNumberSet:
		return &dbtypes.AttributeValueMemberNS{Value: v.NumberSet()}
	case events.DataTypeBinarySet:
		return &dbtypes.AttributeValueMemberBS{Value: v.BinarySet()}
	case events.DataTypeList:
		l := make([]dbtypes.AttributeValue, len(v.List()))
		for i, e := range v.List() {
			l[i] = sdkValue(e)
		}
		return &dbtypes.AttributeValueMemberL{Value: l}
	case events.DataTypeMap:
		return &dbtypes.AttributeValueMemberM{Value: sdkItem(v.Map())}
	}
	panic(fmt.Sprintf("attribute type %v", v.DataType()))
}
