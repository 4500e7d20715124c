package dynamo

import (
	"encoding/json"
	"math/bits"
	"sort"
	"strings"
)

// Reads: GetItem, BatchGetItem, TransactGetItems, Query and Scan. The
// caller holds writeMu shared.

// maxPageBytes is how much a Query or Scan reads before it stops and
// returns a LastEvaluatedKey.
const maxPageBytes = 1 << 20

func (s *Store) getItem(body []byte) reply {
	var in struct {
		TableName              string
		Key                    map[string]json.RawMessage
		ConsistentRead         bool
		ReturnConsumedCapacity string
		exprFields
	}
	if err := decodeBody("GetItem", body, &in); err != nil {
		return err.reply()
	}
	if err := checkCapacityParams(in.ReturnConsumedCapacity, ""); err != nil {
		return err.reply()
	}
	x, err := parseExprs(&in.exprFields)
	if err != nil {
		return err.reply()
	}
	t, err := s.lookup(in.TableName)
	if err != nil {
		return err.reply()
	}
	key, err := parseKey(t.data, in.Key)
	if err != nil {
		return err.reply()
	}
	it := t.data.get(t.data.keyID(key))
	capa := newCapacity(in.ReturnConsumedCapacity)
	capa.read(in.TableName, nil, sizeOf(it), in.ConsistentRead, 1)
	out := map[string]any{"ConsumedCapacity": capa.report()}
	if it != nil {
		if x.proj != nil {
			it = project(it, x.proj)
		}
		out["Item"] = it
	}
	return output(out)
}

const maxBatchGet = 100

func (s *Store) batchGetItem(body []byte) reply {
	var in struct {
		RequestItems map[string]struct {
			Keys           []map[string]json.RawMessage
			ConsistentRead bool
			exprFields
		}
		ReturnConsumedCapacity string
	}
	if err := decodeBody("BatchGetItem", body, &in); err != nil {
		return err.reply()
	}
	if err := checkCapacityParams(in.ReturnConsumedCapacity, ""); err != nil {
		return err.reply()
	}
	if len(in.RequestItems) == 0 {
		return validationError("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	names := make([]string, 0, len(in.RequestItems))
	total := 0
	for name, ka := range in.RequestItems {
		names = append(names, name)
		if len(ka.Keys) == 0 {
			return validationError("1 validation error detected: Value null at 'requestItems.%s.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1", name)
		}
		total += len(ka.Keys)
	}
	if total > maxBatchGet {
		return validationError("Too many items requested for the BatchGetItem call")
	}
	sort.Strings(names)
	capa := newCapacity(in.ReturnConsumedCapacity)
	responses := map[string][]ditem{}
	for _, name := range names {
		ka := in.RequestItems[name]
		x, err := parseExprs(&ka.exprFields)
		if err != nil {
			return err.reply()
		}
		t, err := s.lookup(name)
		if err != nil {
			return err.reply()
		}
		seen := map[string]bool{}
		items := []ditem{}
		for _, raw := range ka.Keys {
			key, err := parseKey(t.data, raw)
			if err != nil {
				return err.reply()
			}
			id := t.data.keyID(key)
			if seen[id] {
				return validationError("Provided list of item keys contains duplicates")
			}
			seen[id] = true
			it := t.data.get(id)
			capa.read(name, nil, sizeOf(it), ka.ConsistentRead, 1)
			if it == nil {
				continue
			}
			if x.proj != nil {
				it = project(it, x.proj)
			}
			items = append(items, it)
		}
		responses[name] = items
	}
	return output(map[string]any{"Responses": responses, "UnprocessedKeys": map[string]any{}, "ConsumedCapacity": capa.reports()})
}

func (s *Store) transactGetItems(body []byte) reply {
	var in struct {
		TransactItems []struct {
			Get *struct {
				TableName string
				Key       map[string]json.RawMessage
				exprFields
			}
		}
		ReturnConsumedCapacity string
	}
	if err := decodeBody("TransactGetItems", body, &in); err != nil {
		return err.reply()
	}
	if err := checkCapacityParams(in.ReturnConsumedCapacity, ""); err != nil {
		return err.reply()
	}
	switch n := len(in.TransactItems); {
	case n == 0:
		return validationError("1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case n > maxTransactItems:
		return validationError("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to %d", maxTransactItems)
	}
	capa := newCapacity(in.ReturnConsumedCapacity)
	seen := map[string]bool{}
	responses := make([]map[string]any, 0, len(in.TransactItems))
	for _, a := range in.TransactItems {
		if a.Get == nil {
			return validationError("1 validation error detected: Value null at 'transactItems.1.member.get' failed to satisfy constraint: Member must not be null")
		}
		x, err := parseExprs(&a.Get.exprFields)
		if err != nil {
			return err.reply()
		}
		t, err := s.lookup(a.Get.TableName)
		if err != nil {
			return err.reply()
		}
		key, err := parseKey(t.data, a.Get.Key)
		if err != nil {
			return err.reply()
		}
		id := t.data.keyID(key)
		if seen[a.Get.TableName+"\x00"+id] {
			return validationError("Transaction request cannot include multiple operations on one item")
		}
		seen[a.Get.TableName+"\x00"+id] = true
		it := t.data.get(id)
		capa.read(a.Get.TableName, nil, sizeOf(it), true, 2)
		r := map[string]any{}
		if it != nil {
			if x.proj != nil {
				it = project(it, x.proj)
			}
			r["Item"] = it
		}
		responses = append(responses, r)
	}
	return output(map[string]any{"Responses": responses, "ConsumedCapacity": capa.reports()})
}

// searchInput is what Query and Scan take.
type searchInput struct {
	TableName              string
	IndexName              *string
	Limit                  *int
	ScanIndexForward       *bool
	ConsistentRead         bool
	ExclusiveStartKey      map[string]json.RawMessage
	Select                 string
	Segment                *int
	TotalSegments          *int
	ReturnConsumedCapacity string
	exprFields
}

// search is a Query or Scan, parsed and checked.
type search struct {
	in      *searchInput
	t       *table
	ix      *indexInfo // nil for the table
	sp      *space
	x       *exprs
	sel     string
	start   ditem
	hashVal dvalue     // Query: the partition
	rng     *condition // Query: the sort key condition, if any
}

func (s *Store) prepareSearch(op string, body []byte) (*search, *apiError) {
	in := &searchInput{}
	if err := decodeBody(op, body, in); err != nil {
		return nil, err
	}
	if err := checkCapacityParams(in.ReturnConsumedCapacity, ""); err != nil {
		return nil, err
	}
	switch in.Select {
	case "", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT":
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]", in.Select)
	}
	if in.Limit != nil && *in.Limit < 1 {
		return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
	}
	if op == "Query" && in.KeyConditionExpression == nil && in.KeyConditions == nil {
		return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	x, err := parseExprs(&in.exprFields)
	if err != nil {
		return nil, err
	}
	t, err := s.lookup(in.TableName)
	if err != nil {
		return nil, err
	}
	q := &search{in: in, t: t, x: x, sp: t.data.main}
	if in.IndexName != nil {
		ix := t.data.indexes[*in.IndexName]
		if ix == nil {
			return nil, validation("The table does not have the specified index: %s", *in.IndexName)
		}
		q.ix, q.sp = ix, ix.data
		if ix.global && in.ConsistentRead {
			return nil, validation("Consistent reads are not supported on global secondary indexes")
		}
	}
	if err := q.checkSelect(); err != nil {
		return nil, err
	}
	if op == "Scan" {
		if err := checkSegments(in.Segment, in.TotalSegments); err != nil {
			return nil, err
		}
	}
	if op == "Query" {
		if err := q.keyCondition(); err != nil {
			return nil, err
		}
		if err := q.filterOnKey(); err != nil {
			return nil, err
		}
	}
	if in.ExclusiveStartKey != nil {
		if err := q.startKey(op); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// checkSelect applies the rules on Select and its projection.
func (q *search) checkSelect() *apiError {
	sel, hasProj := q.in.Select, q.x.proj != nil
	switch {
	case sel == "" && hasProj:
		sel = "SPECIFIC_ATTRIBUTES"
	case sel == "" && q.ix != nil:
		sel = "ALL_PROJECTED_ATTRIBUTES"
	case sel == "":
		sel = "ALL_ATTRIBUTES"
	}
	switch {
	case hasProj && sel != "SPECIFIC_ATTRIBUTES":
		member := "AttributesToGet"
		if q.in.ProjectionExpression != nil {
			member = "ProjectionExpression"
		}
		return validation("Cannot specify the %s when choosing to get %s", member, sel)
	case !hasProj && sel == "SPECIFIC_ATTRIBUTES":
		return validation("1 validation error detected: Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
	case sel == "ALL_PROJECTED_ATTRIBUTES" && q.ix == nil:
		return validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
	case sel == "ALL_ATTRIBUTES" && q.ix != nil && q.ix.global && q.ix.proj.ProjectionType != "ALL" && q.ix.proj.ProjectionType != "":
		return validation("One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index %s because its projection type is not ALL", q.ix.name)
	}
	q.sel = sel
	if q.ix == nil {
		return nil
	}
	var missing []string
	for _, p := range q.x.proj {
		if q.ix.global && !q.ix.projects(p[0].name) && !contains2(missing, p[0].name) {
			missing = append(missing, p[0].name)
		}
	}
	if len(missing) > 0 {
		return validation("One or more parameter values were invalid: Global secondary index %s does not project [%s]", q.ix.name, strings.Join(missing, ", "))
	}
	if !q.ix.global && (sel == "ALL_PROJECTED_ATTRIBUTES" || sel == "COUNT") && q.x.filter != nil &&
		conditionUses(q.x.filter, func(p docPath) bool { return !q.ix.projects(p[0].name) }) {
		return validation("One or more parameter values were invalid: a filter on local secondary index %s reads attributes it does not project; select ALL_ATTRIBUTES to fetch them", q.ix.name)
	}
	return nil
}

func checkSegments(seg, total *int) *apiError {
	switch {
	case seg == nil && total == nil:
		return nil
	case seg == nil:
		return validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	case total == nil:
		return validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	case *total < 1 || *total > 1000000:
		return validation("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: Member must have value between 1 and 1000000", *total)
	case *seg < 0 || *seg >= *total:
		return validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", *seg, *total)
	}
	return nil
}

// keyCondition checks a Query's key condition and takes it apart: an
// equality on the partition key, and at most one condition on the sort key.
func (q *search) keyCondition() *apiError {
	schema := q.sp.schema
	var parts []*condition
	var flatten func(c *condition) *apiError
	flatten = func(c *condition) *apiError {
		switch {
		case c.kind == condAnd && !c.legacy:
			for _, s := range c.sub {
				if err := flatten(s); err != nil {
					return err
				}
			}
			return nil
		case c.kind == condOr:
			return validation("Invalid operator used in KeyConditionExpression: OR")
		case c.kind == condNot:
			return validation("Invalid operator used in KeyConditionExpression: NOT")
		}
		parts = append(parts, c)
		return nil
	}
	if err := flatten(q.x.keyCond); err != nil {
		return err
	}
	var hashSeen bool
	for _, c := range parts {
		name, values, op, err := keyPart(c)
		if err != nil {
			return err
		}
		want := kindNone
		switch name {
		case schema.hash:
			if hashSeen {
				return validation("KeyConditionExpressions must only contain one condition per key")
			}
			if op != "=" && op != "EQ" {
				return validation("Query key condition not supported")
			}
			hashSeen, want = true, schema.hashType
			q.hashVal = values[0]
		case schema.rng:
			if q.rng != nil {
				return validation("KeyConditionExpressions must only contain one condition per key")
			}
			if schema.rng == "" {
				return validation("Query condition missed key schema element: %s", schema.hash)
			}
			want = schema.rngType
			q.rng = c
		default:
			return validation("Query condition missed key schema element: %s", schema.hash)
		}
		for _, v := range values {
			if v.k != want {
				return validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
		}
		if (op == "begins_with" || op == "BEGINS_WITH") && want == kindN {
			return validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
		}
	}
	if !hashSeen {
		return validation("Query condition missed key schema element: %s", schema.hash)
	}
	return nil
}

// keyPart reads one conjunct of a key condition: the attribute, the
// values it is compared with, the operator.
func keyPart(c *condition) (string, []dvalue, string, *apiError) {
	unsupported := validation("Query key condition not supported")
	if c.legacy {
		switch c.op {
		case "EQ", "LE", "LT", "GE", "GT", "BEGINS_WITH", "BETWEEN":
		default:
			return "", nil, "", validation("Attempted conditional constraint is not an indexable operation")
		}
		var vals []dvalue
		for _, o := range c.args[1:] {
			vals = append(vals, o.val)
		}
		return c.args[0].path[0].name, vals, c.op, nil
	}
	pathOf := func(o *operand) (string, bool) {
		if o.kind != opPath || len(o.path) != 1 {
			return "", false
		}
		return o.path[0].name, true
	}
	for _, o := range c.args {
		if o.kind == opPath && len(o.path) > 1 {
			return "", nil, "", validation("KeyConditionExpressions cannot have conditions on nested attributes")
		}
	}
	switch c.kind {
	case condIn:
		return "", nil, "", validation("Invalid operator used in KeyConditionExpression: IN")
	case condCompare:
		if c.op == "<>" {
			return "", nil, "", validation("Unsupported operator in KeyConditionExpression: <>")
		}
		left, right, op := c.args[0], c.args[1], c.op
		if left.kind == opValue && right.kind == opPath {
			// ":v < sk" is "sk > :v"
			left, right = right, left
			op = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
		}
		name, ok := pathOf(left)
		if !ok || right.kind != opValue {
			return "", nil, "", unsupported
		}
		return name, []dvalue{right.val}, op, nil
	case condBetween:
		name, ok := pathOf(c.args[0])
		if !ok || c.args[1].kind != opValue || c.args[2].kind != opValue {
			return "", nil, "", unsupported
		}
		return name, []dvalue{c.args[1].val, c.args[2].val}, "BETWEEN", nil
	case condFunc:
		if c.op != "begins_with" {
			return "", nil, "", validation("Invalid operator used in KeyConditionExpression: %s", c.op)
		}
		name, ok := pathOf(c.args[0])
		if !ok || c.args[1].kind != opValue {
			return "", nil, "", unsupported
		}
		return name, []dvalue{c.args[1].val}, "begins_with", nil
	}
	return "", nil, "", unsupported
}

// filterOnKey refuses a Query filter on the key of what it reads.
func (q *search) filterOnKey() *apiError {
	if q.x.filter == nil {
		return nil
	}
	schema := q.sp.schema
	var bad string
	var walk func(c *condition)
	var walkOp func(o *operand)
	walkOp = func(o *operand) {
		if o.kind == opPath && len(o.path) > 0 && (o.path[0].name == schema.hash || (schema.rng != "" && o.path[0].name == schema.rng)) && bad == "" {
			bad = o.path[0].name
		}
		for _, a := range o.args {
			walkOp(a)
		}
	}
	walk = func(c *condition) {
		for _, s := range c.sub {
			walk(s)
		}
		for _, o := range c.args {
			walkOp(o)
		}
	}
	walk(q.x.filter)
	if bad != "" {
		return validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", bad)
	}
	return nil
}

// startKey checks ExclusiveStartKey: the table's key and, on an index, the
// index's, nothing else; on a Query, in the partition queried.
func (q *search) startKey(op string) *apiError {
	bad := validation("The provided starting key is invalid: The provided key element does not match the schema")
	key, err := decodeItem(q.in.ExclusiveStartKey)
	if err != nil {
		return err
	}
	want := map[string]kind{}
	for _, s := range []keySchema{q.t.data.schema, q.sp.schema} {
		want[s.hash] = s.hashType
		if s.rng != "" {
			want[s.rng] = s.rngType
		}
	}
	if len(key) != len(want) {
		return bad
	}
	for n, k := range want {
		v, ok := key[n]
		if !ok || v.k != k {
			return bad
		}
	}
	if op == "Query" {
		if !key[q.sp.schema.hash].equal(q.hashVal) {
			return validation("The provided starting key is invalid: The provided starting key does not match the range key predicate")
		}
		if q.rng != nil && !q.rng.holds(key) {
			return validation("The provided starting key does not match the range key predicate")
		}
	}
	q.start = key
	return nil
}

// startEntry is the position ExclusiveStartKey names in q's space.
func (q *search) startEntry() *entry {
	if q.start == nil {
		return nil
	}
	_, rng, _ := q.sp.schema.keyOf(q.start)
	return &entry{id: q.t.data.keyID(q.start), sort: rng}
}

// page is what a Query or Scan read: the entries, and whether it stopped
// before the end.
type page struct {
	read []*entry
	more bool
	size int
}

// take reads entries from a sequence into the page until Limit or 1 MB.
func (q *search) take(pg *page, e *entry) bool {
	pg.read = append(pg.read, e)
	if q.ix != nil {
		pg.size += q.ix.view(e.item).size()
	} else {
		pg.size += q.t.data.sizes[e.id]
	}
	return (q.in.Limit == nil || len(pg.read) < *q.in.Limit) && pg.size < maxPageBytes
}

func (s *Store) query(body []byte) reply {
	q, err := s.prepareSearch("Query", body)
	if err != nil {
		return err.reply()
	}
	forward := q.in.ScanIndexForward == nil || *q.in.ScanIndexForward
	pg := &page{}
	if p := q.sp.parts[valueID(q.hashVal)]; p != nil {
		entries := p.entries
		lo, hi := q.rangeBounds(entries)
		if start := q.startEntry(); start != nil {
			if forward {
				lo = max(lo, sort.Search(len(entries), func(i int) bool { return lessEntry(start, entries[i]) }))
			} else {
				hi = min(hi, sort.Search(len(entries), func(i int) bool { return !lessEntry(entries[i], start) }))
			}
		}
		n := hi - lo
		for k := 0; k < n; k++ {
			i := lo + k
			if !forward {
				i = hi - 1 - k
			}
			if !q.take(pg, entries[i]) {
				// A Limit cut is marked even when nothing follows; a 1 MB cut
				// only when something does.
				pg.more = q.in.Limit != nil || k+1 < n
				break
			}
		}
	}
	return q.answer(pg)
}

// rangeBounds is the run [lo, hi) of a partition's entries that the sort
// key condition holds for: they are in sort key order, so it is found by
// binary search rather than by testing each.
func (q *search) rangeBounds(entries []*entry) (int, int) {
	n := len(entries)
	if q.rng == nil {
		return 0, n
	}
	_, vals, op, _ := keyPart(q.rng)
	// above is the first index whose sort key is above v (or at it, when at).
	above := func(v dvalue, at bool) int {
		return sort.Search(n, func(i int) bool {
			c := compareScalars(entries[i].sort, v)
			return c > 0 || (at && c == 0)
		})
	}
	switch op {
	case "=", "EQ":
		return above(vals[0], true), above(vals[0], false)
	case "<", "LT":
		return 0, above(vals[0], true)
	case "<=", "LE":
		return 0, above(vals[0], false)
	case ">", "GT":
		return above(vals[0], false), n
	case ">=", "GE":
		return above(vals[0], true), n
	case "BETWEEN":
		lo, hi := above(vals[0], true), above(vals[1], false)
		return lo, max(lo, hi)
	case "begins_with", "BEGINS_WITH":
		lo := above(vals[0], true)
		k := sort.Search(n-lo, func(k int) bool { return !strings.HasPrefix(entries[lo+k].sort.s, vals[0].s) })
		return lo, lo + k
	}
	return 0, n
}

func (s *Store) scan(body []byte) reply {
	q, err := s.prepareSearch("Scan", body)
	if err != nil {
		return err.reply()
	}
	order := q.sp.scanOrder()
	lo, hi := 0, len(order)
	if q.in.TotalSegments != nil {
		total := uint64(*q.in.TotalSegments)
		seg := uint64(*q.in.Segment)
		segOf := func(p *partition) uint64 { h, _ := bits.Mul64(p.hashPos, total); return h }
		lo = sort.Search(len(order), func(i int) bool { return segOf(order[i]) >= seg })
		hi = sort.Search(len(order), func(i int) bool { return segOf(order[i]) > seg })
	}
	start := q.startEntry()
	first := lo
	if start != nil {
		hash := valueID(q.start[q.sp.schema.hash])
		pos := scanPos(hash)
		if q.in.TotalSegments != nil {
			if seg, _ := bits.Mul64(pos, uint64(*q.in.TotalSegments)); seg != uint64(*q.in.Segment) {
				return validationError("The provided Exclusive start key does not map to the provided Segment and TotalSegments values.")
			}
		}
		first = sort.Search(len(order), func(i int) bool {
			p := order[i]
			return p.hashPos > pos || (p.hashPos == pos && p.id >= hash)
		})
		first = max(first, lo)
	}
	pg := &page{}
	stopped := false
	for i := first; i < hi && !stopped; i++ {
		p := order[i]
		entries := p.entries
		j := 0
		if start != nil && p.id == valueID(q.start[q.sp.schema.hash]) {
			j = sort.Search(len(entries), func(k int) bool { return lessEntry(start, entries[k]) })
		}
		for ; j < len(entries); j++ {
			if !q.take(pg, entries[j]) {
				stopped = true
				pg.more = q.in.Limit != nil || j+1 < len(entries) || i+1 < hi
				break
			}
		}
	}
	return q.answer(pg)
}

// answer filters, projects and counts what a Query or Scan read.
func (q *search) answer(pg *page) reply {
	capa := newCapacity(q.in.ReturnConsumedCapacity)
	capa.read(q.in.TableName, q.ix, pg.size, q.in.ConsistentRead, 1)
	// A local index fetches from the table what it does not project, when
	// the request needs it.
	needsFetch := func(e *entry) bool {
		if q.ix == nil || q.ix.global || q.ix.proj.ProjectionType == "ALL" || q.ix.proj.ProjectionType == "" {
			return false
		}
		if q.sel == "ALL_ATTRIBUTES" {
			return true
		}
		uses := func(p docPath) bool { return !q.ix.projects(p[0].name) }
		for _, p := range q.x.proj {
			if uses(p) {
				return true
			}
		}
		if q.x.filter != nil && conditionUses(q.x.filter, uses) {
			return true
		}
		return false
	}
	items := []ditem{}
	count := 0
	for _, e := range pg.read {
		it := e.item
		if q.ix != nil {
			if needsFetch(e) {
				capa.read(q.in.TableName, nil, q.t.data.sizes[e.id], q.in.ConsistentRead, 1)
			} else {
				it = q.ix.view(it)
			}
		}
		if q.x.filter != nil && !q.x.filter.holds(it) {
			continue
		}
		count++
		if q.sel == "COUNT" {
			continue
		}
		if q.x.proj != nil {
			it = project(it, q.x.proj)
		}
		items = append(items, it)
	}
	out := map[string]any{"Count": count, "ScannedCount": len(pg.read), "ConsumedCapacity": capa.report()}
	if q.sel != "COUNT" {
		out["Items"] = items
	}
	if pg.more && len(pg.read) > 0 {
		last := pg.read[len(pg.read)-1].item
		key := q.t.data.keyOf(last)
		if q.ix != nil {
			for _, n := range q.sp.schema.names() {
				key[n] = last[n]
			}
		}
		out["LastEvaluatedKey"] = key
	}
	return output(out)
}

// conditionUses reports whether a condition reads a path uses picks out.
func conditionUses(c *condition, uses func(docPath) bool) bool {
	for _, s := range c.sub {
		if conditionUses(s, uses) {
			return true
		}
	}
	var walk func(o *operand) bool
	walk = func(o *operand) bool {
		if o.kind == opPath && uses(o.path) {
			return true
		}
		for _, a := range o.args {
			if walk(a) {
				return true
			}
		}
		return false
	}
	for _, o := range c.args {
		if walk(o) {
			return true
		}
	}
	return false
}
