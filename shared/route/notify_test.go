package route_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/route"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

// streamRecord is notify.json's record with edit applied to its JSON (the
// form a test can change freely), decoded as Lambda decodes it.
func streamRecord(t testing.TB, edit func(rec map[string]any)) events.DynamoDBEventRecord {
	t.Helper()
	var ev struct{ Records []map[string]any }
	if err := json.Unmarshal(fixture(t, "notify.json"), &ev); err != nil {
		t.Fatal(err)
	}
	rec := ev.Records[0]
	if edit != nil {
		edit(rec)
	}
	b, _ := json.Marshal(rec)
	var out events.DynamoDBEventRecord
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode edited record %s: %v", b, err)
	}
	return out
}

// image returns the named image of a record's JSON, to edit.
func image(rec map[string]any, name string) map[string]any {
	return obj(obj(rec["dynamodb"])[name])
}

// notifyOK runs the notify handler on records and checks it reported no
// failure (so Lambda would not retry any of them).
func notifyOK(t testing.TB, notify streamHandler, records ...events.DynamoDBEventRecord) {
	t.Helper()
	resp, err := notify(ctxT(t), events.DynamoDBEvent{Records: records})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("notify(%d records) = %+v, %v; want no batchItemFailures", len(records), resp, err)
	}
}

// fence pings c through the message function and returns every frame c
// received before the pong.
func fence(t testing.TB, d route.Deps, c *client, authorizer map[string]any) []map[string]any {
	t.Helper()
	ping := fixtureHandler[routeHandler](t, "ping.json", d)
	ev := routeEvent(t, "ping.json", c, authorizer, map[string]any{"requestId": "fence-" + c.id})
	serve(t, ping, ev)
	before, pong := c.Until("fence-" + c.id)
	if pong["type"] != "pong" {
		t.Fatalf("%s: fence reply %v; want pong", c.Name, pong)
	}
	return before
}

func framesOf(frames []map[string]any, typ, conversationID string) []map[string]any {
	var out []map[string]any
	for _, f := range frames {
		id := f["conversationId"]
		if id == nil {
			id = obj(f["conversation"])["id"]
		}
		if f["type"] == typ && id == conversationID {
			out = append(out, f)
		}
	}
	return out
}

// TestNotify runs notify.json twice, as Lambda's at-least-once delivery
// may: bob, the conversation's agent, is told once that alice came back;
// alice is not told anything.
func TestNotify(t *testing.T) {
	s := startStack(t)
	d := s.deps(t)
	notify := fixtureHandler[streamHandler](t, "notify.json", d)
	bob := s.dialAgent(t, fixtureAgent, fixtureAgentName)
	alice := s.dialCustomer(t, fixtureWidget, fixtureCustomer, fixtureCustomerName)

	ev := decode[events.DynamoDBEvent](t, "notify.json")
	notifyOK(t, notify, ev.Records...)
	notifyOK(t, notify, ev.Records...) // redelivered

	got := fence(t, d, bob, agentAuthorizer(fixtureAgent, fixtureAgentName))
	notes := framesOf(got, "notification", fixtureConversation)
	if len(notes) != 1 {
		t.Fatalf("bob received %d notifications for two deliveries of one record (frames %v); want 1", len(notes), got)
	}
	n := notes[0]
	conv := obj(n["conversation"])
	if n["kind"] != "customer_returned" || conv["status"] != "returned" || conv["lastSeq"] != 4.0 ||
		obj(conv["agent"])["id"] != fixtureAgent || obj(conv["customer"])["id"] != fixtureCustomer {
		t.Errorf("notification %v; want customer_returned with the returned conversation", n)
	}
	if convs := framesOf(got, "conversation", fixtureConversation); len(convs) != 1 || obj(convs[0]["conversation"])["status"] != "returned" {
		t.Errorf("bob's conversation events %v; want one, returned", convs)
	}
	if got := fence(t, d, alice, nil); len(got) != 0 {
		t.Errorf("alice received %v; the customer is not told of a return", got)
	}
}

// TestNotifySkipsRecordsItCannotUse sends a batch of records the notifier
// has nothing to do with, around one it has: only that one is delivered,
// and no record fails (a failing one would be retried for an hour).
func TestNotifySkipsRecordsItCannotUse(t *testing.T) {
	s := startStack(t)
	d := s.deps(t)
	notify := fixtureHandler[streamHandler](t, "notify.json", d)
	bob := s.dialAgent(t, fixtureAgent, fixtureAgentName)

	const other = "c_QZ3D7XKRM2WB5TLHN4PYV6JC7E"
	seq := 0
	next := func(rec map[string]any) {
		seq++
		obj(rec["dynamodb"])["SequenceNumber"] = fmt.Sprintf("74613000000000412839%05d", seq)
	}
	records := []struct {
		name string
		edit func(rec map[string]any)
	}{
		{"TTL delete", func(rec map[string]any) {
			rec["eventName"] = "REMOVE"
			delete(obj(rec["dynamodb"]), "NewImage")
			rec["userIdentity"] = map[string]any{"type": "Service", "principalId": "dynamodb.amazonaws.com"}
		}},
		{"insert", func(rec map[string]any) {
			rec["eventName"] = "INSERT"
			delete(obj(rec["dynamodb"]), "OldImage")
		}},
		{"keys only", func(rec map[string]any) {
			delete(obj(rec["dynamodb"]), "OldImage")
			delete(obj(rec["dynamodb"]), "NewImage")
			obj(rec["dynamodb"])["StreamViewType"] = "KEYS_ONLY"
		}},
		{"not a conversation", func(rec map[string]any) {
			obj(rec["dynamodb"])["OldImage"] = map[string]any{"foo": map[string]any{"S": "bar"}}
			obj(rec["dynamodb"])["NewImage"] = map[string]any{"foo": map[string]any{"S": "baz"}, "n": map[string]any{"N": "1"}}
		}},
		{"status of the wrong type", func(rec map[string]any) {
			image(rec, "OldImage")["status"] = map[string]any{"N": "3"}
			image(rec, "NewImage")["status"] = map[string]any{"BOOL": true}
		}},
		{"no id", func(rec map[string]any) {
			delete(image(rec, "NewImage"), "id")
		}},
		{"status unchanged (a read marker)", func(rec map[string]any) {
			image(rec, "NewImage")["status"] = image(rec, "OldImage")["status"]
			image(rec, "NewImage")["customerReadSeq"] = map[string]any{"N": "3"}
		}},
		{"agent never seen", func(rec map[string]any) {
			image(rec, "OldImage")["agentId"] = map[string]any{"S": "zoe"}
			image(rec, "NewImage")["agentId"] = map[string]any{"S": "zoe"}
		}},
		{"deliverable", func(rec map[string]any) {
			for _, img := range []map[string]any{image(rec, "OldImage"), image(rec, "NewImage"), obj(obj(rec["dynamodb"])["Keys"])} {
				img["id"] = map[string]any{"S": other}
			}
		}},
	}
	var batch []events.DynamoDBEventRecord
	for _, r := range records {
		batch = append(batch, streamRecord(t, func(rec map[string]any) { r.edit(rec); next(rec) }))
	}
	notifyOK(t, notify, batch...)

	got := fence(t, d, bob, agentAuthorizer(fixtureAgent, fixtureAgentName))
	if notes := framesOf(got, "notification", other); len(notes) != 1 {
		t.Errorf("bob's notifications for %s: %v; want 1", other, notes)
	}
	if len(got) != 2 {
		t.Errorf("bob received %v; want only the deliverable record's conversation event and notification", got)
	}
}

// TestNotifyFixtureIsTheStoresLayout plays notify.json's story on the
// local stack (alice writes, bob has it, reads, parks, alice comes back)
// and compares the conversation item before and after the return with the
// fixture's OldImage and NewImage: same attributes, same types. The stack's
// own notifier tells bob; the same record redelivered to the handler is
// then skipped.
func TestNotifyFixtureIsTheStoresLayout(t *testing.T) {
	s := startStack(t)
	d := s.deps(t)
	h := func(name string) routeHandler { return fixtureHandler[routeHandler](t, name, d) }
	alice := s.dialCustomer(t, fixtureWidget, fixtureCustomer, fixtureCustomerName)
	ack := call(t, h("send.json"), alice, routeEvent(t, "send.json", alice, nil, nil))
	convID, _ := obj(ack["conversation"])["id"].(string)
	bob := s.dialAgent(t, fixtureAgent, fixtureAgentName)
	bobAuth := agentAuthorizer(fixtureAgent, fixtureAgentName)
	onConv := map[string]any{"conversationId": convID}
	reply := call(t, h("send.json"), bob, routeEvent(t, "send.json", bob, bobAuth, map[string]any{"conversationId": convID, "clientMessageId": "b-1", "text": "Let me check."}))
	wantType(t, "agent send", reply, "ack")
	wantType(t, "customer read", call(t, h("read.json"), alice, routeEvent(t, "read.json", alice, nil, map[string]any{"conversationId": convID, "seq": 2})), "ack")
	wantType(t, "agent read", call(t, h("read.json"), bob, routeEvent(t, "read.json", bob, bobAuth, map[string]any{"conversationId": convID, "seq": 1})), "ack")
	wantType(t, "park", call(t, h("park.json"), bob, routeEvent(t, "park.json", bob, nil, onConv)), "ack")
	old := rawConversation(t, d, convID)
	back := call(t, h("send.json"), alice, routeEvent(t, "send.json", alice, nil, map[string]any{"clientMessageId": "k-back", "text": "Any news?"}))
	if obj(back["conversation"])["status"] != "returned" {
		t.Fatalf("alice's return: %v; want returned", back)
	}
	cur := rawConversation(t, d, convID)

	fx := decode[events.DynamoDBEvent](t, "notify.json").Records[0].Change
	for _, pair := range []struct {
		name    string
		fixture map[string]events.DynamoDBAttributeValue
		store   map[string]events.DynamoDBAttributeValue
	}{{"OldImage", fx.OldImage, old}, {"NewImage", fx.NewImage, cur}} {
		if got, want := layout(pair.fixture), layout(pair.store); !maps.Equal(got, want) {
			t.Errorf("notify.json %s attributes %v; the store writes %v", pair.name, got, want)
		}
	}

	// The stack's notifier, reading the real stream, tells bob.
	bob.Wait("notification of alice's return", func(f map[string]any) bool {
		return f["type"] == "notification" && f["conversationId"] == convID
	})
	version := storeVersion(t, cur)
	poll.Until(t, fmt.Sprintf("the stack's notifier to mark %s v%d notified", convID, version), func() bool {
		done, err := s.Store.Notified(ctxT(t), convID, version)
		if err != nil {
			t.Fatal(err)
		}
		return done
	})
	// Lambda delivers the same record again.
	rec := decode[events.DynamoDBEvent](t, "notify.json").Records[0]
	rec.Change.Keys = map[string]events.DynamoDBAttributeValue{"id": events.NewStringAttribute(convID)}
	rec.Change.OldImage, rec.Change.NewImage = old, cur
	notifyOK(t, fixtureHandler[streamHandler](t, "notify.json", d), rec)
	if got := fence(t, d, bob, bobAuth); len(framesOf(got, "notification", convID)) != 0 {
		t.Errorf("a redelivered return notified bob again: %v", got)
	}
}

// rawConversation reads a conversation item as DynamoDB holds it, in the
// stream's attribute-value types.
func rawConversation(t testing.TB, d route.Deps, id string) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	out, err := d.DynamoDB.GetItem(ctxT(t), &dynamodb.GetItemInput{TableName: aws.String(d.Getenv("CONVERSATIONS_TABLE")),
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		t.Fatalf("get conversation %s: %v (item %v)", id, err, out)
	}
	img := map[string]events.DynamoDBAttributeValue{}
	for k, v := range out.Item {
		img[k] = streamValue(t, v)
	}
	return img
}

func streamValue(t testing.TB, v types.AttributeValue) events.DynamoDBAttributeValue {
	t.Helper()
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *types.AttributeValueMemberM:
		m := map[string]events.DynamoDBAttributeValue{}
		for k, e := range v.Value {
			m[k] = streamValue(t, e)
		}
		return events.NewMapAttribute(m)
	case *types.AttributeValueMemberL:
		var l []events.DynamoDBAttributeValue
		for _, e := range v.Value {
			l = append(l, streamValue(t, e))
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	default:
		t.Fatalf("attribute value %T", v)
		return events.DynamoDBAttributeValue{}
	}
}

// layout is an image's attribute names and types (as DynamoDB JSON names
// them).
func layout(img map[string]events.DynamoDBAttributeValue) map[string]string {
	names := map[events.DynamoDBDataType]string{
		events.DataTypeBinary: "B", events.DataTypeBoolean: "BOOL", events.DataTypeBinarySet: "BS", events.DataTypeList: "L",
		events.DataTypeMap: "M", events.DataTypeNumber: "N", events.DataTypeNumberSet: "NS", events.DataTypeNull: "NULL",
		events.DataTypeString: "S", events.DataTypeStringSet: "SS",
	}
	out := map[string]string{}
	for k, v := range img {
		out[k] = names[v.DataType()]
	}
	return out
}

func storeVersion(t testing.TB, img map[string]events.DynamoDBAttributeValue) int64 {
	t.Helper()
	v, ok := img["version"]
	if !ok || v.DataType() != events.DataTypeNumber {
		t.Fatalf("item has no numeric version: %v", slices.Sorted(maps.Keys(img)))
	}
	n, err := v.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNotifyFailures checks what Lambda retries. A push API Gateway
// refuses with an error fails its record, which is reported (and the
// records after it are left for the retry); redelivered once pushes work,
// each is told once. A connection that is gone (410) is forgotten, not a
// failure.
func TestNotifyFailures(t *testing.T) {
	s := startStack(t)
	d := s.deps(t)
	bob := s.dialAgent(t, fixtureAgent, fixtureAgentName)
	bobAuth := agentAuthorizer(fixtureAgent, fixtureAgentName)

	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "InternalServerErrorException")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"message":"Internal server error"}`))
	}))
	t.Cleanup(failing.Close)
	broken := d
	broken.Management = apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(failing.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("parley-test", "parley-test", ""),
	})

	withID := func(id, seq string) events.DynamoDBEventRecord {
		return streamRecord(t, func(rec map[string]any) {
			for _, img := range []map[string]any{image(rec, "OldImage"), image(rec, "NewImage"), obj(obj(rec["dynamodb"])["Keys"])} {
				img["id"] = map[string]any{"S": id}
			}
			obj(rec["dynamodb"])["SequenceNumber"] = seq
		})
	}
	const a, b = "c_A2ZQ4KX7MRT3WB6NYV5HJLDC2E", "c_B7NW3QPX5KTR2MZ4YJV6HCDL3A"
	skipped := streamRecord(t, func(rec map[string]any) {
		rec["eventName"] = "INSERT"
		delete(obj(rec["dynamodb"]), "OldImage")
		obj(rec["dynamodb"])["SequenceNumber"] = "100000000000000000000001"
	})
	recA, recB := withID(a, "100000000000000000000002"), withID(b, "100000000000000000000003")

	resp, err := fixtureHandler[streamHandler](t, "notify.json", broken)(ctxT(t), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{skipped, recA, recB}})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != recA.Change.SequenceNumber {
		t.Fatalf("notify with pushes failing = %+v, %v; want record %s reported", resp, err, recA.Change.SequenceNumber)
	}
	// Lambda retries from the lowest failed record.
	notifyOK(t, fixtureHandler[streamHandler](t, "notify.json", d), recA, recB)
	got := fence(t, d, bob, bobAuth)
	if len(framesOf(got, "notification", a)) != 1 || len(framesOf(got, "notification", b)) != 1 {
		t.Errorf("bob received %v; want one notification for each of %s and %s", got, a, b)
	}

	t.Run("gone connection", func(t *testing.T) {
		const gone = "G0neC0nnecti0n0="
		// Recorded a minute ago: past the grace a connection still in its
		// $connect gets (it answers 410 too, but is not gone).
		if err := s.Store.AddConnection(ctxT(t), conversation.Connection{ID: gone, Role: conversation.AgentRole, UserID: fixtureAgent, Name: fixtureAgentName, ConnectedAt: time.Now().Add(-time.Minute)}, 3); err != nil {
			t.Fatal(err)
		}
		const c = "c_C4MX2NQW7PKT5RZ3YJV6HBDL4E"
		notifyOK(t, fixtureHandler[streamHandler](t, "notify.json", d), withID(c, "100000000000000000000004"))
		if got := fence(t, d, bob, bobAuth); len(framesOf(got, "notification", c)) != 1 {
			t.Errorf("bob's live connection received %v; want the notification", got)
		}
		if ag, err := s.Store.Agent(ctxT(t), fixtureAgent); err != nil || slices.Contains(ag.ConnectionIDs, gone) || !slices.Contains(ag.ConnectionIDs, bob.id) {
			t.Errorf("bob's connections %v, %v; want %s forgotten and %s kept", ag.ConnectionIDs, err, gone, bob.id)
		}
	})
}
