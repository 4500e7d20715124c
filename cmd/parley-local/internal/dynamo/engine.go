package dynamo

import (
	"encoding/json"
	"hash/fnv"
	"sort"
)

// The store's own engine: each table's items by key, grouped into
// partitions ordered by sort key, and each secondary index as partitions
// of its own, kept in step with the items on every write. A Query reads one
// partition in order; a Scan walks the partitions in the order of a hash
// of their partition key, as DynamoDB does, so Segment and TotalSegments
// split it into disjoint ranges. All of it is guarded by the store's
// writeMu.

// keySchema is the key of a table or an index: attribute names and types.
type keySchema struct {
	hash, rng         string
	hashType, rngType kind // rngType is kindNone without a sort key
}

func (k keySchema) names() []string {
	if k.rng == "" {
		return []string{k.hash}
	}
	return []string{k.hash, k.rng}
}

// entry is one item in a partition of a table or an index.
type entry struct {
	id   string // the item's table key id
	sort dvalue // the sort key of the table or index (kindNone without one)
	item ditem  // the whole item; an index projects it when it is read
}

// partition holds the entries with one partition key value, in sort key
// order (then by table key, for index entries with equal sort keys).
type partition struct {
	id      string
	hashPos uint64 // position in scan order
	hashVal dvalue
	entries []*entry
}

func lessEntry(a, b *entry) bool {
	if a.sort.k != kindNone {
		if c := compareScalars(a.sort, b.sort); c != 0 {
			return c < 0
		}
	}
	return a.id < b.id
}

func (p *partition) insert(e *entry) {
	i := sort.Search(len(p.entries), func(i int) bool { return !lessEntry(p.entries[i], e) })
	p.entries = append(p.entries, nil)
	copy(p.entries[i+1:], p.entries[i:])
	p.entries[i] = e
}

func (p *partition) remove(e *entry) {
	i := sort.Search(len(p.entries), func(i int) bool { return !lessEntry(p.entries[i], e) })
	for ; i < len(p.entries); i++ {
		if p.entries[i].id == e.id {
			p.entries = append(p.entries[:i], p.entries[i+1:]...)
			return
		}
	}
}

// space is a table or an index: its partitions and what it counts.
type space struct {
	schema keySchema
	parts  map[string]*partition
	order  []*partition // scan order; nil when a partition came or went
	count  int
	bytes  int
}

func newSpace(schema keySchema) *space {
	return &space{schema: schema, parts: map[string]*partition{}}
}

// valueID names a key value uniquely.
func valueID(v dvalue) string { return string(v.appendJSON(nil)) }

// keyOfItem picks a schema's key out of an item; ok is false when the item
// lacks one of its attributes (it is then not in an index).
func (k keySchema) keyOf(it ditem) (hash, rng dvalue, ok bool) {
	hash, ok = it[k.hash]
	if !ok {
		return
	}
	if k.rng != "" {
		rng, ok = it[k.rng]
	}
	return
}

func scanPos(id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()
}

func (s *space) add(id string, it ditem, size int) {
	hash, rng, ok := s.schema.keyOf(it)
	if !ok {
		return
	}
	pid := valueID(hash)
	p := s.parts[pid]
	if p == nil {
		p = &partition{id: pid, hashPos: scanPos(pid), hashVal: hash}
		s.parts[pid] = p
		s.order = nil
	}
	p.insert(&entry{id: id, sort: rng, item: it})
	s.count++
	s.bytes += size
}

func (s *space) drop(id string, it ditem, size int) {
	hash, rng, ok := s.schema.keyOf(it)
	if !ok {
		return
	}
	pid := valueID(hash)
	p := s.parts[pid]
	if p == nil {
		return
	}
	before := len(p.entries)
	p.remove(&entry{id: id, sort: rng})
	if len(p.entries) == before {
		return
	}
	s.count--
	s.bytes -= size
	if len(p.entries) == 0 {
		delete(s.parts, pid)
		s.order = nil
	}
}

// scanOrder is the partitions in the order a Scan walks them.
func (s *space) scanOrder() []*partition {
	if s.order == nil {
		s.order = make([]*partition, 0, len(s.parts))
		for _, p := range s.parts {
			s.order = append(s.order, p)
		}
		sort.Slice(s.order, func(i, j int) bool {
			a, b := s.order[i], s.order[j]
			if a.hashPos != b.hashPos {
				return a.hashPos < b.hashPos
			}
			return a.id < b.id
		})
	}
	return s.order
}

// indexInfo is a secondary index as the store serves it.
type indexInfo struct {
	name    string
	global  bool
	proj    projection
	keys    map[string]bool // attributes an entry holds whatever the projection: table and index keys
	data    *space
	backing *tableData
}

// projection is an index's Projection as CreateTable takes it.
type projection struct {
	ProjectionType   string
	NonKeyAttributes []string `json:",omitempty"`
}

// projects reports whether the index holds attribute name of its items.
func (ix *indexInfo) projects(name string) bool {
	switch ix.proj.ProjectionType {
	case "", "ALL":
		return true
	case "INCLUDE":
		for _, n := range ix.proj.NonKeyAttributes {
			if n == name {
				return true
			}
		}
	}
	return ix.keys[name]
}

// view is what the index holds of an item.
func (ix *indexInfo) view(it ditem) ditem {
	switch ix.proj.ProjectionType {
	case "", "ALL":
		return it
	}
	out := ditem{}
	for n, v := range it {
		if ix.projects(n) {
			out[n] = v
		}
	}
	return out
}

// tableData is one table's items and indexes.
type tableData struct {
	schema  keySchema
	items   map[string]ditem
	sizes   map[string]int
	main    *space
	indexes map[string]*indexInfo
	order   []string // index names in definition order
}

// newTableData builds the empty table a definition describes.
func newTableData(def tableDef) *tableData {
	types := map[string]kind{}
	for _, a := range def.Create.AttributeDefinitions {
		types[a.AttributeName] = kindOf(a.AttributeType)
	}
	schemaOf := func(ks []keyElement) keySchema {
		var k keySchema
		for _, e := range ks {
			if e.KeyType == "RANGE" {
				k.rng, k.rngType = e.AttributeName, types[e.AttributeName]
			} else {
				k.hash, k.hashType = e.AttributeName, types[e.AttributeName]
			}
		}
		return k
	}
	t := &tableData{schema: schemaOf(def.Create.KeySchema), items: map[string]ditem{}, sizes: map[string]int{}, indexes: map[string]*indexInfo{}}
	t.main = newSpace(t.schema)
	add := func(ix indexDef, global bool) {
		info := &indexInfo{name: ix.IndexName, global: global, data: newSpace(schemaOf(ix.KeySchema)), keys: map[string]bool{}, backing: t}
		if len(ix.Projection) > 0 {
			_ = json.Unmarshal(ix.Projection, &info.proj)
		}
		for _, n := range append(t.schema.names(), info.data.schema.names()...) {
			info.keys[n] = true
		}
		t.indexes[ix.IndexName] = info
		t.order = append(t.order, ix.IndexName)
	}
	for _, ix := range def.Create.GlobalSecondaryIndexes {
		add(ix, true)
	}
	for _, ix := range def.Create.LocalSecondaryIndexes {
		add(ix, false)
	}
	return t
}

// keyID names an item of the table by its key, across spellings.
func (t *tableData) keyID(key ditem) string {
	id := valueID(key[t.schema.hash])
	if t.schema.rng != "" {
		id += "\x00" + valueID(key[t.schema.rng])
	}
	return id
}

// keyOf is the table key of an item.
func (t *tableData) keyOf(it ditem) ditem {
	key := ditem{t.schema.hash: it[t.schema.hash]}
	if t.schema.rng != "" {
		key[t.schema.rng] = it[t.schema.rng]
	}
	return key
}

func (t *tableData) get(id string) ditem { return t.items[id] }

// put writes an item in place of whatever has its key.
func (t *tableData) put(it ditem) {
	id := t.keyID(it)
	t.delete(id)
	size := it.size()
	t.items[id] = it
	t.sizes[id] = size
	t.main.add(id, it, size)
	for _, ix := range t.indexes {
		ix.data.add(id, it, ix.view(it).size())
	}
}

// delete removes the item with key id, if there is one.
func (t *tableData) delete(id string) {
	old, ok := t.items[id]
	if !ok {
		return
	}
	t.main.drop(id, old, t.sizes[id])
	for _, ix := range t.indexes {
		ix.data.drop(id, old, ix.view(old).size())
	}
	delete(t.items, id)
	delete(t.sizes, id)
}

// reindex rebuilds the table's indexes from a new definition (an index
// created or deleted by UpdateTable), keeping the items.
func (t *tableData) reindex(def tableDef) *tableData {
	n := newTableData(def)
	ids := make([]string, 0, len(t.items))
	for id := range t.items {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		n.put(t.items[id])
	}
	return n
}
