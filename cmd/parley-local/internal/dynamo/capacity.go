package dynamo

import (
	"math"
	"sort"
)

// Consumed capacity, counted as DynamoDB counts it (developer guide,
// "Read and write capacity units"): a write unit per 1 KB of the larger of
// the item's images, a read unit per 4 KB read (half for an eventually
// consistent read), twice either in a transaction; each secondary index
// entry written or deleted costs a write of its projected size (an index
// key that changes costs a delete and a put); Query and Scan pay for the
// total size they read, and a local index pays the table for each item it
// fetches. ReturnConsumedCapacity TOTAL reports per table, INDEXES also per
// table and index.

const (
	writeUnitBytes = 1024
	readUnitBytes  = 4096
)

// units is what size bytes cost in units of unit bytes: at least one.
func units(size, unit int) float64 {
	return math.Max(1, math.Ceil(float64(size)/float64(unit)))
}

// capUnits is consumed capacity as the wire spells it.
type capUnits struct {
	CapacityUnits      float64
	ReadCapacityUnits  *float64 `json:",omitempty"`
	WriteCapacityUnits *float64 `json:",omitempty"`
}

// capacityReport is one table's ConsumedCapacity.
type capacityReport struct {
	TableName              string
	CapacityUnits          float64
	ReadCapacityUnits      *float64            `json:",omitempty"`
	WriteCapacityUnits     *float64            `json:",omitempty"`
	Table                  *capUnits           `json:",omitempty"`
	GlobalSecondaryIndexes map[string]capUnits `json:",omitempty"`
	LocalSecondaryIndexes  map[string]capUnits `json:",omitempty"`
}

type rw struct{ read, write float64 }

func (x rw) wire() capUnits {
	c := capUnits{CapacityUnits: x.read + x.write}
	if x.read > 0 {
		r := x.read
		c.ReadCapacityUnits = &r
	}
	if x.write > 0 {
		w := x.write
		c.WriteCapacityUnits = &w
	}
	return c
}

type tableCapacity struct {
	table rw
	gsi   map[string]*rw
	lsi   map[string]*rw
}

// capacity adds up what one request consumes.
type capacity struct {
	mode   string // NONE (or ""), TOTAL or INDEXES
	tables map[string]*tableCapacity
}

func newCapacity(mode string) *capacity {
	return &capacity{mode: mode, tables: map[string]*tableCapacity{}}
}

func (c *capacity) of(table string) *tableCapacity {
	t := c.tables[table]
	if t == nil {
		t = &tableCapacity{gsi: map[string]*rw{}, lsi: map[string]*rw{}}
		c.tables[table] = t
	}
	return t
}

// index returns the counter of one index of a table.
func (c *capacity) index(table string, ix *indexInfo) *rw {
	t := c.of(table)
	m := t.lsi
	if ix.global {
		m = t.gsi
	}
	x := m[ix.name]
	if x == nil {
		x = &rw{}
		m[ix.name] = x
	}
	return x
}

// read counts a read of size bytes from a table (ix nil) or an index.
func (c *capacity) read(table string, ix *indexInfo, size int, consistent bool, factor float64) {
	u := units(size, readUnitBytes) * factor
	if !consistent {
		u /= 2
	}
	if ix == nil {
		c.of(table).table.read += u
		return
	}
	c.index(table, ix).read += u
}

// write counts the writes one item's change costs its table and indexes:
// old and new are its images (nil when absent); failed says a condition
// failed and nothing was written.
func (c *capacity) write(t *tableData, table string, old, new ditem, failed bool, factor float64) {
	size := 0
	if old != nil {
		size = old.size()
	}
	if new != nil {
		size = max(size, new.size())
	}
	c.of(table).table.write += units(size, writeUnitBytes) * factor
	if failed {
		return
	}
	for _, name := range t.order {
		ix := t.indexes[name]
		_, _, inOld := ix.data.schema.keyOf(old)
		_, _, inNew := ix.data.schema.keyOf(new)
		if old == nil {
			inOld = false
		}
		if new == nil {
			inNew = false
		}
		var w float64
		switch {
		case inOld && inNew:
			oh, or, _ := ix.data.schema.keyOf(old)
			nh, nr, _ := ix.data.schema.keyOf(new)
			if !oh.equal(nh) || (ix.data.schema.rng != "" && !or.equal(nr)) {
				w = units(ix.view(old).size(), writeUnitBytes) + units(ix.view(new).size(), writeUnitBytes)
			} else if !ix.view(old).equal(ix.view(new)) {
				w = units(ix.view(new).size(), writeUnitBytes)
			}
		case inOld:
			w = units(ix.view(old).size(), writeUnitBytes)
		case inNew:
			w = units(ix.view(new).size(), writeUnitBytes)
		}
		if w > 0 {
			c.index(table, ix).write += w * factor
		}
	}
}

// reports is ConsumedCapacity for every table the request touched, in
// table name order; nil when the request did not ask.
func (c *capacity) reports() []*capacityReport {
	if c == nil || (c.mode != "TOTAL" && c.mode != "INDEXES") {
		return nil
	}
	names := make([]string, 0, len(c.tables))
	for n := range c.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*capacityReport, 0, len(names))
	for _, n := range names {
		t := c.tables[n]
		total := t.table
		for _, m := range []map[string]*rw{t.gsi, t.lsi} {
			for _, x := range m {
				total.read += x.read
				total.write += x.write
			}
		}
		w := total.wire()
		r := &capacityReport{TableName: n, CapacityUnits: w.CapacityUnits, ReadCapacityUnits: w.ReadCapacityUnits, WriteCapacityUnits: w.WriteCapacityUnits}
		if c.mode == "INDEXES" {
			tw := t.table.wire()
			r.Table = &tw
			for _, m := range []struct {
				from map[string]*rw
				to   *map[string]capUnits
			}{{t.gsi, &r.GlobalSecondaryIndexes}, {t.lsi, &r.LocalSecondaryIndexes}} {
				for name, x := range m.from {
					if *m.to == nil {
						*m.to = map[string]capUnits{}
					}
					(*m.to)[name] = x.wire()
				}
			}
		}
		out = append(out, r)
	}
	return out
}

// report is the one table's ConsumedCapacity of a single-table request.
func (c *capacity) report() *capacityReport {
	r := c.reports()
	if len(r) == 0 {
		return nil
	}
	return r[0]
}
