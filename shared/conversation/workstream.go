package conversation

import (
	"fmt"
	"time"
)

// Defaults a Workstream falls back to when a setting is left zero.
const (
	// DefaultUnits is what a conversation costs an agent when the workstream
	// does not say: one unit, so a capacity of 3 means three chats.
	DefaultUnits = 1
	// DefaultPersistentInactivity is how long a persistent conversation may go
	// without any message before sweep closes it. It is long because the
	// customer is expected to come back days later.
	DefaultPersistentInactivity = 30 * 24 * time.Hour
	// DefaultLiveInactivity is how long a live chat survives its customer's
	// last connection: long enough for a reload or a flaky network, short
	// enough not to hold an agent for someone who left.
	DefaultLiveInactivity = 20 * time.Minute
	// DefaultReminderInterval is how often sweep reminds an agent of a
	// returned conversation it has not picked up.
	DefaultReminderInterval = 15 * time.Minute
)

// Texts overrides the wording of queue messages for one workstream.
// Templates may use {position}, {minutes} and {seconds}; "" keeps the default
// English text.
type Texts struct {
	QueuePosition string
	AverageWait   string
}

// Workstream is the configuration a widget routes its conversations into.
type Workstream struct {
	ID            string
	Mode          Mode
	Hours         Hours
	KeepSameAgent bool // a customer returning to a parked conversation gets the same agent back
	Units         int  // per conversation; 0 = DefaultUnits
	Texts         Texts

	// InactivityTimeout is how long before sweep closes a quiet conversation;
	// 0 = the mode's default: persistent 30 days since the last message, live
	// 20 minutes after the customer's last connection closed.
	InactivityTimeout time.Duration
	// RequeueReturnedAfter sends a returned conversation back to the queue when
	// its agent has stayed offline this long; 0 = never.
	RequeueReturnedAfter time.Duration
	// ReminderInterval is how often sweep reminds an agent of a returned
	// conversation not picked up; 0 = DefaultReminderInterval.
	ReminderInterval time.Duration
}

// WithDefaults returns w with every zero setting replaced by its default, so
// rules read one value instead of re-deciding what zero means.
func (w Workstream) WithDefaults() Workstream {
	if w.Units == 0 {
		w.Units = DefaultUnits
	}
	if w.InactivityTimeout == 0 {
		switch w.Mode {
		case Persistent:
			w.InactivityTimeout = DefaultPersistentInactivity
		case Live:
			w.InactivityTimeout = DefaultLiveInactivity
		}
	}
	if w.ReminderInterval == 0 {
		w.ReminderInterval = DefaultReminderInterval
	}
	return w
}

// Validate reports the first setting of w that no rule can work with, wrapping
// ErrInvalid. Settings are checked when loaded, so a typo in a time zone fails
// loudly instead of silently keeping a queue closed.
func (w Workstream) Validate() error {
	switch {
	case w.ID == "":
		return fmt.Errorf("workstream: missing id: %w", ErrInvalid)
	case !w.Mode.Valid():
		return fmt.Errorf("workstream %s: mode %q is neither %q nor %q: %w", w.ID, w.Mode, Persistent, Live, ErrInvalid)
	case w.Units < 0:
		return fmt.Errorf("workstream %s: negative units %d: %w", w.ID, w.Units, ErrInvalid)
	case w.InactivityTimeout < 0, w.RequeueReturnedAfter < 0, w.ReminderInterval < 0:
		return fmt.Errorf("workstream %s: negative duration: %w", w.ID, ErrInvalid)
	}
	if err := w.Hours.Validate(); err != nil {
		return fmt.Errorf("workstream %s: %w", w.ID, err)
	}
	return nil
}
