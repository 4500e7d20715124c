package dynamo

import "encoding/json"

// scan serves Scan: minidyn's answer, with the ScannedCount it leaves at
// zero and without the items it returns for Select COUNT.
func (s *Store) scan(body []byte) reply {
	rep := qualify(s.call("Scan", body))
	if !rep.ok() {
		return rep
	}
	var in struct {
		FilterExpression  string
		Select            string
		Limit             *int
		ExclusiveStartKey json.RawMessage
	}
	var out map[string]json.RawMessage
	if json.Unmarshal(body, &in) != nil || json.Unmarshal(rep.body, &out) != nil {
		return rep
	}
	scanned := out["Count"]
	if in.FilterExpression != "" {
		// Items read before the filter: the same scan without it.
		var raw map[string]json.RawMessage
		_ = json.Unmarshal(body, &raw)
		q := queryInput{}
		_ = json.Unmarshal(body, &q)
		all := subQuery(raw, q, false, false) // keeps Limit out, as the filter did not apply it
		if in.Limit == nil && in.ExclusiveStartKey == nil {
			if r := qualify(s.call("Scan", all)); r.ok() {
				var n struct{ Count json.RawMessage }
				if json.Unmarshal(r.body, &n) == nil {
					scanned = n.Count
				}
			}
		}
	}
	out["ScannedCount"] = scanned
	if in.Select == "COUNT" {
		delete(out, "Items")
	}
	b, err := json.Marshal(out)
	if err != nil {
		return rep
	}
	return reply{status: rep.status, body: b}
}
