package conversation

import "errors"

// The sentinels below are the domain's whole error vocabulary. Callers wrap
// them with context and match them with errors.Is; the route package maps each
// to one protocol error code, so adding a case here means adding one there.
var (
	// ErrInvalid marks input that breaks a rule of the protocol (bad_request).
	ErrInvalid = errors.New("invalid")
	// ErrNotFound marks a conversation the caller may not see (not_found). It
	// is also returned to strangers so they learn nothing about it.
	ErrNotFound = errors.New("not found")
	// ErrNotAllowed marks an action the caller may see but not take (forbidden).
	ErrNotAllowed = errors.New("not allowed")
	// ErrConflict marks an action that the conversation's status, or a
	// concurrent writer, does not allow right now (conflict).
	ErrConflict = errors.New("conflict")
	// ErrNoCapacity marks an agent without free capacity units (no_capacity).
	ErrNoCapacity = errors.New("no capacity")
	// ErrOutsideHours marks a live chat started while the workstream is closed
	// (outside_hours).
	ErrOutsideHours = errors.New("outside operating hours")
	// ErrTooLarge marks a frame or message over the protocol's size limits
	// (too_large).
	ErrTooLarge = errors.New("too large")
)
