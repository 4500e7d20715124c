package dynamo

import "strings"

// updateAction is one action of an update expression: its clause (SET,
// REMOVE, ADD, DELETE) and the document path it writes, with #names
// resolved ("m.k", "l[0]").
type updateAction struct {
	clause, path string
}

// topName is the top-level attribute a path starts in.
func (a updateAction) topName() string {
	if i := strings.IndexAny(a.path, ".["); i >= 0 {
		return a.path[:i]
	}
	return a.path
}

// updateActions parses an update expression into its actions, in order.
// It reads only what it needs: the path each action starts with.
func updateActions(expr string, names map[string]string) []updateAction {
	var out []updateAction
	depth, start, clause := 0, 0, ""
	flush := func(end int) {
		if clause == "" {
			return
		}
		for _, a := range splitTopLevel(expr[start:end]) {
			a = strings.TrimSpace(a)
			end := strings.IndexAny(a, " =\t")
			if end < 0 {
				end = len(a)
			}
			if p := resolvePath(a[:end], names); p != "" {
				out = append(out, updateAction{clause: clause, path: p})
			}
		}
	}
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case depth == 0 && isWordStart(expr, i):
			j := i
			for j < len(expr) && (expr[j] == '_' || expr[j] >= 'a' && expr[j] <= 'z' || expr[j] >= 'A' && expr[j] <= 'Z') {
				j++
			}
			if kw := strings.ToUpper(expr[i:j]); (kw == "SET" || kw == "REMOVE" || kw == "ADD" || kw == "DELETE") && (j == len(expr) || expr[j] == ' ') {
				flush(i)
				clause, start = kw, j
			}
			i = j - 1
		}
	}
	flush(len(expr))
	return out
}

// splitTopLevel splits a clause's actions at the commas outside
// parentheses (list_append(a, :b) is one operand).
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// resolvePath replaces the #names of a path by the names they stand for.
func resolvePath(p string, names map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		if p[i] != '#' {
			b.WriteByte(p[i])
			i++
			continue
		}
		j := i + 1
		for j < len(p) && p[j] != '.' && p[j] != '[' {
			j++
		}
		b.WriteString(names[p[i:j]])
		i = j
	}
	return b.String()
}

// overlapping reports two actions whose paths are the same or one inside
// the other, which DynamoDB refuses ("Two document paths overlap").
func overlapping(actions []updateAction) (string, string, bool) {
	for i, a := range actions {
		for _, b := range actions[i+1:] {
			if a.path == b.path || strings.HasPrefix(b.path, a.path+".") || strings.HasPrefix(b.path, a.path+"[") ||
				strings.HasPrefix(a.path, b.path+".") || strings.HasPrefix(a.path, b.path+"[") {
				return a.path, b.path, true
			}
		}
	}
	return "", "", false
}

// updateReturnValues is what UpdateItem returns for ReturnValues rv, from
// the item's images around the update: minidyn's own answer drops removed
// attributes from the old image, lists untouched ones as updated, and
// returns the key of an item that did not exist. UPDATED_* hold the
// top-level attributes the expression writes, whole, as DynamoDB Local
// returns them. nil means no Attributes.
func updateReturnValues(rv string, old, new attrs, actions []updateAction) attrs {
	pick := func(from attrs) attrs {
		out := attrs{}
		for _, a := range actions {
			if v, ok := from[a.topName()]; ok {
				out[a.topName()] = v
			}
		}
		return out
	}
	var out attrs
	switch rv {
	case "ALL_OLD":
		out = old
	case "ALL_NEW":
		out = new
	case "UPDATED_OLD":
		out = pick(old)
	case "UPDATED_NEW":
		out = pick(new)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
