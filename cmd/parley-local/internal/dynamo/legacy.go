package dynamo

import (
	"encoding/json"
	"sort"
)

// The legacy parameters (Expected, AttributeUpdates, KeyConditions,
// QueryFilter, ScanFilter, AttributesToGet, ConditionalOperator), which
// DynamoDB still serves: each becomes the parsed expression it stands for,
// so it is never ignored.

// legacyCondition is one attribute's entry in Expected, a filter or
// KeyConditions.
type legacyCondition struct {
	Value              json.RawMessage
	Exists             *bool
	ComparisonOperator string
	AttributeValueList []json.RawMessage
}

// legacyUpdate is one attribute's entry in AttributeUpdates.
type legacyUpdate struct {
	Value  json.RawMessage
	Action string
}

// legacy operators and how many values each takes (-1: one or more).
var legacyOperators = map[string]int{"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "NOT_NULL": 0, "NULL": 0,
	"CONTAINS": 1, "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "IN": -1, "BETWEEN": 2}

// legacyConditions turns a map of legacy conditions into one condition,
// joined by op (AND or OR), in attribute name order.
func legacyConditions(m map[string]legacyCondition, op string, expected bool) (*condition, *apiError) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var out *condition
	for _, n := range names {
		c, err := legacyOne(n, m[n], expected)
		if err != nil {
			return nil, err
		}
		switch {
		case out == nil:
			out = c
		case op == "OR":
			out = &condition{kind: condOr, sub: []*condition{out, c}}
		default:
			out = &condition{kind: condAnd, sub: []*condition{out, c}}
		}
	}
	if out == nil {
		out = &condition{kind: condAnd, sub: nil, legacy: true, op: "TRUE"}
	}
	return out, nil
}

func legacyOne(name string, lc legacyCondition, expected bool) (*condition, *apiError) {
	path := &operand{kind: opPath, path: docPath{{name: name}}}
	if expected && lc.ComparisonOperator == "" {
		// The Value/Exists form.
		exists := lc.Exists == nil || *lc.Exists
		switch {
		case lc.AttributeValueList != nil:
			return nil, validation("One or more parameter values were invalid: AttributeValueList can only be used with a ComparisonOperator for Attribute: %s", name)
		case !exists && lc.Value != nil:
			return nil, validation("One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: %s", name)
		case !exists:
			return &condition{kind: condCompare, op: "NULL", legacy: true, args: []*operand{path}}, nil
		case lc.Value == nil:
			return nil, validation("One or more parameter values were invalid: Value must be provided when Exists is %s for Attribute: %s", map[bool]string{true: "true", false: "null"}[lc.Exists != nil], name)
		}
		v, err := decodeValue(lc.Value)
		if err != nil {
			return nil, err
		}
		return &condition{kind: condCompare, op: "EQ", legacy: true, args: []*operand{path, {kind: opValue, val: v}}}, nil
	}
	if expected && (lc.Value != nil || lc.Exists != nil) {
		return nil, validation("One or more parameter values were invalid: Exists and Value cannot be used with ComparisonOperator for Attribute: %s", name)
	}
	n, ok := legacyOperators[lc.ComparisonOperator]
	if !ok {
		return nil, validation("1 validation error detected: Value '%s' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]", lc.ComparisonOperator)
	}
	if (n >= 0 && len(lc.AttributeValueList) != n) || (n < 0 && len(lc.AttributeValueList) == 0) {
		return nil, validation("One or more parameter values were invalid: Invalid number of argument(s) for the %s ComparisonOperator", lc.ComparisonOperator)
	}
	c := &condition{kind: condCompare, op: lc.ComparisonOperator, legacy: true, args: []*operand{path}}
	for _, raw := range lc.AttributeValueList {
		v, err := decodeValue(raw)
		if err != nil {
			return nil, err
		}
		switch lc.ComparisonOperator {
		case "EQ", "NE":
		case "CONTAINS", "NOT_CONTAINS", "BEGINS_WITH", "IN", "LE", "LT", "GE", "GT", "BETWEEN":
			if !orderable(v.k) || (lc.ComparisonOperator == "BEGINS_WITH" && v.k == kindN) {
				return nil, validation("One or more parameter values were invalid: ComparisonOperator %s is not valid for %s AttributeValue type", lc.ComparisonOperator, v.k)
			}
		}
		c.args = append(c.args, &operand{kind: opValue, val: v})
	}
	if lc.ComparisonOperator == "IN" {
		for _, o := range c.args[2:] {
			if o.val.k != c.args[1].val.k {
				return nil, validation("One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type")
			}
		}
	}
	if lc.ComparisonOperator == "BETWEEN" {
		lo, hi := c.args[1].val, c.args[2].val
		if lo.k != hi.k {
			return nil, validation("One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type")
		}
		if compareScalars(lo, hi) > 0 {
			return nil, validation("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
		}
	}
	return c, nil
}

// holdsLegacy evaluates one legacy condition: NE, NULL and NOT_CONTAINS
// hold for a missing attribute; every other operator needs it there and of
// the value's type.
func (c *condition) holdsLegacy(it ditem) bool {
	if c.op == "TRUE" {
		return true
	}
	v, ok := c.args[0].value(it)
	vals := make([]dvalue, len(c.args)-1)
	for i, o := range c.args[1:] {
		vals[i] = o.val
	}
	switch c.op {
	case "NULL":
		return !ok
	case "NOT_NULL":
		return ok
	case "NE":
		return !ok || !v.equal(vals[0])
	case "NOT_CONTAINS":
		return ok && !contains(v, vals[0])
	}
	if !ok {
		return false
	}
	switch c.op {
	case "EQ":
		return v.equal(vals[0])
	case "LT", "LE", "GT", "GE":
		return compare(map[string]string{"LT": "<", "LE": "<=", "GT": ">", "GE": ">="}[c.op], v, vals[0])
	case "CONTAINS":
		return contains(v, vals[0])
	case "BEGINS_WITH":
		return v.k == vals[0].k && (v.k == kindS || v.k == kindB) && len(v.s) >= len(vals[0].s) && v.s[:len(vals[0].s)] == vals[0].s
	case "IN":
		for _, x := range vals {
			if v.equal(x) {
				return true
			}
		}
		return false
	case "BETWEEN":
		return compare(">=", v, vals[0]) && compare("<=", v, vals[1])
	}
	return false
}

// legacyUpdates turns AttributeUpdates into update actions: PUT is SET,
// ADD is ADD, DELETE with a value is DELETE and without one REMOVE.
func legacyUpdates(m map[string]legacyUpdate) ([]action, *apiError) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []action
	for _, n := range names {
		u := m[n]
		if n == "" {
			return nil, validation("One or more parameter values were invalid: Empty attribute name")
		}
		path := docPath{{name: n}}
		var val dvalue
		if u.Value != nil {
			v, err := decodeValue(u.Value)
			if err != nil {
				return nil, err
			}
			val = v
		}
		switch u.Action {
		case "", "PUT":
			if u.Value == nil {
				return nil, validation("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified")
			}
			out = append(out, action{kind: actSet, path: path, value: &operand{kind: opValue, val: val}})
		case "ADD":
			if u.Value == nil {
				return nil, validation("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified")
			}
			if val.k != kindN && !val.k.isSet() {
				if val.k == kindL {
					// DynamoDB's legacy ADD appends to a list.
					out = append(out, action{kind: actSet, path: path, value: &operand{kind: opListAppend, args: []*operand{
						{kind: opIfNotExists, args: []*operand{{kind: opPath, path: path}, {kind: opValue, val: dvalue{k: kindL}}}},
						{kind: opValue, val: val}}}, legacy: true})
					continue
				}
				return nil, validation("One or more parameter values were invalid: ADD action is not supported for the type %s", longKind(val.k))
			}
			out = append(out, action{kind: actAdd, path: path, value: &operand{kind: opValue, val: val}, legacy: true})
		case "DELETE":
			if u.Value == nil {
				out = append(out, action{kind: actRemove, path: path})
				continue
			}
			if !val.k.isSet() {
				return nil, validation("One or more parameter values were invalid: DELETE action with value is not supported for the type %s", longKind(val.k))
			}
			out = append(out, action{kind: actDelete, path: path, value: &operand{kind: opValue, val: val}, legacy: true})
		default:
			return nil, validation("1 validation error detected: Value '%s' at 'attributeUpdates.%s.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]", u.Action, n)
		}
	}
	return out, nil
}
