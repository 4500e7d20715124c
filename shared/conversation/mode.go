package conversation

// Mode is how a workstream's conversations live: persistent or live chat.
type Mode string

const (
	// Persistent conversations outlive every connection: the customer comes
	// back days later on another device and carries on, and only an agent
	// (or inactivity) ends them.
	Persistent Mode = "persistent"
	// Live conversations are classic chats: queue messages, either side may
	// close, refused outside operating hours, closed when the customer leaves.
	Live Mode = "live"
)

// Valid reports whether m is one of the modes the protocol names.
func (m Mode) Valid() bool {
	return m == Persistent || m == Live
}
