package wire

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// protocolDoc is docs/protocol.md, the contract this package implements.
func protocolDoc(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section is the text of the document's section "## n. ...".
func section(t *testing.T, doc string, n string) string {
	t.Helper()
	start := strings.Index(doc, "\n## "+n+". ")
	if start < 0 {
		t.Fatalf("docs/protocol.md has no section %s", n)
	}
	rest := doc[start+1:]
	if end := strings.Index(rest[3:], "\n## "); end >= 0 {
		rest = rest[:end+3]
	}
	return rest
}

var firstCell = regexp.MustCompile("(?m)^\\| `([a-z_$]+)` \\|")

// tableNames are the backticked names in the first column of a section's
// tables.
func tableNames(text string) []string {
	var out []string
	for _, m := range firstCell.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// Every action of section 4 is an Action here and decodes, and nothing
// here is missing from the document.
func TestActionsAreTheDocuments(t *testing.T) {
	doc := protocolDoc(t)
	got := tableNames(section(t, doc, "4"))
	if !slices.Equal(got, strs(Actions)) {
		t.Errorf("docs/protocol.md section 4 actions = %v; wire.Actions = %v", got, Actions)
	}
	for _, a := range Actions {
		if _, err := (reader{}).decode(a); err != nil && CodeOf(err) == CodeUnknownAction {
			t.Errorf("action %q is listed but Decode does not know it", a)
		}
	}
}

// Every event of section 5 has a frame type here, and the replies section 4
// names are the reply types.
func TestEventsAndRepliesAreTheDocuments(t *testing.T) {
	doc := protocolDoc(t)
	if got := tableNames(section(t, doc, "5")); !slices.Equal(got, EventTypes) {
		t.Errorf("docs/protocol.md section 5 events = %v; wire.EventTypes = %v", got, EventTypes)
	}
	replies := map[string]bool{TypeAck: true, TypeError: true} // section 2
	for _, m := range regexp.MustCompile("\\| `([a-z]+)`( with [^|]*)? \\|\\n").FindAllStringSubmatch(section(t, doc, "4"), -1) {
		replies[m[1]] = true
	}
	var got []string
	for r := range replies {
		got = append(got, r)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ReplyTypes))
	if !slices.Equal(got, want) {
		t.Errorf("reply types named in docs/protocol.md = %v; wire.ReplyTypes = %v", got, want)
	}
}

// The error codes of section 2 are Codes, in the document's order.
func TestCodesAreTheDocuments(t *testing.T) {
	s2 := section(t, protocolDoc(t), "2")
	i := strings.Index(s2, "Error codes:")
	if i < 0 {
		t.Fatal("docs/protocol.md section 2 lists no error codes")
	}
	para := s2[i:]
	if end := strings.Index(para, "\n\n"); end >= 0 {
		para = para[:end]
	}
	var got []string
	for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(para, -1) {
		got = append(got, m[1])
	}
	if !slices.Equal(got, strs(Codes)) {
		t.Errorf("docs/protocol.md error codes = %v; wire.Codes = %v", got, Codes)
	}
}
