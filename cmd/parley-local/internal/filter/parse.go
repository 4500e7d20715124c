package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// maxBranches bounds the $or expansion; Lambda caps a pattern at 4 KB, so
// real patterns stay far below it.
const maxBranches = 1 << 12

// reservedInOr are the ruler's keywords that may not name a field inside a
// $or object, so that a misplaced operator is an error, not a field.
var reservedInOr = map[string]bool{
	"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true,
	"anything-but": true, "exists": true, "wildcard": true, "numeric": true, "cidr": true,
	"=": true, "<": true, "<=": true, ">": true, ">=": true,
	"regex": true, "not-wildcard": true, "not-equals-ignore-case": true,
	"date-after": true, "date-on-or-after": true, "date-before": true, "date-on-or-before": true,
	"in-date-range": true, "ip-address-in-range": true, "ip-address-not-in-range": true,
}

// parser walks the pattern token by token, rather than decoding into a map,
// because repeated keys are meaningful in patterns and a map would drop them.
type parser struct {
	dec *json.Decoder
}

func parse(src []byte) ([]*node, error) {
	p := &parser{dec: json.NewDecoder(bytes.NewReader(src))}
	p.dec.UseNumber()
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, errors.New("filter is not a JSON object")
	}
	var branches []*node
	if err := p.object(&branches, nil, false); err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the pattern object")
	}
	return branches, nil
}

func (p *parser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected end of pattern")
	}
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return tok, nil
}

// object reads the fields of an object whose '{' was consumed, adding its
// conditions at path to every branch, the way the ruler's compiler does.
func (p *parser) object(branches *[]*node, path []string, inOr bool) error {
	fields := 0
	for {
		tok, err := p.token()
		if err != nil {
			return err
		}
		if tok == json.Delim('}') {
			break
		}
		fields++
		key := tok.(string) // the decoder only yields strings in key position
		if key == "$or" {
			if err := p.or(branches, path); err != nil {
				return err
			}
			continue
		}
		if inOr && reservedInOr[key] {
			return fmt.Errorf("%q is a reserved word and cannot name a field inside $or", key)
		}
		at := append(append([]string(nil), path...), key)
		tok, err = p.token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			if err := p.object(branches, at, inOr); err != nil {
				return err
			}
		case json.Delim('['):
			l, err := p.values(at)
			if err != nil {
				return err
			}
			put(branches, at, l)
		default:
			return fmt.Errorf("%q must be an object or an array", strings.Join(at, "."))
		}
	}
	if fields == 0 {
		return fmt.Errorf("empty object at %q is not allowed", strings.Join(path, "."))
	}
	return nil
}

// or forks every branch once per object of the $or array.
func (p *parser) or(branches *[]*node, path []string) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return errors.New("$or must be followed by an array of objects")
	}
	current := *branches
	var out []*node
	n := 0
	for {
		tok, err := p.token()
		if err != nil {
			return err
		}
		if tok == json.Delim(']') {
			break
		}
		if tok != json.Delim('{') {
			return errors.New("$or may only hold JSON objects")
		}
		n++
		fork := make([]*node, 0, len(current))
		for _, b := range current {
			fork = append(fork, b.clone())
		}
		if len(fork) == 0 {
			fork = append(fork, newNode())
		}
		if err := p.object(&fork, path, true); err != nil {
			return err
		}
		out = append(out, fork...)
		if len(out) > maxBranches {
			return fmt.Errorf("$or expands to more than %d alternatives", maxBranches)
		}
	}
	if n < 2 {
		return errors.New("$or needs at least 2 objects")
	}
	*branches = out
	return nil
}

// values reads a leaf's array of match values, whose '[' was consumed.
func (p *parser) values(path []string) (*leaf, error) {
	l := &leaf{}
	for {
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		var m matcher
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case ']':
				if len(l.alts) == 0 && !l.absent {
					return nil, fmt.Errorf("%q: empty arrays are not allowed", strings.Join(path, "."))
				}
				return l, nil
			case '{':
				m, err = p.expression()
				if err != nil {
					return nil, fmt.Errorf("%q: %w", strings.Join(path, "."), err)
				}
			default:
				return nil, fmt.Errorf("%q: a match value must be a string, number, true, false, null or an operator object", strings.Join(path, "."))
			}
		case string:
			m = exactString(v)
		case json.Number:
			m = newExactNumber(v)
		case bool:
			m = exactBool(v)
		case nil:
			m = exactNull{}
		}
		if _, ok := m.(absence); ok {
			l.absent = true
			continue
		}
		l.alts = append(l.alts, m)
	}
}

// expression reads one operator object, whose '{' was consumed.
func (p *parser) expression() (matcher, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	op, ok := tok.(string)
	if !ok {
		return nil, errors.New("match expression has no operator")
	}
	var m matcher
	switch op {
	case "exactly":
		s, err := p.str(op)
		if err != nil {
			return nil, err
		}
		m = exactString(s)
	case "prefix", "suffix":
		m, err = p.affix(op)
	case "equals-ignore-case":
		s, err := p.str(op)
		if err != nil {
			return nil, err
		}
		m = ignoreCase(s)
	case "wildcard":
		s, err := p.str(op)
		if err != nil {
			return nil, err
		}
		m, err = newWildcard(s)
		if err != nil {
			return nil, err
		}
	case "cidr":
		s, err := p.str(op)
		if err != nil {
			return nil, err
		}
		prefix, perr := netip.ParsePrefix(s)
		if perr != nil {
			return nil, fmt.Errorf("cidr %q: %w", s, perr)
		}
		m = cidr{prefix.Masked()}
	case "numeric":
		m, err = p.numeric()
	case "anything-but":
		m, err = p.anythingBut()
	case "exists":
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		b, ok := tok.(bool)
		if !ok {
			return nil, errors.New("exists must be true or false")
		}
		if b {
			m = existence{}
		} else {
			m = absence{}
		}
	default:
		return nil, fmt.Errorf("unrecognized match type %q", op)
	}
	if err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return m, nil
}

// end consumes the '}' closing an operator object.
func (p *parser) end() error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('}') {
		return errors.New("only one key allowed in a match expression")
	}
	return nil
}

func (p *parser) str(op string) (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("%s match pattern must be a string", op)
	}
	return s, nil
}

// affix reads a prefix or suffix argument: a string, or
// {"equals-ignore-case": string}.
func (p *parser) affix(op string) (matcher, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case string:
		if op == "prefix" {
			return prefix{s: v}, nil
		}
		return suffix{s: v}, nil
	case json.Delim:
		if v != '{' {
			break
		}
		inner, err := p.str(op)
		if err != nil || inner != "equals-ignore-case" {
			return nil, fmt.Errorf("%s accepts a string or {\"equals-ignore-case\": string}", op)
		}
		s, err := p.str(op + "/equals-ignore-case")
		if err != nil {
			return nil, err
		}
		if err := p.end(); err != nil {
			return nil, err
		}
		if op == "prefix" {
			return prefix{s: s, fold: true}, nil
		}
		return suffix{s: s, fold: true}, nil
	}
	return nil, fmt.Errorf("%s match pattern must be a string", op)
}

// numeric reads ["=", n], [">"|">=", n], ["<"|"<=", n] or
// [">"|">=", n, "<"|"<=", n], whose '[' is next.
func (p *parser) numeric() (matcher, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, errors.New("value of numeric must be an array")
	}
	var terms []json.Token
	for {
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		if tok == json.Delim(']') {
			break
		}
		terms = append(terms, tok)
	}
	var r numericRange
	i := 0
	next := func() (string, float64, error) {
		if i+1 >= len(terms) {
			return "", 0, errors.New("numeric expects operator, number pairs")
		}
		op, ok := terms[i].(string)
		if !ok {
			return "", 0, fmt.Errorf("invalid member in numeric match: %v", terms[i])
		}
		n, ok := terms[i+1].(json.Number)
		if !ok {
			return "", 0, fmt.Errorf("value of %s must be numeric", op)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || f < -fiveBillion || f > fiveBillion {
			return "", 0, fmt.Errorf("numeric value %s must be between -5e9 and 5e9", n)
		}
		i += 2
		return op, f, nil
	}
	if len(terms) == 0 {
		return nil, errors.New("numeric expects at least one operator")
	}
	op, f, err := next()
	if err != nil {
		return nil, err
	}
	switch op {
	case "=":
		r.lo, r.hi, r.hasLo, r.hasHi = f, f, true, true
	case ">", ">=":
		r.lo, r.hasLo, r.loOpen = f, true, op == ">"
		if i < len(terms) {
			op2, f2, err := next()
			if err != nil {
				return nil, err
			}
			if op2 != "<" && op2 != "<=" {
				return nil, fmt.Errorf("bad numeric range operator %q after %q", op2, op)
			}
			r.hi, r.hasHi, r.hiOpen = f2, true, op2 == "<"
		}
	case "<", "<=":
		r.hi, r.hasHi, r.hiOpen = f, true, op == "<"
	default:
		return nil, fmt.Errorf("unrecognized numeric range operator %q", op)
	}
	if i < len(terms) {
		return nil, errors.New("too many elements in numeric expression")
	}
	if r.hasLo && r.hasHi && r.lo > r.hi {
		return nil, fmt.Errorf("numeric range %v..%v is empty", r.lo, r.hi)
	}
	return r, nil
}

// anythingBut reads a string, a number, a non-empty list of strings or of
// numbers, or {"prefix"|"suffix": non-empty string} or
// {"equals-ignore-case": string or list of strings}.
func (p *parser) anythingBut() (matcher, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	a := anythingBut{}
	switch v := tok.(type) {
	case string:
		a.strings = []string{v}
	case json.Number:
		a.numbers = []exactNumber{newExactNumber(v)}
	case json.Delim:
		switch v {
		case '[':
			for {
				tok, err := p.token()
				if err != nil {
					return nil, err
				}
				if tok == json.Delim(']') {
					break
				}
				switch e := tok.(type) {
				case string:
					a.strings = append(a.strings, e)
				case json.Number:
					a.numbers = append(a.numbers, newExactNumber(e))
				default:
					return nil, errors.New("anything-but lists hold only strings or only numbers")
				}
			}
			if (len(a.strings) > 0) == (len(a.numbers) > 0) {
				return nil, errors.New("anything-but list must hold only strings or only numbers, and at least one")
			}
		case '{':
			op, err := p.str("anything-but")
			if err != nil {
				return nil, errors.New("anything-but expression name not found")
			}
			switch op {
			case "prefix", "suffix":
				s, err := p.str("anything-but/" + op)
				if err != nil {
					return nil, err
				}
				if s == "" {
					return nil, fmt.Errorf("anything-but %s must not be empty", op)
				}
				if op == "prefix" {
					a.prefix = &s
				} else {
					a.suffix = &s
				}
			case "equals-ignore-case":
				tok, err := p.token()
				if err != nil {
					return nil, err
				}
				switch e := tok.(type) {
				case string:
					a.folded = []string{e}
				case json.Delim:
					if e != '[' {
						return nil, errors.New("anything-but/equals-ignore-case takes a string or a list of strings")
					}
					for {
						tok, err := p.token()
						if err != nil {
							return nil, err
						}
						if tok == json.Delim(']') {
							break
						}
						s, ok := tok.(string)
						if !ok {
							return nil, errors.New("anything-but/equals-ignore-case lists hold only strings")
						}
						a.folded = append(a.folded, s)
					}
				default:
					return nil, errors.New("anything-but/equals-ignore-case takes a string or a list of strings")
				}
			default:
				return nil, fmt.Errorf("unsupported anything-but pattern %q", op)
			}
			if err := p.end(); err != nil {
				return nil, err
			}
		default:
			return nil, errors.New("value of anything-but must be an array, a string, a number or an object")
		}
	default:
		return nil, errors.New("value of anything-but must be an array, a string, a number or an object")
	}
	return a, nil
}
