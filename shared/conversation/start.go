package conversation

import (
	"fmt"
	"time"
)

// Start opens a new conversation for customer in ws, Queued from now. It does
// not store the first message: the caller follows with Send, so that message
// gets seq 1 like every other.
//
// A live chat outside operating hours is refused with ErrOutsideHours because
// nobody would answer it; a persistent one is accepted and stays queued until
// the hours open, since its customer will come back to the answer.
func Start(id string, ws Workstream, widget string, customer Participant, now time.Time) (*Conversation, error) {
	switch {
	case id == "":
		return nil, fmt.Errorf("start conversation: missing id: %w", ErrInvalid)
	case widget == "":
		return nil, fmt.Errorf("start conversation %s: missing widget: %w", id, ErrInvalid)
	case customer.Role != Customer || customer.ID == "":
		return nil, fmt.Errorf("start conversation %s: only a customer with an id starts one: %w", id, ErrNotAllowed)
	}
	if err := ws.Validate(); err != nil {
		return nil, fmt.Errorf("start conversation %s: %w", id, err)
	}
	ws = ws.WithDefaults()
	if ws.Mode == Live {
		open, err := ws.Hours.Open(now)
		if err != nil {
			return nil, fmt.Errorf("start conversation %s: %w", id, err)
		}
		if !open {
			return nil, fmt.Errorf("start live conversation in %s: %w", ws.ID, ErrOutsideHours)
		}
	}
	return &Conversation{
		ID:         id,
		Workstream: ws.ID,
		Widget:     widget,
		Mode:       ws.Mode,
		Status:     Queued,
		Customer:   customer,
		Units:      ws.Units,
		CreatedAt:  now,
		UpdatedAt:  now,
		QueuedAt:   now,
		Version:    1, // 0 is the zero value: "never saved"
	}, nil
}
