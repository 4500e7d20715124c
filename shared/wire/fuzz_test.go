package wire

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzDecode drives arbitrary bytes through the frame decoder: whatever a
// client sends, Decode answers (a request or an error with a code the
// protocol has), never panics, and the error frame it leads to encodes to
// JSON carrying the frame's own requestId.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"action":"hello"}`, `{"action":"hello","lastSeq":3,"requestId":"r1"}`,
		`{"action":"send","conversationId":"c_X","clientMessageId":"k1","text":"hi <b>"}`,
		`{"action":"history","conversationId":"c_X","beforeSeq":4,"limit":200}`,
		`{"action":"typing","conversationId":"c_X","typing":true}`, `{"action":"read","conversationId":"c_X","seq":1}`,
		`{"action":"park","conversationId":"c_X"}`, `{"action":"presence","status":"away"}`, `{"action":"ping","requestId":7}`, `{"action":"ping","requestId":1e2}`,
		`{"action":"dance"}`, `{"action":1}`, `[]`, `null`, `{"action":"send","text":"\u0000"}`, `{"requestId":{"a":[1,2]}}`,
		`{"action":"history","conversationId":"c","limit":1e308}`, `{"action":"read","conversationId":"c","seq":-0.5}`,
	} {
		f.Add([]byte(seed))
	}
	codes := map[Code]bool{}
	for _, c := range Codes {
		codes[c] = true
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		req, err := Decode(frame)
		if err == nil {
			if req.Body == nil || req.Action == "" {
				t.Fatalf("Decode(%q) = %+v with no error; want a body and an action", frame, req)
			}
			return
		}
		e := ErrorFrame(req.ID, err)
		if !codes[e.Code] || e.Code == CodeInternal || e.Message == "" || !utf8.ValidString(e.Message) {
			t.Fatalf("Decode(%q) = %v: error frame %+v; want a protocol code other than internal, and a message", frame, err, e)
		}
		b, err := Encode(e)
		if err != nil {
			t.Fatalf("Encode(error frame of %q) = %v", frame, err)
		}
		var back struct {
			RequestID json.RawMessage `json:"requestId"`
		}
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("error frame %s is not JSON: %v", b, err)
		}
		if len(req.ID) > 0 && !reflect.DeepEqual(value(t, back.RequestID), value(t, req.ID)) {
			t.Fatalf("error frame %s; want requestId %s", b, req.ID)
		}
	})
}

func value(t *testing.T, raw json.RawMessage) any {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("requestId %s is not JSON: %v", raw, err)
	}
	return v
}
