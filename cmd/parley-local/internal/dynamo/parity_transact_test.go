package dynamo

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func (s *side) transact(ctx context.Context, what string, items ...types.TransactWriteItem) {
	out, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	s.record("TransactWriteItems "+what, out, err)
}

func tput(table string, it map[string]types.AttributeValue, cond string, vals map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: it, ConditionExpression: optional(cond), ExpressionAttributeValues: vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}
}

func tupdate(table string, key map[string]types.AttributeValue, update, cond string, vals map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(table), Key: key, UpdateExpression: aws.String(update),
		ConditionExpression: optional(cond), ExpressionAttributeValues: vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}
}

func tdelete(table string, key map[string]types.AttributeValue, cond string, vals map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(table), Key: key, ConditionExpression: optional(cond), ExpressionAttributeValues: vals}}
}

func tcheck(table string, key map[string]types.AttributeValue, cond string, vals map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: key, ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}
}

// TransactWriteItems, BatchWriteItem and BatchGetItem.
func TestParityTransactionsAndBatches(t *testing.T) {
	k := func(pk string) map[string]types.AttributeValue { return item("pk", pk) }
	showAll := func(ctx context.Context, s *side, tbl string, pks ...string) {
		for _, pk := range pks {
			s.show(ctx, tbl, k(pk))
		}
	}
	runParity(t, []parityCase{
		{name: "all or nothing", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", gsis: []gsiSpec{{name: "byG", hash: "g:S"}}})
			s.seed(ctx, tbl, item("pk", "a", "n", 1), item("pk", "c", "n", 3))
			s.transact(ctx, "one condition fails",
				tput(tbl, item("pk", "b", "g", "x"), "", nil),
				tupdate(tbl, k("a"), "SET n = n + :one, g = :g REMOVE gone", "", item(":one", 1, ":g", "y")),
				tcheck(tbl, k("c"), "n = :v", item(":v", 4)),
				tdelete(tbl, k("d"), "", nil))
			showAll(ctx, s, tbl, "a", "b", "c")
			s.transact(ctx, "every condition holds",
				tput(tbl, item("pk", "b", "g", "x"), "attribute_not_exists(pk)", nil),
				tupdate(tbl, k("a"), "SET n = n + :one, g = :g", "n = :v", item(":one", 1, ":g", "y", ":v", 1)),
				tcheck(tbl, k("c"), "n = :v", item(":v", 3)),
				tdelete(tbl, k("c"), "", nil))
			showAll(ctx, s, tbl, "a", "b", "c")
			out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String("byG"),
				KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: item(":g", "y")})
			s.record("Query byG", out, err)
		}},
		{name: "reasons in order with old items", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.seed(ctx, tbl, item("pk", "a", "n", 1), item("pk", "b", "n", 2))
			s.transact(ctx, "two conditions fail",
				tupdate(tbl, k("a"), "SET n = :v", "n = :old", item(":v", 9, ":old", 0)),
				tput(tbl, item("pk", "new"), "", nil),
				tput(tbl, item("pk", "b", "n", 7), "attribute_not_exists(pk)", nil),
				tcheck(tbl, k("missing"), "attribute_exists(pk)", nil))
			showAll(ctx, s, tbl, "a", "b", "new")
		}},
		{name: "two actions on one item", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.transact(ctx, "put and update a",
				tput(tbl, item("pk", "a"), "", nil),
				tupdate(tbl, k("a"), "SET n = :v", "", item(":v", 1)))
			s.transact(ctx, "check and delete a",
				tcheck(tbl, k("a"), "attribute_not_exists(pk)", nil),
				tdelete(tbl, k("a"), "", nil))
			showAll(ctx, s, tbl, "a")
		}},
		{name: "invalid action", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.transact(ctx, "second action refers to a missing table",
				tput(tbl, item("pk", "a"), "", nil),
				tput(s.table("missing"), item("pk", "a"), "", nil))
			s.transact(ctx, "second action has a bad expression",
				tput(tbl, item("pk", "a"), "", nil),
				tupdate(tbl, k("b"), "SET status = :v", "", item(":v", 1)))
			s.transact(ctx, "no actions")
			showAll(ctx, s, tbl, "a", "b")
		}},
		{name: "batch write and get", run: func(ctx context.Context, s *side) {
			t1 := s.create(ctx, "t1", tableDefinition{hash: "pk:S"})
			t2 := s.create(ctx, "t2", tableDefinition{hash: "pk:S", rng: "sk:N"})
			s.seed(ctx, t1, item("pk", "old"))
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
				t1: {{PutRequest: &types.PutRequest{Item: item("pk", "a", "n", 1)}}, {DeleteRequest: &types.DeleteRequest{Key: k("old")}}, {DeleteRequest: &types.DeleteRequest{Key: k("never")}}},
				t2: {{PutRequest: &types.PutRequest{Item: item("pk", "a", "sk", 1)}}, {PutRequest: &types.PutRequest{Item: item("pk", "a", "sk", 2, "x", "y")}}},
			}})
			s.record("BatchWriteItem", out, err)
			got, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				t1: {Keys: []map[string]types.AttributeValue{k("a"), k("old"), k("missing")}, ConsistentRead: aws.Bool(true)},
				t2: {Keys: []map[string]types.AttributeValue{item("pk", "a", "sk", 1), item("pk", "a", "sk", 2)}, ProjectionExpression: aws.String("sk, x")},
			}})
			s.record("BatchGetItem", got, err)
		}},
		{name: "batch errors", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			write := func(what string, reqs map[string][]types.WriteRequest) {
				out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: reqs})
				s.record("BatchWriteItem "+what, out, err)
			}
			put := func(it map[string]types.AttributeValue) types.WriteRequest {
				return types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
			}
			write("duplicate keys", map[string][]types.WriteRequest{tbl: {put(item("pk", "a")), put(item("pk", "a", "n", 1))}})
			write("missing table", map[string][]types.WriteRequest{tbl: {put(item("pk", "b"))}, s.table("missing"): {put(item("pk", "b"))}})
			write("bad key in the second request", map[string][]types.WriteRequest{tbl: {put(item("pk", "c")), put(item("id", "c"))}})
			var many []types.WriteRequest
			for i := range 26 {
				many = append(many, put(item("pk", fmt.Sprint("m", i))))
			}
			write("26 requests", map[string][]types.WriteRequest{tbl: many})
			showAll(ctx, s, tbl, "a", "b", "c", "m0")
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				tbl: {Keys: []map[string]types.AttributeValue{k("a"), k("a")}}}})
			s.record("BatchGetItem duplicate keys", out, err)
			out, err = s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				s.table("missing"): {Keys: []map[string]types.AttributeValue{k("a")}}}})
			s.record("BatchGetItem missing table", out, err)
		}},
	})
}
