package dynamo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// maxItemSize is DynamoDB's item size limit, attribute names included.
const maxItemSize = 400 * 1024

// attrs is an item, a key or an image as DynamoDB's JSON spells it: attribute
// name to typed value ({"S":"x"}). It is the form of the write-ahead log and
// of stream records.
type attrs map[string]json.RawMessage

// kind is the type of an attribute value.
type kind uint8

const (
	kindNone kind = iota
	kindS
	kindN
	kindB
	kindBOOL
	kindNULL
	kindSS
	kindNS
	kindBS
	kindL
	kindM
)

var kindNames = [...]string{"", "S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"}

func (k kind) String() string { return kindNames[k] }

// kindOf is the kind named by a type descriptor ("S", "NS", …).
func kindOf(name string) kind {
	for k, n := range kindNames {
		if n == name && n != "" {
			return kind(k)
		}
	}
	return kindNone
}

func (k kind) isSet() bool { return k == kindSS || k == kindNS || k == kindBS }

// dvalue is one attribute value, decoded and checked. Numbers are kept in
// their canonical spelling (1.50 is 1.5), binaries as raw bytes in s.
type dvalue struct {
	k   kind
	s   string   // S; N (canonical); B (raw bytes)
	b   bool     // BOOL
	set []string // SS; NS (canonical); BS (raw bytes): distinct, in the order given
	l   []dvalue
	m   map[string]dvalue
}

// ditem is an item, a key or an image: attribute name to value.
type ditem map[string]dvalue

func strValue(s string) dvalue { return dvalue{k: kindS, s: s} }

// apiError is a request DynamoDB refuses: the HTTP status, the error type
// the SDKs match and its message.
type apiError struct {
	status int
	typ    string
	msg    string
}

func (e *apiError) Error() string { return e.typ + ": " + e.msg }

func (e *apiError) reply() reply { return errorReply(e.status, e.typ, e.msg) }

func validation(format string, args ...any) *apiError {
	return &apiError{status: 400, typ: "ValidationException", msg: fmt.Sprintf(format, args...)}
}

func serialization(format string, args ...any) *apiError {
	return &apiError{status: 400, typ: "SerializationException", msg: fmt.Sprintf(format, args...)}
}

// decodeValue reads one attribute value and makes the checks DynamoDB makes
// on it: exactly one type, numbers that parse and fit, sets neither empty
// nor with duplicates, NULL true.
func decodeValue(raw json.RawMessage) (dvalue, *apiError) {
	return decodeNested(raw, 1)
}

// maxNesting is how deep documents may nest: 32 levels, counting the item.
const maxNesting = 32

func decodeNested(raw json.RawMessage, depth int) (dvalue, *apiError) {
	if depth >= maxNesting {
		return dvalue{}, validation("Nesting Levels have exceeded supported limits: nested attributes are limited to 32 levels")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return dvalue{}, serialization("Unexpected value type in payload: an attribute value must be an object")
	}
	if len(m) == 0 {
		return dvalue{}, validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	if len(m) > 1 {
		return dvalue{}, validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	for typ, x := range m {
		return decodeTyped(typ, x, depth)
	}
	panic("unreachable")
}

func decodeTyped(typ string, x json.RawMessage, depth int) (dvalue, *apiError) {
	str := func() (string, *apiError) {
		var s string
		if err := json.Unmarshal(x, &s); err != nil {
			return "", serialization("Unexpected value for %s: must be a string", typ)
		}
		return s, nil
	}
	strs := func() ([]string, *apiError) {
		var ss []string
		if err := json.Unmarshal(x, &ss); err != nil {
			return nil, serialization("Unexpected value for %s: must be a list of strings", typ)
		}
		return ss, nil
	}
	switch typ {
	case "S":
		s, err := str()
		return dvalue{k: kindS, s: s}, err
	case "N":
		s, err := str()
		if err != nil {
			return dvalue{}, err
		}
		n, err := checkNumber(s)
		return dvalue{k: kindN, s: n}, err
	case "B":
		s, err := str()
		if err != nil {
			return dvalue{}, err
		}
		b, err := decodeBinary(s)
		return dvalue{k: kindB, s: b}, err
	case "BOOL", "NULL":
		var b bool
		if err := json.Unmarshal(x, &b); err != nil {
			return dvalue{}, serialization("Unexpected value for %s: must be a boolean", typ)
		}
		if typ == "NULL" {
			if !b {
				return dvalue{}, validation("One or more parameter values were invalid: Null attribute value types must have the value of true")
			}
			return dvalue{k: kindNULL, b: true}, nil
		}
		return dvalue{k: kindBOOL, b: b}, nil
	case "SS", "NS", "BS":
		ss, err := strs()
		if err != nil {
			return dvalue{}, err
		}
		k := kindOf(typ)
		if len(ss) == 0 {
			word := map[kind]string{kindSS: "string", kindNS: "number", kindBS: "binary"}[k]
			return dvalue{}, validation("One or more parameter values were invalid: An %s set  may not be empty", word)
		}
		seen := make(map[string]bool, len(ss))
		out := make([]string, 0, len(ss))
		for _, s := range ss {
			switch k {
			case kindNS:
				if s, err = checkNumber(s); err != nil {
					return dvalue{}, err
				}
			case kindBS:
				if s, err = decodeBinary(s); err != nil {
					return dvalue{}, err
				}
			}
			if seen[s] {
				all := slices.Clone(ss)
				sort.Strings(all)
				return dvalue{}, validation("One or more parameter values were invalid: Input collection [%s] contains duplicates.", strings.Join(all, ", "))
			}
			seen[s] = true
			out = append(out, s)
		}
		return dvalue{k: k, set: out}, nil
	case "L":
		var list []json.RawMessage
		if err := json.Unmarshal(x, &list); err != nil {
			return dvalue{}, serialization("Unexpected value for L: must be a list")
		}
		out := make([]dvalue, len(list))
		for i, e := range list {
			v, err := decodeNested(e, depth+1)
			if err != nil {
				return dvalue{}, err
			}
			out[i] = v
		}
		return dvalue{k: kindL, l: out}, nil
	case "M":
		var mm map[string]json.RawMessage
		if err := json.Unmarshal(x, &mm); err != nil {
			return dvalue{}, serialization("Unexpected value for M: must be a map")
		}
		out := make(map[string]dvalue, len(mm))
		for name, e := range mm {
			v, err := decodeNested(e, depth+1)
			if err != nil {
				return dvalue{}, err
			}
			out[name] = v
		}
		return dvalue{k: kindM, m: out}, nil
	}
	return dvalue{}, validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
}

func checkNumber(s string) (string, *apiError) {
	d, ok := parseDecimal(s)
	if !ok || strings.TrimSpace(s) != s {
		return "", validation("The parameter cannot be converted to a numeric value: %s", s)
	}
	if why := d.check(); why != "" {
		return "", validation("%s", why)
	}
	return d.String(), nil
}

func decodeBinary(s string) (string, *apiError) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", serialization("Base64 encoded length is expected a multiple of 4 bytes but found: %d", len(s))
	}
	return string(b), nil
}

// decodeItem reads an item, a key or ExpressionAttributeValues.
func decodeItem(raw map[string]json.RawMessage) (ditem, *apiError) {
	if raw == nil {
		return nil, nil
	}
	out := make(ditem, len(raw))
	for name, x := range raw {
		v, err := decodeValue(x)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// decodeAttrs reads an item of the log, which the store wrote itself.
func decodeAttrs(a attrs) (ditem, error) {
	it, err := decodeItem(a)
	if err != nil {
		return nil, err
	}
	return it, nil
}

// appendJSON writes v as DynamoDB's JSON spells it.
func (v dvalue) appendJSON(b []byte) []byte {
	quote := func(b []byte, s string) []byte { return strconv.AppendQuote(b, s) }
	str := func(b []byte, s string) []byte {
		enc, _ := json.Marshal(s) // valid UTF-8 or not, as encoding/json spells it
		return append(b, enc...)
	}
	b = append(b, '{')
	b = quote(b, v.k.String())
	b = append(b, ':')
	switch v.k {
	case kindS:
		b = str(b, v.s)
	case kindN:
		b = quote(b, v.s)
	case kindB:
		b = quote(b, base64.StdEncoding.EncodeToString([]byte(v.s)))
	case kindBOOL, kindNULL:
		b = strconv.AppendBool(b, v.b)
	case kindSS, kindNS, kindBS:
		b = append(b, '[')
		for i, s := range v.set {
			if i > 0 {
				b = append(b, ',')
			}
			switch v.k {
			case kindSS:
				b = str(b, s)
			case kindNS:
				b = quote(b, s)
			default:
				b = quote(b, base64.StdEncoding.EncodeToString([]byte(s)))
			}
		}
		b = append(b, ']')
	case kindL:
		b = append(b, '[')
		for i, e := range v.l {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendJSON(b)
		}
		b = append(b, ']')
	case kindM:
		b = ditem(v.m).appendJSON(b)
	default:
		b = append(b, "null"...)
	}
	return append(b, '}')
}

// appendJSON writes an item with its attributes in name order.
func (it ditem) appendJSON(b []byte) []byte {
	names := make([]string, 0, len(it))
	for n := range it {
		names = append(names, n)
	}
	sort.Strings(names)
	b = append(b, '{')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		enc, _ := json.Marshal(n)
		b = append(b, enc...)
		b = append(b, ':')
		b = it[n].appendJSON(b)
	}
	return append(b, '}')
}

// MarshalJSON makes items encode as DynamoDB's JSON inside replies.
func (it ditem) MarshalJSON() ([]byte, error) { return it.appendJSON(nil), nil }

// MarshalJSON makes values encode as DynamoDB's JSON inside replies.
func (v dvalue) MarshalJSON() ([]byte, error) { return v.appendJSON(nil), nil }

// raw converts an item to the log's form.
func (it ditem) raw() attrs {
	if it == nil {
		return nil
	}
	out := make(attrs, len(it))
	for n, v := range it {
		out[n] = v.appendJSON(nil)
	}
	return out
}

// clone copies an item deeply enough that changing the copy's values (an
// update does) leaves the original alone.
func (it ditem) clone() ditem {
	if it == nil {
		return nil
	}
	out := make(ditem, len(it))
	for n, v := range it {
		out[n] = v.clone()
	}
	return out
}

func (v dvalue) clone() dvalue {
	switch v.k {
	case kindSS, kindNS, kindBS:
		v.set = slices.Clone(v.set)
	case kindL:
		l := make([]dvalue, len(v.l))
		for i, e := range v.l {
			l[i] = e.clone()
		}
		v.l = l
	case kindM:
		v.m = ditem(v.m).clone()
		if v.m == nil {
			v.m = map[string]dvalue{}
		}
	}
	return v
}

// size is what the value counts toward an item's size, by the rules of the
// developer guide: strings and binaries their bytes, numbers about a byte
// per two digits, documents 3 bytes plus one per element.
func (v dvalue) size() int {
	switch v.k {
	case kindS, kindB:
		return len(v.s)
	case kindN:
		return numberSize(v.s)
	case kindBOOL, kindNULL:
		return 1
	case kindSS, kindBS:
		n := 0
		for _, s := range v.set {
			n += len(s)
		}
		return n
	case kindNS:
		n := 0
		for _, s := range v.set {
			n += numberSize(s)
		}
		return n
	case kindL:
		n := 3
		for _, e := range v.l {
			n += e.size() + 1
		}
		return n
	case kindM:
		n := 3
		for k, e := range v.m {
			n += len(k) + e.size() + 1
		}
		return n
	}
	return 0
}

// size of an item: its names and values.
func (it ditem) size() int {
	n := 0
	for name, v := range it {
		n += len(name) + v.size()
	}
	return n
}

// itemSize is the size of an item in the log's form.
func itemSize(a attrs) int {
	it, err := decodeItem(a)
	if err != nil {
		return 0
	}
	return it.size()
}

// equal reports two values DynamoDB considers equal: the same type and
// value, sets in any order, numbers by value.
func (v dvalue) equal(w dvalue) bool {
	if v.k != w.k {
		return false
	}
	switch v.k {
	case kindS, kindN, kindB:
		return v.s == w.s
	case kindBOOL, kindNULL:
		return v.b == w.b
	case kindSS, kindNS, kindBS:
		if len(v.set) != len(w.set) {
			return false
		}
		for _, s := range v.set {
			if !slices.Contains(w.set, s) {
				return false
			}
		}
		return true
	case kindL:
		return slices.EqualFunc(v.l, w.l, dvalue.equal)
	case kindM:
		return ditem(v.m).equal(w.m)
	}
	return true
}

// equal reports two items with the same attributes and values.
func (it ditem) equal(other ditem) bool {
	if (it == nil) != (other == nil) || len(it) != len(other) {
		return false
	}
	for n, v := range it {
		w, ok := other[n]
		if !ok || !v.equal(w) {
			return false
		}
	}
	return true
}

// compareScalars orders two values of one scalar kind as DynamoDB does:
// numbers by value, strings and binaries byte by byte.
func compareScalars(a, b dvalue) int {
	if a.k == kindN {
		x, _ := parseDecimal(a.s)
		y, _ := parseDecimal(b.s)
		return cmpDecimal(x, y)
	}
	return strings.Compare(a.s, b.s)
}

// compactJSON gives a raw value one spelling, so keys sent with different
// whitespace identify the same item.
func compactJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}
