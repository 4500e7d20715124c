package conversation

// Status is where a conversation stands (docs/protocol.md section 3).
type Status string

const (
	// Queued conversations wait for an agent: new, requeued, or created
	// outside operating hours.
	Queued Status = "queued"
	// Active conversations are being worked by their agent and use its capacity.
	Active Status = "active"
	// Waiting conversations were parked by their agent; the customer has not
	// come back, so they use no capacity.
	Waiting Status = "waiting"
	// Returned conversations were waiting and the customer has since written;
	// the agent is told, and they still use no capacity until picked up.
	Returned Status = "returned"
	// Closed conversations have ended and are read-only.
	Closed Status = "closed"
)

// Valid reports whether s is one of the statuses the protocol names.
func (s Status) Valid() bool {
	switch s {
	case Queued, Active, Waiting, Returned, Closed:
		return true
	}
	return false
}

// Open reports whether a conversation in status s can still change: every
// status but Closed. A customer has at most one open conversation per widget.
func (s Status) Open() bool {
	return s.Valid() && s != Closed
}

// UsesCapacity reports whether a conversation in status s counts against its
// agent's capacity. Only Active does: parking exists to free capacity.
func (s Status) UsesCapacity() bool {
	return s == Active
}
