package template

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decode turns a YAML node into plain Go values (map[string]any, []any,
// string, int64, float64, bool, nil), rewriting CloudFormation's short-form
// tags (!Ref, !Sub, !GetAtt ...) into their long forms ({"Ref": ...},
// {"Fn::Sub": ...}) so the resolver has one shape to deal with.
func decode(n *yaml.Node) (any, error) {
	d := &decoder{budget: maxNodes, aliases: map[*yaml.Node]bool{}}
	return d.decode(n, 0)
}

// Limits on what decoding a template may build: an alias that contains
// itself would recurse forever, and aliases of aliases expand
// exponentially ("billion laughs"); real templates are far inside both.
const (
	maxDepth = 200
	maxNodes = 1 << 20
)

type decoder struct {
	budget  int                 // nodes left to build
	aliases map[*yaml.Node]bool // anchors being expanded, to refuse one inside itself
}

func (d *decoder) decode(n *yaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nested more than %d deep", n.Line, maxDepth)
	}
	if d.budget--; d.budget < 0 {
		return nil, fmt.Errorf("line %d: the template expands to more than %d values (aliases of aliases?)", n.Line, maxNodes)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.decode(n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil || d.aliases[n.Alias] {
			return nil, fmt.Errorf("line %d: alias *%s refers to itself", n.Line, n.Value)
		}
		d.aliases[n.Alias] = true
		defer delete(d.aliases, n.Alias)
		return d.decode(n.Alias, depth+1)
	}
	var v any
	var err error
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if m[k], err = d.decode(n.Content[i+1], depth+1); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			cv, err := d.decode(c, depth+1)
			if err != nil {
				return nil, err
			}
			s = append(s, cv)
		}
		v = s
	case yaml.ScalarNode:
		v = scalar(n)
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	name := strings.TrimPrefix(n.Tag, "!")
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			// !GetAtt Resource.Attribute (the attribute may itself contain dots).
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, s)
			}
			return map[string]any{"Fn::GetAtt": []any{res, attr}}, nil
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	default:
		return map[string]any{"Fn::" + name: v}, nil
	}
}

func scalar(n *yaml.Node) any {
	switch n.Tag {
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return i
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
	case "!!bool":
		if b, err := strconv.ParseBool(n.Value); err == nil {
			return b
		}
		switch strings.ToLower(n.Value) {
		case "yes", "on":
			return true
		case "no", "off":
			return false
		}
	case "!!null":
		return nil
	}
	return n.Value
}
