package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/cmd/parley-local/localtest"
	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
	"github.com/parley-chat/parley/shared/conversation"
)

// The conversations table's indexes before they held keys only: each
// projected the whole item, and two were keyed on updatedAt, which every
// send moves.
var olderIndexes = []types.CreateGlobalSecondaryIndexAction{
	{IndexName: aws.String("byAgent"), KeySchema: keys("agentOpen", "updatedAt"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
	{IndexName: aws.String("queue"), KeySchema: keys("queueKey", "queuedAt"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
	{IndexName: aws.String("byStatus"), KeySchema: keys("openStatus", "updatedAt"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
}

func keys(hash, rng string) []types.KeySchemaElement {
	return []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(rng), KeyType: types.KeyTypeRange}}
}

// A table written with the older indexes (a data directory of an earlier
// local stack) gets the template's on the next start, backfilled: what was
// stored before is found through them.
func TestOlderIndexesAreReplaced(t *testing.T) {
	db, tables := localtest.DynamoDBAlone(t)
	w := worldOf(t, db, tables)
	alice, carol, bob := customer("alice"), customer("carol"), agent("bob")
	w.connectAgent(bob.ID, "b1", 3, t0)
	queued := w.create(alice, t0)
	active := w.create(carol, t0.Add(time.Second))
	w.assign(active.ID, bob.ID, t0.Add(2*time.Second))

	table := aws.String(w.tables.Conversations)
	for _, ix := range indexesOf(t, w.db, table) {
		updateTable(t, w.db, &dynamodb.UpdateTableInput{TableName: table,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: ix.IndexName}}}})
	}
	for _, ix := range olderIndexes {
		var defs []types.AttributeDefinition
		for _, k := range ix.KeySchema {
			defs = append(defs, types.AttributeDefinition{AttributeName: k.AttributeName, AttributeType: types.ScalarAttributeTypeS})
		}
		updateTable(t, w.db, &dynamodb.UpdateTableInput{TableName: table, AttributeDefinitions: defs,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &ix}}})
	}
	if _, err := w.s.Queue(w.ctx, queued.Workstream, 10); err == nil {
		t.Fatal("Queue on the older indexes = <nil>; want an error naming the missing index")
	}

	localtest.ApplyTemplate(t, w.db, strings.TrimSuffix(w.tables.Conversations, "-conversations"))

	var names []string
	for _, ix := range indexesOf(t, w.db, table) {
		names = append(names, aws.ToString(ix.IndexName))
		if ix.Projection == nil || ix.Projection.ProjectionType != types.ProjectionTypeKeysOnly {
			t.Errorf("index %s projects %v; want KEYS_ONLY", aws.ToString(ix.IndexName), ix.Projection)
		}
	}
	if slices.Sort(names); !slices.Equal(names, []string{"byAgentKeys", "byStatusKeys", "queueKeys"}) {
		t.Errorf("indexes after the start = %v; want the template's", names)
	}
	q, err := w.s.Queue(w.ctx, queued.Workstream, 10)
	if err != nil || len(q) != 1 || q[0].ID != queued.ID {
		t.Errorf("Queue = %v, %v; want [%s]", ids(q), err, queued.ID)
	}
	mine, err := w.s.AgentConversations(w.ctx, bob.ID)
	if err != nil || len(mine) != 1 || mine[0].ID != active.ID || mine[0].Status != conversation.Active {
		t.Errorf("AgentConversations(bob) = %v, %v; want [%s], active", ids(mine), err, active.ID)
	}
	st, err := w.s.ByStatus(w.ctx, conversation.Active)
	if err != nil || len(st) != 1 || st[0].ID != active.ID {
		t.Errorf("ByStatus(active) = %v, %v; want [%s]", ids(st), err, active.ID)
	}
}

func indexesOf(t *testing.T, db *dynamodb.Client, table *string) []types.GlobalSecondaryIndexDescription {
	t.Helper()
	out, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: table})
	if err != nil {
		t.Fatal(err)
	}
	return out.Table.GlobalSecondaryIndexes
}

// updateTable makes one index change and waits for the table to take it.
func updateTable(t *testing.T, db *dynamodb.Client, in *dynamodb.UpdateTableInput) {
	t.Helper()
	if _, err := db.UpdateTable(t.Context(), in); err != nil {
		t.Fatalf("UpdateTable(%s): %v", aws.ToString(in.TableName), err)
	}
	poll.Until(t, "the table and its indexes to be ACTIVE", func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
		if err != nil || out.Table.TableStatus != types.TableStatusActive {
			return false
		}
		for _, ix := range out.Table.GlobalSecondaryIndexes {
			if ix.IndexStatus != types.IndexStatusActive {
				return false
			}
		}
		return true
	})
}
