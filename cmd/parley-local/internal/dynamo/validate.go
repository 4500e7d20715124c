package dynamo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// Checks DynamoDB makes on every request and minidyn does not: attribute
// values (sets neither empty nor with duplicates, numbers that parse),
// expression values that are used but not defined, update expressions
// whose paths overlap, and key values (never empty, index keys of their
// declared type). Without them minidyn accepts the request, sometimes
// storing garbage (a set with duplicates reads back as another value).

var valueRef = regexp.MustCompile(`:[A-Za-z0-9_]+`)

// expressionKeys are the request members holding expressions.
var expressionKeys = []string{"ConditionExpression", "UpdateExpression", "KeyConditionExpression", "FilterExpression", "ProjectionExpression"}

// validRequest walks a request body and applies the request-only checks to
// every part that carries items, keys or expressions.
func validRequest(body []byte) reply {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return reply{status: http.StatusOK} // minidyn answers for a body it cannot read
	}
	return walkRequest(v)
}

func walkRequest(v any) reply {
	switch v := v.(type) {
	case map[string]any:
		if rep := validPart(v); !rep.ok() {
			return rep
		}
		for _, e := range v {
			if rep := walkRequest(e); !rep.ok() {
				return rep
			}
		}
	case []any:
		for _, e := range v {
			if rep := walkRequest(e); !rep.ok() {
				return rep
			}
		}
	}
	return reply{status: http.StatusOK}
}

// validPart checks one object of a request: its items and keys, and its
// expressions against its own ExpressionAttributeValues.
func validPart(m map[string]any) reply {
	for _, k := range []string{"Item", "Key", "ExpressionAttributeValues", "ExclusiveStartKey"} {
		if item, ok := m[k].(map[string]any); ok {
			for _, av := range item {
				if rep := validValue(av); !rep.ok() {
					return rep
				}
			}
		}
	}
	vals, _ := m["ExpressionAttributeValues"].(map[string]any)
	for _, k := range expressionKeys {
		expr, ok := m[k].(string)
		if !ok {
			continue
		}
		for _, ref := range valueRef.FindAllString(expr, -1) {
			if _, ok := vals[ref]; !ok {
				return validationError("Invalid %s: An expression attribute value used in expression is not defined; attribute value: %s", k, ref)
			}
		}
	}
	if expr, ok := m["UpdateExpression"].(string); ok {
		names := map[string]string{}
		if n, ok := m["ExpressionAttributeNames"].(map[string]any); ok {
			for k, v := range n {
				names[k], _ = v.(string)
			}
		}
		if a, b, ok := overlapping(updateActions(expr, names)); ok {
			return validationError("Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [%s], path two: [%s]", a, b)
		}
	}
	if keys, ok := m["Keys"].([]any); ok {
		seen := map[string]bool{}
		for _, k := range keys {
			b, _ := json.Marshal(k) // map keys in order: one spelling per key
			if seen[string(b)] {
				return validationError("Provided list of item keys contains duplicates")
			}
			seen[string(b)] = true
		}
	}
	return reply{status: http.StatusOK}
}

// validValue checks one attribute value, and those nested in it.
func validValue(av any) reply {
	m, ok := av.(map[string]any)
	if !ok {
		return reply{status: http.StatusOK}
	}
	for typ, x := range m {
		switch typ {
		case "N":
			if s, ok := x.(string); ok && !validNumber(s) {
				return validationError("The parameter cannot be converted to a numeric value: %s", s)
			}
		case "SS", "NS", "BS":
			list, _ := x.([]any)
			if len(list) == 0 {
				kind := map[string]string{"SS": "string", "NS": "number", "BS": "binary"}[typ]
				return validationError("One or more parameter values were invalid: An %s set  may not be empty", kind)
			}
			seen := map[string]bool{}
			var all []string
			for _, e := range list {
				s, _ := e.(string)
				if typ == "NS" {
					if !validNumber(s) {
						return validationError("The parameter cannot be converted to a numeric value: %s", s)
					}
					s = canonicalNumber(s)
				}
				all = append(all, s)
				if seen[s] {
					sort.Strings(all)
					return validationError("One or more parameter values were invalid: Input collection [%s] contains duplicates.", strings.Join(all, ", "))
				}
				seen[s] = true
			}
		case "L":
			list, _ := x.([]any)
			for _, e := range list {
				if rep := validValue(e); !rep.ok() {
					return rep
				}
			}
		case "M":
			mm, _ := x.(map[string]any)
			for _, e := range mm {
				if rep := validValue(e); !rep.ok() {
					return rep
				}
			}
		}
	}
	return reply{status: http.StatusOK}
}

func validNumber(s string) bool {
	_, ok := new(big.Rat).SetString(s)
	return ok && !strings.ContainsAny(s, "/xXpP_") && strings.TrimSpace(s) == s
}

// canonicalNumber spells a number as DynamoDB returns it: no exponent, no
// leading or trailing zeros, no sign on zero ("1.50" → "1.5", "1e3" →
// "1000").
func canonicalNumber(s string) string {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return s
	}
	if r.IsInt() {
		return r.Num().String()
	}
	// A finite decimal: FloatString with enough digits, trailing zeros cut.
	digits := len(s)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		var exp int
		fmt.Sscan(s[i+1:], &exp)
		if exp < 0 {
			digits += -exp
		}
	}
	out := r.FloatString(digits)
	out = strings.TrimRight(out, "0")
	return strings.TrimSuffix(out, ".")
}

// validKeyValues checks the key attributes of an item or key: never an
// empty string or binary (DynamoDB allows empty values elsewhere).
func validKeyValues(key attrs) reply {
	for name, raw := range key {
		var v value
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		if (v.S != nil && *v.S == "") || (v.B != nil && len(v.B) == 0) {
			return validationError("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", name)
		}
	}
	return reply{status: http.StatusOK}
}

// validIndexKeys checks the attributes of an item that key a secondary
// index: of the type the table declares, and not empty. An item without
// them is simply not in the index.
func (d tableDef) validIndexKeys(item attrs) reply {
	types := map[string]string{}
	for _, a := range d.Create.AttributeDefinitions {
		types[a.AttributeName] = a.AttributeType
	}
	for _, ix := range append(append([]indexDef{}, d.Create.GlobalSecondaryIndexes...), d.Create.LocalSecondaryIndexes...) {
		for _, k := range ix.KeySchema {
			raw, ok := item[k.AttributeName]
			if !ok {
				continue
			}
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) != nil {
				continue
			}
			got := ""
			for t := range m {
				got = t
			}
			if want := types[k.AttributeName]; got != want {
				return validationError("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", k.AttributeName, want, got, ix.IndexName)
			}
			if string(m[got]) == `""` {
				return validationError("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: %s, IndexKey: %s", ix.IndexName, k.AttributeName)
			}
		}
	}
	return reply{status: http.StatusOK}
}

// canonicalNumbers rewrites every number of a request the way DynamoDB
// stores it ("1.50" → "1.5", "007" → "7", "1e3" → "1000"), so items read
// back as DynamoDB returns them and "7" and "007" name the same key.
func canonicalNumbers(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"N`)) {
		return body
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return body
	}
	changed := false
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			if len(x) == 1 {
				if n, ok := x["N"].(string); ok && validNumber(n) {
					if c := canonicalNumber(n); c != n {
						x["N"], changed = c, true
					}
					return
				}
				if ns, ok := x["NS"].([]any); ok {
					for i, e := range ns {
						if n, ok := e.(string); ok && validNumber(n) {
							if c := canonicalNumber(n); c != n {
								ns[i], changed = c, true
							}
						}
					}
					return
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	if !changed {
		return body
	}
	b, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return b
}
