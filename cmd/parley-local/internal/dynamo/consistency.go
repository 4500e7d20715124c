package dynamo

import (
	"errors"
	"fmt"
	"sort"
)

// CheckIndexes compares every secondary index of every table with the
// table itself: each index must hold exactly the items of the table that
// have its key attributes, each once, in its partition and in order, and
// count exactly those; and each table's partitions must hold exactly its
// items. It returns every difference it finds, nil when the indexes match
// their tables. Writes wait while it runs.
func (s *Store) CheckIndexes() error {
	s.ddlMu.RLock()
	defer s.ddlMu.RUnlock()
	if s.closed {
		return errors.New("check indexes: the store is closed")
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	s.mu.Lock()
	var tables []*table
	for _, t := range s.tables {
		if t.data != nil {
			tables = append(tables, t)
		}
	}
	s.mu.Unlock()
	sort.Slice(tables, func(i, j int) bool { return tables[i].def.name() < tables[j].def.name() })

	var errs []error
	for _, t := range tables {
		if err := t.data.check(t.def.name(), "", t.data.main); err != nil {
			errs = append(errs, err)
		}
		for _, name := range t.data.order {
			if err := t.data.check(t.def.name(), name, t.data.indexes[name].data); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// check compares one space (the table's, or index ix's) with the items.
func (t *tableData) check(table, ix string, sp *space) error {
	where := table
	if ix != "" {
		where = table + "." + ix
	}
	var errs []error
	want := map[string]bool{}
	for id, it := range t.items {
		if _, _, ok := sp.schema.keyOf(it); ok {
			want[id] = true
		}
	}
	seen := map[string]bool{}
	n := 0
	for pid, p := range sp.parts {
		if len(p.entries) == 0 {
			errs = append(errs, fmt.Errorf("%s holds an empty partition %s", where, pid))
		}
		for i, e := range p.entries {
			n++
			if i > 0 && !lessEntry(p.entries[i-1], e) {
				errs = append(errs, fmt.Errorf("%s partition %s is out of order at %s", where, pid, e.id))
			}
			switch it, ok := t.items[e.id]; {
			case seen[e.id]:
				errs = append(errs, fmt.Errorf("%s holds item %s twice", where, e.id))
			case !ok:
				errs = append(errs, fmt.Errorf("%s holds item %s, which the table does not (stale entry)", where, e.id))
			case !want[e.id]:
				errs = append(errs, fmt.Errorf("%s holds item %s, which lacks its key", where, e.id))
			default:
				h, r, _ := sp.schema.keyOf(it)
				if valueID(h) != pid || (sp.schema.rng != "" && !r.equal(e.sort)) || !it.equal(e.item) {
					errs = append(errs, fmt.Errorf("%s holds item %s under another key or image", where, e.id))
				}
			}
			seen[e.id] = true
		}
	}
	for id := range want {
		if !seen[id] {
			errs = append(errs, fmt.Errorf("%s is missing item %s", where, id))
		}
	}
	if sp.count != n {
		errs = append(errs, fmt.Errorf("%s counts %d items; it holds %d", where, sp.count, n))
	}
	return errors.Join(errs...)
}
