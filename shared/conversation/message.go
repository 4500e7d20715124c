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
