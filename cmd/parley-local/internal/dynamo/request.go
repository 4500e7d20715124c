package dynamo

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The parts of item requests every operation shares: resolving the table,
// reading and checking keys and items, and turning the expression members
// (or their legacy counterparts) into parsed expressions.

const (
	maxHashKeyBytes  = 2048
	maxRangeKeyBytes = 1024
	maxNameBytes     = 65535
)

// exprFields are the expression members of a request, and the legacy
// members that stand for them.
type exprFields struct {
	ConditionExpression       *string
	UpdateExpression          *string
	ProjectionExpression      *string
	FilterExpression          *string
	KeyConditionExpression    *string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]json.RawMessage

	Expected            map[string]legacyCondition
	AttributeUpdates    map[string]legacyUpdate
	AttributesToGet     []string
	QueryFilter         map[string]legacyCondition
	ScanFilter          map[string]legacyCondition
	KeyConditions       map[string]legacyCondition
	ConditionalOperator *string
}

// exprs is what a request's expressions say, parsed.
type exprs struct {
	cond    *condition
	update  []action
	hasUpd  bool
	proj    []docPath
	filter  *condition
	keyCond *condition
}

// parseExprs parses the expression members of a request (or the legacy
// members, never both) and refuses names and values no expression uses.
func parseExprs(f *exprFields) (*exprs, *apiError) {
	type pair struct {
		legacy, expr string
		hasL, hasE   bool
	}
	pairs := []pair{
		{"Expected", "ConditionExpression", f.Expected != nil, f.ConditionExpression != nil},
		{"AttributeUpdates", "UpdateExpression", f.AttributeUpdates != nil, f.UpdateExpression != nil},
		{"AttributesToGet", "ProjectionExpression", f.AttributesToGet != nil, f.ProjectionExpression != nil},
		{"QueryFilter", "FilterExpression", f.QueryFilter != nil, f.FilterExpression != nil},
		{"ScanFilter", "FilterExpression", f.ScanFilter != nil, f.FilterExpression != nil},
		{"KeyConditions", "KeyConditionExpression", f.KeyConditions != nil, f.KeyConditionExpression != nil},
	}
	// KeyConditions may go with the other expressions (DynamoDB answers a
	// Query of KeyConditions and a FilterExpression); every other legacy
	// member refuses every expression member.
	var legacy, modern []string
	anyExpr := false
	for _, p := range pairs {
		if p.hasL && p.legacy != "KeyConditions" {
			legacy = append(legacy, p.legacy)
		}
		if p.hasE {
			anyExpr = true
			if !contains2(modern, p.expr) {
				modern = append(modern, p.expr)
			}
		}
	}
	if f.ConditionalOperator != nil {
		legacy = append(legacy, "ConditionalOperator")
	}
	if f.KeyConditions != nil && f.KeyConditionExpression != nil {
		return nil, validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}")
	}
	if len(legacy) > 0 && len(modern) > 0 {
		return nil, validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}",
			strings.Join(legacy, ", "), strings.Join(modern, ", "))
	}
	if f.ExpressionAttributeNames != nil && len(f.ExpressionAttributeNames) == 0 {
		return nil, validation("ExpressionAttributeNames must not be empty")
	}
	if f.ExpressionAttributeValues != nil && len(f.ExpressionAttributeValues) == 0 {
		return nil, validation("ExpressionAttributeValues must not be empty")
	}
	if !anyExpr {
		if f.ExpressionAttributeNames != nil {
			return nil, validation("ExpressionAttributeNames can only be specified when using expressions")
		}
		if f.ExpressionAttributeValues != nil {
			return nil, validation("ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null")
		}
	}
	for k, v := range f.ExpressionAttributeNames {
		if len(k) < 2 || k[0] != '#' || len(k) > 255 {
			return nil, validation("ExpressionAttributeNames contains invalid key: Syntax error; key: \"%s\"", k)
		}
		if v == "" {
			return nil, validation("ExpressionAttributeNames contains invalid value: Empty attribute name for key %s", k)
		}
	}
	values, err := decodeItem(f.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	for k := range values {
		if len(k) < 2 || k[0] != ':' {
			return nil, validation("ExpressionAttributeValues contains invalid key: Syntax error; key: \"%s\"", k)
		}
	}
	ctx := newExprContext(f.ExpressionAttributeNames, values)
	out := &exprs{}
	if f.KeyConditionExpression != nil {
		if out.keyCond, err = parseCondition("KeyConditionExpression", *f.KeyConditionExpression, ctx); err != nil {
			return nil, err
		}
	}
	if f.FilterExpression != nil {
		if out.filter, err = parseCondition("FilterExpression", *f.FilterExpression, ctx); err != nil {
			return nil, err
		}
	}
	if f.ConditionExpression != nil {
		if out.cond, err = parseCondition("ConditionExpression", *f.ConditionExpression, ctx); err != nil {
			return nil, err
		}
	}
	if f.UpdateExpression != nil {
		out.hasUpd = true
		if out.update, err = parseUpdate(*f.UpdateExpression, ctx); err != nil {
			return nil, err
		}
	}
	if f.ProjectionExpression != nil {
		if out.proj, err = parseProjection(*f.ProjectionExpression, ctx); err != nil {
			return nil, err
		}
	}
	if err := ctx.unused(); err != nil {
		return nil, err
	}
	op := "AND"
	if f.ConditionalOperator != nil {
		op = *f.ConditionalOperator
		if op != "AND" && op != "OR" {
			return nil, validation("1 validation error detected: Value '%s' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]", op)
		}
		if len(f.Expected) == 0 && len(f.QueryFilter) == 0 && len(f.ScanFilter) == 0 {
			return nil, validation("ConditionalOperator can only be used when Filter or Expected has two or more elements")
		}
	}
	if f.Expected != nil {
		if out.cond, err = legacyConditions(f.Expected, op, true); err != nil {
			return nil, err
		}
	}
	for _, filter := range []map[string]legacyCondition{f.QueryFilter, f.ScanFilter} {
		if filter != nil {
			if out.filter, err = legacyConditions(filter, op, false); err != nil {
				return nil, err
			}
		}
	}
	if f.KeyConditions != nil {
		if out.keyCond, err = legacyConditions(f.KeyConditions, "AND", false); err != nil {
			return nil, err
		}
	}
	if f.AttributesToGet != nil {
		if len(f.AttributesToGet) == 0 {
			return nil, validation("1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
		seen := map[string]bool{}
		for _, n := range f.AttributesToGet {
			if n == "" {
				return nil, validation("One or more parameter values were invalid: Empty attribute name")
			}
			if seen[n] {
				return nil, validation("One or more parameter values were invalid: Duplicate value in attribute name: %s", n)
			}
			seen[n] = true
			out.proj = append(out.proj, docPath{{name: n}})
		}
	}
	if f.AttributeUpdates != nil {
		out.hasUpd = true
		if out.update, err = legacyUpdates(f.AttributeUpdates); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func contains2(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// lookup finds a table by name.
func (s *Store) lookup(name string) (*table, *apiError) {
	if name == "" {
		return nil, validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	if rep := validTableName(name); !rep.ok() {
		return nil, &apiError{status: rep.status, typ: rep.errorType(), msg: rep.errorMessage()}
	}
	s.mu.Lock()
	t := s.tables[name]
	s.mu.Unlock()
	if t == nil || t.data == nil {
		return nil, &apiError{status: http.StatusBadRequest, typ: "ResourceNotFoundException", msg: "Requested resource not found: Table: " + name + " not found"}
	}
	return t, nil
}

// parseKey reads a Key member: exactly the table's key attributes, of
// their types, within the key size limits.
func parseKey(t *tableData, raw map[string]json.RawMessage) (ditem, *apiError) {
	key, err := decodeItem(raw)
	if err != nil {
		return nil, err
	}
	names := t.schema.names()
	if len(key) != len(names) {
		return nil, validation("The provided key element does not match the schema")
	}
	for i, n := range names {
		v, ok := key[n]
		want := t.schema.hashType
		if i == 1 {
			want = t.schema.rngType
		}
		if !ok || v.k != want {
			return nil, validation("The provided key element does not match the schema")
		}
	}
	if err := checkKeyValues(t.schema, key); err != nil {
		return nil, err
	}
	return key, nil
}

// checkKeyValues applies the rules for key values: not empty, within the
// size limits.
func checkKeyValues(schema keySchema, it ditem) *apiError {
	for i, n := range schema.names() {
		v := it[n]
		if (v.k == kindS || v.k == kindB) && v.s == "" {
			return validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", n)
		}
		size := v.size()
		if i == 0 && size > maxHashKeyBytes {
			return validation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes")
		}
		if i == 1 && size > maxRangeKeyBytes {
			return validation("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
		}
	}
	return nil
}

// checkItem makes the checks on an item to be written: its key
// attributes there and of their types, index keys of their declared types,
// attribute names within limits, the 400 KB limit.
func checkItem(t *tableData, it ditem) *apiError {
	if err := checkItemKeys(t, it); err != nil {
		return err
	}
	return checkItemSize(it)
}

// checkItemKeys is the part of checkItem that a transaction reports as its
// action's ValidationError rather than refusing the request.
func checkItemKeys(t *tableData, it ditem) *apiError {
	for i, n := range t.schema.names() {
		v, ok := it[n]
		if !ok {
			return validation("One or more parameter values were invalid: Missing the key %s in the item", n)
		}
		want := t.schema.hashType
		if i == 1 {
			want = t.schema.rngType
		}
		if v.k != want {
			return validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", n, want, v.k)
		}
	}
	if err := checkKeyValues(t.schema, it); err != nil {
		return err
	}
	return checkIndexKeys(t, it)
}

// checkIndexKeys refuses an item whose index key attributes are of the
// wrong type or empty; an item without them is simply not in the index.
func checkIndexKeys(t *tableData, it ditem) *apiError {
	for _, name := range t.order {
		ix := t.indexes[name]
		for i, n := range ix.data.schema.names() {
			v, ok := it[n]
			if !ok {
				continue
			}
			want := ix.data.schema.hashType
			if i == 1 {
				want = ix.data.schema.rngType
			}
			if v.k != want {
				return validation("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", n, want, v.k, name)
			}
			if (v.k == kindS || v.k == kindB) && v.s == "" {
				return validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: %s, IndexKey: %s", name, n)
			}
		}
	}
	return nil
}

func checkItemSize(it ditem) *apiError {
	for n := range it {
		if n == "" {
			return validation("One or more parameter values were invalid: Empty attribute name")
		}
		if len(n) > maxNameBytes {
			return validation("One or more parameter values were invalid: Attribute name is too long: exceeded the maximum size limit of 65535 bytes")
		}
	}
	if it.size() > maxItemSize {
		return validation(errItemTooLarge)
	}
	return nil
}

const errItemTooLarge = "Item size has exceeded the maximum allowed size"

// checkReturn validates the ReturnValues, ReturnConsumedCapacity and
// ReturnItemCollectionMetrics members.
func checkReturn(rv string, allowed []string, rcc, ricm string) *apiError {
	if rv != "" && !contains2(allowed, rv) {
		if len(allowed) == 5 {
			return validation("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]", rv)
		}
		return validation("Return values set to invalid value")
	}
	return checkCapacityParams(rcc, ricm)
}

func checkCapacityParams(rcc, ricm string) *apiError {
	switch rcc {
	case "", "NONE", "TOTAL", "INDEXES":
	default:
		return validation("1 validation error detected: Value '%s' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]", rcc)
	}
	switch ricm {
	case "", "NONE", "SIZE":
	default:
		return validation("1 validation error detected: Value '%s' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]", ricm)
	}
	return nil
}

func decodeBody(op string, body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return serialization("decode %s input: %v", op, err)
	}
	return nil
}

// output builds a successful reply from members, leaving out nil ones.
func output(members map[string]any) reply {
	out := make(map[string]any, len(members))
	for k, v := range members {
		switch x := v.(type) {
		case nil:
			continue
		case ditem:
			if x == nil {
				continue
			}
		case *capacityReport:
			if x == nil {
				continue
			}
		case []*capacityReport:
			if x == nil {
				continue
			}
		}
		out[k] = v
	}
	return okReply(out)
}
