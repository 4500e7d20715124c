package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

func TestCreateTableName(t *testing.T) {
	db := client(t, openStore(t, Options{}))
	tests := []struct {
		name  string
		valid bool
	}{
		{"x", false},
		{"ab", false},
		{"abc", true},
		{"a.b-c_D9", true},
		{"has space", false},
		{"slash/no", false},
		{"é-accent", false},
		{strings.Repeat("n", 255), true},
		{strings.Repeat("n", 256), false},
	}
	for _, tt := range tests {
		_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
			TableName:            aws.String(tt.name),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		})
		if tt.valid && err != nil {
			t.Errorf("CreateTable(%q) = %v; want success", tt.name, err)
		}
		if !tt.valid {
			if !isValidation(err) {
				t.Errorf("CreateTable(%q) = %v; want ValidationException", tt.name, err)
			}
		}
	}
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String("abc"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	wantAPIError[*types.ResourceInUseException](t, "CreateTable(abc) again", err)
}

func TestDescribeTable(t *testing.T) {
	s := openStore(t, Options{Region: "eu-west-1", AccountID: "123456789012"})
	db := client(t, s)
	created := createTable(t, db, tableSpec{name: "conversations", rng: true, stream: types.StreamViewTypeNewAndOldImages, gsi: true})
	plain := createTable(t, db, tableSpec{name: "plain"})

	st := s.Stream("conversations")
	if st == nil {
		t.Fatal(`Stream("conversations") = nil; want a stream`)
	}
	if s.Stream("plain") != nil {
		t.Error(`Stream("plain") != nil; want nil for a table without stream`)
	}
	if !strings.HasPrefix(st.ARN(), "arn:aws:dynamodb:eu-west-1:123456789012:table/conversations/stream/") {
		t.Errorf("ARN() = %s; want the table's stream ARN", st.ARN())
	}

	out, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("conversations")})
	if err != nil {
		t.Fatalf("DescribeTable = %v", err)
	}
	for _, desc := range []*types.TableDescription{out.Table, created.TableDescription} {
		wantDefs := []string{"pk:S", "sk:S", "g:S"}
		var gotDefs []string
		for _, d := range desc.AttributeDefinitions {
			gotDefs = append(gotDefs, aws.ToString(d.AttributeName)+":"+string(d.AttributeType))
		}
		if !reflect.DeepEqual(gotDefs, wantDefs) {
			t.Errorf("AttributeDefinitions = %v; want %v", gotDefs, wantDefs)
		}
		if desc.TableStatus != types.TableStatusActive {
			t.Errorf("TableStatus = %q; want ACTIVE", desc.TableStatus)
		}
		if got := aws.ToString(desc.TableArn); got != "arn:aws:dynamodb:eu-west-1:123456789012:table/conversations" {
			t.Errorf("TableArn = %s", got)
		}
		if desc.StreamSpecification == nil || !aws.ToBool(desc.StreamSpecification.StreamEnabled) || desc.StreamSpecification.StreamViewType != types.StreamViewTypeNewAndOldImages {
			t.Errorf("StreamSpecification = %+v; want enabled NEW_AND_OLD_IMAGES", desc.StreamSpecification)
		}
		if aws.ToString(desc.LatestStreamArn) != st.ARN() || !strings.HasSuffix(st.ARN(), "/stream/"+aws.ToString(desc.LatestStreamLabel)) {
			t.Errorf("LatestStreamArn, LatestStreamLabel = %s, %s; want %s", aws.ToString(desc.LatestStreamArn), aws.ToString(desc.LatestStreamLabel), st.ARN())
		}
		if len(desc.GlobalSecondaryIndexes) != 1 || aws.ToString(desc.GlobalSecondaryIndexes[0].IndexName) != "byG" {
			t.Errorf("GlobalSecondaryIndexes = %+v; want byG", desc.GlobalSecondaryIndexes)
		}
		if desc.BillingModeSummary == nil || desc.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			t.Errorf("BillingModeSummary = %+v; want PAY_PER_REQUEST", desc.BillingModeSummary)
		}
		// DynamoDB sets TableId (DynamoDB Local does not) and each index's ARN.
		if id := aws.ToString(desc.TableId); len(id) != 36 || strings.Count(id, "-") != 4 {
			t.Errorf("TableId = %q; want a UUID", id)
		}
		if len(desc.GlobalSecondaryIndexes) == 1 && aws.ToString(desc.GlobalSecondaryIndexes[0].IndexArn) != aws.ToString(desc.TableArn)+"/index/byG" {
			t.Errorf("IndexArn = %s; want the table's ARN and /index/byG", aws.ToString(desc.GlobalSecondaryIndexes[0].IndexArn))
		}
	}
	if d := plain.TableDescription; d.StreamSpecification != nil || d.LatestStreamArn != nil {
		t.Errorf("plain table: StreamSpecification, LatestStreamArn = %+v, %v; want none", d.StreamSpecification, d.LatestStreamArn)
	}

	_, err = db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("missing")})
	wantAPIError[*types.ResourceNotFoundException](t, "DescribeTable(missing)", err)

	// The SDK's waiter polls TableStatus.
	w := dynamodb.NewTableExistsWaiter(db)
	if err := w.Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("plain")}, 5e9); err != nil {
		t.Errorf("TableExistsWaiter = %v", err)
	}
}

func TestCreateTableStreamValidation(t *testing.T) {
	db := client(t, openStore(t, Options{}))
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String("streamy"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true)},
	})
	if !isValidation(err) {
		t.Errorf("CreateTable with a stream but no view type = %v; want ValidationException", err)
	}
}

func TestUpdateTableStream(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	createTable(t, db, tableSpec{name: "later"})
	ctx := context.Background()

	out, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:           aws.String("later"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly},
	})
	if err != nil {
		t.Fatalf("UpdateTable(enable stream) = %v", err)
	}
	st := s.Stream("later")
	if st == nil || aws.ToString(out.TableDescription.LatestStreamArn) != st.ARN() {
		t.Fatalf("after enabling: Stream = %v, LatestStreamArn = %v", st, aws.ToString(out.TableDescription.LatestStreamArn))
	}
	_, err = db.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:           aws.String("later"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly},
	})
	if !isValidation(err) {
		t.Errorf("UpdateTable(enable stream again) = %v; want ValidationException", err)
	}
	if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:           aws.String("later"),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)},
	}); err != nil {
		t.Fatalf("UpdateTable(disable stream) = %v", err)
	}
	if s.Stream("later") != nil {
		t.Error("Stream after disabling != nil")
	}
	if _, err := st.Read(ctx, "", 10); !strings.Contains(errString(err), ErrClosed.Error()) {
		t.Errorf("Read on a disabled stream = %v; want ErrClosed", err)
	}
}

func TestListTables(t *testing.T) {
	db := client(t, openStore(t, Options{}))
	ctx := context.Background()
	out, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(out.TableNames) != 0 {
		t.Fatalf("ListTables on an empty store = %v, %v; want none", out, err)
	}
	for _, n := range []string{"eee", "aaa", "ccc", "bbb", "ddd"} {
		createTable(t, db, tableSpec{name: n})
	}
	var pages [][]string
	in := &dynamodb.ListTablesInput{Limit: aws.Int32(2)}
	for {
		out, err := db.ListTables(ctx, in)
		if err != nil {
			t.Fatalf("ListTables(%v) = %v", aws.ToString(in.ExclusiveStartTableName), err)
		}
		pages = append(pages, out.TableNames)
		if out.LastEvaluatedTableName == nil {
			break
		}
		in.ExclusiveStartTableName = out.LastEvaluatedTableName
	}
	want := [][]string{{"aaa", "bbb"}, {"ccc", "ddd"}, {"eee"}}
	if !reflect.DeepEqual(pages, want) {
		t.Errorf("ListTables pages = %v; want %v", pages, want)
	}

	// The SDK's paginator drives the same fields.
	var all []string
	p := dynamodb.NewListTablesPaginator(db, &dynamodb.ListTablesInput{Limit: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListTablesPaginator = %v", err)
		}
		all = append(all, out.TableNames...)
	}
	if want := []string{"aaa", "bbb", "ccc", "ddd", "eee"}; !reflect.DeepEqual(all, want) {
		t.Errorf("paginated ListTables = %v; want %v", all, want)
	}

	_, err = db.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(101)})
	if !isValidation(err) {
		t.Errorf("ListTables(Limit 101) = %v; want ValidationException", err)
	}
	if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("ccc")}); err != nil {
		t.Fatalf("DeleteTable(ccc) = %v", err)
	}
	out, _ = db.ListTables(ctx, &dynamodb.ListTablesInput{})
	if want := []string{"aaa", "bbb", "ddd", "eee"}; !reflect.DeepEqual(out.TableNames, want) {
		t.Errorf("ListTables after DeleteTable = %v; want %v", out.TableNames, want)
	}
}

func TestTimeToLiveOperations(t *testing.T) {
	db := client(t, openStore(t, Options{}))
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "messages"})

	describe := func() *types.TimeToLiveDescription {
		t.Helper()
		out, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("messages")})
		if err != nil {
			t.Fatalf("DescribeTimeToLive = %v", err)
		}
		return out.TimeToLiveDescription
	}
	update := func(attr string, enabled bool) (*dynamodb.UpdateTimeToLiveOutput, error) {
		return db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String("messages"),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(enabled)},
		})
	}

	if d := describe(); d.TimeToLiveStatus != types.TimeToLiveStatusDisabled {
		t.Errorf("TimeToLiveStatus before = %q; want DISABLED", d.TimeToLiveStatus)
	}
	out, err := update("expiresAt", true)
	if err != nil {
		t.Fatalf("UpdateTimeToLive(enable) = %v", err)
	}
	if s := out.TimeToLiveSpecification; aws.ToString(s.AttributeName) != "expiresAt" || !aws.ToBool(s.Enabled) {
		t.Errorf("UpdateTimeToLive answered %+v; want expiresAt enabled", s)
	}
	if d := describe(); d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "expiresAt" {
		t.Errorf("DescribeTimeToLive = %s %s; want ENABLED expiresAt", d.TimeToLiveStatus, aws.ToString(d.AttributeName))
	}
	if _, err := update("expiresAt", true); !isValidation(err) {
		t.Errorf("UpdateTimeToLive(enable again) = %v; want ValidationException", err)
	}
	if _, err := update("other", false); !isValidation(err) {
		t.Errorf("UpdateTimeToLive(disable another attribute) = %v; want ValidationException", err)
	}
	if _, err := update("expiresAt", false); err != nil {
		t.Errorf("UpdateTimeToLive(disable) = %v", err)
	}
	if d := describe(); d.TimeToLiveStatus != types.TimeToLiveStatusDisabled {
		t.Errorf("TimeToLiveStatus after disabling = %q; want DISABLED", d.TimeToLiveStatus)
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String("nope"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("x"), Enabled: aws.Bool(true)},
	})
	wantAPIError[*types.ResourceNotFoundException](t, "UpdateTimeToLive(nope)", err)
	_, err = db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("nope")})
	wantAPIError[*types.ResourceNotFoundException](t, "DescribeTimeToLive(nope)", err)
}

func TestItemSizeLimit(t *testing.T) {
	db := client(t, openStore(t, Options{}))
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "big"})
	tooBig := strings.Repeat("x", 410*1024)
	fits := strings.Repeat("x", 390*1024)

	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("big"), Item: map[string]types.AttributeValue{"pk": str("a"), "body": str(tooBig)}})
	if !isValidation(err) || !strings.Contains(err.Error(), "Item size has exceeded the maximum allowed size") {
		t.Errorf("PutItem(410 KB) = %v; want ValidationException about item size", err)
	}
	if get(t, db, "big", "a") != nil {
		t.Error("the 410 KB item was stored")
	}
	put(t, db, "big", map[string]types.AttributeValue{"pk": str("a"), "body": str(fits)})

	// An update is measured on the item it produces, and undone whole.
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String("big"),
		Key:                       map[string]types.AttributeValue{"pk": str("a")},
		UpdateExpression:          aws.String("SET more = :m"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":m": str(strings.Repeat("y", 20*1024))},
	})
	if !isValidation(err) {
		t.Errorf("UpdateItem growing past 400 KB = %v; want ValidationException", err)
	}
	if item := get(t, db, "big", "a"); item["more"] != nil || sOf(item, "body") != fits {
		t.Error("UpdateItem past 400 KB changed the item")
	}

	_, err = db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"big": {
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("b1")}}},
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("b2"), "body": str(tooBig)}}},
	}}})
	if !isValidation(err) || get(t, db, "big", "b1") != nil {
		t.Errorf("BatchWriteItem with a 410 KB item = %v, b1 written: %v; want ValidationException, nothing written", err, get(t, db, "big", "b1") != nil)
	}
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("big"), Item: map[string]types.AttributeValue{"pk": str("t1")}}},
		{Put: &types.Put{TableName: aws.String("big"), Item: map[string]types.AttributeValue{"pk": str("t2"), "body": str(tooBig)}}},
	}})
	if !isValidation(err) || get(t, db, "big", "t1") != nil {
		t.Errorf("TransactWriteItems with a 410 KB item = %v; want ValidationException, nothing written", err)
	}
}

func TestItemSize(t *testing.T) {
	tests := []struct {
		item string
		want int
	}{
		{`{"ab":{"S":"xyz"}}`, 5},
		{`{"n":{"N":"12345"}}`, 1 + 4},
		{`{"n":{"N":"-0.00120"}}`, 1 + 2},
		{`{"b":{"B":"AAEC"}}`, 1 + 3},
		{`{"t":{"BOOL":true},"z":{"NULL":true}}`, 4},
		{`{"l":{"L":[{"S":"a"},{"S":"bc"}]}}`, 1 + 3 + 2 + 3},
		{`{"m":{"M":{"k":{"S":"v"}}}}`, 1 + 3 + 1 + 1 + 1},
		{`{"ss":{"SS":["a","bb"]}}`, 2 + 3},
	}
	for _, tt := range tests {
		var a attrs
		if err := json.Unmarshal([]byte(tt.item), &a); err != nil {
			t.Fatal(err)
		}
		if got := itemSize(a); got != tt.want {
			t.Errorf("itemSize(%s) = %d; want %d", tt.item, got, tt.want)
		}
	}
}

func TestReturnValuesOnConditionCheckFailure(t *testing.T) {
	db := client(t, openStore(t, Options{}))
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "agents"})
	put(t, db, "agents", map[string]types.AttributeValue{"pk": str("a1"), "used": num(2)})
	key := map[string]types.AttributeValue{"pk": str("a1")}
	cond := aws.String("attribute_not_exists(pk)")

	check := func(op string, err error) {
		t.Helper()
		ccf := wantAPIError[*types.ConditionalCheckFailedException](t, op, err)
		if got, ok := ccf.Item["used"].(*types.AttributeValueMemberN); !ok || got.Value != "2" {
			t.Errorf("%s: ConditionalCheckFailedException.Item = %v; want the old item", op, ccf.Item)
		}
	}
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("agents"), Item: map[string]types.AttributeValue{"pk": str("a1")},
		ConditionExpression: cond, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	check("PutItem", err)
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("agents"), Key: key, UpdateExpression: aws.String("SET used = :u"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":u": num(3)},
		ConditionExpression:       cond, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	check("UpdateItem", err)
	_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("agents"), Key: key,
		ConditionExpression: cond, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	check("DeleteItem", err)

	// Without ALL_OLD the item stays out of the error.
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("agents"), Item: map[string]types.AttributeValue{"pk": str("a1")}, ConditionExpression: cond})
	if ccf := wantAPIError[*types.ConditionalCheckFailedException](t, "PutItem without ALL_OLD", err); ccf.Item != nil {
		t.Errorf("PutItem without ALL_OLD: Item = %v; want nil", ccf.Item)
	}

	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("agents"), Item: map[string]types.AttributeValue{"pk": str("a2")}}},
		{Put: &types.Put{TableName: aws.String("agents"), Item: map[string]types.AttributeValue{"pk": str("a1")},
			ConditionExpression: cond, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
	}})
	tce := wantAPIError[*types.TransactionCanceledException](t, "TransactWriteItems", err)
	if len(tce.CancellationReasons) != 2 || aws.ToString(tce.CancellationReasons[0].Code) != "None" || aws.ToString(tce.CancellationReasons[1].Code) != "ConditionalCheckFailed" {
		t.Fatalf("CancellationReasons = %+v; want [None ConditionalCheckFailed]", tce.CancellationReasons)
	}
	if got, ok := tce.CancellationReasons[1].Item["used"].(*types.AttributeValueMemberN); !ok || got.Value != "2" {
		t.Errorf("CancellationReasons[1].Item = %v; want the old item", tce.CancellationReasons[1].Item)
	}
	if get(t, db, "agents", "a2") != nil {
		t.Error("cancelled transaction wrote a2")
	}
}

func TestPutItemReturnValues(t *testing.T) {
	db := client(t, openStore(t, Options{}))
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "things"})
	out, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("things"), Item: map[string]types.AttributeValue{"pk": str("a"), "v": num(1)}})
	if err != nil || out.Attributes != nil {
		t.Errorf("PutItem = %v, %v; want no Attributes", out.Attributes, err)
	}
	out, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("things"), Item: map[string]types.AttributeValue{"pk": str("a"), "v": num(2)}, ReturnValues: types.ReturnValueAllOld})
	if got, ok := out.Attributes["v"].(*types.AttributeValueMemberN); err != nil || !ok || got.Value != "1" {
		t.Errorf("PutItem(ALL_OLD) = %v, %v; want the old item", out.Attributes, err)
	}
}

func TestBatchWriteCheckedWhole(t *testing.T) {
	db := client(t, openStore(t, Options{}))
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "batch"})
	_, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"batch": {
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("ok")}}},
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"nokey": str("x")}}},
	}}})
	if !isValidation(err) || get(t, db, "batch", "ok") != nil {
		t.Errorf("BatchWriteItem with a keyless item = %v; want ValidationException and nothing written", err)
	}
	_, err = db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"batch": {
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("d")}}},
		{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": str("d")}}},
	}}})
	if !isValidation(err) {
		t.Errorf("BatchWriteItem naming one item twice = %v; want ValidationException", err)
	}
	_, err = db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"batch":   {{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("ok")}}}},
		"missing": {{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("ok")}}}},
	}})
	wantAPIError[*types.ResourceNotFoundException](t, "BatchWriteItem into a missing table", err)
	if get(t, db, "batch", "ok") != nil {
		t.Error("BatchWriteItem into a missing table wrote to the other table")
	}
}

func TestErrorsOnTheWire(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	ctx := context.Background()
	_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("missing"), Key: map[string]types.AttributeValue{"pk": str("a")}})
	wantAPIError[*types.ResourceNotFoundException](t, "GetItem(missing table)", err)
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("missing"), Item: map[string]types.AttributeValue{"pk": str("a")}})
	wantAPIError[*types.ResourceNotFoundException](t, "PutItem(missing table)", err)

	srv := httptest.NewServer(s)
	defer srv.Close()
	tests := []struct {
		target, body, wantType string
		wantStatus             int
	}{
		{"DynamoDB_20120810.PutItem", `{"TableName":"missing","Item":{"pk":{"S":"a"}}}`, "ResourceNotFoundException", 400},
		{"DynamoDB_20120810.CreateTable", `{"TableName":"x"}`, "ValidationException", 400},
		{"DynamoDB_20120810.ListBackups", `{}`, "UnknownOperationException", 400},
		{"DynamoDB_20120810.PutItem", `{not json`, "SerializationException", 400},
		{"Kinesis_20131202.PutRecord", `{}`, "UnknownOperationException", 400},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(tt.body))
		req.Header.Set("X-Amz-Target", tt.target)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s = %v", tt.target, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(b, &e); err != nil || resp.StatusCode != tt.wantStatus ||
			e.Type != "com.amazonaws.dynamodb.v20120810#"+tt.wantType || e.Message == "" {
			t.Errorf("POST %s %s = %d %s; want %d with __type com.amazonaws.dynamodb.v20120810#%s and a message", tt.target, tt.body, resp.StatusCode, b, tt.wantStatus, tt.wantType)
		}
	}
}

func TestMetricsCountEveryOperation(t *testing.T) {
	m := metrics.New()
	s := openStore(t, Options{Metrics: m, TTLInterval: 5e9})
	db := client(t, s)
	ctx := context.Background()
	createTable(t, db, tableSpec{name: "counted"})
	put(t, db, "counted", map[string]types.AttributeValue{"pk": str("a")})
	put(t, db, "counted", map[string]types.AttributeValue{"pk": str("b")})
	get(t, db, "counted", "a")
	if _, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("counted"), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("a")}}); err != nil {
		t.Fatalf("Query = %v", err)
	}
	_, _ = db.ListTables(ctx, &dynamodb.ListTablesInput{})
	_, _ = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("missing")})

	got := m.Snapshot()[metrics.DynamoDB]
	want := map[string]int64{"CreateTable": 1, "PutItem": 2, "GetItem": 1, "Query": 1, "ListTables": 1, "DescribeTable": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metrics = %v; want %v (the store's own reads and writes uncounted)", got, want)
	}
}

// isValidation reports whether err is DynamoDB's ValidationException, which
// the SDK has no type for: it arrives as a smithy.APIError with that code.
func isValidation(err error) bool {
	ae, ok := errors.AsType[smithy.APIError](err)
	return ok && ae.ErrorCode() == "ValidationException"
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
