package dynamo

import (
	"bytes"
	"encoding/json"
	"math/big"
	"slices"
	"strings"
)

// maxItemSize is DynamoDB's item size limit, attribute names included.
const maxItemSize = 400 * 1024

// attrs is an item, a key or an image as DynamoDB's JSON spells it: attribute
// name to typed value ({"S":"x"}). Values stay raw so that what minidyn
// returned is what gets logged and replayed, byte for byte.
type attrs map[string]json.RawMessage

// value is one decoded attribute value, for measuring and comparing items.
type value struct {
	S    *string          `json:"S"`
	N    *string          `json:"N"`
	B    []byte           `json:"B"`
	BOOL *bool            `json:"BOOL"`
	NULL *bool            `json:"NULL"`
	SS   []string         `json:"SS"`
	NS   []string         `json:"NS"`
	BS   [][]byte         `json:"BS"`
	L    []value          `json:"L"`
	M    map[string]value `json:"M"`
}

// itemSize is the size DynamoDB charges an item against its 400 KB limit,
// following the rules of the developer guide (names count, numbers take about
// one byte per two significant digits, documents carry 3 bytes of overhead
// plus one per element). A value that does not decode counts as nothing:
// minidyn rejects it on its own.
func itemSize(a attrs) int {
	n := 0
	for name, raw := range a {
		var v value
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		n += len(name) + v.size()
	}
	return n
}

func (v value) size() int {
	switch {
	case v.S != nil:
		return len(*v.S)
	case v.N != nil:
		return numberSize(*v.N)
	case v.B != nil:
		return len(v.B)
	case v.BOOL != nil, v.NULL != nil:
		return 1
	case v.SS != nil:
		n := 0
		for _, s := range v.SS {
			n += len(s)
		}
		return n
	case v.NS != nil:
		n := 0
		for _, s := range v.NS {
			n += numberSize(s)
		}
		return n
	case v.BS != nil:
		n := 0
		for _, b := range v.BS {
			n += len(b)
		}
		return n
	case v.L != nil:
		n := 3
		for _, e := range v.L {
			n += e.size() + 1
		}
		return n
	case v.M != nil:
		n := 3
		for k, e := range v.M {
			n += len(k) + e.size() + 1
		}
		return n
	}
	return 0
}

// numberSize counts significant digits: DynamoDB stores numbers in a
// base-100 form, so leading and trailing zeros, sign and exponent are free.
func numberSize(s string) int {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimLeft(s, "+-")
	s = strings.ReplaceAll(s, ".", "")
	s = strings.Trim(s, "0")
	return (len(s)+1)/2 + 1
}

// sameItem reports whether two images hold the same data, so that a no-op
// write produces no stream record, as in DynamoDB. Sets compare without order
// and numbers by value ("1.0" equals "1").
func sameItem(a, b attrs) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for name, ra := range a {
		rb, ok := b[name]
		if !ok {
			return false
		}
		if bytes.Equal(ra, rb) {
			continue
		}
		var va, vb value
		if json.Unmarshal(ra, &va) != nil || json.Unmarshal(rb, &vb) != nil || !sameValue(va, vb) {
			return false
		}
	}
	return true
}

func sameValue(a, b value) bool {
	switch {
	case a.S != nil || b.S != nil:
		return a.S != nil && b.S != nil && *a.S == *b.S
	case a.N != nil || b.N != nil:
		return a.N != nil && b.N != nil && sameNumber(*a.N, *b.N)
	case a.B != nil || b.B != nil:
		return bytes.Equal(a.B, b.B) && a.B != nil && b.B != nil
	case a.BOOL != nil || b.BOOL != nil:
		return a.BOOL != nil && b.BOOL != nil && *a.BOOL == *b.BOOL
	case a.NULL != nil || b.NULL != nil:
		return a.NULL != nil && b.NULL != nil && *a.NULL == *b.NULL
	case a.SS != nil || b.SS != nil:
		return sameSet(a.SS, b.SS, func(x, y string) bool { return x == y })
	case a.NS != nil || b.NS != nil:
		return sameSet(a.NS, b.NS, sameNumber)
	case a.BS != nil || b.BS != nil:
		return sameSet(a.BS, b.BS, bytes.Equal)
	case a.L != nil || b.L != nil:
		return slices.EqualFunc(a.L, b.L, sameValue) && (a.L != nil) == (b.L != nil)
	case a.M != nil || b.M != nil:
		if (a.M != nil) != (b.M != nil) || len(a.M) != len(b.M) {
			return false
		}
		for k, va := range a.M {
			vb, ok := b.M[k]
			if !ok || !sameValue(va, vb) {
				return false
			}
		}
		return true
	}
	return true
}

// sameSet compares two sets; they are small, so quadratic is fine.
func sameSet[T any](a, b []T, eq func(T, T) bool) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y T) bool { return eq(x, y) }) {
			return false
		}
	}
	return true
}

func sameNumber(a, b string) bool {
	if a == b {
		return true
	}
	x, okx := new(big.Rat).SetString(a)
	y, oky := new(big.Rat).SetString(b)
	return okx && oky && x.Cmp(y) == 0
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
