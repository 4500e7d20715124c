package dynamo

// Parity cases for the gaps a conformance suite found between the embedded
// store and DynamoDB Local (issue 14), one test per theme: crashes, reply
// shapes SDKs rely on, empty values, comparisons across types, updates
// without actions, transactions, paging and the Streams API.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
)

// raw sends one request as the JSON body given, with $t, $t1 and $t2
// standing for the case's tables, and returns the reply's members or its
// error type (the part after '#', which is all the servers agree on).
func (s *side) raw(ctx context.Context, op, body string) (map[string]json.RawMessage, string) {
	s.t.Helper()
	body = strings.NewReplacer("$t1", s.table("t1"), "$t2", s.table("t2"), "$t", s.table("t")).Replace(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(body))
	s.must("build "+op, err)
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	// DynamoDB Local wants a signature's shape, not a valid one.
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=parleylocal/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "no reply: " + err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	s.must("read "+op, err)
	var out map[string]json.RawMessage
	if json.Unmarshal(b, &out) != nil {
		return nil, fmt.Sprintf("status %d, body not JSON: %q", resp.StatusCode, b)
	}
	if resp.StatusCode != http.StatusOK {
		var typ string
		_ = json.Unmarshal(out["__type"], &typ)
		return nil, fmt.Sprintf("%d %s", resp.StatusCode, typ[strings.LastIndex(typ, "#")+1:])
	}
	return out, ""
}

// rawNote sends a raw request and writes into the transcript which members
// the reply has and, canonically encoded, the values of those in show.
func (s *side) rawNote(ctx context.Context, what, op, body string, show ...string) {
	s.t.Helper()
	out, errType := s.raw(ctx, op, body)
	if errType != "" {
		s.note("%s: %s", what, errType)
		return
	}
	members := make([]string, 0, len(out))
	for k := range out {
		members = append(members, k)
	}
	sort.Strings(members)
	line := fmt.Sprintf("%s: ok members=%v", what, members)
	for _, k := range show {
		line += " " + k + "=" + canonical(out[k])
	}
	s.note("%s", line)
}

// canonical re-encodes JSON with object members in name order.
func canonical(raw json.RawMessage) string {
	if raw == nil {
		return "-"
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *side) query(ctx context.Context, what string, in *dynamodb.QueryInput) {
	out, err := s.db.Query(ctx, in)
	s.record("Query "+what, out, err)
}

func (s *side) scan(ctx context.Context, what string, in *dynamodb.ScanInput) {
	out, err := s.db.Scan(ctx, in)
	s.record("Scan "+what, out, err)
}

// Theme 1: requests that crashed the store (the connection dropped with no
// reply) or corrupted an index.
func TestParityCrashes(t *testing.T) {
	v := func(kv ...any) map[string]types.AttributeValue { return item(kv...) }
	runParity(t, []parityCase{
		{name: "put drops the index keys of an indexed item", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: "sk:S", gsis: []gsiSpec{{name: "byG", hash: "g:S"}}, lsis: []gsiSpec{{name: "byH", rng: "h:S"}}})
			s.putItem(ctx, tbl, item("pk", "a", "sk", "1", "g", "x", "h", "q"), expr{})
			s.putItem(ctx, tbl, item("pk", "a", "sk", "2", "g", "x", "h", "r"), expr{})
			s.putItem(ctx, tbl, item("pk", "a", "sk", "1", "other", 1), expr{})
			s.query(ctx, "byG after the put", &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String("byG"), KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: v(":g", "x")})
			s.query(ctx, "byH after the put", &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String("byH"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: v(":p", "a")})
			s.putItem(ctx, tbl, item("pk", "a", "sk", "1", "g", "x", "h", "p"), expr{})
			s.query(ctx, "byH after the key is back", &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String("byH"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: v(":p", "a")})
			s.scan(ctx, "byG", &dynamodb.ScanInput{TableName: aws.String(tbl), IndexName: aws.String("byG")})
		}},
		{name: "scan of an unknown index", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.seed(ctx, tbl, item("pk", "a"))
			s.scan(ctx, "missing index", &dynamodb.ScanInput{TableName: aws.String(tbl), IndexName: aws.String("missing")})
		}},
		{name: "list_append of odd operands", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			for _, u := range []string{
				"SET l = list_append(:a, :b)", "SET l = list_append(:a, l)", "SET l = list_append(l, :s)", "SET l = list_append(s, :a)",
				"SET l = list_append(absent, :a)", "SET l = list_append(:a)", "SET l = list_append(l, l)", "SET n = list_append(:a, :b) + :one",
				"SET l[0] = list_append(:a, :b)", "SET m.k = list_append(:a, :a)",
			} {
				s.seed(ctx, tbl, doc())
				s.updateItem(ctx, tbl, item("pk", "a"), expr{update: u, vals: v(":a", list("x"), ":b", list(1, 2), ":s", "str", ":one", 1), rv: types.ReturnValueAllNew})
			}
		}},
		{name: "list index out of range in a condition", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			for _, c := range []string{"l[5] = :v", "l[5] <> :v", "l[5] < :v", "attribute_exists(l[9])", "attribute_not_exists(l[9])", "size(l[9]) > :one", "m.k[0] = :v", "l[0].x = :v"} {
				s.seed(ctx, tbl, doc())
				s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "SET touched = :v", cond: c, vals: filterVals(c+" :v", v(":v", "p", ":one", 1))})
			}
			s.show(ctx, tbl, item("pk", "a"))
		}},
		{name: "list index out of range in a projection and a filter", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.seed(ctx, tbl, doc())
			out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: item("pk", "a"), ProjectionExpression: aws.String("l[7], m.k[1], pk")})
			s.record("GetItem l[7]", out, err)
			s.scan(ctx, "filter l[7]", &dynamodb.ScanInput{TableName: aws.String(tbl), FilterExpression: aws.String("l[7] = :v OR attribute_exists(l[1])"), ExpressionAttributeValues: v(":v", "p")})
		}},
	})
}

// Theme 2: members of a reply that SDKs read without checking (boto3's
// batch writer looks up UnprocessedItems, paginators Items and Count).
func TestParityReplyShapes(t *testing.T) {
	runParity(t, []parityCase{
		{name: "batch replies", run: func(ctx context.Context, s *side) {
			s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.rawNote(ctx, "BatchWriteItem", "BatchWriteItem", `{"RequestItems":{"$t":[{"PutRequest":{"Item":{"pk":{"S":"a"}}}}]}}`, "UnprocessedItems")
			s.rawNote(ctx, "BatchGetItem", "BatchGetItem", `{"RequestItems":{"$t":{"Keys":[{"pk":{"S":"a"}},{"pk":{"S":"b"}}]}}}`, "Responses", "UnprocessedKeys")
		}},
		{name: "empty pages", run: func(ctx context.Context, s *side) {
			s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: "sk:N"})
			s.rawNote(ctx, "Scan of an empty table", "Scan", `{"TableName":"$t"}`, "Items", "Count", "ScannedCount")
			s.rawNote(ctx, "Query of an empty partition", "Query", `{"TableName":"$t","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"a"}}}`, "Items", "Count", "ScannedCount")
			s.rawNote(ctx, "Scan counting an empty table", "Scan", `{"TableName":"$t","Select":"COUNT"}`, "Count", "ScannedCount")
			s.raw(ctx, "PutItem", `{"TableName":"$t","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"x":{"N":"1"}}}`)
			s.rawNote(ctx, "Scan filtering everything out", "Scan", `{"TableName":"$t","FilterExpression":"x = :v","ExpressionAttributeValues":{":v":{"N":"2"}}}`, "Items", "Count", "ScannedCount")
			s.rawNote(ctx, "GetItem of an absent item", "GetItem", `{"TableName":"$t","Key":{"pk":{"S":"b"},"sk":{"N":"1"}}}`)
			s.rawNote(ctx, "TransactGetItems", "TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"$t","Key":{"pk":{"S":"b"},"sk":{"N":"1"}}}},{"Get":{"TableName":"$t","Key":{"pk":{"S":"a"},"sk":{"N":"1"}}}}]}`, "Responses")
			s.rawNote(ctx, "TransactWriteItems", "TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"$t","Item":{"pk":{"S":"c"},"sk":{"N":"1"}}}}]}`)
			s.rawNote(ctx, "UpdateItem without ReturnValues", "UpdateItem", `{"TableName":"$t","Key":{"pk":{"S":"c"},"sk":{"N":"1"}},"UpdateExpression":"SET x = :v","ExpressionAttributeValues":{":v":{"N":"2"}}}`)
		}},
	})
}

// Theme 3: empty lists, maps, strings and binaries outside keys.
func TestParityEmptyValues(t *testing.T) {
	v := func(kv ...any) map[string]types.AttributeValue { return item(kv...) }
	emptyB := &types.AttributeValueMemberB{Value: []byte{}}
	runParity(t, []parityCase{
		{name: "empty values through UpdateItem", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.seed(ctx, tbl, doc())
			s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "SET el = :l, em = :m, es = :s, eb = :b, m.inr = :m, l[0] = :l", vals: v(":l", list(), ":m", mapOf(), ":s", "", ":b", emptyB), rv: types.ReturnValueUpdatedNew})
			s.show(ctx, tbl, item("pk", "a"))
			s.updateItem(ctx, tbl, item("pk", "new"), expr{update: "SET s = :s, b = :b", vals: v(":s", "", ":b", emptyB), rv: types.ReturnValueAllNew})
		}},
		{name: "removing the last member keeps the parent", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.seed(ctx, tbl, item("pk", "a", "m", mapOf("sole", 1, "deep", mapOf("x", 1)), "l", list("one"), "ll", list(list("x"))))
			s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "REMOVE m.deep.x, l[0], ll[0][0]", rv: types.ReturnValueAllNew})
			s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "REMOVE m.sole", rv: types.ReturnValueAllNew})
			s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "REMOVE m.deep", rv: types.ReturnValueAllNew})
			s.show(ctx, tbl, item("pk", "a"))
		}},
		{name: "empty values in conditions and filters", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.seed(ctx, tbl, item("pk", "a", "l", list(), "m", mapOf(), "s", ""))
			s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "SET ok = :t", cond: "size(l) = :z AND size(m) = :z AND s = :e AND l = :l AND m = :m", vals: v(":t", true, ":z", 0, ":e", "", ":l", list(), ":m", mapOf()), rv: types.ReturnValueAllNew})
			s.scan(ctx, "empty string", &dynamodb.ScanInput{TableName: aws.String(tbl), FilterExpression: aws.String("s = :e"), ExpressionAttributeValues: v(":e", "")})
		}},
	})
}

// Theme 4: comparisons across types are false (not errors), and so is a
// function of an absent attribute.
func TestParityTypeMismatch(t *testing.T) {
	v := func(kv ...any) map[string]types.AttributeValue { return item(kv...) }
	n := func(x string) types.AttributeValue { return &types.AttributeValueMemberN{Value: x} }
	cases := []parityCase{
		{name: "guard of an absent attribute", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.seed(ctx, tbl, item("pk", "a"))
			e := expr{update: "ADD connections :c", cond: "attribute_not_exists(connections) OR size(connections) < :max", vals: v(":c", strSet("c1"), ":max", 2), rv: types.ReturnValueAllNew}
			s.updateItem(ctx, tbl, item("pk", "a"), e)
			e.vals = v(":c", strSet("c2"), ":max", 2)
			s.updateItem(ctx, tbl, item("pk", "a"), e)
			e.vals = v(":c", strSet("c3"), ":max", 2)
			s.updateItem(ctx, tbl, item("pk", "a"), e)
			s.updateItem(ctx, tbl, item("pk", "new"), e)
		}},
	}
	for _, c := range []struct{ name, cond string }{
		{"size of an absent attribute", "size(absent) < :nine"},
		{"NOT of a size of an absent attribute", "NOT (size(absent) < :nine)"},
		{"size of a number", "size(n) = :one"},
		{"size of a boolean", "size(flag) = :one"},
		{"string equals number", "s = :nine"},
		{"number differs from string", "n <> :str"},
		{"string greater than number", "s > :nine"},
		{"BETWEEN strings on a number", "n BETWEEN :str AND :str"},
		{"IN of other types", "n IN (:str, :t)"},
		{"begins_with on a number", "begins_with(n, :str)"},
		{"contains on a number", "contains(n, :nine)"},
		{"contains of a number in a string set", "contains(tags, :nine)"},
		{"list compared with a string", "l < :str"},
		{"map equals map", "m = :m"},
		{"set equals set in another order", "tags = :tags"},
		{"absent compared with absent", "absent = nope"},
		{"absent differs", "absent <> :str"},
		{"attribute_type of an absent attribute", "attribute_type(absent, :ss)"},
		{"begins_with of an absent attribute", "begins_with(absent, :str)"},
		{"NOT of a failed comparison", "NOT (s > :nine)"},
	} {
		vals := v(":nine", 9, ":one", 1, ":str", "x", ":t", true, ":m", mapOf("k", "v", "deep", mapOf("z", 1)), ":tags", strSet("y", "x"), ":ss", "SS")
		cases = append(cases, parityCase{name: c.name, run: conditions(c.cond, vals, nil)})
	}
	cases = append(cases,
		parityCase{name: "filter over a partition of mixed types", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: "sk:N"})
			s.seed(ctx, tbl, item("pk", "p", "sk", 1, "v", 5), item("pk", "p", "sk", 2, "v", "five"), item("pk", "p", "sk", 3, "v", list(5)), item("pk", "p", "sk", 4))
			for _, f := range []string{"v > :n", "v < :s", "v = :n OR v = :s", "size(v) = :one", "NOT (v > :n)", "contains(v, :n)"} {
				s.query(ctx, f, &dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String(f),
					ExpressionAttributeValues: filterVals("pk = :p "+f, v(":p", "p", ":n", 3, ":s", "z", ":one", 1))})
				s.scan(ctx, f, &dynamodb.ScanInput{TableName: aws.String(tbl), FilterExpression: aws.String(f), ExpressionAttributeValues: filterVals(f, v(":n", 3, ":s", "z", ":one", 1))})
			}
		}},
		parityCase{name: "key condition of the wrong type", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: "sk:N"})
			s.seed(ctx, tbl, item("pk", "p", "sk", 1))
			s.query(ctx, "sort key against a string", &dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :p AND sk > :s"), ExpressionAttributeValues: v(":p", "p", ":s", "x")})
			s.query(ctx, "partition key against a number", &dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :n"), ExpressionAttributeValues: v(":n", 1)})
			s.query(ctx, "begins_with on a number key", &dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :n)"), ExpressionAttributeValues: v(":p", "p", ":n", 1)})
		}},
		parityCase{name: "comparisons of values alone", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			s.seed(ctx, tbl, doc())
			for _, c := range []string{":a < :b", ":a = :a", ":s < :n", ":l < :l", "size(:n) > :n", ":a BETWEEN :b AND :a", "n BETWEEN :b AND :a"} {
				s.updateItem(ctx, tbl, item("pk", "a"), expr{update: "SET touched = :a", cond: c, vals: filterVals(c+" :a", v(":a", 1, ":b", n("2"), ":s", "x", ":n", 3, ":l", list(1)))})
			}
		}},
	)
	runParity(t, cases)
}

// filterVals keeps the values an expression names (DynamoDB refuses unused
// ones, and an empty map).
func filterVals(expr string, vals map[string]types.AttributeValue) map[string]types.AttributeValue {
	var out map[string]types.AttributeValue
	for k, x := range vals {
		if valueRefUsed(expr, k) {
			if out == nil {
				out = map[string]types.AttributeValue{}
			}
			out[k] = x
		}
	}
	return out
}

func valueRefUsed(expr, ref string) bool {
	for i := strings.Index(expr, ref); i >= 0; {
		end := i + len(ref)
		if end == len(expr) || !(expr[end] == '_' || expr[end] >= '0' && expr[end] <= '9' || expr[end] >= 'a' && expr[end] <= 'z' || expr[end] >= 'A' && expr[end] <= 'Z') {
			return true
		}
		j := strings.Index(expr[end:], ref)
		if j < 0 {
			return false
		}
		i = end + j
	}
	return false
}

// Theme 5: UpdateItem without actions, operands read before any action,
// and SET past a list's end.
func TestParityUpdateSemantics(t *testing.T) {
	v := func(kv ...any) map[string]types.AttributeValue { return item(kv...) }
	runParity(t, []parityCase{
		{name: "no action", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", stream: types.StreamViewTypeNewAndOldImages})
			s.updateItem(ctx, tbl, item("pk", "new"), expr{rv: types.ReturnValueAllNew})
			s.show(ctx, tbl, item("pk", "new"))
			s.seed(ctx, tbl, item("pk", "old", "n", 1))
			s.updateItem(ctx, tbl, item("pk", "old"), expr{rv: types.ReturnValueAllNew})
			s.updateItem(ctx, tbl, item("pk", "old"), expr{cond: "n = :one", vals: v(":one", 1), rv: types.ReturnValueAllOld})
			s.updateItem(ctx, tbl, item("pk", "old"), expr{cond: "n = :two", vals: v(":two", 2)})
			s.updateItem(ctx, tbl, item("pk", "cond"), expr{cond: "attribute_not_exists(pk)", rv: types.ReturnValueAllNew})
			s.show(ctx, tbl, item("pk", "cond"))
			s.readStream(ctx, tbl)
		}},
		{name: "operands are read before the actions", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			for _, u := range []string{"REMOVE a SET b = a", "SET a = :v, b = a", "SET b = a, a = :v", "SET a = a + :one, b = a", "ADD a :one SET b = a", "SET b = a REMOVE a", "SET x = absent", "SET c = if_not_exists(a, :v) REMOVE a"} {
				s.seed(ctx, tbl, item("pk", "a", "a", 1))
				s.updateItem(ctx, tbl, item("pk", "a"), expr{update: u, vals: filterVals(u, v(":v", 9, ":one", 1)), rv: types.ReturnValueAllNew})
			}
		}},
		{name: "SET past the end of a list", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			for _, u := range []string{"SET l[5] = :a", "SET l[5] = :a, l[9] = :b", "SET l[9] = :a, l[5] = :b", "SET l[1] = :a, l[7] = :b, l[3] = :c", "SET l[2] = :a REMOVE l[0]", "REMOVE l[0], l[1]", "REMOVE l[5]", "SET m.l[3] = :a"} {
				s.seed(ctx, tbl, item("pk", "a", "l", list("x", "y"), "m", mapOf("l", list())))
				s.updateItem(ctx, tbl, item("pk", "a"), expr{update: u, vals: filterVals(u, v(":a", "A", ":b", "B", ":c", "C")), rv: types.ReturnValueAllNew})
			}
		}},
		{name: "paths into what is not there", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			for _, u := range []string{"SET absent.k = :a", "SET m.absent.k = :a", "SET s.k = :a", "SET l.k = :a", "SET m[0] = :a", "REMOVE absent.k", "REMOVE m.absent.k", "REMOVE s[0]", "ADD m.cnt :one", "ADD m.absent.cnt :one", "DELETE m.aset :ss", "SET m.k2 = :a"} {
				s.seed(ctx, tbl, doc())
				s.updateItem(ctx, tbl, item("pk", "a"), expr{update: u, vals: filterVals(u, v(":a", "A", ":one", 1, ":ss", strSet("x"))), rv: types.ReturnValueAllNew})
			}
		}},
	})
}

// Theme 6: TransactWriteItems' idempotency, how it reports invalid items,
// and its limits.
func TestParityTransactionRules(t *testing.T) {
	k := func(pk string) map[string]types.AttributeValue { return item("pk", pk) }
	runParity(t, []parityCase{
		{name: "client request token", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			in := &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String("token-1"), TransactItems: []types.TransactWriteItem{
				tupdate(tbl, k("a"), "ADD c :one", "", item(":one", 1))}}
			for i := range 3 {
				out, err := s.db.TransactWriteItems(ctx, in)
				s.record(fmt.Sprint("TransactWriteItems with token-1, try ", i+1), out, err)
			}
			s.show(ctx, tbl, k("a"))
			in.TransactItems = []types.TransactWriteItem{tupdate(tbl, k("a"), "ADD c :two", "", item(":two", 2))}
			out, err := s.db.TransactWriteItems(ctx, in)
			s.record("TransactWriteItems with token-1, other actions", out, err)
			in.ClientRequestToken = aws.String("token-2")
			out, err = s.db.TransactWriteItems(ctx, in)
			s.record("TransactWriteItems with token-2", out, err)
			s.show(ctx, tbl, k("a"))
			s.rawNote(ctx, "token of 37 characters", "TransactWriteItems", `{"ClientRequestToken":"`+strings.Repeat("x", 37)+`","TransactItems":[{"Put":{"TableName":"$t","Item":{"pk":{"S":"b"}}}}]}`)
		}},
		{name: "invalid items cancel the transaction", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", gsis: []gsiSpec{{name: "byG", hash: "g:S"}}})
			s.seed(ctx, tbl, item("pk", "a", "s", "str"), item("pk", "b", "n", 1))
			ok := tupdate(tbl, k("b"), "SET n = :two", "", item(":two", 2))
			s.transact(ctx, "ADD to a string", ok, tupdate(tbl, k("a"), "ADD s :one", "", item(":one", 1)))
			s.transact(ctx, "arithmetic on a string", ok, tupdate(tbl, k("a"), "SET s = s + :one", "", item(":one", 1)))
			s.transact(ctx, "update grows an item past 400 KB", ok, tupdate(tbl, k("a"), "SET big = :big", "", item(":big", strings.Repeat("x", 401*1024))))
			s.transact(ctx, "put of an index key of the wrong type", ok, tput(tbl, item("pk", "c", "g", 1), "", nil))
			s.transact(ctx, "put of an item over 400 KB", ok, tput(tbl, item("pk", "c", "big", strings.Repeat("x", 401*1024)), "", nil))
			s.transact(ctx, "key of the wrong type", ok, tput(tbl, item("pk", 1), "", nil))
			s.transact(ctx, "condition fails and an update is invalid", tupdate(tbl, k("b"), "SET n = :two", "n = :three", item(":two", 2, ":three", 3)), tupdate(tbl, k("a"), "ADD s :one", "", item(":one", 1)))
			s.show(ctx, tbl, k("a"))
			s.show(ctx, tbl, k("b"))
		}},
		{name: "size and count limits", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S"})
			var big []types.TransactWriteItem
			for i := range 12 {
				big = append(big, tput(tbl, item("pk", fmt.Sprint("big", i), "v", strings.Repeat("x", 390*1024)), "", nil))
			}
			s.transact(ctx, "12 puts of 390 KB", big...)
			out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: k("big0"), ProjectionExpression: aws.String("pk")})
			s.record("GetItem big0", out, err)
			var many []types.TransactWriteItem
			for i := range 101 {
				many = append(many, tput(tbl, item("pk", fmt.Sprint("m", i)), "", nil))
			}
			s.transact(ctx, "101 actions", many...)
			s.transact(ctx, "100 actions", many[:100]...)
			s.rawNote(ctx, "no actions", "TransactWriteItems", `{"TransactItems":[]}`)
			s.rawNote(ctx, "an action with two operations", "TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"$t","Item":{"pk":{"S":"x"}}},"Delete":{"TableName":"$t","Key":{"pk":{"S":"y"}}}}]}`)
			s.rawNote(ctx, "an action with none", "TransactWriteItems", `{"TransactItems":[{}]}`)
			s.rawNote(ctx, "no gets", "TransactGetItems", `{"TransactItems":[]}`)
			var gets []string
			for i := range 101 {
				gets = append(gets, fmt.Sprintf(`{"Get":{"TableName":"$t","Key":{"pk":{"S":"m%d"}}}}`, i))
			}
			s.rawNote(ctx, "101 gets", "TransactGetItems", `{"TransactItems":[`+strings.Join(gets, ",")+`]}`)
			s.rawNote(ctx, "one item twice in gets", "TransactGetItems", `{"TransactItems":[`+gets[0]+`,`+gets[0]+`]}`)
		}},
	})
}

// Theme 7: pages cut at 1 MB, ExclusiveStartKey checked, parallel scans.
func TestParityPaging(t *testing.T) {
	v := func(kv ...any) map[string]types.AttributeValue { return item(kv...) }
	bigItems := func(ctx context.Context, s *side) string {
		tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: "sk:N"})
		for i := range 30 {
			s.seed(ctx, tbl, item("pk", "p", "sk", i, "v", strings.Repeat("x", 100*1024)))
		}
		return tbl
	}
	// pageCounts follows a paged request to its end and writes each page's
	// Count into the transcript.
	runParity(t, []parityCase{
		{name: "a query page holds at most 1 MB", run: func(ctx context.Context, s *side) {
			tbl := bigItems(ctx, s)
			for _, forward := range []bool{true, false} {
				in := &dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: v(":p", "p"),
					ScanIndexForward: aws.Bool(forward), ProjectionExpression: aws.String("sk")}
				s.pages(ctx, fmt.Sprint("forward ", forward), *in)
				in.Select, in.ProjectionExpression = types.SelectCount, nil
				s.pages(ctx, fmt.Sprint("count forward ", forward), *in)
			}
		}},
		{name: "a scan page holds at most 1 MB", run: func(ctx context.Context, s *side) {
			tbl := bigItems(ctx, s)
			in := &dynamodb.ScanInput{TableName: aws.String(tbl), ProjectionExpression: aws.String("sk")}
			var counts []int32
			for range 10 {
				out, err := s.db.Scan(ctx, in)
				if err != nil {
					s.record("Scan", out, err)
					break
				}
				counts = append(counts, out.Count)
				if out.LastEvaluatedKey == nil {
					break
				}
				in.ExclusiveStartKey = out.LastEvaluatedKey
			}
			s.note("Scan pages: %v", counts)
		}},
		{name: "bad ExclusiveStartKey", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: "sk:N", gsis: []gsiSpec{{name: "byG", hash: "g:S"}}})
			s.seed(ctx, tbl, item("pk", "p", "sk", 1, "g", "x"), item("pk", "p", "sk", 2, "g", "x"))
			for _, c := range []struct {
				what string
				key  map[string]types.AttributeValue
			}{
				{"missing the sort key", v("pk", "p")},
				{"of the wrong type", v("pk", "p", "sk", "1")},
				{"with an extra attribute", v("pk", "p", "sk", 1, "x", 1)},
				{"of another partition", v("pk", "q", "sk", 1)},
				{"past every item", v("pk", "p", "sk", 99)},
			} {
				s.query(ctx, "start key "+c.what, &dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: v(":p", "p"), ExclusiveStartKey: c.key})
				s.scan(ctx, "start key "+c.what, &dynamodb.ScanInput{TableName: aws.String(tbl), ExclusiveStartKey: c.key})
			}
			s.query(ctx, "start key outside the sort key condition", &dynamodb.QueryInput{TableName: aws.String(tbl), KeyConditionExpression: aws.String("pk = :p AND sk > :two"), ExpressionAttributeValues: v(":p", "p", ":two", 2), ExclusiveStartKey: v("pk", "p", "sk", 1)})
			s.query(ctx, "index start key without the index key", &dynamodb.QueryInput{TableName: aws.String(tbl), IndexName: aws.String("byG"), KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: v(":g", "x"), ExclusiveStartKey: v("pk", "p", "sk", 1)})
			s.scan(ctx, "index start key without the table key", &dynamodb.ScanInput{TableName: aws.String(tbl), IndexName: aws.String("byG"), ExclusiveStartKey: v("g", "x")})
		}},
		{name: "parallel scan", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", rng: "sk:N"})
			for i := range 40 {
				s.seed(ctx, tbl, item("pk", fmt.Sprint("p", i%13), "sk", i))
			}
			for _, total := range []int32{1, 3, 7} {
				var all []string
				for seg := range total {
					in := &dynamodb.ScanInput{TableName: aws.String(tbl), Segment: aws.Int32(seg), TotalSegments: aws.Int32(total), Limit: aws.Int32(4)}
					for range 40 {
						out, err := s.db.Scan(ctx, in)
						if err != nil {
							s.record(fmt.Sprintf("Scan segment %d of %d", seg, total), out, err)
							break
						}
						for _, it := range out.Items {
							all = append(all, render(it))
						}
						if out.LastEvaluatedKey == nil {
							break
						}
						in.ExclusiveStartKey = out.LastEvaluatedKey
					}
				}
				sort.Strings(all)
				dups := 0
				for i := 1; i < len(all); i++ {
					if all[i] == all[i-1] {
						dups++
					}
				}
				s.note("%d segments: %d items, %d read twice", total, len(all), dups)
			}
			for _, c := range [][2]int32{{3, 3}, {-1, 2}, {0, 0}, {0, 1000001}} {
				s.scan(ctx, fmt.Sprintf("segment %d of %d", c[0], c[1]), &dynamodb.ScanInput{TableName: aws.String(tbl), Segment: aws.Int32(c[0]), TotalSegments: aws.Int32(c[1])})
			}
			s.scan(ctx, "segment without a total", &dynamodb.ScanInput{TableName: aws.String(tbl), Segment: aws.Int32(0)})
			s.scan(ctx, "total without a segment", &dynamodb.ScanInput{TableName: aws.String(tbl), TotalSegments: aws.Int32(2)})
		}},
	})
}

// Theme 8: the Streams API's paging and limits.
func TestParityStreamsAPI(t *testing.T) {
	runParity(t, []parityCase{
		{name: "describe from a shard on", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", stream: types.StreamViewTypeKeysOnly})
			s.seed(ctx, tbl, item("pk", "a"))
			list, err := s.streams.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String(tbl)})
			s.must("ListStreams", err)
			arn := list.Streams[0].StreamArn
			desc, err := s.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
			s.must("DescribeStream", err)
			s.note("shards: %d, last evaluated: %t", len(desc.StreamDescription.Shards), desc.StreamDescription.LastEvaluatedShardId != nil)
			last := desc.StreamDescription.Shards[len(desc.StreamDescription.Shards)-1].ShardId
			after, err := s.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn, ExclusiveStartShardId: last})
			if err != nil {
				s.record("DescribeStream after the last shard", nil, err)
			} else {
				s.note("DescribeStream after the last shard: %d shards", len(after.StreamDescription.Shards))
			}
			for _, limit := range []int32{0, 1, 100, 101} {
				_, err := s.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn, Limit: aws.Int32(limit)})
				s.record(fmt.Sprint("DescribeStream limit ", limit), nil, err)
			}
		}},
		{name: "list streams by pages", run: func(ctx context.Context, s *side) {
			var tables []string
			for i := range 3 {
				tables = append(tables, s.create(ctx, fmt.Sprint("t", i), tableDefinition{hash: "pk:S", stream: types.StreamViewTypeKeysOnly}))
			}
			// DynamoDB Local's tables are shared by every case: page
			// through all and count this case's.
			mine := func(name string) bool { return strings.HasPrefix(name, s.prefix) }
			in := &dynamodbstreams.ListStreamsInput{Limit: aws.Int32(1)}
			seen, pages, bigPage := 0, 0, false
			for range 1000 {
				out, err := s.streams.ListStreams(ctx, in)
				if err != nil {
					s.record("ListStreams", nil, err)
					break
				}
				pages++
				bigPage = bigPage || len(out.Streams) > 1
				for _, st := range out.Streams {
					if mine(aws.ToString(st.TableName)) {
						seen++
					}
				}
				if out.LastEvaluatedStreamArn == nil {
					break
				}
				in.ExclusiveStartStreamArn = out.LastEvaluatedStreamArn
			}
			s.note("ListStreams by 1: %d of this case's streams, more than one on a page: %t, more than one page: %t", seen, bigPage, pages > 1)
			out, err := s.streams.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String(tables[1]), Limit: aws.Int32(1)})
			if err == nil {
				s.note("ListStreams of one table: %d streams, more: %t", len(out.Streams), out.LastEvaluatedStreamArn != nil)
			} else {
				s.record("ListStreams of one table", nil, err)
			}
			for _, limit := range []int32{0, 100, 101} {
				_, err := s.streams.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{Limit: aws.Int32(limit), TableName: aws.String(tables[0])})
				s.record(fmt.Sprint("ListStreams limit ", limit), nil, err)
			}
			_, err = s.streams.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String(s.table("missing"))})
			s.record("ListStreams of an absent table", nil, err)
		}},
		{name: "records limits", run: func(ctx context.Context, s *side) {
			tbl := s.create(ctx, "t", tableDefinition{hash: "pk:S", stream: types.StreamViewTypeKeysOnly})
			s.seed(ctx, tbl, item("pk", "a"), item("pk", "b"))
			list, err := s.streams.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String(tbl)})
			s.must("ListStreams", err)
			arn := list.Streams[0].StreamArn
			desc, err := s.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
			s.must("DescribeStream", err)
			it, err := s.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: desc.StreamDescription.Shards[0].ShardId, ShardIteratorType: "TRIM_HORIZON"})
			s.must("GetShardIterator", err)
			for _, limit := range []int32{0, 1, 1000, 1001} {
				out, err := s.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(limit)})
				if err == nil {
					s.note("GetRecords limit %d: %d records", limit, len(out.Records))
				} else {
					s.record(fmt.Sprint("GetRecords limit ", limit), nil, err)
				}
			}
			_, err = s.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: aws.String("shardId-00000000000000000000-00000000"), ShardIteratorType: "TRIM_HORIZON"})
			s.record("GetShardIterator of an absent shard", nil, err)
			_, err = s.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn, ShardId: desc.StreamDescription.Shards[0].ShardId, ShardIteratorType: "AT_SEQUENCE_NUMBER"})
			s.record("GetShardIterator AT_SEQUENCE_NUMBER without a number", nil, err)
		}},
	})
}
