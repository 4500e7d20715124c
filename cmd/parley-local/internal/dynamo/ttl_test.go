package dynamo

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

func enableTTL(t *testing.T, db *dynamodb.Client, table, attr string) {
	t.Helper()
	if _, err := db.UpdateTimeToLive(context.Background(), &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
	}); err != nil {
		t.Fatalf("UpdateTimeToLive(%s, %s) = %v", table, attr, err)
	}
}

func TestTTLSweepDeletesExpiredItems(t *testing.T) {
	clk := newClock()
	s := openStore(t, Options{Now: clk.Now, TTLInterval: time.Hour}) // the test sweeps by hand
	db := client(t, s)
	createTable(t, db, tableSpec{name: "connections", stream: types.StreamViewTypeNewAndOldImages})
	now := int(clk.Now().Unix())
	put(t, db, "connections", map[string]types.AttributeValue{"pk": str("expired"), "ttl": num(now - 10)})
	put(t, db, "connections", map[string]types.AttributeValue{"pk": str("later"), "ttl": num(now + 100)})
	put(t, db, "connections", map[string]types.AttributeValue{"pk": str("forever")})
	put(t, db, "connections", map[string]types.AttributeValue{"pk": str("not-a-number"), "ttl": str("1")})

	if n, err := s.sweepTTL(); n != 0 || err != nil {
		t.Fatalf("sweepTTL() before TTL is enabled = %d, %v; want 0, nil", n, err)
	}
	enableTTL(t, db, "connections", "ttl")
	// Like DynamoDB, an expired item stays readable until the sweeper runs.
	if get(t, db, "connections", "expired") == nil {
		t.Fatal("expired item gone before the sweep")
	}
	st := s.Stream("connections")
	pos := st.Latest()

	if n, err := s.sweepTTL(); n != 1 || err != nil {
		t.Fatalf("sweepTTL() = %d, %v; want 1, nil", n, err)
	}
	if get(t, db, "connections", "expired") != nil {
		t.Error("expired item still there after the sweep")
	}
	for _, k := range []string{"later", "forever", "not-a-number"} {
		if get(t, db, "connections", k) == nil {
			t.Errorf("sweep deleted %s", k)
		}
	}
	recs := readAll(t, st, pos)
	if len(recs) != 1 {
		t.Fatalf("sweep streamed %d records; want 1", len(recs))
	}
	r := recs[0]
	if r.EventName != "REMOVE" || r.Change.Keys["pk"].String() != "expired" || r.Change.OldImage == nil {
		t.Errorf("TTL record = %s %v, OldImage %v; want REMOVE of expired with its old image", r.EventName, r.Change.Keys, r.Change.OldImage)
	}
	if u := r.UserIdentity; u == nil || u.Type != "Service" || u.PrincipalID != "dynamodb.amazonaws.com" {
		t.Errorf("TTL record userIdentity = %+v; want Service dynamodb.amazonaws.com", u)
	}

	// A client's delete carries no userIdentity.
	if _, err := db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String("connections"),
		Key: map[string]types.AttributeValue{"pk": str("forever")}}); err != nil {
		t.Fatalf("DeleteItem = %v", err)
	}
	if recs := readAll(t, st, r.Change.SequenceNumber); len(recs) != 1 || recs[0].UserIdentity != nil {
		t.Errorf("client delete record = %+v; want one without userIdentity", recs)
	}

	clk.Add(101 * time.Second)
	if n, err := s.sweepTTL(); n != 1 || err != nil || get(t, db, "connections", "later") != nil {
		t.Errorf("sweepTTL() after later expired = %d, %v; want later deleted", n, err)
	}
}

func TestTTLLoopRunsOnItsInterval(t *testing.T) {
	s := openStore(t, Options{TTLInterval: 10 * time.Millisecond})
	db := client(t, s)
	createTable(t, db, tableSpec{name: "sessions"})
	enableTTL(t, db, "sessions", "expiresAt")
	put(t, db, "sessions", map[string]types.AttributeValue{"pk": str("old"), "expiresAt": num(int(time.Now().Unix()) - 1)})
	poll.Until(t, "the TTL loop to delete the expired item", func() bool { return get(t, db, "sessions", "old") == nil })
}
