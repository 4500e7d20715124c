package dynamo

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// readStream writes every record of the table's stream into the
// transcript, read through the DynamoDB Streams API from the oldest.
func (s *side) readStream(ctx context.Context, table string) {
	s.t.Helper()
	list, err := s.streams.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String(table)})
	s.must("ListStreams", err)
	if len(list.Streams) != 1 {
		s.t.Fatalf("%s: ListStreams(%s) = %d streams; want 1", s.name, table, len(list.Streams))
	}
	desc, err := s.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: list.Streams[0].StreamArn})
	s.must("DescribeStream", err)
	s.note("stream view %s", desc.StreamDescription.StreamViewType)
	for _, shard := range desc.StreamDescription.Shards {
		it, err := s.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: list.Streams[0].StreamArn,
			ShardId: shard.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		s.must("GetShardIterator", err)
		iter := it.ShardIterator
		for range 5 {
			recs, err := s.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			s.must("GetRecords", err)
			for _, r := range recs.Records {
				s.note("%s keys=%s new=%s old=%s", r.EventName, renderStreamImage(r.Dynamodb.Keys), renderStreamImage(r.Dynamodb.NewImage), renderStreamImage(r.Dynamodb.OldImage))
			}
			if len(recs.Records) == 0 || recs.NextShardIterator == nil {
				break
			}
			iter = recs.NextShardIterator
		}
	}
}

// Stream records of every kind of write, for every view type.
func TestParityStreams(t *testing.T) {
	writes := func(view types.StreamViewType) func(ctx context.Context, s *side) {
		return func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", stream: view})
			k := item("pk", "a")
			s.putItem(ctx, tbl, item("pk", "a", "n", 1, "tags", strSet("x")), expr{})
			s.putItem(ctx, tbl, item("pk", "a", "n", 1, "tags", strSet("x")), expr{})
			s.updateItem(ctx, tbl, k, expr{update: "SET n = :two", vals: item(":two", 2)})
			s.updateItem(ctx, tbl, k, expr{update: "SET n = :two", vals: item(":two", 2)})
			s.updateItem(ctx, tbl, k, expr{update: "SET n = :three", cond: "n = :one", vals: item(":three", 3, ":one", 1)})
			s.updateItem(ctx, tbl, k, expr{update: "REMOVE missing"})
			s.updateItem(ctx, tbl, k, expr{update: "DELETE tags :x", vals: item(":x", strSet("x"))})
			s.deleteItem(ctx, tbl, k, expr{})
			s.deleteItem(ctx, tbl, k, expr{})
			s.updateItem(ctx, tbl, item("pk", "b"), expr{update: "ADD c :one", vals: item(":one", 1)})
			s.transact(ctx, "put c, update b",
				types.TransactWriteItem{Put: &types.Put{TableName: aws.String(tbl), Item: item("pk", "c")}},
				types.TransactWriteItem{Update: &types.Update{TableName: aws.String(tbl), Key: item("pk", "b"),
					UpdateExpression: aws.String("ADD c :one"), ExpressionAttributeValues: item(":one", 1)}})
			s.transact(ctx, "cancelled",
				types.TransactWriteItem{Put: &types.Put{TableName: aws.String(tbl), Item: item("pk", "d")}},
				types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(tbl), Key: item("pk", "c"),
					ConditionExpression: aws.String("attribute_not_exists(pk)")}})
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{tbl: {
				{PutRequest: &types.PutRequest{Item: item("pk", "e")}}, {DeleteRequest: &types.DeleteRequest{Key: item("pk", "c")}}}}})
			s.record("BatchWriteItem", out, err)
			s.readStream(ctx, tbl)
		}
	}
	var cases []parityCase
	for _, view := range []types.StreamViewType{types.StreamViewTypeNewAndOldImages, types.StreamViewTypeNewImage, types.StreamViewTypeOldImage, types.StreamViewTypeKeysOnly} {
		cases = append(cases, parityCase{name: fmt.Sprint(view), run: writes(view)})
	}
	runParity(t, cases)
}
