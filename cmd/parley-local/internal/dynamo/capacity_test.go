package dynamo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The units the developer guide gives, with the read and write split
// DynamoDB reports (DynamoDB Local reports CapacityUnits only; the parity
// cases compare those).
func TestCapacityReadAndWriteUnits(t *testing.T) {
	db := client(t, openStore(t, Options{}))
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "cap", gsi: true})
	units := func(c *types.ConsumedCapacity) (total, read, write float64) {
		if c == nil {
			t.Fatal("no ConsumedCapacity")
		}
		return aws.ToFloat64(c.CapacityUnits), aws.ToFloat64(c.ReadCapacityUnits), aws.ToFloat64(c.WriteCapacityUnits)
	}
	check := func(what string, c *types.ConsumedCapacity, total, read, write float64) {
		t.Helper()
		gt, gr, gw := units(c)
		if gt != total || gr != read || gw != write {
			t.Errorf("%s: capacity %g (read %g, write %g); want %g (read %g, write %g)", what, gt, gr, gw, total, read, write)
		}
	}
	big := strings.Repeat("x", 2500) // 3 write units, 1 read unit
	put, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("cap"), Item: map[string]types.AttributeValue{"pk": str("a"), "g": str("x"), "v": str(big)},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatal(err)
	}
	check("PutItem into the table and its index", put.ConsumedCapacity, 6, 0, 6)
	if g := put.ConsumedCapacity.GlobalSecondaryIndexes["byG"]; aws.ToFloat64(g.WriteCapacityUnits) != 3 {
		t.Errorf("byG write units = %g; want 3", aws.ToFloat64(g.WriteCapacityUnits))
	}
	get, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("cap"), Key: map[string]types.AttributeValue{"pk": str("a")}, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	check("eventually consistent GetItem", get.ConsumedCapacity, 0.5, 0.5, 0)
	tx, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal, TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("cap"), Item: map[string]types.AttributeValue{"pk": str("b"), "v": str(big)}}},
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String("cap"), Key: map[string]types.AttributeValue{"pk": str("a")}, ConditionExpression: aws.String("attribute_exists(pk)")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.ConsumedCapacity) != 1 {
		t.Fatalf("TransactWriteItems ConsumedCapacity = %v; want one table", tx.ConsumedCapacity)
	}
	// A put of 3 units, twice; a condition check reads the item (1 unit), twice.
	check("TransactWriteItems", &tx.ConsumedCapacity[0], 8, 2, 6)
	none, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("cap"), Key: map[string]types.AttributeValue{"pk": str("a")}})
	if err != nil {
		t.Fatal(err)
	}
	if none.ConsumedCapacity != nil {
		t.Errorf("GetItem without ReturnConsumedCapacity returned %+v", none.ConsumedCapacity)
	}
}

// A write refused by its condition consumes capacity in DynamoDB, though
// its error carries no ConsumedCapacity: the store says how much in a
// header, when the request asked.
func TestRefusedWriteCapacityHeader(t *testing.T) {
	s := openStore(t, Options{})
	mustServe(t, s, "CreateTable", `{"TableName":"cap","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}`)
	mustServe(t, s, "PutItem", `{"TableName":"cap","Item":{"pk":{"S":"a"}}}`)
	for _, c := range []struct {
		body, want string
	}{
		{`{"TableName":"cap","Item":{"pk":{"S":"a"}},"ConditionExpression":"attribute_not_exists(pk)","ReturnConsumedCapacity":"TOTAL"}`, "read=0,write=1"},
		{`{"TableName":"cap","Item":{"pk":{"S":"a"}},"ConditionExpression":"attribute_not_exists(pk)"}`, ""},
	} {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
		req.Header.Set("X-Amz-Target", targetPrefix+"PutItem")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || rec.Header().Get(ConsumedCapacityHeader) != c.want {
			t.Errorf("%s = %d, %s %q; want 400, %q", c.body, rec.Code, ConsumedCapacityHeader, rec.Header().Get(ConsumedCapacityHeader), c.want)
		}
	}
}
