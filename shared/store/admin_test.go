package store_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
)

// Erasing one customer of one widget removes their conversations, messages,
// idempotency markers, connections and record, and nothing of anyone else's,
// nor of the same id on another widget; a second run finds nothing.
func TestEraseCustomer(t *testing.T) {
	w := newWorld(t)
	alice := w.create(customer("alice"), t0)
	w.send(alice.ID, customer("alice"), "k2", "second", t0)
	bob := w.create(customer("bob"), t0)
	ch, _ := startChange(t, "live", customer("alice"), "other", t0)
	if err := w.s.Apply(w.ctx, ch); err != nil {
		t.Fatal(err)
	}
	elsewhere := ch.Conversation
	conn := conversation.Connection{ID: "conn-a", Role: conversation.Customer, UserID: "alice", Name: "Alice", Widget: widget, ConnectedAt: t0}
	if err := w.s.AddConnection(w.ctx, conn, 3); err != nil {
		t.Fatal(err)
	}

	dry, err := w.s.EraseCustomer(w.ctx, widget, "alice", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Conversations) != 1 || dry.Conversations[0] != alice.ID || dry.Messages != 2 || len(dry.Connections) != 1 || !dry.CustomerRecord {
		t.Fatalf("dry run = %+v; want alice's conversation, her 2 messages, 1 connection, her record", dry)
	}
	if _, err := w.s.Conversation(w.ctx, alice.ID); err != nil {
		t.Fatalf("the dry run removed something: %v", err)
	}
	got, err := w.s.EraseCustomer(w.ctx, widget, "alice", false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Messages != dry.Messages || len(got.Conversations) != 1 {
		t.Fatalf("erase = %+v; want what the dry run found", got)
	}
	if _, err := w.s.Conversation(w.ctx, alice.ID); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("alice's conversation = %v; want gone", err)
	}
	msgs, _, err := w.s.Messages(w.ctx, alice.ID, conversation.Page{Limit: 50})
	if err != nil || len(msgs) != 0 {
		t.Errorf("alice's messages = %v, %v; want none", msgs, err)
	}
	if _, err := w.s.Connection(w.ctx, "conn-a"); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("alice's connection = %v; want gone", err)
	}
	out, err := w.db.GetItem(w.ctx, &dynamodb.GetItemInput{TableName: aws.String(w.tables.Customers),
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: widget + "#alice"}}, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item != nil {
		t.Errorf("alice's record = %v, %v; want gone", out.Item, err)
	}
	for _, id := range []string{bob.ID, elsewhere.ID} {
		if _, err := w.s.Conversation(w.ctx, id); err != nil {
			t.Errorf("conversation %s (not this customer's) = %v; want kept", id, err)
		}
	}
	if msgs, _, _ := w.s.Messages(w.ctx, bob.ID, conversation.Page{Limit: 50}); len(msgs) != 1 {
		t.Errorf("bob's messages = %v; want kept", msgs)
	}
	again, err := w.s.EraseCustomer(w.ctx, widget, "alice", false)
	if err != nil || len(again.Conversations) != 0 || again.Messages != 0 || len(again.Connections) != 0 || again.CustomerRecord {
		t.Errorf("second erase = %+v, %v; want nothing found", again, err)
	}
}

// ApplyConfig checks everything before it writes anything, and with
// ifAbsent keeps what exists.
func TestApplyConfig(t *testing.T) {
	w := newWorld(t)
	wsc := store.WorkstreamConfig{ID: "support", Mode: "persistent", KeepSameAgent: true}
	wsc.Hours.TimeZone, wsc.Hours.AlwaysOpen = "Europe/Oslo", true
	wd := conversation.Widget{ID: "shop", Workstream: "support", Issuer: "https://shop.example", JWKSURL: "https://shop.example/jwks.json"}
	bad := store.Config{Workstreams: []store.WorkstreamConfig{wsc}, Widgets: []conversation.Widget{wd, {ID: "stray", Workstream: "nowhere", Issuer: "x", JWKSURL: "https://x"}}}
	if _, err := w.s.ApplyConfig(w.ctx, bad, false); err == nil || !errors.Is(err, conversation.ErrInvalid) {
		t.Fatalf("ApplyConfig(a widget of no workstream) = %v; want ErrInvalid", err)
	}
	if _, err := w.s.Workstream(w.ctx, "support"); !errors.Is(err, conversation.ErrNotFound) {
		t.Fatalf("a refused configuration wrote workstream support: %v", err)
	}
	good := store.Config{Workstreams: []store.WorkstreamConfig{wsc}, Widgets: []conversation.Widget{wd}, AgentDefaults: &conversation.AgentDefaults{Capacity: 4}}
	res, err := w.s.ApplyConfig(w.ctx, good, false)
	if err != nil || len(res) != 3 {
		t.Fatalf("ApplyConfig = %v, %v", res, err)
	}
	good.Workstreams[0].Units = 2
	res, err = w.s.ApplyConfig(w.ctx, good, true)
	if err != nil || res[0].Result != "kept" {
		t.Fatalf("ApplyConfig(ifAbsent) = %v, %v; want kept", res, err)
	}
	if got, _ := w.s.WorkstreamConfigOf(w.ctx, "support"); got.Units != 0 {
		t.Errorf("ifAbsent overwrote the workstream: %+v", got)
	}
	widgets, err := w.s.Widgets(w.ctx)
	if err != nil || len(widgets) != 1 || widgets[0].ID != "shop" {
		t.Errorf("Widgets = %v, %v", widgets, err)
	}
	if err := w.s.DeleteWidget(w.ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if err := w.s.DeleteWidget(w.ctx, "shop"); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("deleting a deleted widget = %v; want ErrNotFound", err)
	}
	a, err := w.s.SetCapacity(w.ctx, "newcomer", 5)
	if err != nil || a.Capacity != 5 || a.Used != 0 {
		t.Errorf("SetCapacity(an agent not seen yet) = %+v, %v", a, err)
	}
}
