package dynamo

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// CheckIndexes compares every secondary index of every table with the
// table itself: each index must hold exactly the items of the table that
// have its key attributes, projected as the index projects them, each once,
// and count exactly those. It returns every difference it finds, nil when
// the indexes match their tables. Writes wait while it runs.
//
// minidyn keeps an index as a list of index keys beside a map of item
// keys, and a Query walks both in step: one stale entry in either (left by
// a put over an item that drops the index key) hides every later item of
// that index key from every Query. The check reads the index through a
// Scan of it, which walks the same structures, and through the item count
// DescribeTable reports, which is the length of the list.
func (s *Store) CheckIndexes() error {
	s.ddlMu.RLock()
	defer s.ddlMu.RUnlock()
	if s.closed {
		return errors.New("check indexes: the store is closed")
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	s.mu.Lock()
	defs := make([]tableDef, 0, len(s.tables))
	for _, t := range s.tables {
		if t.def.indexed() {
			defs = append(defs, t.def)
		}
	}
	s.mu.Unlock()
	sort.Slice(defs, func(i, j int) bool { return defs[i].name() < defs[j].name() })

	var errs []error
	for _, def := range defs {
		if err := s.checkTableIndexes(def); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// projection is an index's Projection as CreateTable takes it.
type projection struct {
	ProjectionType   string
	NonKeyAttributes []string
}

func (s *Store) checkTableIndexes(def tableDef) error {
	items, err := s.scanAll(def.name())
	if err != nil {
		return fmt.Errorf("check indexes of %s: %w", def.name(), err)
	}
	counts, err := s.indexCounts(def.name())
	if err != nil {
		return fmt.Errorf("check indexes of %s: %w", def.name(), err)
	}
	var errs []error
	for _, ix := range append(append([]indexDef(nil), def.Create.GlobalSecondaryIndexes...), def.Create.LocalSecondaryIndexes...) {
		var proj projection
		if len(ix.Projection) > 0 {
			if err := json.Unmarshal(ix.Projection, &proj); err != nil {
				errs = append(errs, fmt.Errorf("index %s.%s: decode projection: %w", def.name(), ix.IndexName, err))
				continue
			}
		}
		want := map[string]attrs{}
		for _, item := range items {
			if p, ok := project(def, ix, proj, item); ok {
				key, _ := def.key(item)
				want[def.keyID(key)] = p
			}
		}
		got, err := s.scanIndex(def.name(), ix.IndexName)
		if err != nil {
			errs = append(errs, fmt.Errorf("index %s.%s: %w", def.name(), ix.IndexName, err))
			continue
		}
		seen := map[string]bool{}
		for _, item := range got {
			key, ok := def.key(item)
			if !ok {
				errs = append(errs, fmt.Errorf("index %s.%s holds an item without the table's key: %s", def.name(), ix.IndexName, compactItem(item)))
				continue
			}
			id := def.keyID(key)
			switch w, ok := want[id]; {
			case seen[id]:
				errs = append(errs, fmt.Errorf("index %s.%s holds item %s twice", def.name(), ix.IndexName, compactItem(key)))
			case !ok:
				errs = append(errs, fmt.Errorf("index %s.%s holds item %s, which no item of the table projects into it (stale entry)", def.name(), ix.IndexName, compactItem(item)))
			case !sameItem(w, item):
				errs = append(errs, fmt.Errorf("index %s.%s holds %s; the table projects %s", def.name(), ix.IndexName, compactItem(item), compactItem(w)))
			}
			seen[id] = true
		}
		for id, w := range want {
			if !seen[id] {
				errs = append(errs, fmt.Errorf("index %s.%s is missing item %s", def.name(), ix.IndexName, compactItem(w)))
			}
		}
		if n, ok := counts[ix.IndexName]; ok && n != len(want) {
			errs = append(errs, fmt.Errorf("index %s.%s counts %d items; the table projects %d into it", def.name(), ix.IndexName, n, len(want)))
		}
	}
	return errors.Join(errs...)
}

// project returns what an item of def looks like in index ix, and false
// when the item lacks one of the index's key attributes (indexes are
// sparse).
func project(def tableDef, ix indexDef, proj projection, item attrs) (attrs, bool) {
	for _, k := range ix.KeySchema {
		if _, ok := item[k.AttributeName]; !ok {
			return nil, false
		}
	}
	switch proj.ProjectionType {
	case "", "ALL":
		return item, true
	}
	out := attrs{}
	for _, k := range def.Create.KeySchema {
		out[k.AttributeName] = item[k.AttributeName]
	}
	for _, k := range ix.KeySchema {
		out[k.AttributeName] = item[k.AttributeName]
	}
	if proj.ProjectionType == "INCLUDE" {
		for _, name := range proj.NonKeyAttributes {
			if v, ok := item[name]; ok {
				out[name] = v
			}
		}
	}
	return out, true
}

// scanIndex reads every entry of an index through minidyn. The caller
// holds writeMu.
func (s *Store) scanIndex(table, index string) ([]attrs, error) {
	var items []attrs
	var start attrs
	for {
		in := map[string]any{"TableName": table, "IndexName": index}
		if start != nil {
			in["ExclusiveStartKey"] = start
		}
		var out struct {
			Items            []attrs
			LastEvaluatedKey attrs
		}
		if err := s.callJSON("Scan", in, &out); err != nil {
			return nil, fmt.Errorf("scan index: %w", err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		start = out.LastEvaluatedKey
	}
}

// indexCounts reads the item count minidyn keeps for each index of table.
func (s *Store) indexCounts(table string) (map[string]int, error) {
	var out struct {
		Table struct {
			GlobalSecondaryIndexes []struct {
				IndexName string
				ItemCount int
			}
			LocalSecondaryIndexes []struct {
				IndexName string
				ItemCount int
			}
		}
	}
	if err := s.callJSON("DescribeTable", map[string]string{"TableName": table}, &out); err != nil {
		return nil, fmt.Errorf("describe table: %w", err)
	}
	counts := map[string]int{}
	for _, ix := range out.Table.GlobalSecondaryIndexes {
		counts[ix.IndexName] = ix.ItemCount
	}
	for _, ix := range out.Table.LocalSecondaryIndexes {
		counts[ix.IndexName] = ix.ItemCount
	}
	return counts, nil
}

func compactItem(a attrs) string {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Sprint(a)
	}
	return string(b)
}
