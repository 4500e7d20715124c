package wire

import (
	"errors"

	"github.com/parley-chat/parley/shared/conversation"
)

// Code is an error code of an `error` frame (docs/protocol.md section 2).
type Code string

// The error codes, spelled as docs/protocol.md section 2 spells them.
const (
	CodeBadRequest    Code = "bad_request"
	CodeUnknownAction Code = "unknown_action"
	CodeUnauthorized  Code = "unauthorized"
	CodeForbidden     Code = "forbidden"
	CodeNotFound      Code = "not_found"
	CodeConflict      Code = "conflict"
	CodeNoCapacity    Code = "no_capacity"
	CodeTooLarge      Code = "too_large"
	CodeOutsideHours  Code = "outside_hours"
	CodeRateLimited   Code = "rate_limited"
	CodeInternal      Code = "internal"
)

// Codes are every error code, in the order docs/protocol.md lists them.
var Codes = []Code{CodeBadRequest, CodeUnknownAction, CodeUnauthorized, CodeForbidden, CodeNotFound,
	CodeConflict, CodeNoCapacity, CodeTooLarge, CodeOutsideHours, CodeRateLimited, CodeInternal}

// Errors of the protocol itself; the domain's sentinels cover the rest.
var (
	// ErrUnknownAction marks an action the protocol does not have, or that
	// the function serving the frame does not serve.
	ErrUnknownAction = errors.New("unknown action")
	// ErrUnauthorized marks a connection without an identity.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRateLimited marks a request over a budget; a
	// *conversation.RateLimitError says when to try again.
	ErrRateLimited = conversation.ErrRateLimited
)

// CodeOf is the one place Go errors meet protocol error codes.
func CodeOf(err error) Code {
	switch {
	case errors.Is(err, conversation.ErrInvalid):
		return CodeBadRequest
	case errors.Is(err, conversation.ErrNotFound):
		return CodeNotFound
	case errors.Is(err, conversation.ErrNotAllowed):
		return CodeForbidden
	case errors.Is(err, conversation.ErrConflict):
		return CodeConflict
	case errors.Is(err, conversation.ErrNoCapacity):
		return CodeNoCapacity
	case errors.Is(err, conversation.ErrOutsideHours):
		return CodeOutsideHours
	case errors.Is(err, conversation.ErrTooLarge):
		return CodeTooLarge
	case errors.Is(err, ErrUnknownAction):
		return CodeUnknownAction
	case errors.Is(err, ErrUnauthorized):
		return CodeUnauthorized
	case errors.Is(err, ErrRateLimited):
		return CodeRateLimited
	default:
		return CodeInternal
	}
}

// Public wraps err with a sentence meant for the client; the error frame
// shows msg as its message.
func Public(msg string, err error) error { return &publicError{msg: msg, err: err} }

type publicError struct {
	msg string
	err error
}

func (e *publicError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *publicError) Unwrap() error { return e.err }

// BadField is a bad_request about one field of a frame; msg names the field
// and says what is wrong with it.
func BadField(msg string) error { return &fieldError{msg: msg} }

type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }
func (e *fieldError) Unwrap() error { return conversation.ErrInvalid }

// ErrorFrame is the `error` frame answering a request that failed with err:
// its code, and a sentence the client may show. Refusals carry the domain's
// own words; internal failures say nothing of their cause.
func ErrorFrame(id RequestID, err error) *Error {
	f := &Error{RequestID: id, Code: CodeOf(err), Message: message(err)}
	var rl *conversation.RateLimitError
	if errors.As(err, &rl) {
		f.RetryAfterMs = max(1, rl.RetryAfter.Milliseconds())
	}
	return f
}

func message(err error) string {
	var fe *fieldError
	var pe *publicError
	switch code := CodeOf(err); {
	case errors.As(err, &fe):
		return fe.msg
	case code == CodeNotFound:
		return "conversation not found" // the same words whatever was looked for
	case code == CodeInternal:
		return "something went wrong; try again"
	case errors.As(err, &pe):
		return pe.msg
	case code == CodeForbidden:
		return "not allowed"
	case code == CodeConflict:
		return "the conversation is not in a state that allows this"
	case code == CodeNoCapacity:
		return "no free capacity"
	case code == CodeOutsideHours:
		return "outside operating hours"
	case code == CodeRateLimited:
		return "too many requests; try again shortly"
	case code == CodeTooLarge:
		return "the reply is too large to deliver"
	}
	return err.Error()
}
