package dynamo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// renderCapacity writes ConsumedCapacity as both servers report it: the
// total, and with INDEXES the table's and each index's share. (DynamoDB
// also splits them into read and write units, which DynamoDB Local does
// not; TestCapacityReadAndWriteUnits checks those.)
func renderCapacity(cs ...types.ConsumedCapacity) string {
	var parts []string
	for _, c := range cs {
		p := fmt.Sprintf("%s:%g", strings.TrimPrefix(aws.ToString(c.TableName), strings.Split(aws.ToString(c.TableName), ".")[0]+"."), aws.ToFloat64(c.CapacityUnits))
		if c.Table != nil {
			p += fmt.Sprintf(" table=%g", aws.ToFloat64(c.Table.CapacityUnits))
		}
		var ix []string
		for n, x := range c.GlobalSecondaryIndexes {
			ix = append(ix, fmt.Sprintf("%s=%g", n, aws.ToFloat64(x.CapacityUnits)))
		}
		for n, x := range c.LocalSecondaryIndexes {
			ix = append(ix, fmt.Sprintf("%s=%g", n, aws.ToFloat64(x.CapacityUnits)))
		}
		sort.Strings(ix)
		if len(ix) > 0 {
			p += " " + strings.Join(ix, " ")
		}
		parts = append(parts, p)
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, "; ") + "]"
}

func one(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}

// ConsumedCapacity of every kind of request, by item size, index and
// consistency.
func TestParityCapacity(t *testing.T) {
	k := func(pk string) map[string]types.AttributeValue { return item("pk", pk, "sk", 1) }
	big := func(n int) string { return strings.Repeat("x", n) }
	def := tableDefinition{hash: "pk:S", rng: "sk:N", gsis: []gsiSpec{{name: "byG", hash: "g:S"}, {name: "keysG", hash: "h:S", proj: types.ProjectionTypeKeysOnly}},
		lsis: []gsiSpec{{name: "byL", rng: "l:S", proj: types.ProjectionTypeKeysOnly}}}
	for _, mode := range []types.ReturnConsumedCapacity{types.ReturnConsumedCapacityTotal, types.ReturnConsumedCapacityIndexes} {
		runParity(t, []parityCase{
			{name: "writes " + string(mode), run: func(ctx context.Context, s *side) {
				tbl := s.create(ctx, "t", def)
				put := func(what string, it map[string]types.AttributeValue, cond string) {
					out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl), Item: it, ReturnConsumedCapacity: mode, ConditionExpression: optional(cond)})
					if err != nil {
						s.record("PutItem "+what, nil, err)
						return
					}
					s.note("PutItem %s: %s", what, renderCapacity(one(out.ConsumedCapacity)...))
				}
				put("new, small", item("pk", "a", "sk", 1, "v", "x"), "")
				put("new, in every index", item("pk", "b", "sk", 1, "g", "g1", "h", "h1", "l", "l1", "v", big(1500)), "")
				put("same again", item("pk", "b", "sk", 1, "g", "g1", "h", "h1", "l", "l1", "v", big(1500)), "")
				put("over it, other index keys", item("pk", "b", "sk", 1, "g", "g2", "h", "h1", "v", big(3000)), "")
				put("over it, out of the indexes", item("pk", "b", "sk", 1, "v", big(10)), "")
				put("failing its condition", item("pk", "b", "sk", 1, "v", big(5000)), "attribute_not_exists(pk)")
				put("of 5 KB", item("pk", "c", "sk", 1, "v", big(5000), "g", "g1"), "")
				upd := func(what string, key map[string]types.AttributeValue, u, cond string, vals map[string]types.AttributeValue) {
					out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(tbl), Key: key, UpdateExpression: aws.String(u), ConditionExpression: optional(cond),
						ExpressionAttributeValues: vals, ReturnConsumedCapacity: mode})
					if err != nil {
						s.record("UpdateItem "+what, nil, err)
						return
					}
					s.note("UpdateItem %s: %s", what, renderCapacity(one(out.ConsumedCapacity)...))
				}
				upd("of a non-key attribute", k("c"), "SET w = :v", "", item(":v", "y"))
				upd("of an index key", k("c"), "SET g = :v", "", item(":v", "g9"))
				upd("into a keys-only index", k("c"), "SET h = :v", "", item(":v", "h9"))
				upd("creating an item", k("d"), "SET v = :v", "", item(":v", big(2000)))
				upd("failing its condition", k("d"), "SET v = :v", "attribute_not_exists(pk)", item(":v", "z"))
				del := func(what string, key map[string]types.AttributeValue) {
					out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(tbl), Key: key, ReturnConsumedCapacity: mode})
					if err != nil {
						s.record("DeleteItem "+what, nil, err)
						return
					}
					s.note("DeleteItem %s: %s", what, renderCapacity(one(out.ConsumedCapacity)...))
				}
				del("of an item in two indexes", k("c"))
				del("of a missing item", k("zz"))
				bw, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{ReturnConsumedCapacity: mode, RequestItems: map[string][]types.WriteRequest{tbl: {
					{PutRequest: &types.PutRequest{Item: item("pk", "e", "sk", 1, "g", "g1", "v", big(1100))}},
					{PutRequest: &types.PutRequest{Item: item("pk", "f", "sk", 1)}},
					{DeleteRequest: &types.DeleteRequest{Key: k("a")}}}}})
				if err == nil {
					s.note("BatchWriteItem: %s", renderCapacity(bw.ConsumedCapacity...))
				} else {
					s.record("BatchWriteItem", nil, err)
				}
			}},
			{name: "reads " + string(mode), run: func(ctx context.Context, s *side) {
				tbl := s.create(ctx, "t", def)
				for i := range 10 {
					s.seed(ctx, tbl, item("pk", "p", "sk", i, "g", "g1", "h", "h1", "l", fmt.Sprint("l", i), "v", big(i*1000)))
				}
				get := func(what string, key map[string]types.AttributeValue, consistent bool, proj string) {
					out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: key, ConsistentRead: aws.Bool(consistent), ProjectionExpression: optional(proj), ReturnConsumedCapacity: mode})
					if err != nil {
						s.record("GetItem "+what, nil, err)
						return
					}
					s.note("GetItem %s: %s", what, renderCapacity(one(out.ConsumedCapacity)...))
				}
				get("of 9 KB, consistent", item("pk", "p", "sk", 9), true, "")
				get("of 9 KB, eventually consistent", item("pk", "p", "sk", 9), false, "")
				get("of 9 KB, projected", item("pk", "p", "sk", 9), true, "sk")
				get("of a missing item", item("pk", "q", "sk", 9), true, "")
				get("of a missing item, eventually consistent", item("pk", "q", "sk", 9), false, "")
				query := func(what string, in *dynamodb.QueryInput) {
					in.TableName, in.ReturnConsumedCapacity = aws.String(tbl), mode
					out, err := s.db.Query(ctx, in)
					if err != nil {
						s.record("Query "+what, nil, err)
						return
					}
					s.note("Query %s: count %d, %s", what, out.Count, renderCapacity(one(out.ConsumedCapacity)...))
				}
				pk := item(":p", "p")
				query("of the partition", &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pk})
				query("of the partition, consistent", &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pk, ConsistentRead: aws.Bool(true)})
				query("by 3", &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pk, Limit: aws.Int32(3)})
				query("filtered", &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("sk = :one OR size(v) > :big"), ExpressionAttributeValues: item(":p", "p", ":one", 1, ":big", 8000)})
				query("of the global index", &dynamodb.QueryInput{IndexName: aws.String("byG"), KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: item(":g", "g1")})
				query("of the keys-only global index", &dynamodb.QueryInput{IndexName: aws.String("keysG"), KeyConditionExpression: aws.String("h = :h"), ExpressionAttributeValues: item(":h", "h1")})
				query("of the local index", &dynamodb.QueryInput{IndexName: aws.String("byL"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pk})
				query("of the local index, fetching", &dynamodb.QueryInput{IndexName: aws.String("byL"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pk, Select: types.SelectAllAttributes})
				scan := func(what string, in *dynamodb.ScanInput) {
					in.TableName, in.ReturnConsumedCapacity = aws.String(tbl), mode
					out, err := s.db.Scan(ctx, in)
					if err != nil {
						s.record("Scan "+what, nil, err)
						return
					}
					s.note("Scan %s: count %d, %s", what, out.Count, renderCapacity(one(out.ConsumedCapacity)...))
				}
				scan("of the table", &dynamodb.ScanInput{})
				scan("of the table, consistent", &dynamodb.ScanInput{ConsistentRead: aws.Bool(true)})
				scan("of the global index", &dynamodb.ScanInput{IndexName: aws.String("byG")})
				bg, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{ReturnConsumedCapacity: mode, RequestItems: map[string]types.KeysAndAttributes{
					tbl: {Keys: []map[string]types.AttributeValue{item("pk", "p", "sk", 9), item("pk", "p", "sk", 1)}}}})
				if err == nil {
					s.note("BatchGetItem: %s", renderCapacity(bg.ConsumedCapacity...))
				} else {
					s.record("BatchGetItem", nil, err)
				}
				tg, err := s.db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{ReturnConsumedCapacity: mode, TransactItems: []types.TransactGetItem{
					{Get: &types.Get{TableName: aws.String(tbl), Key: item("pk", "p", "sk", 9)}}, {Get: &types.Get{TableName: aws.String(tbl), Key: item("pk", "q", "sk", 1)}}}})
				if err == nil {
					s.note("TransactGetItems: %s", renderCapacity(tg.ConsumedCapacity...))
				} else {
					s.record("TransactGetItems", nil, err)
				}
			}},
			{name: "where DynamoDB Local departs from the developer guide " + string(mode),
				known: "DynamoDB Local charges a transaction's writes four times and its condition checks nothing, and a Query of nothing or a BatchGetItem of a missing item nothing; the store charges as the developer guide says: twice, condition checks as transactional reads, and a read of nothing its minimum",
				run: func(ctx context.Context, s *side) {
					tbl := s.create(ctx, "t", def)
					s.seed(ctx, tbl, item("pk", "b", "sk", 1), item("pk", "e", "sk", 1, "g", "g1", "v", big(1100)), item("pk", "f", "sk", 1))
					tw, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ReturnConsumedCapacity: mode, TransactItems: []types.TransactWriteItem{
						{Put: &types.Put{TableName: aws.String(tbl), Item: item("pk", "t1", "sk", 1, "g", "g1", "v", big(1500))}},
						{Update: &types.Update{TableName: aws.String(tbl), Key: k("e"), UpdateExpression: aws.String("SET h = :h"), ExpressionAttributeValues: item(":h", "h2")}},
						{Delete: &types.Delete{TableName: aws.String(tbl), Key: k("f")}},
						{ConditionCheck: &types.ConditionCheck{TableName: aws.String(tbl), Key: k("b"), ConditionExpression: aws.String("attribute_exists(pk)")}}}})
					if err == nil {
						s.note("TransactWriteItems: %s", renderCapacity(tw.ConsumedCapacity...))
					} else {
						s.record("TransactWriteItems", nil, err)
					}
					q, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: item(":p", "none"), ReturnConsumedCapacity: mode})
					if err == nil {
						s.note("Query of nothing: %s", renderCapacity(one(q.ConsumedCapacity)...))
					} else {
						s.record("Query of nothing", nil, err)
					}
					bg, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{ReturnConsumedCapacity: mode, RequestItems: map[string]types.KeysAndAttributes{
						tbl: {Keys: []map[string]types.AttributeValue{item("pk", "q", "sk", 1)}}}})
					if err == nil {
						s.note("BatchGetItem: %s", renderCapacity(bg.ConsumedCapacity...))
					} else {
						s.record("BatchGetItem", nil, err)
					}
				}},
		})
	}
}
