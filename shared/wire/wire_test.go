package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

func TestDecode(t *testing.T) {
	long := strings.Repeat("x", conversation.MaxClientMessageIDRunes+1)
	tests := []struct {
		frame string
		want  any    // the decoded body, when it decodes
		code  Code   // the error's code, when it does not
		msg   string // and its message
	}{
		{frame: `{"action":"hello"}`, want: &Hello{}},
		{frame: `{"action":"hello","lastSeq":4}`, want: &Hello{LastSeq: 4, HasLastSeq: true}},
		{frame: `{"action":"hello","lastSeq":-1}`, code: CodeBadRequest, msg: "lastSeq must be 0 or more"},
		{frame: `{"action":"send","clientMessageId":"k1","text":"hi"}`, want: &Send{ClientMessageID: "k1", Text: "hi"}},
		{frame: `{"action":"send","conversationId":"c_1","clientMessageId":"k1","text":"<b>"}`, want: &Send{ConversationID: "c_1", ClientMessageID: "k1", Text: "<b>"}},
		{frame: `{"action":"send","text":"hi"}`, code: CodeBadRequest, msg: "missing field clientMessageId"},
		{frame: `{"action":"send","clientMessageId":"` + long + `","text":"hi"}`, code: CodeBadRequest, msg: "clientMessageId must be 1-64 characters"},
		{frame: `{"action":"send","clientMessageId":"k","text":"   "}`, code: CodeBadRequest, msg: "text must be 1-4000 characters and not blank"},
		{frame: `{"action":"send","clientMessageId":"k","text":7}`, code: CodeBadRequest, msg: "text must be a string"},
		{frame: `{"action":"history","conversationId":"c_1"}`, want: &History{ConversationID: "c_1", Limit: 50}},
		{frame: `{"action":"history","conversationId":"c_1","beforeSeq":9,"limit":200}`, want: &History{ConversationID: "c_1", BeforeSeq: 9, HasBefore: true, Limit: 200}},
		{frame: `{"action":"history","conversationId":"c_1","limit":0}`, code: CodeBadRequest, msg: "limit must be 1-200"},
		{frame: `{"action":"history","conversationId":"c_1","limit":201}`, code: CodeBadRequest, msg: "limit must be 1-200"},
		{frame: `{"action":"history","conversationId":"c_1","limit":2.5}`, code: CodeBadRequest, msg: "limit must be an integer"},
		{frame: `{"action":"history","conversationId":"c_1","beforeSeq":1,"afterSeq":1}`, code: CodeBadRequest, msg: "give beforeSeq or afterSeq, not both"},
		{frame: `{"action":"typing","conversationId":"c_1","typing":true}`, want: &Typing{ConversationID: "c_1", Typing: true}},
		{frame: `{"action":"typing","conversationId":"c_1"}`, code: CodeBadRequest, msg: "missing field typing"},
		{frame: `{"action":"read","conversationId":"c_1","seq":3}`, want: &Read{ConversationID: "c_1", Seq: 3}},
		{frame: `{"action":"park","conversationId":"c_1"}`, want: &Park{ConversationID: "c_1"}},
		{frame: `{"action":"pickup"}`, code: CodeBadRequest, msg: "missing field conversationId"},
		{frame: `{"action":"close","conversationId":null}`, code: CodeBadRequest, msg: "missing field conversationId"},
		{frame: `{"action":"presence","status":"away"}`, want: &Presence{Status: conversation.Away}},
		{frame: `{"action":"presence","status":"offline"}`, code: CodeBadRequest, msg: `status must be "available" or "away"`},
		{frame: `{"action":"ping"}`, want: &Ping{}},
		{frame: `{"action":"dance"}`, code: CodeUnknownAction, msg: `unknown action "dance"`},
		{frame: `{"text":"hi"}`, code: CodeBadRequest, msg: "missing field action"},
		{frame: `{"action":7}`, code: CodeBadRequest, msg: "action must be a string"},
		{frame: `[1,2]`, code: CodeBadRequest, msg: "frame is not a JSON object"},
		{frame: `null`, code: CodeBadRequest, msg: "frame is not a JSON object"},
		{frame: `hello`, code: CodeBadRequest, msg: "frame is not a JSON object"},
	}
	for _, tt := range tests {
		req, err := Decode([]byte(tt.frame))
		if tt.want != nil {
			if err != nil {
				t.Errorf("Decode(%s) = %v; want %+v", tt.frame, err, tt.want)
				continue
			}
			if got, want := fmt.Sprintf("%+v", req.Body), fmt.Sprintf("%+v", tt.want); got != want {
				t.Errorf("Decode(%s) = %s; want %s", tt.frame, got, want)
			}
			continue
		}
		f := ErrorFrame(req.ID, err)
		if err == nil || f.Code != tt.code || f.Message != tt.msg {
			t.Errorf("Decode(%s) = %v (%s %q); want %s %q", tt.frame, err, f.Code, f.Message, tt.code, tt.msg)
		}
	}
}

// A requestId comes back exactly as sent, whatever its JSON type; null and
// absent are none.
func TestRequestIDEchoes(t *testing.T) {
	for _, tt := range []struct{ frame, want string }{
		{`{"action":"ping","requestId":"r1"}`, `{"type":"pong","requestId":"r1"}`},
		{`{"action":"ping","requestId":42}`, `{"type":"pong","requestId":42}`},
		{`{"action":"ping","requestId":{"n":1}}`, `{"type":"pong","requestId":{"n":1}}`},
		{`{"action":"ping","requestId":null}`, `{"type":"pong"}`},
		{`{"action":"ping"}`, `{"type":"pong"}`},
	} {
		req, err := Decode([]byte(tt.frame))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Encode(&Pong{RequestID: req.ID})
		if err != nil || string(b) != tt.want {
			t.Errorf("pong for %s = %s, %v; want %s", tt.frame, b, err, tt.want)
		}
	}
	req, _ := Decode([]byte(`{"action":"send","requestId":"r9"}`))
	if string(req.ID) != `"r9"` {
		t.Errorf("a frame that fails to decode keeps requestId %q; want \"r9\"", req.ID)
	}
}

func TestEncodeKeepsTextAsText(t *testing.T) {
	m := MessageOf(conversation.Message{ID: "m_1", ConversationID: "c_1", Seq: 1, Text: `<img src=x onerror=alert(1)> & "q"`,
		Sender: conversation.Participant{Role: conversation.Customer, ID: "alice"}, At: time.Date(2026, 11, 24, 10, 0, 1, 250e6, time.UTC)})
	b, err := Encode(&MessageEvent{Message: m})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"text":"<img src=x onerror=alert(1)> & \"q\""`) || !strings.Contains(string(b), `"at":"2026-11-24T10:00:01.250Z"`) {
		t.Errorf("Encode = %s; want the text unescaped and the time in the protocol's layout", b)
	}
	if !strings.HasPrefix(string(b), `{"type":"message",`) {
		t.Errorf("Encode = %s; want type message first", b)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Errorf("Encode = %s: not JSON: %v", b, err)
	}
}

func TestErrorFrame(t *testing.T) {
	for _, tt := range []struct {
		err  error
		code Code
		msg  string
	}{
		{fmt.Errorf("get c_1: %w", conversation.ErrNotFound), CodeNotFound, "conversation not found"},
		{Public("persistent conversations can only be ended by an agent", conversation.ErrNotAllowed), CodeForbidden, "persistent conversations can only be ended by an agent"},
		{fmt.Errorf("park: %w", conversation.ErrConflict), CodeConflict, "the conversation is not in a state that allows this"},
		{conversation.ErrNoCapacity, CodeNoCapacity, "no free capacity"},
		{conversation.ErrOutsideHours, CodeOutsideHours, "outside operating hours"},
		{fmt.Errorf("reply: %w", conversation.ErrTooLarge), CodeTooLarge, "the reply is too large to deliver"},
		{ErrUnauthorized, CodeUnauthorized, "unauthorized"},
		{&conversation.RateLimitError{RetryAfter: 250 * time.Millisecond}, CodeRateLimited, "too many requests; try again shortly"},
		{errors.New("dial tcp: connection refused"), CodeInternal, "something went wrong; try again"},
	} {
		f := ErrorFrame(RequestID(`"r"`), tt.err)
		if f.Code != tt.code || f.Message != tt.msg {
			t.Errorf("ErrorFrame(%v) = %s %q; want %s %q", tt.err, f.Code, f.Message, tt.code, tt.msg)
		}
	}
	b, _ := Encode(ErrorFrame(RequestID(`"r"`), &conversation.RateLimitError{RetryAfter: 250 * time.Millisecond}))
	if want := `{"type":"error","requestId":"r","code":"rate_limited","message":"too many requests; try again shortly","retryAfterMs":250}`; string(b) != want {
		t.Errorf("rate_limited frame = %s; want %s", b, want)
	}
}
