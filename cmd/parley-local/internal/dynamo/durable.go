package dynamo

import (
	"fmt"
	"slices"
	"sort"
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
			items, err := s.scanAll(def.name())
			if err != nil {
				return err
			}
			for _, item := range items {
				if err := emit(logRecord{Op: opPut, Table: def.name(), Item: item}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// replayed is the previous run's state as Open reads it from the snapshot
// and the log: each table's last definition and last image of each item.
// Nothing reaches minidyn until the whole log is read; rebuild then creates
// every table once, with its indexes as they are now, and puts every item
// once into it. Applying the records one by one to minidyn instead would
// put after-images over items, and minidyn keeps an item listed on an index
// when a put over it drops the index key (index.go): after a crash, every
// conversation assigned since the last snapshot stayed in the queue index,
// and the first write to one emptied its workstream's queue.
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
		key, ok := def.key(from)
		if !ok {
			return fmt.Errorf("%s item of %s: the record lacks the table's key", rec.Op, rec.Table)
		}
		if rec.Op == opPut {
			r.items[rec.Table][def.keyID(key)] = rec.Item
		} else {
			delete(r.items[rec.Table], def.keyID(key))
		}
	default:
		return fmt.Errorf("unknown record %q", rec.Op)
	}
	return nil
}

// rebuild creates the replayed tables in minidyn and fills them, each item
// put once into a fresh table, so every index holds exactly what its
// table's items project into it.
func (s *Store) rebuild(r *replayed) error {
	for _, name := range r.names {
		def := r.defs[name]
		if err := s.callJSON("CreateTable", def.Create, nil); err != nil {
			return fmt.Errorf("create table %s: %w", name, err)
		}
		s.setTable(def)
		ids := make([]string, 0, len(r.items[name]))
		for id := range r.items[name] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if err := s.callJSON("PutItem", map[string]any{"TableName": name, "Item": r.items[name][id]}, nil); err != nil {
				return fmt.Errorf("put item into %s: %w", name, err)
			}
		}
	}
	return nil
}
