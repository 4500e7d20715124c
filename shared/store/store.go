// Package store keeps Parley's conversations, messages, connections,
// customers, agents and settings in DynamoDB through aws-sdk-go-v2. It
// translates DynamoDB's condition failures into the conversation package's
// sentinels at this boundary, so callers never see a DynamoDB error type.
//
// Every state change of a conversation is a conditional write on its
// version (optimistic locking); every change that also moves agent capacity
// or the customer's open-conversation pointer is one TransactWriteItems, so
// racing requests never over-assign and a failed request writes nothing.
package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DB is the part of the DynamoDB client the store uses; *dynamodb.Client
// satisfies it.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Tables names the tables (template.yaml's, via the functions' environment).
type Tables struct {
	Conversations, Messages, Connections, Customers, Agents, Settings string
}

// TablesFromEnv reads the table names from the functions' environment.
func TablesFromEnv(getenv func(string) string) Tables {
	return Tables{
		Conversations: getenv("CONVERSATIONS_TABLE"),
		Messages:      getenv("MESSAGES_TABLE"),
		Connections:   getenv("CONNECTIONS_TABLE"),
		Customers:     getenv("CUSTOMERS_TABLE"),
		Agents:        getenv("AGENTS_TABLE"),
		Settings:      getenv("SETTINGS_TABLE"),
	}
}

// Store is Parley's DynamoDB store.
type Store struct {
	db     DB
	t      Tables
	now    func() time.Time
	retain time.Duration // message retention (TTL)
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used for TTLs.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithRetention sets how long messages are kept (DynamoDB TTL); 0 keeps them forever.
func WithRetention(d time.Duration) Option { return func(s *Store) { s.retain = d } }

// New returns a store over db using tables.
func New(db DB, tables Tables, opts ...Option) *Store {
	s := &Store{db: aliasDB{db}, t: tables, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Tables returns the table names the store uses.
func (s *Store) Tables() Tables { return s.t }

// cancelled returns the cancellation reason codes of a cancelled
// transaction, in request order, or nil when err is not a cancellation.
func cancelled(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		if r.Code != nil {
			codes[i] = *r.Code
		}
	}
	if len(codes) == 0 {
		// Some servers leave the reasons out; read the message instead
		// ("Transaction cancelled, please refer cancellation reasons for
		// specific reasons [None, ConditionalCheckFailed]").
		msg := tce.ErrorMessage()
		if i := strings.LastIndex(msg, "["); i >= 0 {
			for _, c := range strings.Split(strings.Trim(msg[i:], "[]"), ",") {
				codes = append(codes, strings.TrimSpace(c))
			}
		}
	}
	return codes
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func transactionConflict(codes []string) bool {
	for _, c := range codes {
		if c == "TransactionConflict" {
			return true
		}
	}
	return false
}

// timeString formats t as DynamoDB keeps times here: UTC, milliseconds,
// fixed width, so strings sort as times (GSI range keys depend on it).
func timeString(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func parseTime(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05.000Z", s)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t
}

// batchGet reads req with BatchGetItem until no key is left unprocessed,
// backing off before each retry as DynamoDB asks callers to, and hands each
// table's items to got as they come.
func (s *Store) batchGet(ctx context.Context, req map[string]types.KeysAndAttributes, got func(table string, items []map[string]types.AttributeValue) error) error {
	for try := 0; len(req) > 0; try++ {
		if try > 0 {
			t := time.NewTimer(time.Duration(1<<min(try, 7)) * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return err
		}
		for table, items := range out.Responses {
			if err := got(table, items); err != nil {
				return err
			}
		}
		req = out.UnprocessedKeys
	}
	return nil
}
