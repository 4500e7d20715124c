package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/conversation"
)

// The operations in this file serve the admin command (cmd/parleyctl), not
// the functions: some scan a table (the settings, agents or conversations
// table), which no request path does.

func (s *Store) scanAll(ctx context.Context, in *dynamodb.ScanInput) ([]item, error) {
	var all []item
	for {
		out, err := s.db.Scan(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			all = append(all, it)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return all, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Widgets lists every widget, by id (a Scan of the small settings table).
func (s *Store) Widgets(ctx context.Context) ([]conversation.Widget, error) {
	items, err := s.scanAll(ctx, &dynamodb.ScanInput{
		TableName:                 &s.t.Settings,
		FilterExpression:          aws.String("kind = :k"),
		ExpressionAttributeValues: item{":k": str("widget")},
	})
	if err != nil {
		return nil, fmt.Errorf("list widgets: %w", err)
	}
	out := make([]conversation.Widget, 0, len(items))
	for _, it := range items {
		var w conversation.Widget
		if err := decodeDoc(it, &w); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// DeleteWidget removes a widget: its customers' tokens are refused from then
// on (within the functions' 30-second settings cache). Their conversations
// stay. ErrNotFound when there was none.
func (s *Store) DeleteWidget(ctx context.Context, id string) error {
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.t.Settings,
		Key: item{"id": str(widgetPrefix + id)}, ReturnValues: "ALL_OLD"})
	if err != nil {
		return fmt.Errorf("delete widget %s: %w", id, err)
	}
	if len(out.Attributes) == 0 {
		return fmt.Errorf("widget %q: %w", id, conversation.ErrNotFound)
	}
	return nil
}

// AllAgents lists every agent ever seen, by id (a Scan of the agents table).
func (s *Store) AllAgents(ctx context.Context) ([]conversation.Agent, error) {
	items, err := s.scanAll(ctx, &dynamodb.ScanInput{TableName: &s.t.Agents})
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	out := make([]conversation.Agent, 0, len(items))
	for _, it := range items {
		out = append(out, agentFrom(it))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// SetCapacity sets how many units of conversations an agent may hold. An
// agent not seen yet (id: the sub of its token) gets the capacity on its
// first connection. Lowering it below what the agent uses takes nothing
// away; it only stops new assignments until the agent is below it.
func (s *Store) SetCapacity(ctx context.Context, id string, capacity int) (conversation.Agent, error) {
	if id == "" || capacity < 0 {
		return conversation.Agent{}, fmt.Errorf("capacity %d of agent %q: %w", capacity, id, conversation.ErrInvalid)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.t.Agents,
		Key:                       item{"id": str(id)},
		UpdateExpression:          aws.String("SET capacity = :c, used = if_not_exists(used, :zero)"),
		ExpressionAttributeValues: item{":c": num(int64(capacity)), ":zero": num(0)},
		ReturnValues:              "ALL_NEW",
	})
	if err != nil {
		return conversation.Agent{}, fmt.Errorf("set capacity of %s: %w", id, err)
	}
	return agentFrom(out.Attributes), nil
}

// ConversationsByStatus lists the conversations in status st, of one
// workstream when workstream is not "". Open statuses are read from the
// byStatusKeys index (queued ones of a workstream from its queue); closed
// conversations are off every index, so listing them scans the table.
func (s *Store) ConversationsByStatus(ctx context.Context, st conversation.Status, workstream string) ([]*conversation.Conversation, error) {
	var cs []*conversation.Conversation
	switch st {
	case conversation.Queued, conversation.Active, conversation.Waiting, conversation.Returned:
		list, err := s.ByStatus(ctx, st)
		if err != nil {
			return nil, err
		}
		cs = list
	case conversation.Closed:
		items, err := s.scanAll(ctx, &dynamodb.ScanInput{
			TableName:                 &s.t.Conversations,
			FilterExpression:          aws.String("status = :s"),
			ExpressionAttributeValues: item{":s": str(string(st))},
		})
		if err != nil {
			return nil, fmt.Errorf("list closed conversations: %w", err)
		}
		for _, it := range items {
			cs = append(cs, conversationFrom(it))
		}
	default:
		return nil, fmt.Errorf("status %q: %w", st, conversation.ErrInvalid)
	}
	out := cs[:0]
	for _, c := range cs {
		if workstream == "" || c.Workstream == workstream {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UpdatedAt.Before(out[j].UpdatedAt) })
	return out, nil
}

// Transcript is one conversation with every message it holds, in seq order.
type Transcript struct {
	Conversation *conversation.Conversation
	Messages     []conversation.Message
}

// Transcript reads a conversation and all of its messages (those TTL has
// not removed yet).
func (s *Store) Transcript(ctx context.Context, id string) (Transcript, error) {
	c, err := s.Conversation(ctx, id)
	if err != nil {
		return Transcript{}, err
	}
	t := Transcript{Conversation: c}
	after := int64(0)
	for {
		page, more, err := s.Messages(ctx, id, conversation.Page{Forward: true, AfterSeq: after, Limit: 200})
		if err != nil {
			return t, err
		}
		t.Messages = append(t.Messages, page...)
		if !more || len(page) == 0 {
			return t, nil
		}
		after = page[len(page)-1].Seq
	}
}

// Erasure says what EraseCustomer removed (or, on a dry run, would remove).
type Erasure struct {
	Widget        string   `json:"widget"`
	Customer      string   `json:"customer"`
	DryRun        bool     `json:"dryRun"`
	Conversations []string `json:"conversations"`
	// Messages counts message items, their idempotency markers and the
	// notifier's marks of those conversations.
	Messages    int      `json:"messages"`
	Connections []string `json:"connections"`
	// CustomerRecord is whether the customer's item (open conversation,
	// connections, name) was there.
	CustomerRecord bool `json:"customerRecord"`
	// CapacityFreed names the agents whose capacity an active conversation
	// of the customer held.
	CapacityFreed []string `json:"capacityFreed,omitempty"`
}

// EraseCustomer removes everything stored about one customer of one widget
// (a data-protection request): every conversation of theirs with its
// messages, the messages' idempotency markers and notification marks,
// their connection items and their customer item. An active
// conversation's agent gets its capacity back. Wait statistics, which name
// no one, stay. Running it again finds nothing and removes nothing. With
// dryRun it only reports.
//
// A customer's conversations are found by a Scan of the conversations table
// (no index is keyed by customer: one would cost every conversation write
// for a request that is rare); their connections by the customer item's set
// and a Scan of the connections table, which holds two hours at most. Open
// WebSocket connections are not closed: API Gateway ends them within two
// hours, and one reconnecting starts afresh.
func (s *Store) EraseCustomer(ctx context.Context, widget, customerID string, dryRun bool) (Erasure, error) {
	e := Erasure{Widget: widget, Customer: customerID, DryRun: dryRun, Conversations: []string{}, Connections: []string{}}
	if widget == "" || customerID == "" {
		return e, fmt.Errorf("erase: widget %q, customer %q: %w", widget, customerID, conversation.ErrInvalid)
	}
	convs, err := s.scanAll(ctx, &dynamodb.ScanInput{
		TableName:                 &s.t.Conversations,
		FilterExpression:          aws.String("customerId = :c AND widget = :w"),
		ExpressionAttributeValues: item{":c": str(customerID), ":w": str(widget)},
	})
	if err != nil {
		return e, fmt.Errorf("erase: find conversations of %s: %w", customerID, err)
	}
	for _, it := range convs {
		c := conversationFrom(it)
		n, err := s.eraseMessages(ctx, c.ID, dryRun)
		e.Messages += n
		if err != nil {
			return e, err
		}
		if c.Status == conversation.Active && c.Agent != nil {
			e.CapacityFreed = append(e.CapacityFreed, c.Agent.ID)
		}
		if !dryRun {
			if err := s.eraseConversation(ctx, c); err != nil {
				return e, err
			}
		}
		e.Conversations = append(e.Conversations, c.ID)
	}

	cust, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.t.Customers,
		Key: item{"id": str(customerKey(widget, customerID))}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return e, fmt.Errorf("erase: read customer %s: %w", customerID, err)
	}
	conns := map[string]bool{}
	for _, id := range item(cust.Item).ss("connections") {
		conns[id] = true
	}
	stale, err := s.scanAll(ctx, &dynamodb.ScanInput{
		TableName:                 &s.t.Connections,
		FilterExpression:          aws.String("userId = :u AND widget = :w AND #role = :r"),
		ExpressionAttributeNames:  map[string]string{"#role": "role"},
		ExpressionAttributeValues: item{":u": str(customerID), ":w": str(widget), ":r": str(string(conversation.Customer))},
	})
	if err != nil {
		return e, fmt.Errorf("erase: find connections of %s: %w", customerID, err)
	}
	for _, it := range stale {
		conns[it.s("connectionId")] = true
	}
	for id := range conns {
		if !dryRun {
			if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.t.Connections,
				Key: item{"connectionId": str(id)}}); err != nil {
				return e, fmt.Errorf("erase: connection %s: %w", id, err)
			}
		}
		e.Connections = append(e.Connections, id)
	}
	sort.Strings(e.Connections)
	if cust.Item != nil {
		e.CustomerRecord = true
		if !dryRun {
			if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.t.Customers,
				Key: item{"id": str(customerKey(widget, customerID))}}); err != nil {
				return e, fmt.Errorf("erase: customer %s: %w", customerID, err)
			}
		}
	}
	sort.Strings(e.Conversations)
	return e, nil
}

// eraseMessages deletes a conversation's messages and the notifier's
// marks, and each message's idempotency marker if it was sent before the
// conversation remembered its sends itself (legacyMarkerKey); it returns
// how many messages and marks there were.
func (s *Store) eraseMessages(ctx context.Context, id string, dryRun bool) (int, error) {
	n := 0
	del := func(pk string, seq int64) error {
		n++
		if dryRun {
			return nil
		}
		if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.t.Messages,
			Key: item{"conversationId": str(pk), "seq": num(seq)}}); err != nil {
			return fmt.Errorf("erase: message %s/%d: %w", pk, seq, err)
		}
		return nil
	}
	for _, pk := range []string{id, notifiedKey(id)} {
		items, err := s.queryAll(ctx, &dynamodb.QueryInput{
			TableName:                 &s.t.Messages,
			KeyConditionExpression:    aws.String("conversationId = :c"),
			ExpressionAttributeValues: item{":c": str(pk)},
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return n, fmt.Errorf("erase: read messages of %s: %w", pk, err)
		}
		for _, it := range items {
			if pk == id && !dryRun {
				m := messageFrom(it)
				if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.t.Messages,
					Key: item{"conversationId": str(legacyMarkerKey(&m)), "seq": num(0)}}); err != nil {
					return n, fmt.Errorf("erase: marker of message %s/%d: %w", id, m.Seq, err)
				}
			}
			if err := del(pk, it.n("seq")); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// eraseConversation deletes a conversation item; one still active gives
// its agent the units back (never below zero).
func (s *Store) eraseConversation(ctx context.Context, c *conversation.Conversation) error {
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.t.Conversations,
		Key: item{"id": str(c.ID)}}); err != nil {
		return fmt.Errorf("erase: conversation %s: %w", c.ID, err)
	}
	if c.Status != conversation.Active || c.Agent == nil || c.Units <= 0 {
		return nil
	}
	cp := conversation.CapacityChange{AgentID: c.Agent.ID, Units: -c.Units}
	_, err := s.db.UpdateItem(ctx, updateInput(s.capacityUpdate(cp)))
	if conditionFailed(err) {
		_, err = s.db.UpdateItem(ctx, updateInput(s.capacityFloor(cp)))
		if conditionFailed(err) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("erase: free %s's capacity: %w", c.Agent.ID, err)
	}
	return nil
}

// decodeDoc decodes a settings item's JSON document.
func decodeDoc(it item, v any) error {
	return decodeJSON(it.s("id"), it.s("doc"), v)
}

func decodeJSON(id, doc string, v any) error {
	if err := json.Unmarshal([]byte(doc), v); err != nil {
		return fmt.Errorf("decode setting %s: %w", id, err)
	}
	return nil
}

// updateInput turns a transaction's update into a single UpdateItem.
func updateInput(u *types.Update) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
		ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames,
		ExpressionAttributeValues: u.ExpressionAttributeValues}
}

// legacyMarkerKey is the partition key of the idempotency marker a send
// stored beside its message until sends were remembered on the
// conversation (conversation.RecentSends): a hash of the conversation,
// sender and clientMessageId. Markers hold no text and expire with their
// message; erasing a customer deletes them with the messages.
func legacyMarkerKey(m *conversation.Message) string {
	h := sha256.Sum256([]byte(m.ConversationID + "\x00" + string(m.Sender.Role) + "\x00" + m.Sender.ID + "\x00" + m.ClientMessageID))
	return "idem#" + hex.EncodeToString(h[:16])
}
