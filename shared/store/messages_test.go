package store_test

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
)

func TestMessagesPaging(t *testing.T) {
	w := newWorld(t)
	alice, bob := customer("alice"), agent("bob")
	w.connectAgent(bob.ID, "b1", 3, t0)
	c := w.create(alice, t0) // seq 1
	w.assign(c.ID, bob.ID, t0)
	stored := map[int64]conversation.Message{}
	for i := 2; i <= 7; i++ {
		by := alice
		if i%2 == 0 {
			by = bob
		}
		m := w.send(c.ID, by, fmt.Sprintf("k-%d", i), fmt.Sprintf("line %d", i), t0.Add(time.Duration(i)*time.Second))
		stored[m.Seq] = m
	}
	// Another conversation's messages, and the marks kept beside them, must
	// not show up in this one's pages.
	other := w.create(customer("carol"), t0)
	w.send(other.ID, customer("carol"), "k-2", "elsewhere", t0)
	if err := w.s.MarkNotified(w.ctx, c.ID, 3); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		page conversation.Page
		want []int64
		more bool
	}{
		{"newest page", conversation.Page{Limit: 3}, []int64{5, 6, 7}, true},
		{"newest page, exactly all", conversation.Page{Limit: 7}, []int64{1, 2, 3, 4, 5, 6, 7}, false},
		{"newest page, one short of all", conversation.Page{Limit: 6}, []int64{2, 3, 4, 5, 6, 7}, true},
		{"newest page, more than all", conversation.Page{Limit: 50}, []int64{1, 2, 3, 4, 5, 6, 7}, false},
		{"newest message", conversation.Page{Limit: 1}, []int64{7}, true},
		{"forward from the start", conversation.Page{Forward: true, Limit: 3}, []int64{1, 2, 3}, true},
		{"forward after 3", conversation.Page{Forward: true, AfterSeq: 3, Limit: 3}, []int64{4, 5, 6}, true},
		{"forward after 4, ends exactly", conversation.Page{Forward: true, AfterSeq: 4, Limit: 3}, []int64{5, 6, 7}, false},
		{"forward after 5", conversation.Page{Forward: true, AfterSeq: 5, Limit: 3}, []int64{6, 7}, false},
		{"forward after the last", conversation.Page{Forward: true, AfterSeq: 7, Limit: 3}, []int64{}, false},
		{"forward past the last", conversation.Page{Forward: true, AfterSeq: 70, Limit: 3}, []int64{}, false},
		{"before 5", conversation.Page{BeforeSeq: 5, Limit: 3}, []int64{2, 3, 4}, true},
		{"before 4, starts exactly", conversation.Page{BeforeSeq: 4, Limit: 3}, []int64{1, 2, 3}, false},
		{"before 3", conversation.Page{BeforeSeq: 3, Limit: 3}, []int64{1, 2}, false},
		{"before the first", conversation.Page{BeforeSeq: 1, Limit: 3}, []int64{}, false},
		{"before past the last", conversation.Page{BeforeSeq: 100, Limit: 2}, []int64{6, 7}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs, more, err := w.s.Messages(w.ctx, c.ID, tc.page)
			if err != nil || !slices.Equal(seqs(msgs), tc.want) || more != tc.more {
				t.Errorf("Messages(%+v) = %v, more %v, %v; want %v, more %v", tc.page, seqs(msgs), more, err, tc.want, tc.more)
			}
			for _, m := range msgs {
				if want, ok := stored[m.Seq]; ok && !reflect.DeepEqual(m, want) {
					t.Errorf("Messages(%+v) seq %d = %+v; want %+v", tc.page, m.Seq, m, want)
				}
			}
		})
	}
}

func TestMessagesRetention(t *testing.T) {
	w := newWorld(t)
	for _, retain := range []time.Duration{0, 30 * 24 * time.Hour} {
		s := store.New(w.db, w.tables, store.WithClock(func() time.Time { return t0 }), store.WithRetention(retain))
		ch, m := startChange(t, widget, customer(fmt.Sprintf("cust%d", retain)), "k-1", t0)
		if err := s.Apply(w.ctx, ch); err != nil {
			t.Fatalf("Apply(create) = %v", err)
		}
		out, err := w.db.GetItem(w.ctx, &dynamodb.GetItemInput{TableName: &w.tables.Messages, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"conversationId": &types.AttributeValueMemberS{Value: m.ConversationID},
				"seq": &types.AttributeValueMemberN{Value: "1"}}})
		if err != nil || out.Item == nil {
			t.Fatalf("get message %s/1 = %v, %v", m.ConversationID, out, err)
		}
		got, want := render(out.Item["expiresAt"]), strconv.FormatInt(t0.Add(retain).Unix(), 10)
		if retain == 0 {
			want = "<nil>"
			if out.Item["expiresAt"] == nil {
				got = "<nil>"
			}
		}
		if got != want {
			t.Errorf("with retention %v: message expiresAt = %s; want %s", retain, got, want)
		}
	}
}

// readSeq is a party's read marker as stored on the conversation.
func (w *world) readSeq(id string, role conversation.Role) (int64, bool) {
	w.t.Helper()
	out, err := w.db.GetItem(w.ctx, &dynamodb.GetItemInput{TableName: &w.tables.Conversations,
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		w.t.Fatalf("get conversation %s: %v", id, err)
	}
	n, ok := out.Item[string(role)+"ReadSeq"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		w.t.Fatalf("%sReadSeq of %s = %q", role, id, n.Value)
	}
	return v, true
}

func TestMarkReadOnlyMovesForward(t *testing.T) {
	w := newWorld(t)
	c := w.create(customer("alice"), t0)
	steps := []struct {
		role conversation.Role
		seq  int64
		want map[conversation.Role]int64
	}{
		{conversation.Customer, 5, map[conversation.Role]int64{conversation.Customer: 5}},
		{conversation.Customer, 3, map[conversation.Role]int64{conversation.Customer: 5}}, // late, out of order
		{conversation.Customer, 5, map[conversation.Role]int64{conversation.Customer: 5}},
		{conversation.AgentRole, 2, map[conversation.Role]int64{conversation.Customer: 5, conversation.AgentRole: 2}},
		{conversation.Customer, 7, map[conversation.Role]int64{conversation.Customer: 7, conversation.AgentRole: 2}},
	}
	for _, s := range steps {
		if err := w.s.MarkRead(w.ctx, c.ID, s.role, s.seq); err != nil {
			t.Fatalf("MarkRead(%s, %s, %d) = %v", c.ID, s.role, s.seq, err)
		}
		for _, role := range []conversation.Role{conversation.Customer, conversation.AgentRole} {
			got, ok := w.readSeq(c.ID, role)
			if want, wantOK := s.want[role]; got != want || ok != wantOK {
				t.Errorf("after MarkRead(%s, %d): %s read up to %d (set %v); want %d (set %v)", s.role, s.seq, role, got, ok, want, wantOK)
			}
		}
	}
	if got := w.conversation(c.ID); got.Version != c.Version {
		t.Errorf("conversation version after MarkRead = %d; want %d (read markers are not moves)", got.Version, c.Version)
	}
	// Saving the conversation's state leaves the read markers alone.
	w.send(c.ID, customer("alice"), "k-2", "hi", t0.Add(time.Minute))
	if got, _ := w.readSeq(c.ID, conversation.Customer); got != 7 {
		t.Errorf("customer read marker after a send = %d; want 7", got)
	}

	before := w.snapshot()
	if err := w.s.MarkRead(w.ctx, "c_nope", conversation.Customer, 1); err != nil {
		t.Errorf("MarkRead(c_nope) = %v; want <nil>", err)
	}
	w.unchanged(before, "MarkRead of an unknown conversation")
}

// TestMessagesOrderIsNumeric pages through more than nine messages, where
// ordering seq as text (1, 10, 11, 2, ...) instead of as a number would
// show.
func TestMessagesOrderIsNumeric(t *testing.T) {
	w := newWorld(t)
	alice := customer("alice")
	c := w.create(alice, t0)
	for i := 2; i <= 12; i++ {
		w.send(c.ID, alice, fmt.Sprintf("k-%d", i), "x", t0.Add(time.Duration(i)*time.Second))
	}
	all, _, err := w.s.Messages(w.ctx, c.ID, conversation.Page{Forward: true, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	// DynamoDB orders a number sort key numerically, and the store relies
	// on it: as text, 10 would sort before 2.
	if got, want := seqs(all), []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; !slices.Equal(got, want) {
		t.Fatalf("Messages(all) = %v, want %v", got, want)
	}
	cases := []struct {
		page conversation.Page
		want []int64
		more bool
	}{
		{conversation.Page{Forward: true, Limit: 200}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, false},
		{conversation.Page{Limit: 3}, []int64{10, 11, 12}, true},
		{conversation.Page{Forward: true, Limit: 3}, []int64{1, 2, 3}, true},
		{conversation.Page{Forward: true, AfterSeq: 8, Limit: 3}, []int64{9, 10, 11}, true},
		{conversation.Page{BeforeSeq: 11, Limit: 3}, []int64{8, 9, 10}, true},
		{conversation.Page{BeforeSeq: 10, Limit: 9}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}, false},
	}
	for _, tc := range cases {
		msgs, more, err := w.s.Messages(w.ctx, c.ID, tc.page)
		if err != nil || !slices.Equal(seqs(msgs), tc.want) || more != tc.more {
			t.Errorf("Messages(%+v) = %v, more %v, %v; want %v, more %v", tc.page, seqs(msgs), more, err, tc.want, tc.more)
		}
	}
}
