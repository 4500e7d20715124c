package dynamo

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// logRecords appends records to the write-ahead log; a no-op in memory.
// The caller holds writeMu or ddlMu exclusively, so log order is commit
// order.
func (s *Store) logRecords(recs ...logRecord) error {
	if s.wal == nil {
		return nil
	}
	return s.wal.append(recs)
}

// maybeCompact snapshots once the log has outgrown compactAt, keeping
// restarts quick. After a failure it waits for another compactAt of log
// before trying again, rather than retrying on every write. The caller
// holds writeMu or ddlMu exclusively.
func (s *Store) maybeCompact() {
	if s.wal == nil || s.wal.length() < s.compactAt+s.compactBackoff {
		return
	}
	if err := s.compact(); err != nil {
		s.compactBackoff = s.wal.length()
		s.log.Error("compact write-ahead log", "dir", s.opts.Dir, "err", err)
		return
	}
	s.compactBackoff = 0
}

// compact writes every table and item into a new snapshot and starts an
// empty log. The caller holds writeMu or ddlMu exclusively: nothing may be
// written between the snapshot and the new log.
func (s *Store) compact() error {
	s.mu.Lock()
	defs := make([]tableDef, 0, len(s.tables))
	for _, t := range s.tables {
		defs = append(defs, t.def)
	}
	s.mu.Unlock()
	sort.Slice(defs, func(i, j int) bool { return defs[i].name() < defs[j].name() })
	return s.wal.rotate(func(emit func(logRecord) error) error {
		for _, def := range defs {
			if err := emit(logRecord{Op: opTable, Table: def.name(), Def: &def}); err != nil {
				return err
			}
			for _, item := range s.items(def.name()) {
				if err := emit(logRecord{Op: opPut, Table: def.name(), Item: item.raw()}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// items lists a table's items in key order. The caller holds writeMu
// (or ddlMu exclusively).
func (s *Store) items(name string) []ditem {
	s.mu.Lock()
	t := s.tables[name]
	s.mu.Unlock()
	if t == nil {
		return nil
	}
	ids := make([]string, 0, len(t.data.items))
	for id := range t.data.items {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]ditem, len(ids))
	for i, id := range ids {
		out[i] = t.data.items[id]
	}
	return out
}

// replayed is the previous run's state as Open reads it from the snapshot
// and the log: each table's last definition and last image of each item.
// Nothing reaches the tables until the whole log is read; rebuild then
// creates every table once, with its indexes as they are now, and puts
// every item once into it.
type replayed struct {
	names []string                    // tables in the order they were created
	defs  map[string]tableDef         // by table name
	items map[string]map[string]attrs // table name → item key id → item
}

func newReplayed() *replayed {
	return &replayed{defs: map[string]tableDef{}, items: map[string]map[string]attrs{}}
}

// apply folds one record of the snapshot or log into the state.
func (r *replayed) apply(rec logRecord) error {
	switch rec.Op {
	case opTable:
		if rec.Def == nil {
			return fmt.Errorf("table record for %s without a definition", rec.Table)
		}
		if _, exists := r.defs[rec.Table]; !exists {
			r.names = append(r.names, rec.Table)
			r.items[rec.Table] = map[string]attrs{}
		}
		// UpdateTable changes are folded into the definition already.
		r.defs[rec.Table] = *rec.Def
	case opDropTable:
		if _, exists := r.defs[rec.Table]; !exists {
			return fmt.Errorf("delete table %s: no such table", rec.Table)
		}
		delete(r.defs, rec.Table)
		delete(r.items, rec.Table)
		r.names = slices.DeleteFunc(r.names, func(n string) bool { return n == rec.Table })
	case opPut, opDelete:
		def, exists := r.defs[rec.Table]
		if !exists {
			return fmt.Errorf("%s item of %s: no such table", rec.Op, rec.Table)
		}
		from := rec.Item
		if rec.Op == opDelete {
			from = rec.Key
		}
		key, ok := recordKey(def, from)
		if !ok {
			return fmt.Errorf("%s item of %s: the record lacks the table's key", rec.Op, rec.Table)
		}
		if rec.Op == opPut {
			r.items[rec.Table][key] = rec.Item
		} else {
			delete(r.items[rec.Table], key)
		}
	default:
		return fmt.Errorf("unknown record %q", rec.Op)
	}
	return nil
}

// recordKey names the item a record is about by its key attributes.
func recordKey(def tableDef, from attrs) (string, bool) {
	var parts []string
	for _, k := range def.Create.KeySchema {
		v, ok := from[k.AttributeName]
		if !ok {
			return "", false
		}
		parts = append(parts, compactJSON(v))
	}
	return strings.Join(parts, "\x00"), len(parts) > 0
}

// rebuild creates the replayed tables and fills them, each item put once
// into a fresh table, so every index holds exactly what its table's items
// project into it.
func (s *Store) rebuild(r *replayed) error {
	for _, name := range r.names {
		def := r.defs[name]
		s.setTable(def)
		s.mu.Lock()
		t := s.tables[name]
		s.mu.Unlock()
		ids := make([]string, 0, len(r.items[name]))
		for id := range r.items[name] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			it, err := decodeAttrs(r.items[name][id])
			if err != nil {
				return fmt.Errorf("put item into %s: %w", name, err)
			}
			t.data.put(it)
		}
	}
	return nil
}
