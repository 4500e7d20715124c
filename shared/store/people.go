package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/conversation"
)

// connectionTTL keeps a connection item a little past API Gateway's 2-hour
// limit, so one whose $disconnect never came (it is best-effort) expires.
const connectionTTL = 2*time.Hour + 10*time.Minute

func customerKey(widget, id string) string { return widget + "#" + id }

// AddConnection records a new connection and adds it to its customer's or
// agent's connection set, in one transaction. A new agent starts with
// capacity defaultCapacity and presence available.
func (s *Store) AddConnection(ctx context.Context, c conversation.Connection, defaultCapacity int) error {
	conn := item{
		"connectionId": str(c.ID),
		"role":         str(string(c.Role)),
		"userId":       str(c.UserID),
		"name":         str(c.Name),
		"connectedAt":  str(timeString(c.ConnectedAt)),
		"expiresAt":    num(c.ConnectedAt.Add(connectionTTL).Unix()),
	}
	if c.Widget != "" {
		conn["widget"] = str(c.Widget)
	}
	var user *types.Update
	switch c.Role {
	case conversation.Customer:
		user = &types.Update{
			TableName:                &s.t.Customers,
			Key:                      item{"id": str(customerKey(c.Widget, c.UserID))},
			UpdateExpression:         aws.String("SET widget = :w, customerId = :u, #name = :n, lastConnectedAt = :t ADD connections :c"),
			ExpressionAttributeNames: map[string]string{"#name": "name"},
			ExpressionAttributeValues: item{":w": str(c.Widget), ":u": str(c.UserID), ":n": str(c.Name),
				":t": str(timeString(c.ConnectedAt)), ":c": strSet(c.ID)},
		}
	case conversation.AgentRole:
		user = &types.Update{
			TableName: &s.t.Agents,
			Key:       item{"id": str(c.UserID)},
			UpdateExpression: aws.String("SET #name = :n, onlineKey = :online, capacity = if_not_exists(capacity, :cap), " +
				"#used = if_not_exists(#used, :zero), presence = if_not_exists(presence, :available) REMOVE offlineSince ADD connections :c"),
			ExpressionAttributeNames: map[string]string{"#name": "name", "#used": "used"},
			ExpressionAttributeValues: item{":n": str(c.Name), ":online": str("online"), ":cap": num(int64(defaultCapacity)),
				":zero": num(0), ":available": str(string(conversation.Available)), ":c": strSet(c.ID)},
		}
	default:
		return fmt.Errorf("add connection %s: role %q: %w", c.ID, c.Role, conversation.ErrInvalid)
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.t.Connections, Item: conn}},
		{Update: user},
	}})
	if err != nil {
		return fmt.Errorf("add connection %s of %s %s: %w", c.ID, c.Role, c.UserID, err)
	}
	return nil
}

// Connection reads a connection.
func (s *Store) Connection(ctx context.Context, id string) (conversation.Connection, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.t.Connections, Key: item{"connectionId": str(id)}})
	if err != nil {
		return conversation.Connection{}, fmt.Errorf("get connection %s: %w", id, err)
	}
	if out.Item == nil {
		return conversation.Connection{}, fmt.Errorf("get connection %s: %w", id, conversation.ErrNotFound)
	}
	it := item(out.Item)
	return conversation.Connection{ID: id, Role: conversation.Role(it.s("role")), UserID: it.s("userId"), Name: it.s("name"),
		Widget: it.s("widget"), ConnectedAt: it.t("connectedAt")}, nil
}

// RemoveConnection forgets a connection: its item and its place in the
// user's set. A customer's latest departure time is kept (live chats
// auto-close some time after the last connection went); an agent whose last
// connection it was goes offline (out of the online index).
func (s *Store) RemoveConnection(ctx context.Context, c conversation.Connection, now time.Time) error {
	// A customer's departure time is written with the set change, not after
	// it: a sweep between the two would see a live chat's customer gone at
	// an unknown time and judge its inactivity from the last message. While
	// other connections remain it is simply the latest departure.
	at := item{":c": strSet(c.ID), ":t": str(timeString(now))}
	var user *types.Update
	var last *dynamodb.UpdateItemInput
	switch c.Role {
	case conversation.Customer:
		user = &types.Update{TableName: &s.t.Customers, Key: item{"id": str(customerKey(c.Widget, c.UserID))},
			UpdateExpression: aws.String("SET lastDisconnectedAt = :t DELETE connections :c"), ExpressionAttributeValues: at}
	case conversation.AgentRole:
		key := item{"id": str(c.UserID)}
		user = &types.Update{TableName: &s.t.Agents, Key: key,
			UpdateExpression: aws.String("DELETE connections :c"), ExpressionAttributeValues: item{":c": strSet(c.ID)}}
		// Offline, and out of the online index, once the last connection is
		// gone (a condition on the set's emptiness needs the change first).
		last = &dynamodb.UpdateItemInput{TableName: &s.t.Agents, Key: key,
			UpdateExpression:          aws.String("SET offlineSince = :t REMOVE onlineKey"),
			ConditionExpression:       aws.String("attribute_exists(id) AND attribute_not_exists(connections) AND attribute_exists(onlineKey)"),
			ExpressionAttributeValues: item{":t": str(timeString(now))}}
	default:
		return fmt.Errorf("remove connection %s: role %q: %w", c.ID, c.Role, conversation.ErrInvalid)
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.t.Connections, Key: item{"connectionId": str(c.ID)}}},
		{Update: user},
	}})
	if err != nil {
		return fmt.Errorf("remove connection %s of %s %s: %w", c.ID, c.Role, c.UserID, err)
	}
	if last == nil {
		return nil
	}
	if _, err := s.db.UpdateItem(ctx, last); err != nil && !conditionFailed(err) {
		return fmt.Errorf("mark %s %s offline: %w", c.Role, c.UserID, err)
	}
	return nil
}

// StaleConnections lists connections opened before cutoff (sweeper path:
// API Gateway closes every connection after 2 hours).
func (s *Store) StaleConnections(ctx context.Context, cutoff time.Time) ([]conversation.Connection, error) {
	in := &dynamodb.ScanInput{
		TableName:                 &s.t.Connections,
		FilterExpression:          aws.String("connectedAt < :t"),
		ExpressionAttributeValues: item{":t": str(timeString(cutoff))},
	}
	var out []conversation.Connection
	for {
		page, err := s.db.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan connections: %w", err)
		}
		for _, it := range page.Items {
			i := item(it)
			out = append(out, conversation.Connection{ID: i.s("connectionId"), Role: conversation.Role(i.s("role")), UserID: i.s("userId"),
				Name: i.s("name"), Widget: i.s("widget"), ConnectedAt: i.t("connectedAt")})
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func customerFrom(it item) conversation.CustomerState {
	return conversation.CustomerState{Widget: it.s("widget"), ID: it.s("customerId"), Name: it.s("name"),
		OpenConversationID: it.s("openConversationId"), LastConversationID: it.s("lastConversationId"), ConnectionIDs: it.ss("connections"),
		LastConnectedAt: it.t("lastConnectedAt"), LastDisconnectedAt: it.t("lastDisconnectedAt")}
}

func agentFrom(it item) conversation.Agent {
	ws := it.ss("workstreams")
	return conversation.Agent{ID: it.s("id"), Name: it.s("name"), Capacity: int(it.n("capacity")), Used: int(it.n("used")),
		Presence: presenceOf(it), Workstreams: ws, ConnectionIDs: it.ss("connections"), OfflineSince: it.t("offlineSince")}
}

// presenceOf is the agent's effective presence: its chosen one while it has
// a connection, offline without.
func presenceOf(it item) conversation.Presence {
	if len(it.ss("connections")) == 0 {
		return conversation.Offline
	}
	if p := conversation.Presence(it.s("presence")); p != "" {
		return p
	}
	return conversation.Available
}

// Customer reads a customer of a widget; a customer never seen is returned
// empty, not as an error.
func (s *Store) Customer(ctx context.Context, widget, id string) (conversation.CustomerState, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.t.Customers,
		Key: item{"id": str(customerKey(widget, id))}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return conversation.CustomerState{}, fmt.Errorf("get customer %s of %s: %w", id, widget, err)
	}
	c := customerFrom(out.Item)
	c.Widget, c.ID = widget, id
	return c, nil
}

// Agent reads an agent; an agent never seen is ErrNotFound.
func (s *Store) Agent(ctx context.Context, id string) (conversation.Agent, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.t.Agents, Key: item{"id": str(id)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return conversation.Agent{}, fmt.Errorf("get agent %s: %w", id, err)
	}
	if out.Item == nil {
		return conversation.Agent{}, fmt.Errorf("get agent %s: %w", id, conversation.ErrNotFound)
	}
	return agentFrom(out.Item), nil
}

// Parties reads a conversation's customer and agent (when it has one) with
// one BatchGetItem: the connections a message goes to.
func (s *Store) Parties(ctx context.Context, c *conversation.Conversation) (conversation.CustomerState, *conversation.Agent, error) {
	req := map[string]types.KeysAndAttributes{
		s.t.Customers: {Keys: []map[string]types.AttributeValue{{"id": str(customerKey(c.Widget, c.Customer.ID))}}, ConsistentRead: aws.Bool(true)},
	}
	if c.Agent != nil {
		req[s.t.Agents] = types.KeysAndAttributes{Keys: []map[string]types.AttributeValue{{"id": str(c.Agent.ID)}}, ConsistentRead: aws.Bool(true)}
	}
	cust := conversation.CustomerState{Widget: c.Widget, ID: c.Customer.ID}
	var agent *conversation.Agent
	err := s.batchGet(ctx, req, func(table string, items []map[string]types.AttributeValue) error {
		for _, it := range items {
			if table == s.t.Customers {
				cust = customerFrom(it)
			} else {
				a := agentFrom(it)
				agent = &a
			}
		}
		return nil
	})
	if err != nil {
		return cust, nil, fmt.Errorf("read parties of %s: %w", c.ID, err)
	}
	return cust, agent, nil
}

// OnlineAgents lists agents with at least one open connection.
func (s *Store) OnlineAgents(ctx context.Context) ([]conversation.Agent, error) {
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 &s.t.Agents,
		IndexName:                 aws.String("online"),
		KeyConditionExpression:    aws.String("onlineKey = :o"),
		ExpressionAttributeValues: item{":o": str("online")},
	})
	if err != nil {
		return nil, fmt.Errorf("list online agents: %w", err)
	}
	out := make([]conversation.Agent, 0, len(items))
	for _, it := range items {
		out = append(out, agentFrom(it))
	}
	return out, nil
}

// SetPresence sets an agent's chosen presence and returns its new state.
func (s *Store) SetPresence(ctx context.Context, id string, p conversation.Presence) (conversation.Agent, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.t.Agents,
		Key:                       item{"id": str(id)},
		UpdateExpression:          aws.String("SET presence = :p"),
		ConditionExpression:       aws.String("attribute_exists(id)"),
		ExpressionAttributeValues: item{":p": str(string(p))},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if conditionFailed(err) {
		return conversation.Agent{}, fmt.Errorf("set presence of %s: %w", id, conversation.ErrNotFound)
	}
	if err != nil {
		return conversation.Agent{}, fmt.Errorf("set presence of %s: %w", id, err)
	}
	return agentFrom(out.Attributes), nil
}
