package stack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// Every log line of the stack and of the handlers, through a whole chat
// (connects, sends, assignment and its stream notification, park, return,
// pickup, close, a refused request, a sweep, disconnects), is one JSON
// object naming each key once: log tools keep only one of two equal keys.
func TestLogLinesNameEachKeyOnce(t *testing.T) {
	var buf testLog
	s := startStack(t, func(o *Options) {
		o.Log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		// Often enough to see sweeps; seldom enough that a slow machine's
		// sweeps do not run back to back and starve the chat.
		o.ScheduleInterval = 250 * time.Millisecond
	})
	t.Cleanup(func() {
		if t.Failed() {
			buf.mu.Lock()
			out := buf.buf.String()
			buf.mu.Unlock()
			t.Logf("stack log (tail):\n%s", out[max(0, len(out)-20000):])
		}
	})
	bob := s.dial(t, "bob", s.agentToken(t, "bob"))
	bob.OK("hello", nil)
	alice := s.dial(t, "alice", s.customerToken(t, "persistent", "alice"))
	id := obj(alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "hello"})["conversation"])["id"].(string)
	bob.ConversationEvent(id, "active")
	bob.OK("send", map[string]any{"conversationId": id, "clientMessageId": "b1", "text": "hi"})
	alice.OK("typing", map[string]any{"conversationId": id, "typing": true})
	alice.OK("read", map[string]any{"conversationId": id, "seq": 2})
	bob.OK("park", map[string]any{"conversationId": id})
	alice.OK("send", map[string]any{"conversationId": id, "clientMessageId": "a2", "text": "back"})
	bob.Wait("return notification", func(f map[string]any) bool { return f["type"] == "notification" })
	bob.OK("pickup", map[string]any{"conversationId": id})
	alice.Refused("forbidden", "close", map[string]any{"conversationId": id})
	bob.Refused("bad_request", "history", map[string]any{"conversationId": id, "limit": "x"})
	bob.Refused("unknown_action", "dance", nil)
	bob.OK("close", map[string]any{"conversationId": id})
	alice.ConversationEvent(id, "closed")
	s.sweeps(t, 2)
	alice.Close()
	s.gone(t, "persistent", "alice")

	buf.mu.Lock()
	out := buf.buf.Bytes()
	buf.mu.Unlock()
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
		if dup := duplicateKey(sc.Bytes()); dup != "" {
			t.Errorf("log line names %q twice: %s", dup, sc.Text())
		}
	}
	if lines < 50 {
		t.Fatalf("%d log lines; want a whole chat's", lines)
	}
}

// duplicateKey returns a key that a JSON object (or one nested in it)
// names twice, "" if none does; "<invalid>" when line is not a JSON object.
func duplicateKey(line []byte) string {
	dec := json.NewDecoder(bytes.NewReader(line))
	dup, err := walk(dec)
	if err != nil {
		return "<invalid: " + err.Error() + ">"
	}
	return dup
}

func walk(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return "", err
			}
			key := fmt.Sprint(k)
			if seen[key] {
				return key, nil
			}
			seen[key] = true
			if dup, err := walk(dec); dup != "" || err != nil {
				return dup, err
			}
		}
		_, err = dec.Token()
		return "", err
	case json.Delim('['):
		for dec.More() {
			if dup, err := walk(dec); dup != "" || err != nil {
				return dup, err
			}
		}
		_, err = dec.Token()
		return "", err
	}
	return "", nil
}
