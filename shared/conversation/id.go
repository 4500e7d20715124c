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
