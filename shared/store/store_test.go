package store_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/cmd/parley-local/localtest"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
)

// t0 is when every story in these tests begins; the store takes its times
// from its callers, so nothing here reads the wall clock. It lies in the
// future: the TTL attributes the store derives from it (a connection's
// expiresAt) then lie in the future too, and the server's TTL sweep, which
// goes by the wall clock (DynamoDB Local deletes expired items within
// seconds), never deletes an item under a test.
var t0 = time.Date(2054, 11, 24, 10, 0, 0, 0, time.UTC) // a Tuesday, as 2026-11-24

// widget and ws are the widget and workstream the conversations belong to.
const widget = "persistent"

var ws = conversation.Workstream{ID: "support-persistent", Mode: conversation.Persistent,
	Hours: conversation.Hours{AlwaysOpen: true}, KeepSameAgent: true}

// world is a store on the embedded DynamoDB-compatible server, plus the raw
// client for looking at what it wrote.
type world struct {
	t      *testing.T
	ctx    context.Context
	s      *store.Store
	db     *dynamodb.Client
	tables store.Tables
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db, tables := localtest.DynamoDB(t)
	return worldOf(t, db, tables)
}

func worldOf(t *testing.T, db *dynamodb.Client, tables store.Tables) *world {
	return &world{t: t, ctx: t.Context(), s: store.New(db, tables), db: db, tables: tables}
}

func customer(id string) conversation.Participant {
	return conversation.Participant{Role: conversation.Customer, ID: id, Name: strings.ToUpper(id[:1]) + id[1:]}
}

func agent(id string) conversation.Participant {
	return conversation.Participant{Role: conversation.AgentRole, ID: id, Name: strings.ToUpper(id[:1]) + id[1:]}
}

// startChange builds what the chat route applies for a customer's first
// send: a new conversation and its message with seq 1.
func startChange(t *testing.T, w string, cust conversation.Participant, cmid string, at time.Time) (conversation.Change, conversation.Message) {
	t.Helper()
	return startChangeIn(t, ws, w, cust, cmid, at)
}

// startChangeIn is startChange in workstream ws.
func startChangeIn(t *testing.T, ws conversation.Workstream, w string, cust conversation.Participant, cmid string, at time.Time) (conversation.Change, conversation.Message) {
	t.Helper()
	c, err := conversation.Start(conversation.NewConversationID(), ws, w, cust, at)
	if err != nil {
		t.Fatalf("Start(%s) = %v", cust.ID, err)
	}
	prev := c.Version
	eff, err := c.Send(cust, cmid, ws, at)
	if err != nil {
		t.Fatalf("Send(first message of %s) = %v", cust.ID, err)
	}
	m := conversation.Message{ID: conversation.NewMessageID(), ConversationID: c.ID, Seq: eff.Seq,
		ClientMessageID: cmid, Sender: cust, Text: "hello from " + cust.ID, At: at}
	return conversation.Change{Conversation: c, PrevVersion: prev, Create: true, Message: &m}, m
}

// create starts a conversation of cust on the test widget with a first
// message, as the chat route does.
func (w *world) create(cust conversation.Participant, at time.Time) *conversation.Conversation {
	w.t.Helper()
	ch, _ := startChange(w.t, widget, cust, "first-"+cust.ID, at)
	if err := w.s.Apply(w.ctx, ch); err != nil {
		w.t.Fatalf("Apply(create for %s) = %v; want <nil>", cust.ID, err)
	}
	return ch.Conversation
}

// trySend is one attempt at a send: read, move, write.
func (w *world) trySend(id string, by conversation.Participant, cmid, text string, at time.Time) (conversation.Message, error) {
	c, err := w.s.Conversation(w.ctx, id)
	if err != nil {
		return conversation.Message{}, err
	}
	prev := c.Version
	eff, err := c.Send(by, cmid, ws, at)
	if err != nil {
		return conversation.Message{}, err
	}
	m := conversation.Message{ID: conversation.NewMessageID(), ConversationID: id, Seq: eff.Seq,
		ClientMessageID: cmid, Sender: by, Text: text, At: at}
	return m, w.s.Apply(w.ctx, conversation.Change{Conversation: c, PrevVersion: prev, Message: &m})
}

// send stores a message, reading again whenever it loses a race.
func (w *world) send(id string, by conversation.Participant, cmid, text string, at time.Time) conversation.Message {
	w.t.Helper()
	for {
		m, err := w.trySend(id, by, cmid, text, at)
		if errors.Is(err, conversation.ErrStale) {
			continue
		}
		if err != nil {
			w.t.Fatalf("send %s in %s = %v; want <nil>", cmid, id, err)
		}
		return m
	}
}

// move reads conversation id, lets fn move a copy and say what else
// changes with it, and applies the result once. It returns the error of
// Apply, and the state read and the state written.
func (w *world) move(id string, fn func(c *conversation.Conversation) (conversation.Change, error)) (before, after *conversation.Conversation, err error) {
	w.t.Helper()
	before, err = w.s.Conversation(w.ctx, id)
	if err != nil {
		w.t.Fatalf("Conversation(%s) = %v", id, err)
	}
	after = before.Clone()
	ch, err := fn(after)
	if err != nil {
		w.t.Fatalf("move %s: %v", id, err)
	}
	ch.Conversation, ch.PrevVersion = after, before.Version
	return before, after, w.s.Apply(w.ctx, ch)
}

// connectAgent opens a connection for agent id (capacity for a new agent).
func (w *world) connectAgent(id, connID string, capacity int, at time.Time) conversation.Connection {
	w.t.Helper()
	c := conversation.Connection{ID: connID, Role: conversation.AgentRole, UserID: id, Name: agent(id).Name, ConnectedAt: at}
	if err := w.s.AddConnection(w.ctx, c, capacity); err != nil {
		w.t.Fatalf("AddConnection(%s of %s) = %v", connID, id, err)
	}
	return c
}

func (w *world) agent(id string) conversation.Agent {
	w.t.Helper()
	a, err := w.s.Agent(w.ctx, id)
	if err != nil {
		w.t.Fatalf("Agent(%s) = %v", id, err)
	}
	return a
}

func (w *world) conversation(id string) *conversation.Conversation {
	w.t.Helper()
	c, err := w.s.Conversation(w.ctx, id)
	if err != nil {
		w.t.Fatalf("Conversation(%s) = %v", id, err)
	}
	return c
}

// assignChange is what routing applies to give c to agent a.
func assignChange(a conversation.Agent, at time.Time) func(c *conversation.Conversation) (conversation.Change, error) {
	return func(c *conversation.Conversation) (conversation.Change, error) {
		if _, err := c.Assign(a, at); err != nil {
			return conversation.Change{}, err
		}
		return conversation.Change{Capacity: conversation.CapacityChange{AgentID: a.ID, Units: c.Units, Max: a.Capacity - c.Units, RequireAvailable: true}}, nil
	}
}

// assign gives c to agent id, which must succeed.
func (w *world) assign(id, agentID string, at time.Time) *conversation.Conversation {
	w.t.Helper()
	_, after, err := w.move(id, assignChange(w.agent(agentID), at))
	if err != nil {
		w.t.Fatalf("Apply(assign %s to %s) = %v; want <nil>", id, agentID, err)
	}
	return after
}

// snapshot renders every item of every table, keyed by table and key, so
// two snapshots show exactly what a call wrote.
func (w *world) snapshot() map[string]string {
	w.t.Helper()
	tabs := w.tables
	out := map[string]string{}
	for _, name := range []string{tabs.Conversations, tabs.Messages, tabs.Connections, tabs.Customers, tabs.Agents, tabs.Settings} {
		in := &dynamodb.ScanInput{TableName: &name, ConsistentRead: aws.Bool(true)}
		for {
			page, err := w.db.Scan(w.ctx, in)
			if err != nil {
				w.t.Fatalf("scan %s: %v", name, err)
			}
			for _, it := range page.Items {
				key := name
				for _, k := range []string{"id", "connectionId", "conversationId", "seq"} {
					if v, ok := it[k]; ok {
						key += "/" + render(v)
					}
				}
				out[key] = render(&types.AttributeValueMemberM{Value: it})
			}
			if len(page.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = page.LastEvaluatedKey
		}
	}
	return out
}

// unchanged fails the test when the database differs from before.
func (w *world) unchanged(before map[string]string, what string) {
	w.t.Helper()
	after := w.snapshot()
	if maps.Equal(before, after) {
		return
	}
	var diff []string
	for k, v := range after {
		if old, ok := before[k]; !ok {
			diff = append(diff, "+ "+k+" "+v)
		} else if old != v {
			diff = append(diff, "~ "+k+" "+old+" -> "+v)
		}
	}
	for k, v := range before {
		if _, ok := after[k]; !ok {
			diff = append(diff, "- "+k+" "+v)
		}
	}
	sort.Strings(diff)
	w.t.Errorf("%s wrote:\n%s\nwant nothing written", what, strings.Join(diff, "\n"))
}

func render(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return fmt.Sprintf("%q", v.Value)
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprint(v.Value)
	case *types.AttributeValueMemberNULL:
		return "null"
	case *types.AttributeValueMemberSS:
		return fmt.Sprintf("SS%q", slices.Sorted(slices.Values(v.Value)))
	case *types.AttributeValueMemberNS:
		return fmt.Sprintf("NS%v", slices.Sorted(slices.Values(v.Value)))
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("B%x", v.Value)
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = render(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *types.AttributeValueMemberM:
		parts := make([]string, 0, len(v.Value))
		for _, k := range slices.Sorted(maps.Keys(v.Value)) {
			parts = append(parts, k+":"+render(v.Value[k]))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprintf("%T", v)
}

// seqs lists the seqs of msgs.
func seqs(msgs []conversation.Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

// ids lists the ids of cs.
func ids(cs []*conversation.Conversation) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
