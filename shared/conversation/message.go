package conversation

import "time"

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

// PreviewRunes is how much of a message's text a preview keeps.
const PreviewRunes = 120

// Preview is what a conversation list shows of the newest message: who
// wrote it, when, and the start of its text.
type Preview struct {
	Seq    int64
	Sender Participant
	Text   string // at most PreviewRunes characters
	At     time.Time
}

// PreviewOf is m's preview.
func PreviewOf(m Message) *Preview {
	text := m.Text
	if r := []rune(text); len(r) > PreviewRunes {
		text = string(r[:PreviewRunes-1]) + "…"
	}
	return &Preview{Seq: m.Seq, Sender: m.Sender, Text: text, At: m.At}
}

// ReadMark is how far one party has read a conversation.
type ReadMark struct {
	Role Role
	Seq  int64
}
