package dynamo

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestConcurrentUse runs writers, readers, table changes, the TTL sweeper,
// group commit and compaction at once; under -race it is the store's
// concurrency check, and it checks that the stream holds every change once,
// in order.
func TestConcurrentUse(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir, FlushInterval: 5 * time.Millisecond, TTLInterval: 5 * time.Millisecond})
	s.compactAt = 16 << 10
	db := client(t, s)
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "busy", gsi: true, stream: types.StreamViewTypeNewAndOldImages})
	enableTTL(t, db, "busy", "ttl")
	st := s.Stream("busy")

	const writers, perWriter = 4, 24 // even, so exactly half the puts expire
	past := int(time.Now().Unix()) - 60
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				item := map[string]types.AttributeValue{"pk": str(fmt.Sprintf("w%d-%d", w, i)), "g": str(fmt.Sprint(w))}
				if i%2 == 0 {
					item["ttl"] = num(past) // the sweeper removes these meanwhile
				}
				if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("busy"), Item: item}); err != nil {
					t.Errorf("PutItem = %v", err)
				}
				if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("busy"), Key: map[string]types.AttributeValue{"pk": str("counter")},
					UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}}); err != nil {
					t.Errorf("UpdateItem = %v", err)
				}
				if _, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("busy"), IndexName: aws.String("byG"),
					KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: map[string]types.AttributeValue{":g": str(fmt.Sprint(w))}}); err != nil {
					t.Errorf("Query = %v", err)
				}
				if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("busy")}); err != nil {
					t.Errorf("DescribeTable = %v", err)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 5 {
			name := fmt.Sprintf("side-%d", i)
			createTable(t, db, tableSpec{name: name})
			if _, err := db.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
				t.Errorf("ListTables = %v", err)
			}
			if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
				t.Errorf("DeleteTable = %v", err)
			}
		}
	})

	// Every put inserts, the counter is inserted once and modified after,
	// and every other put's item expires: count the records until all came.
	want := writers*perWriter + writers*perWriter + writers*perWriter/2
	var recs []eventRecord
	readCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	pos := ""
	for len(recs) < want {
		batch, err := st.Read(readCtx, pos, 7)
		if err != nil {
			t.Fatalf("Read after %d of %d records = %v", len(recs), want, err)
		}
		recs = append(recs, batch...)
		pos = batch[len(batch)-1].Change.SequenceNumber
	}
	wg.Wait()

	counts := map[string]int{}
	removed := map[string]bool{}
	for i, r := range recs {
		counts[r.EventName]++
		if i > 0 && r.Change.SequenceNumber <= recs[i-1].Change.SequenceNumber {
			t.Fatalf("record %d: SequenceNumber %s after %s", i, r.Change.SequenceNumber, recs[i-1].Change.SequenceNumber)
		}
		if r.EventName == "REMOVE" {
			pk := r.Change.Keys["pk"].String()
			if removed[pk] || r.UserIdentity == nil {
				t.Errorf("REMOVE of %s: repeated %v, userIdentity %v; want once, by the TTL service", pk, removed[pk], r.UserIdentity)
			}
			removed[pk] = true
		}
	}
	wantCounts := map[string]int{"INSERT": writers*perWriter + 1, "MODIFY": writers*perWriter - 1, "REMOVE": writers * perWriter / 2}
	for name, n := range wantCounts {
		if counts[name] != n {
			t.Errorf("%s records = %d; want %d", name, counts[name], n)
		}
	}
	if extra := readAll(t, st, pos); len(extra) != 0 {
		t.Errorf("%d records beyond the expected %d", len(extra), want)
	}

	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	_, db2 := reopen(t, dir)
	counter := get(t, db2, "busy", "counter")
	if n := counter["n"].(*types.AttributeValueMemberN).Value; n != fmt.Sprint(writers*perWriter) {
		t.Errorf("counter after reopening = %s; want %d", n, writers*perWriter)
	}
	out, err := db2.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("busy")})
	if err != nil || out.Count != int32(writers*perWriter/2+1) {
		t.Errorf("items after reopening = %d, %v; want %d unexpired and the counter", out.Count, err, writers*perWriter/2)
	}
}
