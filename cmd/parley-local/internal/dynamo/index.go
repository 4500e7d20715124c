package dynamo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// minidyn v0.8.2 ignores REMOVE in update expressions when serving HTTP (the
// attribute stays), and it corrupts a table's secondary indexes when UpdateItem (or an
// Update in a transaction) writes an item that is not yet in the index, such
// as a new item created by an update or one whose update sets the index key:
// it overwrites the index's first entry instead of adding one, and the item
// it displaced vanishes from every Query on the index. Puts and deletes keep
// the indexes right. So a write that updates items of a table with indexes
// is evaluated on scratch tables (same keys, no indexes), where minidyn
// checks its conditions and applies its update expressions exactly as it
// would have; its outcome is then written to the real tables as plain puts
// and deletes (delete first, as minidyn drops an item from an index only on
// delete, not when a put leaves out the index key). All of it happens under writeMu, which readers also take, so
// nobody sees the steps in between. The attributes an update REMOVEs are
// taken out of its outcome here.

const scratchPrefix = "parley-scratch."

func scratchName(table string) string { return scratchPrefix + table }

// indexed reports whether a table has indexes that minidyn's updates break.
func (d tableDef) indexed() bool {
	return len(d.Create.GlobalSecondaryIndexes) > 0 || len(d.Create.LocalSecondaryIndexes) > 0
}

// ensureScratch creates def's scratch table in minidyn (not a table of the
// store: never listed, logged or streamed). The caller holds ddlMu
// exclusively, as minidyn's table map has no lock of its own.
func (s *Store) ensureScratch(def tableDef) {
	if _, done := s.scratch.LoadOrStore(def.name(), true); done {
		return // UpdateTimeToLive and index updates come back here: one is enough
	}
	keys := map[string]bool{}
	for _, k := range def.Create.KeySchema {
		keys[k.AttributeName] = true
	}
	var attrsDef []attributeDefinition
	for _, a := range def.Create.AttributeDefinitions {
		if keys[a.AttributeName] {
			attrsDef = append(attrsDef, a)
		}
	}
	err := s.callJSON("CreateTable", map[string]any{"TableName": scratchName(def.name()), "KeySchema": def.Create.KeySchema,
		"AttributeDefinitions": attrsDef, "BillingMode": "PAY_PER_REQUEST"}, nil)
	if err != nil {
		s.log.Error("create scratch table", "table", def.name(), "err", err)
	}
}

func (s *Store) dropScratch(name string) {
	if _, had := s.scratch.LoadAndDelete(name); !had {
		return
	}
	_ = s.callJSON("DeleteTable", map[string]string{"TableName": scratchName(name)}, nil)
}

// needsScratch reports whether a write must go through scratch tables: it
// updates an item (REMOVE), or puts over an item of an indexed table
// (minidyn leaves an item that a put takes out of an index listed on it).
func needsScratch(op string, body []byte, ts []*target) bool {
	switch op {
	case "UpdateItem":
		return true
	case "PutItem":
		return len(ts) == 1 && ts[0] != nil && ts[0].def.indexed() && ts[0].old != nil
	case "TransactWriteItems":
		var in struct {
			TransactItems []struct{ Update, Put json.RawMessage }
		}
		if json.Unmarshal(body, &in) != nil {
			return false
		}
		for i, a := range in.TransactItems {
			if len(a.Update) > 0 {
				return true
			}
			if len(a.Put) > 0 && i < len(ts) && ts[i] != nil && ts[i].def.indexed() && ts[i].old != nil {
				return true
			}
		}
	}
	return false
}

// applyWrite runs a write on minidyn: directly, or through scratch tables
// when minidyn would corrupt an index. The caller holds writeMu and has read
// every target's old image.
func (s *Store) applyWrite(op string, body []byte, ts []*target) reply {
	if op == "BatchWriteItem" {
		return s.applyBatch(body, ts)
	}
	if !needsScratch(op, body, ts) {
		return qualify(s.call(op, body))
	}
	for _, t := range ts {
		if t == nil || !t.known {
			// Without the old image the outcome cannot be replayed; let
			// minidyn answer (it names the unknown table or key).
			return qualify(s.call(op, body))
		}
	}
	var scratched []*target
	defer func() {
		for _, t := range scratched {
			_ = s.callJSON("DeleteItem", map[string]any{"TableName": scratchName(t.def.name()), "Key": t.key}, nil)
		}
	}()
	for _, t := range ts {
		if t.old == nil {
			continue
		}
		if err := s.callJSON("PutItem", map[string]any{"TableName": scratchName(t.def.name()), "Item": t.old}, nil); err != nil {
			return internalError(fmt.Errorf("stage %s: %w", t.def.name(), err))
		}
		scratched = append(scratched, t)
	}
	rewritten, err := retable(body, scratchName)
	if err != nil {
		return errorReply(400, "SerializationException", err.Error())
	}
	for _, t := range ts {
		if t.old == nil {
			scratched = append(scratched, t) // may be created in scratch
		}
	}
	removed, deletedFrom := removals(op, body)
	rep := qualify(s.call(op, rewritten))
	rep.body = bytes.ReplaceAll(rep.body, []byte(scratchPrefix), nil)
	if !rep.ok() {
		return rep // minidyn changes nothing when a write or transaction fails
	}
	for i, t := range ts {
		var out struct{ Item attrs }
		if err := s.callJSON("GetItem", map[string]any{"TableName": scratchName(t.def.name()), "Key": t.key, "ConsistentRead": true}, &out); err != nil {
			return internalError(fmt.Errorf("read staged %s: %w", t.def.name(), err))
		}
		if i < len(removed) { // a put removes nothing
			for _, name := range removed[i] {
				delete(out.Item, name)
			}
			for _, name := range deletedFrom[i] {
				if _, had := t.old[name]; !had {
					delete(out.Item, name)
				}
			}
		}
		for name, v := range out.Item {
			// DELETE of a set's last elements leaves minidyn an empty value;
			// in DynamoDB the attribute is gone (sets are never empty).
			if emptyValue(v) {
				delete(out.Item, name)
			}
		}
		// Delete first: minidyn only drops an item from an index when the
		// item is deleted, not when a put leaves out the index's key.
		if t.old != nil {
			err = s.callJSON("DeleteItem", map[string]any{"TableName": t.def.name(), "Key": t.key}, nil)
		}
		if err == nil && len(out.Item) > 0 {
			err = s.callJSON("PutItem", map[string]any{"TableName": t.def.name(), "Item": out.Item}, nil)
		}
		if err != nil {
			return internalError(fmt.Errorf("apply staged %s: %w", t.def.name(), err))
		}
	}
	return rep
}

// applyBatch runs a BatchWriteItem. A put over an item of an indexed table
// would leave the item listed under index keys it no longer has, so such
// items are deleted first; any of them the batch did not write after all
// (minidyn stops at a bad request) is put back as it was.
func (s *Store) applyBatch(body []byte, ts []*target) reply {
	var cleared []*target
	for _, t := range ts {
		if t == nil || !t.known || t.put == nil || t.old == nil || !t.def.indexed() {
			continue
		}
		if err := s.callJSON("DeleteItem", map[string]any{"TableName": t.def.name(), "Key": t.key}, nil); err != nil {
			s.restore(cleared)
			return internalError(fmt.Errorf("clear %s before a batch put: %w", t.def.name(), err))
		}
		cleared = append(cleared, t)
	}
	rep := qualify(s.call("BatchWriteItem", body))
	s.restore(cleared)
	return rep
}

// restore puts back the old image of every item in ts that is absent now.
func (s *Store) restore(ts []*target) {
	for _, t := range ts {
		if cur, err := s.image(t.def, t.key); err != nil || cur != nil {
			continue
		}
		if err := s.callJSON("PutItem", map[string]any{"TableName": t.def.name(), "Item": t.old}, nil); err != nil {
			s.log.Error("restore item after a failed batch", "table", t.def.name(), "err", err)
		}
	}
}

// putOver writes item in place of whatever def's table holds under its
// key, deleting first on indexed tables (see applyBatch).
func (s *Store) putOver(def tableDef, key, item attrs) error {
	if def.indexed() {
		if err := s.callJSON("DeleteItem", map[string]any{"TableName": def.name(), "Key": key}, nil); err != nil {
			return err
		}
	}
	return s.callJSON("PutItem", map[string]any{"TableName": def.name(), "Item": item}, nil)
}

// retable rewrites every "TableName" of a request.
func retable(body []byte, rename func(string) string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode request: %w", err)
	}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, e := range x {
				if name, ok := e.(string); ok && k == "TableName" {
					x[k] = rename(name)
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return json.Marshal(v)
}

// removals lists, per item of a write (in request order), the top-level
// attributes its update expression REMOVEs, and those it DELETEs from (a
// DELETE from a set the item does not have must not create it: minidyn
// adds the elements instead).
func removals(op string, body []byte) (remove, deleteFrom [][]string) {
	type update struct {
		UpdateExpression         string
		ExpressionAttributeNames map[string]string
	}
	switch op {
	case "UpdateItem":
		var u update
		_ = json.Unmarshal(body, &u)
		return [][]string{removedNames(u.UpdateExpression, u.ExpressionAttributeNames)},
			[][]string{clauseNames(u.UpdateExpression, u.ExpressionAttributeNames, "DELETE")}
	case "TransactWriteItems":
		var in struct{ TransactItems []struct{ Update *update } }
		_ = json.Unmarshal(body, &in)
		remove, deleteFrom = make([][]string, len(in.TransactItems)), make([][]string, len(in.TransactItems))
		for i, a := range in.TransactItems {
			if a.Update != nil {
				remove[i] = removedNames(a.Update.UpdateExpression, a.Update.ExpressionAttributeNames)
				deleteFrom[i] = clauseNames(a.Update.UpdateExpression, a.Update.ExpressionAttributeNames, "DELETE")
			}
		}
		return remove, deleteFrom
	}
	return nil, nil
}

// removedNames parses the REMOVE clause of an update expression into the
// top-level attribute names it removes (paths into maps and lists are left
// to minidyn).
func removedNames(expr string, names map[string]string) []string {
	return clauseNames(expr, names, "REMOVE")
}

// clauseNames lists the top-level attributes one clause (SET, REMOVE, ADD,
// DELETE) of an update expression acts on; paths into maps and lists are
// left to minidyn.
func clauseNames(expr string, names map[string]string, clause string) []string {
	var out []string
	for _, a := range updateActions(expr, names) {
		if a.clause == clause && !strings.ContainsAny(a.path, ".[") {
			out = append(out, a.path)
		}
	}
	return out
}

func isWordStart(s string, i int) bool {
	c := s[i]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	if i == 0 {
		return true
	}
	p := s[i-1]
	return p == ' ' || p == ')' || p == ']' || p == ','
}

// emptyValue reports an attribute value with no member set: `{}`, or an
// empty set.
func emptyValue(v json.RawMessage) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return false
	}
	if len(m) == 0 {
		return true
	}
	for k, x := range m {
		if (k == "SS" || k == "NS" || k == "BS") && (string(x) == "[]" || string(x) == "null") {
			return true
		}
	}
	return false
}
