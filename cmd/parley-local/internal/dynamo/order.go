package dynamo

import (
	"encoding/json"
	"math/big"
	"sort"
)

// minidyn v0.8.2 orders items by their sort key as text, whatever its type:
// a number sort key reads 1, 10, 11, 2, ... and a Query's Limit then picks
// the wrong items (Parley pages messages by a number seq). So a Query on a
// table or index whose sort key is a number is run here without Limit and
// ExclusiveStartKey, its items ordered numerically, and the page cut and
// LastEvaluatedKey computed as DynamoDB would.

type queryInput struct {
	TableName            string
	IndexName            string
	Limit                *int
	ScanIndexForward     *bool
	ExclusiveStartKey    attrs
	Select               string
	ProjectionExpression string
}

// numericRange returns the sort key of the table or index a Query reads
// when it is a number, and the key attributes that identify an item there.
func (d tableDef) numericRange(index string) (rangeKey string, keyAttrs []string, ok bool) {
	schema := d.Create.KeySchema
	if index != "" {
		found := false
		for _, ix := range append(append([]indexDef{}, d.Create.GlobalSecondaryIndexes...), d.Create.LocalSecondaryIndexes...) {
			if ix.IndexName == index {
				schema, found = ix.KeySchema, true
			}
		}
		if !found {
			return "", nil, false
		}
	}
	for _, k := range schema {
		keyAttrs = append(keyAttrs, k.AttributeName)
		if k.KeyType == "RANGE" {
			rangeKey = k.AttributeName
		}
	}
	if index != "" {
		for _, k := range d.Create.KeySchema {
			keyAttrs = appendNew(keyAttrs, k.AttributeName)
		}
	}
	for _, a := range d.Create.AttributeDefinitions {
		if a.AttributeName == rangeKey && a.AttributeType == "N" {
			return rangeKey, keyAttrs, true
		}
	}
	return "", nil, false
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// query serves Query, in numeric order where minidyn would not.
func (s *Store) query(body []byte) reply {
	var in queryInput
	if err := json.Unmarshal(body, &in); err != nil {
		return qualify(s.call("Query", body))
	}
	def, _, ok := s.table(in.TableName)
	if !ok || in.ProjectionExpression != "" || in.Select == "COUNT" {
		return qualify(s.call("Query", body))
	}
	rangeKey, keyAttrs, ok := def.numericRange(in.IndexName)
	if !ok {
		return qualify(s.call("Query", body))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return qualify(s.call("Query", body))
	}
	delete(raw, "Limit")
	delete(raw, "ExclusiveStartKey")
	all, _ := json.Marshal(raw)
	rep := qualify(s.call("Query", all))
	if !rep.ok() {
		return rep
	}
	var out map[string]json.RawMessage
	var items []attrs
	if json.Unmarshal(rep.body, &out) != nil || json.Unmarshal(out["Items"], &items) != nil {
		return rep
	}
	forward := in.ScanIndexForward == nil || *in.ScanIndexForward
	sort.SliceStable(items, func(i, j int) bool {
		c := compareNumber(items[i][rangeKey], items[j][rangeKey])
		if forward {
			return c < 0
		}
		return c > 0
	})
	if in.ExclusiveStartKey != nil {
		for i, it := range items {
			if sameKey(it, in.ExclusiveStartKey, keyAttrs) {
				items = items[i+1:]
				break
			}
		}
	}
	var last attrs
	if in.Limit != nil && *in.Limit >= 0 && len(items) > *in.Limit {
		items = items[:*in.Limit]
		last = attrs{}
		for _, k := range keyAttrs {
			if v, ok := items[len(items)-1][k]; ok {
				last[k] = v
			}
		}
	}
	if items == nil {
		items = []attrs{}
	}
	out["Items"], _ = json.Marshal(items)
	n, _ := json.Marshal(len(items))
	out["Count"], out["ScannedCount"] = n, n
	delete(out, "LastEvaluatedKey")
	if last != nil {
		out["LastEvaluatedKey"], _ = json.Marshal(last)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return rep
	}
	return reply{status: rep.status, body: b}
}

// compareNumber compares two N attribute values as decimal numbers.
func compareNumber(a, b json.RawMessage) int {
	return number(a).Cmp(number(b))
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
