package conversation

// Role is who a participant is in a conversation; it comes only from the
// caller's token, never from a frame.
type Role string

const (
	// Customer is the person who chats from the widget.
	Customer Role = "customer"
	// AgentRole is the person who answers from the agent app. It is not
	// spelled Agent because Agent names the agent's capacity record.
	AgentRole Role = "agent"
	// System is Parley itself: sweep closing an abandoned conversation.
	System Role = "system"
)

// Valid reports whether r is one of the roles the protocol names.
func (r Role) Valid() bool {
	return r == Customer || r == AgentRole || r == System
}

// Participant is one side of a conversation as the token names it.
type Participant struct {
	Role Role
	ID   string
	Name string
}

// Is reports whether p and q are the same person. Names are left out because
// a display name may change between tokens while the subject stays.
func (p Participant) Is(q Participant) bool {
	return p.Role == q.Role && p.ID != "" && p.ID == q.ID
}
