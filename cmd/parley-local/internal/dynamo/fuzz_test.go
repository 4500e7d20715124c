package dynamo

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fuzzStore is a store with a table of every key shape the expression
// parsers meet: a hash and range key, a global and a local index, a
// stream, and a few items.
func fuzzStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	mustServe(t, s, "CreateTable", `{"TableName":"fuzz","BillingMode":"PAY_PER_REQUEST",
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"g","AttributeType":"S"},{"AttributeName":"h","AttributeType":"S"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
		"GlobalSecondaryIndexes":[{"IndexName":"byG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}],
		"LocalSecondaryIndexes":[{"IndexName":"byH","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"h","KeyType":"RANGE"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}],
		"StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`)
	for _, item := range []string{
		`{"pk":{"S":"a"},"sk":{"N":"1"},"g":{"S":"x"},"h":{"S":"q"},"n":{"N":"5"},"l":{"L":[{"S":"e"},{"N":"2"}]},"m":{"M":{"k":{"S":"v"}}},"ss":{"SS":["p","q"]},"b":{"BOOL":true}}`,
		`{"pk":{"S":"a"},"sk":{"N":"2"},"g":{"S":"y"}}`,
		`{"pk":{"S":"b"},"sk":{"N":"1"},"ns":{"NS":["1","2"]},"nul":{"NULL":true}}`,
	} {
		mustServe(t, s, "PutItem", `{"TableName":"fuzz","Item":`+item+`}`)
	}
	return s
}

func mustServe(t testing.TB, s *Store, op, body string) {
	t.Helper()
	if status, out := serveOnce(s, op, []byte(body)); status != http.StatusOK {
		t.Fatalf("%s = %d %s", op, status, out)
	}
}

// serveOnce sends one request through the store's HTTP handler.
func serveOnce(s *Store, op string, body []byte) (int, []byte) {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// serveWithin serves a request and fails the test when it panicked inside
// the store (it is answered 500, but a fuzzer must see it) or took longer
// than a hang would.
func serveWithin(t *testing.T, s *Store, op string, body []byte) (int, []byte) {
	t.Helper()
	before := s.panics.Load()
	type answer struct {
		status int
		body   []byte
	}
	done := make(chan answer, 1)
	go func() {
		st, b := serveOnce(s, op, body)
		done <- answer{st, b}
	}()
	select {
	case a := <-done:
		if s.panics.Load() != before {
			t.Fatalf("%s %s panicked inside the store", op, body)
		}
		if a.status == http.StatusInternalServerError {
			t.Fatalf("%s %s = 500 %s", op, body, a.body)
		}
		if !json.Valid(a.body) {
			t.Fatalf("%s %s answered %d with a body that is not JSON: %q", op, body, a.status, a.body)
		}
		return a.status, a.body
	case <-time.After(10 * time.Second):
		t.Fatalf("%s %s did not answer within 10 s", op, body)
		return 0, nil
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

var fuzzValues = `"ExpressionAttributeNames":{"#p":"pk","#s":"sk","#n":"n","#l":"l","#m":"m"},
	"ExpressionAttributeValues":{":a":{"S":"a"},":one":{"N":"1"},":two":{"N":"2"},":s":{"SS":["q"]},":l":{"L":[{"S":"z"}]},":t":{"BOOL":true}}`

// FuzzExpressions drives condition, update, projection, filter and key
// condition expressions, as strings the fuzzer makes up, through every
// request that takes them, and through the parsers directly: no expression
// may crash or hang the store.
func FuzzExpressions(f *testing.F) {
	for _, e := range []string{
		"attribute_exists(pk) AND #n > :one", "SET #n = #n + :one, l = list_append(l, :l) REMOVE m.k ADD ss :s DELETE ns :s",
		"pk, l[0], m.k, #n", "#p = :a AND #s BETWEEN :one AND :two", "begins_with(g, :a) OR NOT (size(l) < :two)",
		"SET #m.#n = if_not_exists(#m.#n, :one)", "contains(ss, :a) AND attribute_type(n, :a)", "#p = :a AND begins_with(#s, :one)",
		"SET a = :one, a = :two", "REMOVE l[1], l[0]", "((((", "SET", ")", "#p IN (:a, :a, :a)", "l[99999999999999999999]",
		"SET n = n - :one - :one", "pk = :a AND sk > :one", "", " ", "m.", "#zz = :zz",
		// issue 14's themes
		"l[5] = :a", "size(l[9]) > :one", "attribute_not_exists(c) OR size(c) < :two", "SET l[9] = :a, l[5] = :l", "REMOVE a SET b = a",
		"SET l = list_append(:l, :a)", "SET l = list_append(missing, :l)", "n < :a", "#n BETWEEN :two AND :one", "((attribute_exists(pk)))",
		"SET m.k = :l REMOVE m.k", "ADD m.k :one", "REMOVE l[0], l[1], l[99]", "size(:a) = :one", "begins_with(n, :a)", "contains(ss, :one)",
		"pk, pk.x", "l[0], l[0]", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g", "SET a = :one SET b = :one",
	} {
		f.Add(e)
	}
	s := fuzzStore(f)
	f.Fuzz(func(t *testing.T, expr string) {
		e := jsonString(expr)
		key := `"Key":{"pk":{"S":"a"},"sk":{"N":"1"}}`
		for _, r := range []struct{ op, body string }{
			{"PutItem", `{"TableName":"fuzz","Item":{"pk":{"S":"c"},"sk":{"N":"1"},"g":{"S":"x"}},"ConditionExpression":` + e + `,` + fuzzValues + `}`},
			{"UpdateItem", `{"TableName":"fuzz",` + key + `,"UpdateExpression":` + e + `,` + fuzzValues + `,"ReturnValues":"ALL_NEW"}`},
			{"UpdateItem", `{"TableName":"fuzz",` + key + `,"UpdateExpression":"SET touched = :one","ConditionExpression":` + e + `,` + fuzzValues + `}`},
			{"DeleteItem", `{"TableName":"fuzz","Key":{"pk":{"S":"zz"},"sk":{"N":"9"}},"ConditionExpression":` + e + `,` + fuzzValues + `}`},
			{"GetItem", `{"TableName":"fuzz",` + key + `,"ProjectionExpression":` + e + `,"ExpressionAttributeNames":{"#p":"pk","#n":"n"}}`},
			{"Query", `{"TableName":"fuzz","KeyConditionExpression":` + e + `,` + fuzzValues + `}`},
			{"Query", `{"TableName":"fuzz","IndexName":"byG","KeyConditionExpression":` + e + `,` + fuzzValues + `}`},
			{"Query", `{"TableName":"fuzz","IndexName":"byH","KeyConditionExpression":"pk = :a","FilterExpression":` + e + `,` + fuzzValues + `}`},
			{"Query", `{"TableName":"fuzz","KeyConditionExpression":"pk = :a","FilterExpression":` + e + `,"ProjectionExpression":` + e + `,` + fuzzValues + `,"Limit":1}`},
			{"Scan", `{"TableName":"fuzz","FilterExpression":` + e + `,` + fuzzValues + `}`},
			{"TransactWriteItems", `{"TransactItems":[{"Update":{"TableName":"fuzz",` + key + `,"UpdateExpression":` + e + `,` + fuzzValues + `}},{"ConditionCheck":{"TableName":"fuzz","Key":{"pk":{"S":"b"},"sk":{"N":"1"}},"ConditionExpression":` + e + `,` + fuzzValues + `}}]}`},
		} {
			serveWithin(t, s, r.op, []byte(r.body))
		}
		// The parsers, directly.
		vals := ditem{":a": strValue("a"), ":one": {k: kindN, s: "1"}}
		nm := map[string]string{"#n": "n", "#p": "pk"}
		_, _ = parseUpdate(expr, newExprContext(nm, vals))
		_, _ = parseCondition("ConditionExpression", expr, newExprContext(nm, vals))
		_, _ = parseProjection(expr, newExprContext(nm, vals))
		if err := s.CheckIndexes(); err != nil {
			t.Fatalf("after %q the indexes differ from the table: %v", expr, err)
		}
	})
}

// fuzzOps are the operations the store serves, by the first byte of a
// fuzzed request.
var fuzzOps = []string{"PutItem", "UpdateItem", "DeleteItem", "GetItem", "BatchGetItem", "BatchWriteItem",
	"TransactWriteItems", "TransactGetItems", "Query", "Scan", "DescribeTable", "ListTables", "CreateTable",
	"UpdateTable", "DeleteTable", "UpdateTimeToLive", "DescribeTimeToLive", "Nonsense"}

// FuzzStoreRequest sends arbitrary requests through the store's HTTP
// handler: nothing a client sends may crash the store, hang it, or leave
// its indexes different from its tables.
func FuzzStoreRequest(f *testing.F) {
	seeds := []struct {
		op   byte
		body string
	}{
		{0, `{"TableName":"fuzz","Item":{"pk":{"S":"c"},"sk":{"N":"3"},"g":{"S":"x"}}}`},
		{0, `{"TableName":"fuzz","Item":{"pk":{"S":"a"},"sk":{"N":"1"}}}`},
		{1, `{"TableName":"fuzz","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"REMOVE g"}`},
		{1, `{"TableName":"fuzz","Key":{"pk":{"S":"n"},"sk":{"N":"1"}},"UpdateExpression":"SET g = :g","ExpressionAttributeValues":{":g":{"S":"w"}}}`},
		{2, `{"TableName":"fuzz","Key":{"pk":{"S":"a"},"sk":{"N":"2"}},"ReturnValues":"ALL_OLD"}`},
		{4, `{"RequestItems":{"fuzz":{"Keys":[{"pk":{"S":"a"},"sk":{"N":"1"}}]}}}`},
		{5, `{"RequestItems":{"fuzz":[{"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"N":"1"},"h":{"S":"r"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"b"},"sk":{"N":"1"}}}}]}}`},
		{6, `{"TransactItems":[{"Put":{"TableName":"fuzz","Item":{"pk":{"S":"t"},"sk":{"N":"1"},"g":{"S":"x"}}}},{"Delete":{"TableName":"fuzz","Key":{"pk":{"S":"a"},"sk":{"N":"2"}}}}]}`},
		{8, `{"TableName":"fuzz","IndexName":"byG","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{":g":{"S":"x"}},"ScanIndexForward":false,"Limit":1}`},
		{9, `{"TableName":"fuzz","IndexName":"byH","Select":"COUNT"}`},
		{12, `{"TableName":"other","AttributeDefinitions":[{"AttributeName":"k","AttributeType":"B"}],"KeySchema":[{"AttributeName":"k","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`},
		{13, `{"TableName":"fuzz","StreamSpecification":{"StreamEnabled":false}}`},
		{15, `{"TableName":"fuzz","TimeToLiveSpecification":{"AttributeName":"n","Enabled":true}}`},
		{0, `{"TableName":"fuzz","Item":{"pk":{"S":""},"sk":{"N":"1e999"},"x":{"SS":[]},"y":{"NS":["1","01"]},"z":{"B":"!!"}}}`},
		{0, `[]`}, {0, `null`}, {0, `{"TableName":null}`}, {17, `{}`},
		// issue 14's themes
		{0, `{"TableName":"fuzz","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"l":{"L":[]},"m":{"M":{}},"e":{"S":""},"b":{"B":""}}}`},
		{0, `{"TableName":"fuzz","Item":{"pk":{"S":"a"},"sk":{"N":"1"}},"Expected":{"g":{"Exists":false}},"ReturnConsumedCapacity":"INDEXES"}`},
		{1, `{"TableName":"fuzz","Key":{"pk":{"S":"a"},"sk":{"N":"1"}}}`},
		{1, `{"TableName":"fuzz","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"SET l[7] = :v, l[3] = :v REMOVE m.k","ExpressionAttributeValues":{":v":{"N":"99999999999999999999999999999999999999"}}}`},
		{1, `{"TableName":"fuzz","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"AttributeUpdates":{"n":{"Action":"ADD","Value":{"N":"1E125"}},"g":{"Action":"DELETE"}}}`},
		{1, `{"TableName":"fuzz","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"SET g = :n","ExpressionAttributeValues":{":n":{"N":"1"}}}`},
		{2, `{"TableName":"fuzz","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"Expected":{"n":{"ComparisonOperator":"GT","AttributeValueList":[{"S":"x"}]}}}`},
		{6, `{"ClientRequestToken":"t1","TransactItems":[{"Update":{"TableName":"fuzz","Key":{"pk":{"S":"b"},"sk":{"N":"1"}},"UpdateExpression":"ADD c :one","ExpressionAttributeValues":{":one":{"N":"1"}}}},{"Put":{"TableName":"fuzz","Item":{"pk":{"S":"t"},"sk":{"S":"wrong"}}}}]}`},
		{6, `{"TransactItems":[]}`},
		{7, `{"TransactItems":[{"Get":{"TableName":"fuzz","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ProjectionExpression":"l[9], m.k"}}]}`},
		{8, `{"TableName":"fuzz","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}},"QueryFilter":{"n":{"ComparisonOperator":"NE","AttributeValueList":[{"S":"x"}]}},"ConditionalOperator":"OR","ExclusiveStartKey":{"pk":{"S":"a"},"sk":{"S":"1"}}}`},
		{8, `{"TableName":"fuzz","IndexName":"byH","KeyConditionExpression":"pk = :a","ExpressionAttributeValues":{":a":{"S":"a"}},"Select":"ALL_ATTRIBUTES","ReturnConsumedCapacity":"INDEXES"}`},
		{9, `{"TableName":"fuzz","IndexName":"nope"}`},
		{9, `{"TableName":"fuzz","Segment":1,"TotalSegments":3,"Limit":1,"ExclusiveStartKey":{"pk":{"S":"zz"},"sk":{"N":"0"}}}`},
		{9, `{"TableName":"fuzz","ScanFilter":{"l":{"ComparisonOperator":"CONTAINS","AttributeValueList":[{"S":"e"}]}},"AttributesToGet":["l","pk"]}`},
		{4, `{"RequestItems":{"fuzz":{"Keys":[{"pk":{"S":"a"},"sk":{"N":"1"}},{"pk":{"S":"q"},"sk":{"N":"1"}}],"AttributesToGet":["pk"]}},"ReturnConsumedCapacity":"TOTAL"}`},
	}
	for _, sd := range seeds {
		f.Add(sd.op, []byte(sd.body))
	}
	s := fuzzStore(f)
	f.Fuzz(func(t *testing.T, op byte, body []byte) {
		name := fuzzOps[int(op)%len(fuzzOps)]
		if name == "DeleteTable" && strings.Contains(string(body), "fuzz") {
			return // the next inputs need the table; deleting another is fine
		}
		serveWithin(t, s, name, body)
		if err := s.CheckIndexes(); err != nil {
			t.Fatalf("after %s %s the indexes differ from the table: %v", name, body, err)
		}
	})
}
