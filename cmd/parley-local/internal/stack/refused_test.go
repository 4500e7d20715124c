package stack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestRefusedUpgradeLogsOneLine: a refused token is an everyday event,
// not an error of the stack: the emulator logs it once, at WARN, with the
// status the client got (it used to log three lines, two at ERROR).
func TestRefusedUpgradeLogsOneLine(t *testing.T) {
	var buf testLog
	s := startStack(t, embedded, func(o *Options) {
		o.Log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	buf.mu.Lock()
	buf.buf.Reset()
	buf.mu.Unlock()
	if status := s.dialStatus(t, "?token=not-a-jwt"); status != http.StatusUnauthorized {
		t.Fatalf("upgrade with a bad token = %d; want 401", status)
	}
	buf.mu.Lock()
	out := buf.buf.String()
	buf.mu.Unlock()
	var emulator []map[string]any
	sc := bufio.NewScanner(bytes.NewReader([]byte(out)))
	for sc.Scan() {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		if l["level"] == "ERROR" {
			t.Errorf("refused upgrade logged at ERROR: %s", sc.Text())
		}
		// API Gateway's and Lambda's lines; the handler's own (it logs the
		// refusal too, as it would in CloudWatch) are not the emulator's.
		if (l["component"] != "apigateway" && l["component"] != "lambda") || l["level"] == "DEBUG" {
			continue
		}
		emulator = append(emulator, l)
	}
	if len(emulator) != 1 || emulator[0]["level"] != "WARN" || !strings.Contains(emulator[0]["msg"].(string), "refused") || emulator[0]["status"] != float64(401) {
		t.Errorf("emulator's lines for a refused upgrade = %v; want one WARN naming status 401\n%s", emulator, out)
	}
}
