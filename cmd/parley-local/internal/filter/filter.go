// Package filter implements Lambda event filtering (FilterCriteria) for the
// local stack's event source mappings, with the semantics of the engine
// Lambda and EventBridge share (aws/event-ruler):
//
//   - A pattern is a JSON object whose leaves are arrays of alternatives;
//     every field named must match (AND), any alternative may (OR).
//   - Alternatives: exact strings, numbers, true, false, null, and the
//     operators prefix, suffix (each also with equals-ignore-case inside),
//     equals-ignore-case, exactly, wildcard, cidr, anything-but (a value, a
//     list of all-strings or all-numbers, or prefix, suffix or
//     equals-ignore-case), exists (true or false) and numeric (=, or a
//     lower bound with > or >=, an upper bound with < or <=, or both).
//   - "$or": [{...}, {...}, ...] (two or more objects) at any level ORs
//     whole sub-patterns; it forks the pattern into branches as the ruler
//     does, so a pattern matches when any branch does.
//   - An event array matches when any element does, and two fields of one
//     branch never match from different elements of the same array
//     (the ruler's "array-consistent" matching).
//   - Object keys that repeat in a pattern merge by path (the Lambda guide's
//     own DynamoDB example repeats "dynamodb"); the same leaf path twice
//     keeps the last, as the ruler does.
//
// Numbers deserve a note. Exact numbers and numeric ranges only ever match
// JSON numbers in the event, compared the ruler's way: within
// -5e9..5e9 and to 6 decimal places (so 300, 300.0 and 3.0e2 are equal).
// DynamoDB stream records carry N attributes as JSON strings
// ({"N":"42"}), so numeric operators never match them — Lambda's guide
// says so ("DynamoDB event filtering doesn't support the use of numeric
// operators"), and this package does the same; filter N values as strings,
// e.g. {"N": ["42"]} or {"N": [{"prefix": "4"}]}.
//
// exists only sees leaves: {"exists": true} does not match a field whose
// value is an object, and {"exists": false} matches such a field. As in the
// ruler, {"exists": false} looks at the whole event, across array elements.
//
// Not emulated: Lambda's decoding of the data field for other sources (SQS
// body strings parsed as JSON, Kinesis data base64-decoded); its quotas (5
// filters per mapping by default, the pattern's size); the ruler's quirks
// of treating a dotted key "a.b" like the path a → b and of matching IP
// address strings as address ranges. Lambda's guide says DynamoDB mappings
// filter only on the dynamodb key, while its CDK examples and DynamoDB's
// TTL guide filter on eventName and userIdentity; patterns here may name
// any field of the record.
package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Pattern is one compiled FilterCriteria.Filters[].Pattern.
type Pattern struct {
	src      string
	branches []*node // the $or-expanded alternatives; any one matching is a match
}

// Compile parses the JSON text of one filter pattern. It rejects what Lambda
// rejects when the event source mapping is created: anything but a non-empty
// JSON object whose fields are objects or non-empty arrays of match values,
// unknown operators, malformed operator arguments.
func Compile(pattern string) (*Pattern, error) {
	branches, err := parse([]byte(pattern))
	if err != nil {
		return nil, fmt.Errorf("compile filter pattern %s: %w", abbreviate(pattern), err)
	}
	return &Pattern{src: pattern, branches: branches}, nil
}

// String returns the pattern as it was compiled.
func (p *Pattern) String() string { return p.src }

// Match reports whether the event (the record's JSON as Lambda sees it, e.g.
// a marshalled events.DynamoDBEventRecord) satisfies the pattern. An event
// that is not a JSON object matches nothing, as Lambda drops such records.
func (p *Pattern) Match(event []byte) bool {
	root, ok := decodeEvent(event)
	if !ok {
		return false
	}
	return p.match(root)
}

func (p *Pattern) match(root map[string]any) bool {
	for _, b := range p.branches {
		if b.match(root, root) {
			return true
		}
	}
	return false
}

// Criteria is a mapping's FilterCriteria: a record passes if any one pattern
// matches it. Empty criteria pass every record, as a mapping without
// FilterCriteria does.
type Criteria []*Pattern

// CompileAll compiles the patterns of one FilterCriteria.Filters list.
func CompileAll(patterns ...string) (Criteria, error) {
	c := make(Criteria, 0, len(patterns))
	for i, s := range patterns {
		p, err := Compile(s)
		if err != nil {
			return nil, fmt.Errorf("filter %d: %w", i, err)
		}
		c = append(c, p)
	}
	return c, nil
}

// Match reports whether the event passes the criteria: true when there are
// no patterns, otherwise when at least one pattern matches.
func (c Criteria) Match(event []byte) bool {
	if len(c) == 0 {
		return true
	}
	root, ok := decodeEvent(event)
	if !ok {
		return false
	}
	for _, p := range c {
		if p.match(root) {
			return true
		}
	}
	return false
}

// decodeEvent keeps numbers as json.Number so that exact matching can
// compare their text and numeric matching their value.
func decodeEvent(event []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil || root == nil {
		return nil, false
	}
	return root, true
}

func abbreviate(s string) string {
	const max = 120
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}
