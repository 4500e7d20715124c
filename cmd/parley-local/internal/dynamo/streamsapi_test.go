package dynamo

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// The embedded store answers the DynamoDB Streams API, so the stream reader
// built for DynamoDB Local and AWS reads it the same way.
func TestStreamsAPI(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	ctx := context.Background()
	out := createTable(t, db, tableSpec{name: "items", stream: types.StreamViewTypeNewAndOldImages})
	arn := out.TableDescription.LatestStreamArn
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	api := dynamodbstreams.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	list, err := api.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("items")})
	if err != nil || len(list.Streams) != 1 || *list.Streams[0].StreamArn != *arn {
		t.Fatalf("ListStreams = %+v, %v", list, err)
	}
	desc, err := api.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil || len(desc.StreamDescription.Shards) != 1 || desc.StreamDescription.StreamStatus != stypes.StreamStatusEnabled {
		t.Fatalf("DescribeStream = %+v, %v", desc, err)
	}
	shard := desc.StreamDescription.Shards[0].ShardId
	latest, err := api.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: shard, ShardIteratorType: stypes.ShardIteratorTypeLatest})
	if err != nil {
		t.Fatal(err)
	}
	put(t, db, "items", map[string]types.AttributeValue{"pk": str("a"), "v": num(1)})
	put(t, db, "items", map[string]types.AttributeValue{"pk": str("a"), "v": num(2)})
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items"), Key: map[string]types.AttributeValue{"pk": str("a")}}); err != nil {
		t.Fatal(err)
	}
	page, err := api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: latest.ShardIterator, Limit: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 || page.Records[0].EventName != stypes.OperationTypeInsert || page.Records[1].EventName != stypes.OperationTypeModify {
		t.Fatalf("first page = %+v", page.Records)
	}
	old := page.Records[1].Dynamodb.OldImage["v"].(*stypes.AttributeValueMemberN).Value
	if old != "1" {
		t.Fatalf("MODIFY old image v = %s; want 1", old)
	}
	next, err := api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: page.NextShardIterator})
	if err != nil || len(next.Records) != 1 || next.Records[0].EventName != stypes.OperationTypeRemove {
		t.Fatalf("second page = %+v, %v", next, err)
	}
	empty, err := api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: next.NextShardIterator})
	if err != nil || len(empty.Records) != 0 || empty.NextShardIterator == nil {
		t.Fatalf("caught up = %+v, %v; want no records and an iterator to poll", empty, err)
	}
	// AFTER_SEQUENCE_NUMBER re-reads from a position (a retried batch).
	after, err := api.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: shard,
		ShardIteratorType: stypes.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: page.Records[0].Dynamodb.SequenceNumber})
	if err != nil {
		t.Fatal(err)
	}
	again, err := api.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: after.ShardIterator})
	if err != nil || len(again.Records) != 2 {
		t.Fatalf("after the first record = %+v, %v; want 2", again, err)
	}
	if _, err := api.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(*arn + "x")}); err == nil {
		t.Fatal("DescribeStream of an unknown stream succeeded")
	}
}
