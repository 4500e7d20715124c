package dynamo

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// pages runs a query page by page, following LastEvaluatedKey, and writes
// every page into the transcript.
func (s *side) pages(ctx context.Context, what string, in dynamodb.QueryInput) {
	for page := 1; page <= 20; page++ {
		out, err := s.db.Query(ctx, &in)
		s.record(fmt.Sprintf("Query %s page %d", what, page), out, err)
		if err != nil || out.LastEvaluatedKey == nil {
			return
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Query: key conditions, order, paging, filters, counts and indexes.
func TestParityQueries(t *testing.T) {
	v := func(kv ...any) map[string]types.AttributeValue { return item(kv...) }
	q := func(tbl, key string, vals map[string]types.AttributeValue) dynamodb.QueryInput {
		return dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String(key), ExpressionAttributeValues: vals}
	}
	messages := func(ctx context.Context, s *side, rng string) string {
		tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: rng})
		for i := 1; i <= 12; i++ {
			var sk any = i
			if rng == "sk:S" {
				sk = fmt.Sprintf("m%d", i) // m1, m10, m11, m12, m2...: text order
			}
			it := item("pk", "c1", "sk", sk, "odd", i%2 == 1)
			s.seed(ctx, tbl, it)
		}
		s.seed(ctx, tbl, item("pk", "c2", "sk", av(map[bool]any{true: 1, false: "m1"}[rng == "sk:N"])))
		return tbl
	}
	paging := func(rng string) func(ctx context.Context, s *side) {
		return func(ctx context.Context, s *side) {
			tbl := messages(ctx, s, rng)
			in := q(tbl, "pk = :c", v(":c", "c1"))
			in.Limit = aws.Int32(5)
			s.pages(ctx, "forward by 5", in)
			in.ScanIndexForward = aws.Bool(false)
			s.pages(ctx, "backward by 5", in)
			in.Limit = aws.Int32(4)
			s.pages(ctx, "backward by 4", in)
			lo, hi := any(3), any(9)
			if rng == "sk:S" {
				lo, hi = "m3", "m9"
			}
			in = q(tbl, "pk = :c AND sk BETWEEN :lo AND :hi", v(":c", "c1", ":lo", lo, ":hi", hi))
			in.Limit = aws.Int32(2)
			s.pages(ctx, "between by 2", in)
			in = q(tbl, "pk = :c AND sk > :lo", v(":c", "c1", ":lo", lo))
			in.ScanIndexForward, in.Limit = aws.Bool(false), aws.Int32(3)
			s.pages(ctx, "greater, backward by 3", in)
		}
	}
	runParity(t, []parityCase{
		{name: "paging on a string sort key", run: paging("sk:S")},
		{name: "paging on a number sort key", run: paging("sk:N")},
		{name: "key conditions", run: func(ctx context.Context, s *side) {
			tbl := messages(ctx, s, "sk:S")
			for _, c := range []struct {
				key  string
				vals map[string]types.AttributeValue
			}{
				{"pk = :c AND begins_with(sk, :p)", v(":c", "c1", ":p", "m1")},
				{"pk = :c AND sk <= :m", v(":c", "c1", ":m", "m2")},
				{"sk = :m AND pk = :c", v(":c", "c1", ":m", "m2")},
				{"pk = :c OR sk = :m", v(":c", "c1", ":m", "m2")},
				{"sk = :m", v(":m", "m2")},
				{"odd = :t AND pk = :c", v(":c", "c1", ":t", true)},
				{"pk = :c AND sk <> :m", v(":c", "c1", ":m", "m2")},
				{"pk > :c", v(":c", "c1")},
				{"pk = :c AND size(sk) = :two", v(":c", "c1", ":two", 2)},
				{"pk = :c", v(":c", "c1", ":unused", 1)},
			} {
				s.pages(ctx, c.key, q(tbl, c.key, c.vals))
			}
		}},
		{name: "filter applied after limit", run: func(ctx context.Context, s *side) {
			tbl := messages(ctx, s, "sk:N")
			in := q(tbl, "pk = :c", v(":c", "c1", ":t", true))
			in.FilterExpression, in.Limit = aws.String("odd = :t"), aws.Int32(3)
			s.pages(ctx, "odd by 3", in)
			in.FilterExpression = aws.String("sk = :t")
			s.pages(ctx, "filter on the key", in)
		}},
		{name: "select count", run: func(ctx context.Context, s *side) {
			tbl := messages(ctx, s, "sk:N")
			in := q(tbl, "pk = :c", v(":c", "c1", ":t", true))
			in.Select = types.SelectCount
			in.FilterExpression = aws.String("odd = :t")
			s.pages(ctx, "count odd", in)
			in.Limit = aws.Int32(5)
			s.pages(ctx, "count odd by 5", in)
			in.FilterExpression, in.ExpressionAttributeValues = nil, v(":c", "c1")
			s.pages(ctx, "count all by 5", in)
		}},
		{name: "projection", run: func(ctx context.Context, s *side) {
			tbl := messages(ctx, s, "sk:N")
			in := q(tbl, "pk = :c", v(":c", "c1"))
			in.ProjectionExpression, in.Limit = aws.String("sk"), aws.Int32(4)
			s.pages(ctx, "sk only by 4", in)
			in.ScanIndexForward = aws.Bool(false)
			s.pages(ctx, "sk only backward by 4", in)
		}},
		{name: "global index", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", gsis: []gsiSpec{{name: "byAgent", hash: "agent:S", rng: "at:N"}, {name: "byStatus", hash: "st:S"}}})
			for i := 1; i <= 12; i++ {
				it := item("pk", fmt.Sprint("c", i), "at", 13-i)
				if i%3 != 0 {
					it["agent"] = str("ag1")
				}
				if i%4 == 0 {
					it["st"] = str("waiting")
				}
				s.seed(ctx, tbl, it)
			}
			in := dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String("byAgent"), KeyConditionExpression: aws.String("agent = :a"),
				ExpressionAttributeValues: v(":a", "ag1"), Limit: aws.Int32(3)}
			s.pages(ctx, "sparse index by 3", in)
			in.ScanIndexForward = aws.Bool(false)
			in.KeyConditionExpression, in.ExpressionAttributeValues = aws.String("agent = :a AND at < :t"), v(":a", "ag1", ":t", 10)
			s.pages(ctx, "sparse index backward", in)
			// Items that share a partition key and have no sort key come in
			// no defined order: compare them as a set.
			hashOnly, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String("byStatus"),
				KeyConditionExpression: aws.String("st = :s"), ExpressionAttributeValues: v(":s", "waiting")})
			if err == nil {
				s.note("Query hash only index: count=%d items=%s", hashOnly.Count, renderItems(hashOnly.Items, true))
			} else {
				s.record("Query hash only index", nil, err)
			}
			in = dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String("byStatus"), ConsistentRead: aws.Bool(true),
				KeyConditionExpression: aws.String("st = :s"), ExpressionAttributeValues: v(":s", "waiting")}
			s.pages(ctx, "consistent read on a global index", in)
			in.IndexName, in.ConsistentRead = aws.String("missing"), nil
			s.pages(ctx, "missing index", in)
			// an update moves an item in and out of the sparse index
			s.updateItem(ctx, tbl, item("pk", "c3"), expr{update: "SET agent = :a", vals: v(":a", "ag1")})
			s.updateItem(ctx, tbl, item("pk", "c1"), expr{update: "REMOVE agent"})
			s.pages(ctx, "sparse index after updates", dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String("byAgent"),
				KeyConditionExpression: aws.String("agent = :a"), ExpressionAttributeValues: v(":a", "ag1")})
		}},
		{name: "scan", run: func(ctx context.Context, s *side) {
			tbl := messages(ctx, s, "sk:N")
			out, err := s.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(tbl), FilterExpression: aws.String("odd = :t"), ExpressionAttributeValues: v(":t", true)})
			s.record("Scan odd", out, err)
			out, err = s.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(tbl), Select: types.SelectCount})
			s.record("Scan count", out, err)
		}},
		{name: "scan with limit and filter", run: func(ctx context.Context, s *side) {
			tbl := messages(ctx, s, "sk:N")
			in := &dynamodb.ScanInput{TableName: aws.String(tbl), FilterExpression: aws.String("odd = :t"), ExpressionAttributeValues: v(":t", true), Limit: aws.Int32(13)}
			out, err := s.db.Scan(ctx, in)
			s.record("Scan odd, 13 read", out, err)
			in.Limit = aws.Int32(4)
			total := 0
			for range 10 {
				out, err := s.db.Scan(ctx, in)
				if err != nil {
					s.record("Scan odd by 4", out, err)
					break
				}
				total += int(out.Count)
				if out.LastEvaluatedKey == nil {
					break
				}
				in.ExclusiveStartKey = out.LastEvaluatedKey
			}
			s.note("Scan odd by 4: %d items in all", total)
		}},
	})
}
