package conversation

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Limits on client input (docs/protocol.md section 4). Lengths count characters
// (runes), not bytes, so an emoji costs a customer one character, not four.
const (
	// MaxTextRunes is the longest message text.
	MaxTextRunes = 4000
	// MaxClientMessageIDRunes is the longest clientMessageId.
	MaxClientMessageIDRunes = 64
	// DefaultHistoryLimit is how many messages a history request without a
	// limit gets.
	DefaultHistoryLimit = 50
	// MaxHistoryLimit is the most messages one history request gets.
	MaxHistoryLimit = 200
)

// ValidateText checks a message text: valid UTF-8, 1 to MaxTextRunes
// characters, not blank. Every failure, over-long included, wraps ErrInvalid
// because the protocol answers invalid fields with bad_request (too_large is
// for frames over the size limit).
func ValidateText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("text is not valid UTF-8: %w", ErrInvalid)
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return fmt.Errorf("text is empty: %w", ErrInvalid)
	case n > MaxTextRunes:
		return fmt.Errorf("text has %d characters, more than %d: %w", n, MaxTextRunes, ErrInvalid)
	case blank(s):
		return fmt.Errorf("text is blank: %w", ErrInvalid)
	}
	return nil
}

// blank reports whether s shows nothing: only white space and invisible
// format characters (zero-width space, joiners, byte-order mark), which would
// deliver an empty bubble to the other side.
func blank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// ValidateClientMessageID checks a send's idempotency key: valid UTF-8 and 1
// to MaxClientMessageIDRunes characters. It is otherwise opaque.
func ValidateClientMessageID(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("clientMessageId is not valid UTF-8: %w", ErrInvalid)
	}
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return fmt.Errorf("clientMessageId is required: %w", ErrInvalid)
	case n > MaxClientMessageIDRunes:
		return fmt.Errorf("clientMessageId has %d characters, more than %d: %w", n, MaxClientMessageIDRunes, ErrInvalid)
	}
	return nil
}

// ValidateLimit checks a history request's limit and returns the one to use:
// DefaultHistoryLimit for 0 (absent), n itself from 1 to MaxHistoryLimit.
func ValidateLimit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultHistoryLimit, nil
	case n < 1 || n > MaxHistoryLimit:
		return 0, fmt.Errorf("limit %d: want 1 to %d: %w", n, MaxHistoryLimit, ErrInvalid)
	}
	return n, nil
}
