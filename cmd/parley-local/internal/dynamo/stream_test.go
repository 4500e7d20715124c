package dynamo

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var seqPattern = regexp.MustCompile(`^[0-9]{21}$`)

// imageSummary renders an image's "v" attribute, or "-" when there is no
// image, so expectations fit on one line.
func imageSummary(img map[string]eventAttr) string {
	if img == nil {
		return "-"
	}
	v, ok := img["v"]
	if !ok {
		return "no v"
	}
	return v.String()
}

func TestStreamRecordsPerViewType(t *testing.T) {
	tests := []struct {
		view types.StreamViewType
		// new and old image of INSERT, MODIFY, REMOVE
		want [3][2]string
	}{
		{types.StreamViewTypeKeysOnly, [3][2]string{{"-", "-"}, {"-", "-"}, {"-", "-"}}},
		{types.StreamViewTypeNewImage, [3][2]string{{"one", "-"}, {"two", "-"}, {"-", "-"}}},
		{types.StreamViewTypeOldImage, [3][2]string{{"-", "-"}, {"-", "one"}, {"-", "two"}}},
		{types.StreamViewTypeNewAndOldImages, [3][2]string{{"one", "-"}, {"two", "one"}, {"-", "two"}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.view), func(t *testing.T) {
			clk := newClock()
			s := openStore(t, Options{Region: "eu-central-1", Now: clk.Now})
			db := client(t, s)
			ctx := context.Background()
			createTable(t, db, tableSpec{name: "items", rng: true, stream: tt.view})
			key := map[string]types.AttributeValue{"pk": str("p1"), "sk": str("s1")}

			put(t, db, "items", map[string]types.AttributeValue{"pk": str("p1"), "sk": str("s1"), "v": str("one")})
			if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("items"), Key: key,
				UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": str("two")}}); err != nil {
				t.Fatalf("UpdateItem = %v", err)
			}
			if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: key}); err != nil {
				t.Fatalf("DeleteItem = %v", err)
			}

			st := s.Stream("items")
			recs := readAll(t, st, "")
			if len(recs) != 3 {
				t.Fatalf("Read = %d records; want 3 (INSERT, MODIFY, REMOVE)", len(recs))
			}
			ids := map[string]bool{}
			for i, r := range recs {
				wantName := []string{"INSERT", "MODIFY", "REMOVE"}[i]
				if r.EventName != wantName {
					t.Errorf("record %d: eventName = %s; want %s", i, r.EventName, wantName)
				}
				c := r.Change
				if got := [2]string{imageSummary(c.NewImage), imageSummary(c.OldImage)}; got != tt.want[i] {
					t.Errorf("%s record: NewImage, OldImage = %v; want %v", wantName, got, tt.want[i])
				}
				if len(c.Keys) != 2 || c.Keys["pk"].String() != "p1" || c.Keys["sk"].String() != "s1" {
					t.Errorf("%s record: Keys = %v; want pk p1, sk s1", wantName, c.Keys)
				}
				if !seqPattern.MatchString(c.SequenceNumber) {
					t.Errorf("%s record: SequenceNumber = %q; want 21 digits", wantName, c.SequenceNumber)
				}
				if i > 0 && c.SequenceNumber <= recs[i-1].Change.SequenceNumber {
					t.Errorf("SequenceNumber %s after %s; want increasing", c.SequenceNumber, recs[i-1].Change.SequenceNumber)
				}
				if c.StreamViewType != string(tt.view) || c.SizeBytes <= 0 || !c.ApproximateCreationDateTime.Equal(clk.Now()) {
					t.Errorf("%s record: StreamViewType, SizeBytes, ApproximateCreationDateTime = %s, %d, %v", wantName, c.StreamViewType, c.SizeBytes, c.ApproximateCreationDateTime)
				}
				if r.EventVersion != "1.1" || r.EventSource != "aws:dynamodb" || r.AWSRegion != "eu-central-1" || r.EventSourceArn != st.ARN() || r.UserIdentity != nil {
					t.Errorf("%s record: eventVersion %s, eventSource %s, awsRegion %s, eventSourceARN %s, userIdentity %v", wantName, r.EventVersion, r.EventSource, r.AWSRegion, r.EventSourceArn, r.UserIdentity)
				}
				if r.EventID == "" || ids[r.EventID] {
					t.Errorf("%s record: eventID %q empty or repeated", wantName, r.EventID)
				}
				ids[r.EventID] = true
			}
			if st.Latest() != recs[2].Change.SequenceNumber {
				t.Errorf("Latest() = %s; want the REMOVE's %s", st.Latest(), recs[2].Change.SequenceNumber)
			}
		})
	}
}

func TestStreamSkipsNoOpWrites(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "quiet", stream: types.StreamViewTypeNewAndOldImages})
	item := map[string]types.AttributeValue{"pk": str("a"), "v": num(1), "tags": &types.AttributeValueMemberSS{Value: []string{"x", "y"}}}
	put(t, db, "quiet", item)
	st := s.Stream("quiet")
	pos := st.Latest()

	put(t, db, "quiet", item) // the same item again
	put(t, db, "quiet", map[string]types.AttributeValue{"pk": str("a"), "v": num(1), "tags": &types.AttributeValueMemberSS{Value: []string{"y", "x"}}})
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("quiet"), Key: map[string]types.AttributeValue{"pk": str("a")},
		UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(1)}}); err != nil {
		t.Fatalf("UpdateItem = %v", err)
	}
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("quiet"), Key: map[string]types.AttributeValue{"pk": str("missing")}}); err != nil {
		t.Fatalf("DeleteItem(missing) = %v", err)
	}
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("quiet"), Item: map[string]types.AttributeValue{"pk": str("a")},
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	wantAPIError[*types.ConditionalCheckFailedException](t, "conditional PutItem", err)

	if recs := readAll(t, st, pos); len(recs) != 0 {
		t.Errorf("no-op writes produced %d records: %+v; want none", len(recs), recs)
	}
}

func TestStreamBatchAndTransaction(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "a-table", stream: types.StreamViewTypeNewImage})
	createTable(t, db, tableSpec{name: "b-table", stream: types.StreamViewTypeKeysOnly})
	createTable(t, db, tableSpec{name: "no-stream"})
	put(t, db, "a-table", map[string]types.AttributeValue{"pk": str("old")})
	sa, sb := s.Stream("a-table"), s.Stream("b-table")
	posA, posB := sa.Latest(), sb.Latest()

	_, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"a-table": {
			{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("a1"), "v": str("x")}}},
			{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("a2"), "v": str("y")}}},
			{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": str("old")}}},
		},
		"b-table":   {{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("b1")}}}},
		"no-stream": {{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("n1")}}}},
	}})
	if err != nil {
		t.Fatalf("BatchWriteItem = %v", err)
	}
	recsA := readAll(t, sa, posA)
	var got []string
	for _, r := range recsA {
		got = append(got, r.EventName+" "+r.Change.Keys["pk"].String())
	}
	if strings.Join(got, ", ") != "INSERT a1, INSERT a2, REMOVE old" {
		t.Errorf("a-table records after batch = %v; want INSERT a1, INSERT a2, REMOVE old", got)
	}
	if recsB := readAll(t, sb, posB); len(recsB) != 1 || recsB[0].EventName != "INSERT" || recsB[0].Change.NewImage != nil {
		t.Errorf("b-table records after batch = %+v; want one KEYS_ONLY INSERT", recsB)
	}
	posA, posB = sa.Latest(), sb.Latest()

	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String("a-table"), Key: map[string]types.AttributeValue{"pk": str("a1")},
			UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": str("z")}}},
		{Delete: &types.Delete{TableName: aws.String("b-table"), Key: map[string]types.AttributeValue{"pk": str("b1")}}},
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String("a-table"), Key: map[string]types.AttributeValue{"pk": str("a2")},
			ConditionExpression: aws.String("attribute_exists(pk)")}},
	}})
	if err != nil {
		t.Fatalf("TransactWriteItems = %v", err)
	}
	recsA, recsB := readAll(t, sa, posA), readAll(t, sb, posB)
	if len(recsA) != 1 || recsA[0].EventName != "MODIFY" || recsA[0].Change.NewImage["v"].String() != "z" {
		t.Errorf("a-table records after transaction = %+v; want MODIFY a1 to z", recsA)
	}
	if len(recsB) != 1 || recsB[0].EventName != "REMOVE" || recsB[0].Change.Keys["pk"].String() != "b1" {
		t.Errorf("b-table records after transaction = %+v; want REMOVE b1", recsB)
	}
	if recsA[0].Change.SequenceNumber >= recsB[0].Change.SequenceNumber {
		t.Errorf("transaction records out of request order: %s, %s", recsA[0].Change.SequenceNumber, recsB[0].Change.SequenceNumber)
	}
}

func TestCancelledTransactionWritesNothing(t *testing.T) {
	s := openStore(t, Options{Dir: t.TempDir()})
	db := client(t, s)
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "txn", stream: types.StreamViewTypeNewAndOldImages})
	put(t, db, "txn", map[string]types.AttributeValue{"pk": str("taken"), "v": num(1)})
	st := s.Stream("txn")
	pos := st.Latest()
	logBefore := s.wal.length()

	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("txn"), Item: map[string]types.AttributeValue{"pk": str("new")}}},
		{Update: &types.Update{TableName: aws.String("txn"), Key: map[string]types.AttributeValue{"pk": str("taken")},
			UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(2)}}},
		{Put: &types.Put{TableName: aws.String("txn"), Item: map[string]types.AttributeValue{"pk": str("other")},
			ConditionExpression: aws.String("attribute_exists(pk)")}},
	}})
	wantAPIError[*types.TransactionCanceledException](t, "TransactWriteItems", err)
	if get(t, db, "txn", "new") != nil {
		t.Error("cancelled transaction wrote item new")
	}
	if v := get(t, db, "txn", "taken")["v"].(*types.AttributeValueMemberN).Value; v != "1" {
		t.Errorf("cancelled transaction left taken.v = %s; want 1", v)
	}
	if recs := readAll(t, st, pos); len(recs) != 0 {
		t.Errorf("cancelled transaction streamed %d records; want none", len(recs))
	}
	if got := s.wal.length(); got != logBefore {
		t.Errorf("cancelled transaction grew the log from %d to %d bytes; want unchanged", logBefore, got)
	}
}

func TestStreamReadBlocksUntilWrite(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	createTable(t, db, tableSpec{name: "live", stream: types.StreamViewTypeNewImage})
	st := s.Stream("live")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if recs, err := st.Read(ctx, "", 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read on an empty stream = %v, %v; want to block until the deadline", recs, err)
	}

	type result struct {
		recs []eventRecord
		err  error
	}
	done := make(chan result, 1)
	go func() {
		recs, err := st.Read(context.Background(), st.Latest(), 10)
		done <- result{recs, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("Read returned %v, %v before any write", r.recs, r.err)
	case <-time.After(20 * time.Millisecond):
	}
	put(t, db, "live", map[string]types.AttributeValue{"pk": str("hello")})
	select {
	case r := <-done:
		if r.err != nil || len(r.recs) != 1 || r.recs[0].Change.Keys["pk"].String() != "hello" {
			t.Errorf("Read after the write = %+v, %v; want the INSERT of hello", r.recs, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still blocked after a write")
	}

	// max bounds a batch; the next Read continues after it.
	for _, k := range []string{"b", "c", "d"} {
		put(t, db, "live", map[string]types.AttributeValue{"pk": str(k)})
	}
	first, err := st.Read(context.Background(), "", 2)
	if err != nil || len(first) != 2 {
		t.Fatalf("Read(max 2) = %d records, %v", len(first), err)
	}
	rest, err := st.Read(context.Background(), first[1].Change.SequenceNumber, 10)
	if err != nil || len(rest) != 2 || rest[0].Change.Keys["pk"].String() != "c" {
		t.Errorf("Read after the first batch = %+v, %v; want c and d", rest, err)
	}
}

func TestStreamRetention(t *testing.T) {
	clk := newClock()
	s := openStore(t, Options{Now: clk.Now})
	s.streamCap = 3
	db := client(t, s)
	createTable(t, db, tableSpec{name: "short", stream: types.StreamViewTypeKeysOnly})
	st := s.Stream("short")
	for _, k := range []string{"1", "2", "3", "4", "5"} {
		put(t, db, "short", map[string]types.AttributeValue{"pk": str(k)})
	}
	recs := readAll(t, st, "")
	var keys []string
	for _, r := range recs {
		keys = append(keys, r.Change.Keys["pk"].String())
	}
	if strings.Join(keys, "") != "345" {
		t.Errorf("retained keys = %v; want the newest 3: 3 4 5", keys)
	}

	clk.Add(23 * time.Hour)
	put(t, db, "short", map[string]types.AttributeValue{"pk": str("6")})
	clk.Add(2 * time.Hour) // 3, 4, 5 are now 25 hours old
	recs = readAll(t, st, "")
	if len(recs) != 1 || recs[0].Change.Keys["pk"].String() != "6" {
		t.Errorf("records after 25 hours = %+v; want only 6", recs)
	}
}

func TestStreamEndsWithTable(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	createTable(t, db, tableSpec{name: "gone", stream: types.StreamViewTypeKeysOnly})
	st := s.Stream("gone")
	put(t, db, "gone", map[string]types.AttributeValue{"pk": str("a")})

	done := make(chan error, 1)
	go func() {
		_, err := st.Read(context.Background(), st.Latest(), 10)
		done <- err
	}()
	if _, err := db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String("gone")}); err != nil {
		t.Fatalf("DeleteTable = %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("blocked Read after DeleteTable = %v; want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still blocked after DeleteTable")
	}
	// What was written before stays readable.
	if recs, err := st.Read(context.Background(), "", 10); err != nil || len(recs) != 1 {
		t.Errorf("Read from the start after DeleteTable = %d records, %v; want 1", len(recs), err)
	}
	if s.Stream("gone") != nil {
		t.Error(`Stream("gone") after DeleteTable != nil`)
	}
}

func TestSeqAfter(t *testing.T) {
	tests := []struct {
		seq, pos string
		want     bool
	}{
		{"000000000000000000002", "", true},
		{"000000000000000000002", "000000000000000000001", true},
		{"000000000000000000002", "000000000000000000002", false},
		{"000000000000000000010", "9", true},
		{"000000000000000000009", "4421584500000000017450439092", false},
	}
	for _, tt := range tests {
		if got := seqAfter(tt.seq, tt.pos); got != tt.want {
			t.Errorf("seqAfter(%s, %s) = %v; want %v", tt.seq, tt.pos, got, tt.want)
		}
	}
}

func TestCloseEndsStreamsAndRequests(t *testing.T) {
	s := mustOpen(t, Options{})
	db := client(t, s)
	createTable(t, db, tableSpec{name: "closing", stream: types.StreamViewTypeKeysOnly})
	st := s.Stream("closing")
	done := make(chan error, 1)
	go func() {
		_, err := st.Read(context.Background(), "", 10)
		done <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Read blocked across Close = %v; want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still blocked after Close")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v; want nil", err)
	}
	if _, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err == nil {
		t.Error("ListTables after Close succeeded; want an error")
	}
}
