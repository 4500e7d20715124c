package dynamo

import (
	"fmt"
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

// replay applies one record of the snapshot or log directly to minidyn
// while Open rebuilds the previous run's state.
func (s *Store) replay(rec logRecord) error {
	switch rec.Op {
	case opTable:
		if rec.Def == nil {
			return fmt.Errorf("table record for %s without a definition", rec.Table)
		}
		_, _, exists := s.table(rec.Table)
		switch {
		case !exists:
			if err := s.callJSON("CreateTable", rec.Def.Create, nil); err != nil {
				return fmt.Errorf("create table %s: %w", rec.Table, err)
			}
		case len(rec.Update) > 0:
			if rep := s.call("UpdateTable", rec.Update); !rep.ok() {
				return fmt.Errorf("update table %s: %s", rec.Table, rep.errorMessage())
			}
		}
		s.setTable(*rec.Def)
	case opDropTable:
		if err := s.callJSON("DeleteTable", map[string]string{"TableName": rec.Table}, nil); err != nil {
			return fmt.Errorf("delete table %s: %w", rec.Table, err)
		}
		s.dropTable(rec.Table)
	case opPut:
		if err := s.callJSON("PutItem", map[string]any{"TableName": rec.Table, "Item": rec.Item}, nil); err != nil {
			return fmt.Errorf("put item into %s: %w", rec.Table, err)
		}
	case opDelete:
		if err := s.callJSON("DeleteItem", map[string]any{"TableName": rec.Table, "Key": rec.Key}, nil); err != nil {
			return fmt.Errorf("delete item from %s: %w", rec.Table, err)
		}
	default:
		return fmt.Errorf("unknown record %q", rec.Op)
	}
	return nil
}
