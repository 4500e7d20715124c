package dynamo

import (
	"bytes"
	"slices"
	"sort"
	"strings"
	"unicode/utf16"
)

// Evaluation of parsed expressions against items, with DynamoDB's
// semantics: a comparison of two types, or of something that is not there
// (a missing attribute, a list index past the end, a function of either),
// is false, never an error; <> is the negation of =. Updates read every
// operand from the item as it was before any action, apply SETs, then
// REMOVEs, ADDs and DELETEs, and append SETs past a list's end in index
// order.

const (
	errInvalidPath   = "The document path provided in the update expression is invalid for update"
	errNoSuchOperand = "The provided expression refers to an attribute that does not exist in the item"
	errOperandType   = "An operand in the update expression has an incorrect data type"
)

// get reads a document path; ok is false when any step is not there.
func (it ditem) get(p docPath) (dvalue, bool) {
	if len(p) == 0 || p[0].isIdx {
		return dvalue{}, false
	}
	v, ok := it[p[0].name]
	if !ok {
		return dvalue{}, false
	}
	for _, e := range p[1:] {
		switch {
		case e.isIdx && v.k == kindL:
			if e.index < 0 || e.index >= len(v.l) {
				return dvalue{}, false
			}
			v = v.l[e.index]
		case !e.isIdx && v.k == kindM:
			w, ok := v.m[e.name]
			if !ok {
				return dvalue{}, false
			}
			v = w
		default:
			return dvalue{}, false
		}
	}
	return v, true
}

// value evaluates an operand of a condition; ok is false when it names
// nothing.
func (o *operand) value(it ditem) (dvalue, bool) {
	switch o.kind {
	case opValue:
		return o.val, true
	case opPath:
		return it.get(o.path)
	case opSize:
		v, ok := o.args[0].value(it)
		if !ok {
			return dvalue{}, false
		}
		n := -1
		switch v.k {
		case kindS:
			n = len(utf16.Encode([]rune(v.s)))
		case kindB:
			n = len(v.s)
		case kindSS, kindNS, kindBS:
			n = len(v.set)
		case kindL:
			n = len(v.l)
		case kindM:
			n = len(v.m)
		}
		if n < 0 {
			return dvalue{}, false
		}
		return dvalue{k: kindN, s: decimalOfInt(n).String()}, true
	}
	return dvalue{}, false
}

func decimalOfInt(n int) decimal {
	d, _ := parseDecimal(itoa(n))
	return d
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		b = append(b, byte('0'+n%10))
		n /= 10
	}
	if neg {
		b = append(b, '-')
	}
	slices.Reverse(b)
	return string(b)
}

// holds evaluates a condition against an item (nil: no item).
func (c *condition) holds(it ditem) bool {
	if c.legacy {
		return c.holdsLegacy(it)
	}
	switch c.kind {
	case condOr:
		return c.sub[0].holds(it) || c.sub[1].holds(it)
	case condAnd:
		return c.sub[0].holds(it) && c.sub[1].holds(it)
	case condNot:
		return !c.sub[0].holds(it)
	case condCompare:
		a, aok := c.args[0].value(it)
		b, bok := c.args[1].value(it)
		if !aok || !bok {
			return c.op == "<>"
		}
		return compare(c.op, a, b)
	case condBetween:
		v, ok := c.args[0].value(it)
		lo, lok := c.args[1].value(it)
		hi, hok := c.args[2].value(it)
		return ok && lok && hok && compare(">=", v, lo) && compare("<=", v, hi)
	case condIn:
		v, ok := c.args[0].value(it)
		if !ok {
			return false
		}
		for _, o := range c.args[1:] {
			if w, ok := o.value(it); ok && v.equal(w) {
				return true
			}
		}
		return false
	case condFunc:
		switch c.op {
		case "attribute_exists":
			_, ok := c.args[0].value(it)
			return ok
		case "attribute_not_exists":
			_, ok := c.args[0].value(it)
			return !ok
		case "attribute_type":
			v, ok := c.args[0].value(it)
			t, tok := c.args[1].value(it)
			return ok && tok && t.k == kindS && v.k.String() == t.s
		case "begins_with":
			v, ok := c.args[0].value(it)
			p, pok := c.args[1].value(it)
			return ok && pok && v.k == p.k && (v.k == kindS || v.k == kindB) && strings.HasPrefix(v.s, p.s)
		case "contains":
			v, ok := c.args[0].value(it)
			x, xok := c.args[1].value(it)
			return ok && xok && contains(v, x)
		}
	}
	return false
}

// compare applies a comparator; values of two types, or of a type without
// an order, compare false (and unequal).
func compare(op string, a, b dvalue) bool {
	switch op {
	case "=":
		return a.equal(b)
	case "<>":
		return !a.equal(b)
	}
	if a.k != b.k || !orderable(a.k) {
		return false
	}
	c := compareScalars(a, b)
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// contains is the contains function: a substring of a string, a member of
// a set, an element of a list.
func contains(v, x dvalue) bool {
	switch v.k {
	case kindS:
		return x.k == kindS && strings.Contains(v.s, x.s)
	case kindB:
		return x.k == kindB && bytes.Contains([]byte(v.s), []byte(x.s))
	case kindSS:
		return x.k == kindS && slices.Contains(v.set, x.s)
	case kindNS:
		return x.k == kindN && slices.Contains(v.set, x.s)
	case kindBS:
		return x.k == kindB && slices.Contains(v.set, x.s)
	case kindL:
		return slices.ContainsFunc(v.l, x.equal)
	}
	return false
}

// setValue evaluates SET's right-hand side against the item before the
// update.
func (o *operand) setValue(it ditem) (dvalue, *apiError) {
	switch o.kind {
	case opValue:
		return o.val, nil
	case opPath:
		v, ok := it.get(o.path)
		if !ok {
			return dvalue{}, validation(errNoSuchOperand)
		}
		return v, nil
	case opIfNotExists:
		if v, ok := it.get(o.args[0].path); ok {
			return v, nil
		}
		return o.args[1].setValue(it)
	case opListAppend:
		a, err := o.args[0].setValue(it)
		if err != nil {
			return dvalue{}, err
		}
		b, err := o.args[1].setValue(it)
		if err != nil {
			return dvalue{}, err
		}
		if a.k != kindL || b.k != kindL {
			return dvalue{}, validation(errOperandType)
		}
		l := make([]dvalue, 0, len(a.l)+len(b.l))
		return dvalue{k: kindL, l: append(append(l, a.l...), b.l...)}, nil
	case opPlus, opMinus:
		a, err := o.args[0].setValue(it)
		if err != nil {
			return dvalue{}, err
		}
		b, err := o.args[1].setValue(it)
		if err != nil {
			return dvalue{}, err
		}
		if a.k != kindN || b.k != kindN {
			return dvalue{}, validation(errOperandType)
		}
		x, _ := parseDecimal(a.s)
		y, _ := parseDecimal(b.s)
		if o.kind == opMinus {
			y = y.negate()
		}
		return numberResult(addDecimal(x, y))
	}
	return dvalue{}, validation(errOperandType)
}

// numberResult is an arithmetic result, refused when DynamoDB could not
// store it.
func numberResult(d decimal) (dvalue, *apiError) {
	if why := d.check(); why != "" {
		return dvalue{}, validation("%s", why)
	}
	return dvalue{k: kindN, s: d.String()}, nil
}

// applyUpdate is the item an update makes of old (nil: no item yet), whose
// key is key.
func applyUpdate(old, key ditem, actions []action) (ditem, *apiError) {
	base := old
	if base == nil {
		base = key
	}
	// Every operand is read before any action changes the item.
	values := make([]dvalue, len(actions))
	for i, a := range actions {
		if a.kind == actSet {
			v, err := a.value.setValue(base)
			if err != nil && a.legacy && err.msg == errOperandType {
				err = validation("One or more parameter values were invalid: Type mismatch for attribute to update")
			}
			if err != nil {
				return nil, err
			}
			values[i] = v
		}
	}
	it := base.clone()
	type appendAt struct {
		index int
		value dvalue
	}
	appends := map[string][]appendAt{}
	var appendOrder []docPath
	for i, a := range actions {
		if a.kind != actSet {
			continue
		}
		last := a.path[len(a.path)-1]
		if last.isIdx {
			parent := a.path[:len(a.path)-1]
			l, ok := it.get(parent)
			if !ok || l.k != kindL {
				return nil, validation(errInvalidPath)
			}
			if last.index >= len(l.l) {
				id := parent.String()
				if appends[id] == nil {
					appendOrder = append(appendOrder, parent)
				}
				appends[id] = append(appends[id], appendAt{last.index, values[i]})
				continue
			}
		}
		if err := it.set(a.path, values[i]); err != nil {
			return nil, err
		}
	}
	for _, parent := range appendOrder {
		adds := appends[parent.String()]
		sort.SliceStable(adds, func(i, j int) bool { return adds[i].index < adds[j].index })
		l, _ := it.get(parent)
		nl := slices.Clone(l.l)
		for _, x := range adds {
			nl = append(nl, x.value)
		}
		if err := it.set(parent, dvalue{k: kindL, l: nl}); err != nil {
			return nil, err
		}
	}
	// Removals from one list go from the highest index down, so that each
	// index means what it meant in the item as it was.
	var removes []docPath
	for _, a := range actions {
		if a.kind == actRemove {
			removes = append(removes, a.path)
		}
	}
	sort.SliceStable(removes, func(i, j int) bool {
		a, b := removes[i], removes[j]
		if len(a) == len(b) && a[:len(a)-1].String() == b[:len(b)-1].String() && a[len(a)-1].isIdx && b[len(b)-1].isIdx {
			return a[len(a)-1].index > b[len(b)-1].index
		}
		return false
	})
	for _, p := range removes {
		if err := it.remove(p); err != nil {
			return nil, err
		}
	}
	for _, a := range actions {
		var err *apiError
		switch a.kind {
		case actAdd:
			err = it.add(a.path, a.value.val)
		case actDelete:
			err = it.deleteFrom(a.path, a.value.val)
		}
		if err != nil && a.legacy && err.msg == errOperandType {
			err = validation("One or more parameter values were invalid: Type mismatch for attribute to update")
		}
		if err != nil {
			return nil, err
		}
	}
	return it, nil
}

// modify replaces the value at p by what change makes of it; change gets
// the parent (a map or list, already copied) and p's last step. The item's
// values are never shared with another item (applyUpdate clones), so the
// change may happen in place.
func (it ditem) modify(p docPath, change func(parent *dvalue, last pathElem) *apiError) *apiError {
	if len(p) == 1 {
		root := dvalue{k: kindM, m: it}
		return change(&root, p[0])
	}
	root, ok := it[p[0].name]
	if !ok {
		return validation(errInvalidPath)
	}
	cur := &root
	for _, e := range p[1 : len(p)-1] {
		switch {
		case e.isIdx && cur.k == kindL && e.index >= 0 && e.index < len(cur.l):
			cur = &cur.l[e.index]
		case !e.isIdx && cur.k == kindM:
			w, ok := cur.m[e.name]
			if !ok {
				return validation(errInvalidPath)
			}
			// Map members are values: give the member a home of its own
			// that the parent then holds.
			holder := new(dvalue)
			*holder = w
			parent := cur
			name := e.name
			defer func() { parent.m[name] = *holder }()
			cur = holder
		default:
			return validation(errInvalidPath)
		}
	}
	if err := change(cur, p[len(p)-1]); err != nil {
		return err
	}
	it[p[0].name] = root
	return nil
}

// set writes v at p; the parent must exist.
func (it ditem) set(p docPath, v dvalue) *apiError {
	return it.modify(p, func(parent *dvalue, last pathElem) *apiError {
		switch {
		case last.isIdx && parent.k == kindL:
			if last.index >= len(parent.l) {
				parent.l = append(parent.l, v)
			} else {
				parent.l[last.index] = v
			}
		case !last.isIdx && parent.k == kindM:
			if parent.m == nil {
				parent.m = map[string]dvalue{}
			}
			parent.m[last.name] = v
		default:
			return validation(errInvalidPath)
		}
		return nil
	})
}

// remove deletes what p names; nothing there is fine, a parent that is not
// is not.
func (it ditem) remove(p docPath) *apiError {
	return it.modify(p, func(parent *dvalue, last pathElem) *apiError {
		switch {
		case last.isIdx && parent.k == kindL:
			if last.index < len(parent.l) {
				parent.l = slices.Delete(slices.Clone(parent.l), last.index, last.index+1)
			}
		case !last.isIdx && parent.k == kindM:
			delete(parent.m, last.name)
		default:
			return validation(errInvalidPath)
		}
		return nil
	})
}

// add is ADD: a number added to, or set members added to, what p holds.
func (it ditem) add(p docPath, x dvalue) *apiError {
	cur, exists := it.get(p)
	var next dvalue
	switch {
	case !exists:
		next = x
	case x.k == kindN && cur.k == kindN:
		a, _ := parseDecimal(cur.s)
		b, _ := parseDecimal(x.s)
		v, err := numberResult(addDecimal(a, b))
		if err != nil {
			return err
		}
		next = v
	case x.k.isSet() && cur.k == x.k:
		next = dvalue{k: x.k, set: slices.Clone(cur.set)}
		for _, s := range x.set {
			if !slices.Contains(next.set, s) {
				next.set = append(next.set, s)
			}
		}
	default:
		return validation(errOperandType)
	}
	return it.set(p, next)
}

// deleteFrom is DELETE: set members taken out of what p holds; an emptied
// set is removed.
func (it ditem) deleteFrom(p docPath, x dvalue) *apiError {
	cur, exists := it.get(p)
	if !exists {
		if len(p) > 1 {
			if _, ok := it.get(p[:len(p)-1]); !ok {
				return validation(errInvalidPath)
			}
		}
		return nil
	}
	if cur.k != x.k {
		return validation(errOperandType)
	}
	next := dvalue{k: cur.k}
	for _, s := range cur.set {
		if !slices.Contains(x.set, s) {
			next.set = append(next.set, s)
		}
	}
	if len(next.set) == 0 {
		return it.remove(p)
	}
	return it.set(p, next)
}

// project keeps the parts of an item that the paths name, as
// ProjectionExpression does: list elements keep their order, compacted.
func project(it ditem, paths []docPath) ditem {
	paths = slices.Clone(paths)
	sort.SliceStable(paths, func(i, j int) bool { return lessPath(paths[i], paths[j]) })
	out := ditem{}
	for _, p := range paths {
		v, ok := it.get(p)
		if !ok {
			continue
		}
		out.merge(p, v)
	}
	return out
}

// merge writes v at p into a projection, creating maps and lists on the
// way; list indexes become positions in the order they were first written.
func (it ditem) merge(p docPath, v dvalue) {
	if len(p) == 1 {
		it[p[0].name] = v
		return
	}
	root := it[p[0].name]
	it[p[0].name] = mergeInto(root, p[1:], v)
}

func mergeInto(cur dvalue, rest docPath, v dvalue) dvalue {
	if len(rest) == 0 {
		return v
	}
	e := rest[0]
	if e.isIdx {
		if cur.k != kindL {
			cur = dvalue{k: kindL}
		}
		// elements are kept by their original index in an ordered side list
		cur.l = append(cur.l, mergeInto(dvalue{}, rest[1:], v))
		return cur
	}
	if cur.k != kindM {
		cur = dvalue{k: kindM, m: map[string]dvalue{}}
	}
	cur.m[e.name] = mergeInto(cur.m[e.name], rest[1:], v)
	return cur
}

// lessPath orders paths so that elements of one list come in index order.
func lessPath(a, b docPath) bool {
	for i := range min(len(a), len(b)) {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x.isIdx && y.isIdx {
			return x.index < y.index
		}
		return false
	}
	return false
}
