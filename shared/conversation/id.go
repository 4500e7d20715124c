package conversation

import "crypto/rand"

// NewConversationID returns a fresh conversation id, "c_" and 26 random
// characters (130 bits). Ids travel in frames and URLs, so they are URL-safe;
// they are unguessable because knowing one must not be a way in.
func NewConversationID() string {
	return "c_" + rand.Text()
}

// NewMessageID returns a fresh message id, "m_" and 26 random characters.
func NewMessageID() string {
	return "m_" + rand.Text()
}

// MaxIDBytes is the longest id a client may name; longer ones name nothing.
const MaxIDBytes = 128

// ValidConversationID reports whether id could have been made by
// NewConversationID: anything else names no conversation, and is not looked
// up.
func ValidConversationID(id string) bool {
	return len(id) > len("c_") && len(id) <= MaxIDBytes && id[:2] == "c_"
}
