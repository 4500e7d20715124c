package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
	"github.com/parley-chat/parley/shared/wire"
)

// target is the stack a scenario runs against, and what this command may
// do to it besides WebSocket traffic.
type target struct {
	base, backend string
	db            *dynamodb.Client // the stack's store, as an operator's tools reach it
	cpu           func() float64   // the stack process's CPU seconds so far (-1: unknown)
	// setCapacity stores the capacity new agents get (the settings'
	// agentDefaults, as `parleyctl apply` stores it); nil: leave it.
	setCapacity func(context.Context, int) error
}

// stackName is the local stack's AWS::StackName; its tables are
// "<stackName>-conversations" and so on (template.yaml).
const stackName = "parley"

func tables() store.Tables {
	return store.Tables{
		Conversations: stackName + "-conversations", Messages: stackName + "-messages",
		Connections: stackName + "-connections", Customers: stackName + "-customers",
		Agents: stackName + "-agents", Settings: stackName + "-settings",
	}
}

// dynamoClient is an SDK client for the stack's store endpoint with the
// local stack's credentials (DynamoDB Local keeps data per access key).
func dynamoClient(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("parleylocal", "parleylocal", ""),
		HTTPClient:  &http.Client{Timeout: 30 * time.Second},
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func targetOf(s *localStack) target {
	t := target{base: s.base, backend: s.backend, cpu: s.cpuSeconds, db: dynamoClient(s.dynamoDB)}
	st := store.New(t.db, tables())
	t.setCapacity = func(ctx context.Context, n int) error {
		if err := st.PutAgentDefaults(ctx, conversation.AgentDefaults{Capacity: n}, false); err != nil {
			return fmt.Errorf("set the agents' capacity to %d: %w", n, err)
		}
		return nil
	}
	return t
}

// discard is the pusher of the pre-fill's service: pre-filled customers
// have no connection, so nothing is ever pushed; a push would be a bug.
type discard struct{}

func (discard) Post(ctx context.Context, id string, _ []byte) error {
	return fmt.Errorf("post to %s: the pre-fill has no connections", id)
}

func (discard) Disconnect(ctx context.Context, id string) error { return nil }

// prefill adds n finished conversations to the stack's store, each with
// messages messages, written by the chat service itself (the same code the
// functions run) on the stack's store: a live chat a customer opened and
// then ended. That is what a store accumulates; the sends measured after
// it go over WebSocket.
func prefill(ctx context.Context, t target, from, n, messages int) error {
	if t.db == nil {
		return errors.New("pre-fill needs the stack's store endpoint")
	}
	st := store.New(t.db, tables())
	big := conversation.Limit{Burst: 1e9, Rate: 1e9}
	svc := chat.New(st, discard{}, chat.Options{Log: slog.New(slog.DiscardHandler), ConnectionLimit: big, UserLimit: big})
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range 8 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(from+n) || ctx.Err() != nil {
					return
				}
				if err := prefillOne(ctx, svc, i, messages); err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

func prefillOne(ctx context.Context, svc *chat.Service, i int64, messages int) error {
	who := chat.Caller{Participant: conversation.Participant{Role: conversation.Customer, ID: "prefill-" + strconv.FormatInt(i, 10), Name: "Earlier customer"},
		Widget: "live", ConnectionID: "prefill"}
	conv := ""
	for m := range messages {
		res, err := svc.Send(ctx, who, nil, &wire.Send{ConversationID: conv, ClientMessageID: fmt.Sprintf("p%d", m), Text: "an earlier question, answered long ago"})
		if err != nil {
			return fmt.Errorf("pre-fill conversation %d: %w", i, err)
		}
		if ack, ok := res.Reply.(*wire.Ack); ok && ack.Conversation != nil {
			conv = ack.Conversation.ID
		}
	}
	if conv == "" {
		return fmt.Errorf("pre-fill conversation %d: the send's ack names no conversation", i)
	}
	if _, err := svc.Close(ctx, who, nil, &wire.Close{ConversationID: conv}); err != nil {
		return fmt.Errorf("pre-fill: close conversation %d: %w", i, err)
	}
	return nil
}

// scanCost is what the canonical AWS sample chat
// (aws-samples/simple-websockets-chat-app, sendmessage/app.js) spends per
// message on DynamoDB: it scans its connections table (ProjectionExpression
// connectionId, one page, eventually consistent) and posts the message to
// every connection it found. Measured on the same store: a table shaped as
// its onconnect handler writes it ({connectionId: S}), n items, scanned
// with ReturnConsumedCapacity.
type scanCost struct {
	Connections int     `json:"connections"`
	Requests    int     `json:"scan_requests"`
	ReadUnits   float64 `json:"read_units"`
	Pushes      int     `json:"pushes"`
	Backend     string  `json:"backend"`
}

func measureScan(ctx context.Context, t target, sizes []int) ([]scanCost, error) {
	name := "simplechat-connections-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	_, err := t.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &name,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("connectionId"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("connectionId"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		return nil, fmt.Errorf("create the sample's connections table: %w", err)
	}
	defer func() {
		_, _ = t.db.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: &name})
	}()
	var out []scanCost
	have := 0
	for _, n := range sizes {
		for have < n {
			var batch []types.WriteRequest
			for ; have < n && len(batch) < 25; have++ {
				// API Gateway connection ids are 16 characters.
				id := fmt.Sprintf("%015dA", have)
				batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"connectionId": &types.AttributeValueMemberS{Value: id}}}})
			}
			items := map[string][]types.WriteRequest{name: batch}
			for len(items) > 0 {
				res, err := t.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: items})
				if err != nil {
					return nil, fmt.Errorf("fill the sample's connections table: %w", err)
				}
				items = res.UnprocessedItems
			}
		}
		// As the sample does: one Scan, no pagination.
		res, err := t.db.Scan(ctx, &dynamodb.ScanInput{TableName: &name, ProjectionExpression: aws.String("connectionId"),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			return nil, fmt.Errorf("scan the sample's connections table: %w", err)
		}
		c := scanCost{Connections: n, Requests: 1, Pushes: len(res.Items), Backend: t.backend}
		if res.ConsumedCapacity != nil && res.ConsumedCapacity.CapacityUnits != nil {
			c.ReadUnits = *res.ConsumedCapacity.CapacityUnits
		}
		out = append(out, c)
	}
	return out, nil
}
