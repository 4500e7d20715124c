package stack

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestProbeGSI(t *testing.T) {
	s := startStack(t)
	db := dynamoClient(awsConfig(Region), s.URL+"/local/dynamodb", nil)
	ctx := t.Context()
	q := func() int {
		out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("parley-agents"), IndexName: aws.String("online"), KeyConditionExpression: aws.String("onlineKey = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "online"}}})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Items)
	}
	for _, id := range []string{"a", "b"} {
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("parley-agents"), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
			UpdateExpression: aws.String("SET onlineKey = :o"), ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: "online"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("after 2 UpdateItem creates: %d", q())
	for _, id := range []string{"c", "d"} {
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: &types.Update{TableName: aws.String("parley-agents"), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}},
			UpdateExpression: aws.String("SET onlineKey = :o"), ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: "online"}}}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("after 2 tx Update creates: %d", q())
	for _, id := range []string{"e", "f"} {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("parley-agents"), Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: id}, "onlineKey": &types.AttributeValueMemberS{Value: "online"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("after 2 puts: %d", q())
}
