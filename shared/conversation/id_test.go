package conversation

import (
	"regexp"
	"testing"
)

func TestNewIDs(t *testing.T) {
	tests := []struct {
		name string
		new  func() string
		re   *regexp.Regexp
	}{
		{"NewConversationID", NewConversationID, regexp.MustCompile(`^c_[A-Za-z0-9_-]{20,}$`)},
		{"NewMessageID", NewMessageID, regexp.MustCompile(`^m_[A-Za-z0-9_-]{20,}$`)},
	}
	for _, tt := range tests {
		seen := make(map[string]bool)
		for range 1000 {
			id := tt.new()
			if !tt.re.MatchString(id) {
				t.Fatalf("%s() = %q; want %s", tt.name, id, tt.re)
			}
			if seen[id] {
				t.Fatalf("%s() returned %q twice", tt.name, id)
			}
			seen[id] = true
		}
	}
}
