package conversation

import (
	"fmt"
	"slices"
	"time"
)

// Presence is what an agent's status reads as in the agent app.
type Presence string

const (
	// Available agents with an open connection get new conversations.
	Available Presence = "available"
	// Away agents keep their conversations but get no new ones.
	Away Presence = "away"
	// Offline agents have no open connection.
	Offline Presence = "offline"
)

// ParsePresence reads the status of a presence action. Only available and
// away may be chosen: offline follows from having no connection, so a client
// cannot claim it.
func ParsePresence(s string) (Presence, error) {
	switch p := Presence(s); p {
	case Available, Away:
		return p, nil
	}
	return "", fmt.Errorf("presence %q: want %q or %q: %w", s, Available, Away, ErrInvalid)
}

// Agent is an agent's capacity record: how much it can take, how much it
// uses, whether it is reachable and which workstreams it serves.
type Agent struct {
	ID          string
	Name        string
	Capacity    int      // units it may work at once
	Used        int      // units its Active conversations use
	Presence    Presence // what it last chose: available or away
	Workstreams []string // the workstreams it serves; empty = all
	// ConnectionIDs are its open WebSocket connections.
	ConnectionIDs []string
	// OfflineSince is when its last connection closed (zero while online).
	OfflineSince time.Time
}

// Available reports whether a gets new conversations: it has a connection to
// receive them on and has not chosen away.
func (a Agent) Available() bool {
	return a.CurrentPresence() == Available
}

// CurrentPresence is the presence others see: Offline without a connection,
// whatever was chosen, because nobody is there to answer.
func (a Agent) CurrentPresence() Presence {
	if len(a.ConnectionIDs) == 0 {
		return Offline
	}
	if a.Presence == "" {
		return Available // connected agents are available unless they chose away
	}
	return a.Presence
}

// Free is the capacity a has left, never negative even if an administrator
// lowered Capacity below what is in use.
func (a Agent) Free() int {
	return max(a.Capacity-a.Used, 0)
}

// CanTake reports whether a has room for a conversation of the given units.
func (a Agent) CanTake(units int) bool {
	return units <= a.Free()
}

// Serves reports whether a takes conversations of workstream.
func (a Agent) Serves(workstream string) bool {
	return len(a.Workstreams) == 0 || slices.Contains(a.Workstreams, workstream)
}
