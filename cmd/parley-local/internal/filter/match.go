package filter

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// node is one object level of a branch: the conditions on its fields.
type node struct {
	fields map[string]*field
}

// field holds what a branch requires of one key: a condition on its leaf
// value, on its nested object, or (for odd patterns naming both) both.
type field struct {
	path  []string // from the event root, for exists:false
	leaf  *leaf
	child *node
}

// leaf is the array of alternatives at one path.
type leaf struct {
	alts   []matcher
	absent bool // {"exists": false} is among the alternatives
}

func newNode() *node { return &node{fields: map[string]*field{}} }

func (n *node) clone() *node {
	c := newNode()
	for k, f := range n.fields {
		cf := &field{path: f.path, leaf: f.leaf} // leaves are never mutated, so they are shared
		if f.child != nil {
			cf.child = f.child.clone()
		}
		c.fields[k] = cf
	}
	return c
}

// put sets the leaf at path in every branch; a path set twice keeps the
// last, as the ruler's compiler does.
func put(branches *[]*node, path []string, l *leaf) {
	if len(*branches) == 0 {
		*branches = append(*branches, newNode())
	}
	for _, b := range *branches {
		n := b
		for i, key := range path {
			f := n.fields[key]
			if f == nil {
				f = &field{path: path[:i+1]}
				n.fields[key] = f
			}
			if i == len(path)-1 {
				f.leaf = l
				break
			}
			if f.child == nil {
				f.child = newNode()
			}
			n = f.child
		}
	}
}

// match reports whether obj, an object at this node's level, satisfies every
// field. root is the whole event, which exists:false consults.
func (n *node) match(root, obj map[string]any) bool {
	for key, f := range n.fields {
		v, present := obj[key]
		if !f.match(root, v, present) {
			return false
		}
	}
	return true
}

func (f *field) match(root map[string]any, v any, present bool) bool {
	leafOK := func(item any) bool { return f.leaf == nil || f.leaf.match(item) }
	absentOK := f.leaf != nil && f.leaf.absent && !hasLeaf(root, f.path)
	if absentOK {
		if f.child == nil {
			return true
		}
		leafOK = func(any) bool { return true }
	}
	childOK := func(item any) bool {
		if f.child == nil {
			return true
		}
		// A non-object gives the nested fields nothing to match, so only
		// {"exists": false} conditions can hold there, as in the ruler's
		// flat view of the event.
		obj, _ := item.(map[string]any)
		return f.child.match(root, obj)
	}
	// One element must satisfy both the leaf and the nested conditions, so
	// that fields never match from different elements of one array.
	yielded, found := false, false
	if present {
		each(v, func(item any) bool {
			yielded = true
			if leafOK(item) && childOK(item) {
				found = true
				return false
			}
			return true
		})
	}
	if found {
		return true
	}
	if !yielded { // missing, or an empty array: absence is all there is
		return (f.leaf == nil || absentOK) && childOK(nil)
	}
	return false
}

// each calls fn on v, or on every element of v (recursively) when v is an
// array, until fn returns false; an empty array yields nothing.
func each(v any, fn func(any) bool) bool {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if !each(e, fn) {
				return false
			}
		}
		return true
	default:
		return fn(v)
	}
}

func (l *leaf) match(item any) bool {
	if _, isObject := item.(map[string]any); isObject {
		return false // operators apply to leaves only
	}
	for _, m := range l.alts {
		if m.match(item) {
			return true
		}
	}
	return false
}

// hasLeaf reports whether the event holds a leaf value (anything but an
// object or array) at path, through any array elements on the way.
func hasLeaf(root map[string]any, path []string) bool {
	var walk func(v any, rest []string) bool
	walk = func(v any, rest []string) bool {
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if walk(e, rest) {
					return true
				}
			}
			return false
		}
		if len(rest) == 0 {
			_, isObject := v.(map[string]any)
			return !isObject
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return false
		}
		next, ok := obj[rest[0]]
		if !ok {
			return false
		}
		return walk(next, rest[1:])
	}
	return walk(root, path)
}

// matcher is one alternative of a leaf. item is a decoded JSON leaf:
// string, json.Number, bool or nil (null).
type matcher interface {
	match(item any) bool
}

type exactString string

func (m exactString) match(item any) bool { s, ok := item.(string); return ok && s == string(m) }

type exactBool bool

func (m exactBool) match(item any) bool { b, ok := item.(bool); return ok && b == bool(m) }

type exactNull struct{}

func (exactNull) match(item any) bool { return item == nil }

// fiveBillion bounds the numbers the ruler can compare numerically.
const fiveBillion = 5e9

// comparable turns a number into the ruler's comparable form: shifted by
// 5e9 and truncated to 6 decimal places. ok is false outside -5e9..5e9,
// where the ruler matches numbers by their text only.
func comparable(n json.Number) (key int64, ok bool) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < -fiveBillion || f > fiveBillion {
		return 0, false
	}
	return int64(1e6 * (fiveBillion + f)), true
}

func comparableFloat(f float64) int64 { return int64(1e6 * (fiveBillion + f)) }

type exactNumber struct {
	text    string
	key     int64
	numeric bool
}

func newExactNumber(n json.Number) exactNumber {
	key, ok := comparable(n)
	return exactNumber{text: string(n), key: key, numeric: ok}
}

func (m exactNumber) match(item any) bool {
	n, ok := item.(json.Number)
	if !ok {
		return false // a pattern number never matches a string, so {"N": [42]} misses "42"
	}
	if string(n) == m.text {
		return true
	}
	key, ok := comparable(n)
	return ok && m.numeric && key == m.key
}

type numericRange struct {
	lo, hi         float64
	hasLo, hasHi   bool
	loOpen, hiOpen bool
}

func (r numericRange) match(item any) bool {
	n, ok := item.(json.Number)
	if !ok {
		return false // DynamoDB's {"N":"42"} is a string, so it never gets here
	}
	key, ok := comparable(n)
	if !ok {
		return false
	}
	if r.hasLo {
		lo := comparableFloat(r.lo)
		if key < lo || (r.loOpen && key == lo) {
			return false
		}
	}
	if r.hasHi {
		hi := comparableFloat(r.hi)
		if key > hi || (r.hiOpen && key == hi) {
			return false
		}
	}
	return true
}

type prefix struct {
	s    string
	fold bool
}

func (m prefix) match(item any) bool {
	s, ok := item.(string)
	if !ok || len(s) < len(m.s) {
		return false
	}
	if m.fold {
		return strings.EqualFold(s[:len(m.s)], m.s)
	}
	return strings.HasPrefix(s, m.s)
}

type suffix struct {
	s    string
	fold bool
}

func (m suffix) match(item any) bool {
	s, ok := item.(string)
	if !ok || len(s) < len(m.s) {
		return false
	}
	if m.fold {
		return strings.EqualFold(s[len(s)-len(m.s):], m.s)
	}
	return strings.HasSuffix(s, m.s)
}

type ignoreCase string

func (m ignoreCase) match(item any) bool {
	s, ok := item.(string)
	return ok && strings.EqualFold(s, string(m))
}

type cidr struct{ prefix netip.Prefix }

func (m cidr) match(item any) bool {
	s, ok := item.(string)
	if !ok {
		return false
	}
	addr, err := netip.ParseAddr(s)
	return err == nil && m.prefix.Contains(addr)
}

// existence is {"exists": true}: any leaf value, null included.
type existence struct{}

func (existence) match(any) bool { return true }

// absence is {"exists": false}; the parser turns it into leaf.absent, as it
// is a property of the whole event rather than of one value.
type absence struct{}

func (absence) match(any) bool { return false }

// anythingBut matches every leaf value (numbers, booleans and null
// included, as the ruler does) except the excluded ones.
type anythingBut struct {
	strings []string
	numbers []exactNumber
	folded  []string
	prefix  *string
	suffix  *string
}

func (m anythingBut) match(item any) bool {
	switch v := item.(type) {
	case string:
		for _, s := range m.strings {
			if v == s {
				return false
			}
		}
		for _, s := range m.folded {
			if strings.EqualFold(v, s) {
				return false
			}
		}
		if m.prefix != nil && strings.HasPrefix(v, *m.prefix) {
			return false
		}
		if m.suffix != nil && strings.HasSuffix(v, *m.suffix) {
			return false
		}
	case json.Number:
		for _, n := range m.numbers {
			if n.match(v) {
				return false
			}
		}
	}
	return true
}

// wildcard is a pattern where * matches any run of characters; \* and \\
// stand for a literal * and \.
type wildcard struct {
	parts []string // literal runs between the stars
}

func newWildcard(s string) (wildcard, error) {
	var parts []string
	var cur strings.Builder
	prevStar := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return wildcard{}, errWildcard(s, "a backslash may only escape * or \\")
			}
			cur.WriteByte(s[i+1])
			i++
			prevStar = false
		case '*':
			if prevStar {
				return wildcard{}, errWildcard(s, "consecutive wildcard characters are not allowed")
			}
			parts = append(parts, cur.String())
			cur.Reset()
			prevStar = true
		default:
			cur.WriteByte(c)
			prevStar = false
		}
	}
	return wildcard{parts: append(parts, cur.String())}, nil
}

func errWildcard(pattern, reason string) error { return fmt.Errorf("wildcard %q: %s", pattern, reason) }

func (m wildcard) match(item any) bool {
	s, ok := item.(string)
	if !ok {
		return false
	}
	if len(m.parts) == 1 {
		return s == m.parts[0]
	}
	first, last := m.parts[0], m.parts[len(m.parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	// Greedy leftmost matching of the middle runs is exact for * globs.
	s = s[len(first) : len(s)-len(last)]
	for _, p := range m.parts[1 : len(m.parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}
