package dynamo

import (
	"bytes"
	"encoding/json"
	"math/big"
	"regexp"
	"sort"
	"strings"
)

// minidyn v0.8.2 answers Query unlike DynamoDB in several ways: it orders
// items by their sort key as text whatever its type (a number sort key reads
// 1, 10, 11, 2, ..., so Limit picks the wrong items; Parley pages messages
// by a number seq), it applies Limit after FilterExpression instead of
// before, it never fills ScannedCount, it returns the items with Select
// COUNT, and it accepts key conditions DynamoDB refuses. So the page is cut
// here: minidyn finds the items matching the key condition (and, in
// separate calls, those passing the filter and their projections), and the
// store orders them, applies ExclusiveStartKey and Limit to the items read,
// then the filter, and computes Count, ScannedCount and LastEvaluatedKey as
// DynamoDB does.

type queryInput struct {
	TableName                 string
	IndexName                 string
	Limit                     *int
	ScanIndexForward          *bool
	ConsistentRead            bool
	ExclusiveStartKey         attrs
	Select                    string
	KeyConditionExpression    string
	FilterExpression          string
	ProjectionExpression      string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues attrs
}

// querySchema is what a Query needs to know of the table or index it reads.
type querySchema struct {
	hashKey, rangeKey string
	rangeType         string   // S, N or B; "" without a sort key
	keyAttrs          []string // the attributes of a LastEvaluatedKey
	global            bool
}

// querySchema describes the table (index "") or one of its indexes; ok is
// false when there is no such index.
func (d tableDef) querySchema(index string) (querySchema, bool) {
	var q querySchema
	schema := d.Create.KeySchema
	if index != "" {
		found := false
		for _, ix := range d.Create.GlobalSecondaryIndexes {
			if ix.IndexName == index {
				schema, found, q.global = ix.KeySchema, true, true
			}
		}
		for _, ix := range d.Create.LocalSecondaryIndexes {
			if ix.IndexName == index {
				schema, found = ix.KeySchema, true
			}
		}
		if !found {
			return q, false
		}
	}
	for _, k := range schema {
		q.keyAttrs = append(q.keyAttrs, k.AttributeName)
		if k.KeyType == "RANGE" {
			q.rangeKey = k.AttributeName
		} else {
			q.hashKey = k.AttributeName
		}
	}
	for _, k := range d.Create.KeySchema {
		q.keyAttrs = appendNew(q.keyAttrs, k.AttributeName)
	}
	for _, a := range d.Create.AttributeDefinitions {
		if a.AttributeName == q.rangeKey {
			q.rangeType = a.AttributeType
		}
	}
	return q, true
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// keyCondition matches a key condition DynamoDB accepts: an equality on the
// partition key and at most one condition on the sort key, joined by AND.
var (
	keyCond      = `\(?\s*(?:[#\w]+\s*(?:=|<=|>=|<|>)\s*:\w+|[#\w]+\s+(?i:between)\s+:\w+\s+(?i:and)\s+:\w+|begins_with\s*\(\s*[#\w]+\s*,\s*:\w+\s*\))\s*\)?`
	keyCondition = regexp.MustCompile(`^\s*(` + keyCond + `)\s*(?:(?i:and)\s+(` + keyCond + `))?\s*$`)
	keyCondParts = regexp.MustCompile(`^[\s(]*(?:begins_with\s*\(\s*)?([#\w]+)\s*(=|<=|>=|<|>|(?i:between)|,)`)
)

func validKeyCondition(expr string, names map[string]string, q querySchema) reply {
	bad := func(why string) reply {
		return validationError("Query condition missed key schema element or is invalid: %s", why)
	}
	if expr == "" {
		return reply{status: 200} // KeyConditions (legacy) or nothing: minidyn answers
	}
	m := keyCondition.FindStringSubmatch(expr)
	if m == nil {
		return bad("Invalid KeyConditionExpression: " + expr)
	}
	hash := false
	rng := false
	for _, c := range m[1:] {
		if c == "" {
			continue
		}
		p := keyCondParts.FindStringSubmatch(c)
		if p == nil {
			return bad(c)
		}
		name := p[1]
		if strings.HasPrefix(name, "#") {
			name = names[name]
		}
		switch {
		case name == q.hashKey && p[2] == "=" && !hash:
			hash = true
		case name == q.rangeKey && q.rangeKey != "" && !rng:
			rng = true
		default:
			return bad(c)
		}
	}
	if !hash {
		return bad(q.hashKey)
	}
	return reply{status: 200}
}

var (
	nameRef  = regexp.MustCompile(`#[A-Za-z0-9_]+`)
	operand  = regexp.MustCompile(`[#A-Za-z_][#\w]*\s*\(?`)
	keywords = map[string]bool{"AND": true, "OR": true, "NOT": true, "BETWEEN": true, "IN": true}
)

// filterOnKey refuses a filter on the key of the table or index queried:
// DynamoDB wants those in the key condition.
func filterOnKey(filter string, names map[string]string, q querySchema) reply {
	for _, m := range operand.FindAllStringIndex(filter, -1) {
		tok := strings.TrimSpace(filter[m[0]:m[1]])
		if strings.HasSuffix(tok, "(") || keywords[strings.ToUpper(tok)] || (m[0] > 0 && filter[m[0]-1] == ':') || (m[0] > 0 && filter[m[0]-1] == '.') {
			continue // a function, a keyword, a value or a nested name
		}
		if strings.HasPrefix(tok, "#") {
			tok = names[tok]
		}
		if tok == q.hashKey || (tok == q.rangeKey && tok != "") {
			return validationError("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", tok)
		}
	}
	return reply{status: 200}
}

// subQuery is the request without paging, filter, projection and Select,
// plus the given expressions, its names and values cut down to those the
// expressions use (minidyn refuses unused ones).
func subQuery(raw map[string]json.RawMessage, in queryInput, filter, projection bool) []byte {
	out := map[string]json.RawMessage{}
	for k, v := range raw {
		switch k {
		case "Limit", "ExclusiveStartKey", "FilterExpression", "ProjectionExpression", "Select", "ExpressionAttributeNames", "ExpressionAttributeValues":
		default:
			out[k] = v
		}
	}
	exprs := in.KeyConditionExpression
	if filter && in.FilterExpression != "" {
		out["FilterExpression"], _ = json.Marshal(in.FilterExpression)
		exprs += " " + in.FilterExpression
	}
	if projection && in.ProjectionExpression != "" {
		out["ProjectionExpression"], _ = json.Marshal(in.ProjectionExpression)
		exprs += " " + in.ProjectionExpression
	}
	names, vals := map[string]string{}, attrs{}
	for _, n := range nameRef.FindAllString(exprs, -1) {
		if v, ok := in.ExpressionAttributeNames[n]; ok {
			names[n] = v
		}
	}
	for _, n := range valueRef.FindAllString(exprs, -1) {
		if v, ok := in.ExpressionAttributeValues[n]; ok {
			vals[n] = v
		}
	}
	if len(names) > 0 {
		out["ExpressionAttributeNames"], _ = json.Marshal(names)
	}
	if len(vals) > 0 {
		out["ExpressionAttributeValues"], _ = json.Marshal(vals)
	}
	b, _ := json.Marshal(out)
	return b
}

// query serves Query with DynamoDB's ordering, paging and counting.
func (s *Store) query(body []byte) reply {
	var in queryInput
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &in) != nil || json.Unmarshal(body, &raw) != nil {
		return qualify(s.call("Query", body))
	}
	def, _, ok := s.table(in.TableName)
	if !ok {
		return qualify(s.call("Query", body))
	}
	q, ok := def.querySchema(in.IndexName)
	if !ok {
		// minidyn drops the connection on an unknown index.
		return validationError("The table does not have the specified index: %s", in.IndexName)
	}
	if q.global && in.ConsistentRead {
		return validationError("Consistent reads are not supported on global secondary indexes")
	}
	if rep := validKeyCondition(in.KeyConditionExpression, in.ExpressionAttributeNames, q); !rep.ok() {
		return rep
	}
	if rep := filterOnKey(in.FilterExpression, in.ExpressionAttributeNames, q); !rep.ok() {
		return rep
	}
	if in.Limit != nil && *in.Limit < 1 {
		return validationError("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
	}
	// minidyn's answer to the request as sent is the check of everything
	// else (expressions, names, values); its page is not used.
	if rep := qualify(s.call("Query", body)); !rep.ok() {
		return rep
	}

	run := func(b []byte) ([]attrs, reply) {
		rep := qualify(s.call("Query", b))
		if !rep.ok() {
			return nil, rep
		}
		var out struct{ Items []attrs }
		if err := json.Unmarshal(rep.body, &out); err != nil {
			return nil, internalError(err)
		}
		return out.Items, rep
	}
	all, rep := run(subQuery(raw, in, false, false))
	if !rep.ok() {
		return rep
	}
	// passing lists the items the filter keeps, in minidyn's order, which
	// the projected items follow one to one.
	passing := all
	if in.FilterExpression != "" {
		if passing, rep = run(subQuery(raw, in, true, false)); !rep.ok() {
			return rep
		}
	}
	projected := passing
	if in.ProjectionExpression != "" && in.Select != "COUNT" {
		if projected, rep = run(subQuery(raw, in, true, true)); !rep.ok() {
			return rep
		}
		if len(projected) != len(passing) {
			return internalError(errProjection)
		}
	}
	shown := make(map[string]attrs, len(passing))
	for i, it := range passing {
		shown[def.keyID(keyOf(it, q.keyAttrs))] = projected[i]
	}

	forward := in.ScanIndexForward == nil || *in.ScanIndexForward
	if q.rangeKey != "" {
		sort.SliceStable(all, func(i, j int) bool {
			c := compareValues(q.rangeType, all[i][q.rangeKey], all[j][q.rangeKey])
			if forward {
				return c < 0
			}
			return c > 0
		})
	}
	if in.ExclusiveStartKey != nil {
		start := 0
		for i, it := range all {
			if sameKey(it, in.ExclusiveStartKey, q.keyAttrs) {
				start = i + 1
				break
			}
			if q.rangeKey != "" {
				c := compareValues(q.rangeType, it[q.rangeKey], in.ExclusiveStartKey[q.rangeKey])
				if (forward && c > 0) || (!forward && c < 0) {
					start = i
					break
				}
			}
			start = i + 1
		}
		all = all[start:]
	}
	var last attrs
	if in.Limit != nil && len(all) >= *in.Limit {
		// DynamoDB stops reading at Limit and says where, even when
		// nothing follows.
		all = all[:*in.Limit]
		last = keyOf(all[len(all)-1], q.keyAttrs)
	}
	items := []attrs{}
	for _, it := range all {
		if p, ok := shown[def.keyID(keyOf(it, q.keyAttrs))]; ok {
			items = append(items, p)
		}
	}
	out := map[string]any{"Count": len(items), "ScannedCount": len(all)}
	if in.Select != "COUNT" {
		out["Items"] = items
	}
	if last != nil {
		out["LastEvaluatedKey"] = last
	}
	return okReply(out)
}

type queryError string

func (e queryError) Error() string { return string(e) }

const errProjection = queryError("query: projected items do not line up with the filtered ones")

// keyOf picks the named key attributes out of an item.
func keyOf(item attrs, keyAttrs []string) attrs {
	key := attrs{}
	for _, k := range keyAttrs {
		if v, ok := item[k]; ok {
			key[k] = v
		}
	}
	return key
}

// compareValues orders two sort key values of type typ as DynamoDB does:
// numbers by value, strings and binaries byte by byte.
func compareValues(typ string, a, b json.RawMessage) int {
	switch typ {
	case "N":
		return number(a).Cmp(number(b))
	case "B":
		var x, y struct{ B []byte }
		_ = json.Unmarshal(a, &x)
		_ = json.Unmarshal(b, &y)
		return bytes.Compare(x.B, y.B)
	}
	var x, y struct{ S string }
	_ = json.Unmarshal(a, &x)
	_ = json.Unmarshal(b, &y)
	return strings.Compare(x.S, y.S)
}

func number(v json.RawMessage) *big.Float {
	var n struct{ N string }
	_ = json.Unmarshal(v, &n)
	f, ok := new(big.Float).SetPrec(200).SetString(n.N)
	if !ok {
		return new(big.Float)
	}
	return f
}

func sameKey(item, key attrs, keyAttrs []string) bool {
	for _, k := range keyAttrs {
		a, b := item[k], key[k]
		if a == nil || b == nil {
			continue
		}
		var va, vb value
		if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil || !sameValue(va, vb) {
			return false
		}
	}
	return true
}
