package conversation

import (
	"time"
	"unicode/utf8"
)

// Message is one stored chat line. Seq is gap-free and strictly increasing
// within a conversation; it is the order every party sees and what a client
// resumes from.
type Message struct {
	ID              string
	ConversationID  string
	Seq             int64
	ClientMessageID string // the sender's idempotency key: a resend with it is stored once
	Sender          Participant
	Text            string
	At              time.Time
}

// A preview keeps at most PreviewRunes characters of a message's text and
// at most PreviewBytes bytes of UTF-8: 120 characters of Latin text, fewer
// of wider scripts (53 of Chinese, 40 emoji). The preview rides on the
// conversation item every send rewrites, so its bytes are paid on every
// send: under 1 KB the item costs one write unit, over it two.
const (
	PreviewRunes = 120
	PreviewBytes = 160
)

// Preview is what a conversation list shows of the newest message: who
// wrote it, when, and the start of its text.
type Preview struct {
	Seq    int64
	Sender Participant
	Text   string // at most PreviewRunes characters and PreviewBytes bytes
	At     time.Time
}

// PreviewOf is m's preview: its text, or the start of it and "…".
func PreviewOf(m Message) *Preview {
	text := m.Text
	if utf8.RuneCountInString(text) > PreviewRunes || len(text) > PreviewBytes {
		const ellipsis = "…"
		n, end := 0, 0
		for i, r := range text {
			if n == PreviewRunes-1 || i+utf8.RuneLen(r) > PreviewBytes-len(ellipsis) {
				break
			}
			n, end = n+1, i+utf8.RuneLen(r)
		}
		text = text[:end] + ellipsis
	}
	return &Preview{Seq: m.Seq, Sender: m.Sender, Text: text, At: m.At}
}

// ReadMark is how far one party has read a conversation.
type ReadMark struct {
	Role Role
	Seq  int64
}
