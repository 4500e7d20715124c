package dynamo

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTable's validation, and the errors for tables that are not there.
func TestParityTables(t *testing.T) {
	def := func(n string, typ types.ScalarAttributeType) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: typ}
	}
	key := func(n string, kt types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(n), KeyType: kt}
	}
	create := func(name string, defs []types.AttributeDefinition, keys ...types.KeySchemaElement) func(ctx context.Context, s *side) {
		return func(ctx context.Context, s *side) {
			if name == "" {
				name = s.table("t")
			}
			out, err := s.db.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
				AttributeDefinitions: defs, KeySchema: keys,
			})
			s.record("CreateTable", out, err)
		}
	}
	pk := []types.AttributeDefinition{def("pk", types.ScalarAttributeTypeS)}
	runParity(t, []parityCase{
		{name: "name of two characters", run: create("ab", pk, key("pk", types.KeyTypeHash))},
		{name: "name with a space", run: create("has space", pk, key("pk", types.KeyTypeHash))},
		{name: "name of 256 characters", run: create(strings.Repeat("n", 256), pk, key("pk", types.KeyTypeHash))},
		{name: "hash and range", run: create("", []types.AttributeDefinition{def("pk", types.ScalarAttributeTypeS), def("sk", types.ScalarAttributeTypeN)},
			key("pk", types.KeyTypeHash), key("sk", types.KeyTypeRange))},
		{name: "key attribute not defined", run: create("", pk, key("id", types.KeyTypeHash))},
		{name: "defined attribute not in any key", run: create("", []types.AttributeDefinition{def("pk", types.ScalarAttributeTypeS), def("extra", types.ScalarAttributeTypeS)},
			key("pk", types.KeyTypeHash))},
		{name: "two hash keys", run: create("", []types.AttributeDefinition{def("pk", types.ScalarAttributeTypeS), def("sk", types.ScalarAttributeTypeS)},
			key("pk", types.KeyTypeHash), key("sk", types.KeyTypeHash))},
		{name: "range key only", run: create("", pk, key("pk", types.KeyTypeRange))},
		{name: "range before hash", run: create("", []types.AttributeDefinition{def("pk", types.ScalarAttributeTypeS), def("sk", types.ScalarAttributeTypeS)},
			key("sk", types.KeyTypeRange), key("pk", types.KeyTypeHash))},
		{name: "no key schema", run: create("", pk)},
		{name: "BOOL key type", run: create("", []types.AttributeDefinition{def("pk", "BOOL")}, key("pk", types.KeyTypeHash))},
		{name: "table exists", run: func(ctx context.Context, s *side) {
			s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			_, err := s.db.CreateTable(ctx, tableDefinition{hash: "pk:S"}.input(s.table("t")))
			s.record("CreateTable again", nil, err)
		}},
		{name: "missing table", run: func(ctx context.Context, s *side) {
			missing := aws.String(s.table("missing"))
			_, err := s.db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: missing})
			s.record("DescribeTable", nil, err)
			_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: missing, Item: item("pk", "a")})
			s.record("PutItem", nil, err)
			_, err = s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: missing, Key: item("pk", "a")})
			s.record("GetItem", nil, err)
			_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: missing, Key: item("pk", "a"),
				UpdateExpression: aws.String("SET a = :v"), ExpressionAttributeValues: item(":v", 1)})
			s.record("UpdateItem", nil, err)
			_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: missing, Key: item("pk", "a")})
			s.record("DeleteItem", nil, err)
			_, err = s.db.Query(ctx, &dynamodb.QueryInput{TableName: missing, KeyConditionExpression: aws.String("pk = :a"), ExpressionAttributeValues: item(":a", "a")})
			s.record("Query", nil, err)
			_, err = s.db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: missing})
			s.record("DeleteTable", nil, err)
		}},
	})
}
