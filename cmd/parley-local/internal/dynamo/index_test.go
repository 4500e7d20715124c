package dynamo

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Updates that bring items into a global secondary index must leave every
// item findable on it: minidyn v0.8.2, the engine before, lost all but one.
func TestUpdatesKeepIndexesWhole(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "agents", gsi: true, stream: types.StreamViewTypeNewAndOldImages})
	byG := func(g string) []string {
		t.Helper()
		out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("agents"), IndexName: aws.String("byG"),
			KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: map[string]types.AttributeValue{":g": str(g)}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, it := range out.Items {
			ids = append(ids, sOf(it, "pk"))
		}
		sort.Strings(ids)
		return ids
	}
	set := func(pk, expr string, vals map[string]types.AttributeValue) error {
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("agents"), Key: map[string]types.AttributeValue{"pk": str(pk)},
			UpdateExpression: aws.String(expr), ExpressionAttributeValues: vals})
		return err
	}
	// New items made by updates, and one moved into the index later.
	for _, pk := range []string{"a", "b"} {
		if err := set(pk, "SET g = :g", map[string]types.AttributeValue{":g": str("online")}); err != nil {
			t.Fatal(err)
		}
	}
	put(t, db, "agents", map[string]types.AttributeValue{"pk": str("c")})
	if err := set("c", "SET g = :g", map[string]types.AttributeValue{":g": str("online")}); err != nil {
		t.Fatal(err)
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String("agents"), Key: map[string]types.AttributeValue{"pk": str("d")},
			UpdateExpression: aws.String("SET g = :g"), ExpressionAttributeValues: map[string]types.AttributeValue{":g": str("online")}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(byG("online"), ","); got != "a,b,c,d" {
		t.Fatalf("Query(byG = online) = %s; want a,b,c,d", got)
	}
	// Leaving the index, moving within it, and a failed condition.
	if err := set("b", "REMOVE g", nil); err != nil {
		t.Fatal(err)
	}
	if err := set("c", "SET g = :g", map[string]types.AttributeValue{":g": str("away")}); err != nil {
		t.Fatal(err)
	}
	err = set("a", "SET g = :g REMOVE x", map[string]types.AttributeValue{":g": str("away"), ":no": str("x")})
	if err == nil {
		// (an unused value is a ValidationException in DynamoDB; either way
		// nothing may change)
		t.Log("unused expression value accepted")
	}
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("agents"), Key: map[string]types.AttributeValue{"pk": str("d")},
		UpdateExpression: aws.String("SET g = :g"), ConditionExpression: aws.String("attribute_not_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": str("away")}})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("conditional update = %v; want ConditionalCheckFailedException", err)
	}
	online, away := strings.Join(byG("online"), ","), strings.Join(byG("away"), ",")
	if (online != "a,d" && online != "d") || !strings.Contains(away, "c") {
		t.Fatalf("after moves: online %s, away %s", online, away)
	}
	// Updates still return what UpdateItem returns, and still stream.
	out, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("agents"), Key: map[string]types.AttributeValue{"pk": str("e")},
		UpdateExpression: aws.String("SET g = :g, n = :n"), ReturnValues: types.ReturnValueAllNew,
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": str("online"), ":n": num(1)}})
	if err != nil || sOf(out.Attributes, "g") != "online" {
		t.Fatalf("UpdateItem ALL_NEW = %v, %v", out, err)
	}
	recs := readAll(t, s.Stream("agents"), "")
	if last := recs[len(recs)-1]; last.EventName != "INSERT" || last.Change.NewImage["g"].String() != "online" {
		t.Fatalf("last stream record = %+v", last)
	}
}

// REMOVE takes attributes away, alone, with SET, by #name, and inside a
// transaction (minidyn v0.8.2 kept them).
func TestUpdateRemove(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "plain"})
	put(t, db, "plain", map[string]types.AttributeValue{"pk": str("a"), "g": str("x"), "h": str("y"), "status": str("s")})
	out, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("plain"), Key: map[string]types.AttributeValue{"pk": str("a")},
		UpdateExpression: aws.String("SET z = :z REMOVE g, #s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":z": str("z")}, ReturnValues: types.ReturnValueAllNew})
	if err != nil {
		t.Fatal(err)
	}
	item := get(t, db, "plain", "a")
	_, hasG := item["g"]
	_, hasS := item["status"]
	_, retG := out.Attributes["g"]
	if hasG || hasS || sOf(item, "z") != "z" || sOf(item, "h") != "y" || retG {
		t.Fatalf("after SET z REMOVE g, status: item %v, returned %v", item, out.Attributes)
	}
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String("plain"), Key: map[string]types.AttributeValue{"pk": str("a")}, UpdateExpression: aws.String("REMOVE h")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, has := get(t, db, "plain", "a")["h"]; has {
		t.Fatal("REMOVE h in a transaction left h")
	}
}

func TestParseUpdateRemovals(t *testing.T) {
	cases := map[string]string{
		"REMOVE a":                              "a",
		"SET x = :x REMOVE a, #b ADD n :one":    "a,B",
		"remove a SET y = if_not_exists(y, :z)": "a",
		"SET a = :x":                            "",
		"REMOVE m.n, l[0], c":                   "m.n,l[0],c",
	}
	vals := ditem{":x": strValue("x"), ":z": strValue("z"), ":one": {k: kindN, s: "1"}}
	for expr, want := range cases {
		actions, err := parseUpdate(expr, newExprContext(map[string]string{"#b": "B"}, vals))
		if err != nil {
			t.Errorf("parseUpdate(%q) = %v", expr, err)
			continue
		}
		var got []string
		for _, a := range actions {
			if a.kind == actRemove {
				got = append(got, a.path.String())
			}
		}
		if strings.Join(got, ",") != want {
			t.Errorf("parseUpdate(%q) removes %q; want %q", expr, strings.Join(got, ","), want)
		}
	}
}

// Deleting a set's last element removes the attribute, as in DynamoDB.
func TestDeleteLastSetElement(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "sets"})
	upd := func(expr string) {
		t.Helper()
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("sets"), Key: map[string]types.AttributeValue{"pk": str("a")},
			UpdateExpression: aws.String(expr), ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberSS{Value: []string{"c1"}}}})
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
	}
	upd("ADD conns :c")
	upd("DELETE conns :c")
	if v, has := get(t, db, "sets", "a")["conns"]; has {
		t.Fatalf("conns after deleting its last element = %#v; want no attribute", v)
	}
	// Deleting from a set the item no longer has changes nothing.
	upd("DELETE conns :c")
	if v, has := get(t, db, "sets", "a")["conns"]; has {
		t.Fatalf("conns after deleting from a missing set = %#v; want no attribute", v)
	}
	upd("ADD conns :c")
	if ss, _ := get(t, db, "sets", "a")["conns"].(*types.AttributeValueMemberSS); ss == nil || len(ss.Value) != 1 {
		t.Fatalf("conns after adding again = %v", ss)
	}
}

// A number sort key orders numerically, and Limit, ScanIndexForward and
// ExclusiveStartKey page in that order (minidyn v0.8.2 ordered them as text).
func TestQueryNumericSortKey(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	ctx := context.Background()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String("msgs"),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("seq"), AttributeType: types.ScalarAttributeTypeN}},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("seq"), KeyType: types.KeyTypeRange}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 21; i++ {
		put(t, db, "msgs", map[string]types.AttributeValue{"pk": str("c"), "seq": num(i)})
	}
	page := func(forward bool, limit int32, start map[string]types.AttributeValue, cond string, vals map[string]types.AttributeValue) ([]string, map[string]types.AttributeValue) {
		t.Helper()
		if vals == nil {
			vals = map[string]types.AttributeValue{}
		}
		vals[":c"] = str("c")
		out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("msgs"), KeyConditionExpression: aws.String(cond),
			ExpressionAttributeValues: vals, ScanIndexForward: aws.Bool(forward), Limit: aws.Int32(limit), ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		var seqs []string
		for _, it := range out.Items {
			seqs = append(seqs, it["seq"].(*types.AttributeValueMemberN).Value)
		}
		return seqs, out.LastEvaluatedKey
	}
	got, last := page(true, 12, nil, "pk = :c", nil)
	if strings.Join(got, ",") != "1,2,3,4,5,6,7,8,9,10,11,12" || last == nil {
		t.Fatalf("forward page = %v (last %v)", got, last)
	}
	got, last = page(true, 100, last, "pk = :c", nil)
	if strings.Join(got, ",") != "13,14,15,16,17,18,19,20,21" || last != nil {
		t.Fatalf("second page = %v (last %v)", got, last)
	}
	got, _ = page(false, 5, nil, "pk = :c", nil)
	if strings.Join(got, ",") != "21,20,19,18,17" {
		t.Fatalf("newest five = %v", got)
	}
	got, _ = page(false, 3, nil, "pk = :c AND seq < :s", map[string]types.AttributeValue{":s": num(10)})
	if strings.Join(got, ",") != "9,8,7" {
		t.Fatalf("three before 10 = %v", got)
	}
}
