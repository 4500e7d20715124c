package conversation

import (
	"errors"
	"fmt"
	"time"
)

// ErrRateLimited marks a request over its budget (rate_limited); a
// *RateLimitError says when to try again.
var ErrRateLimited = errors.New("rate limited")

// RateLimitError is a request refused for its budget.
type RateLimitError struct {
	What       string        // whose budget: "conversation c_…", "connection k…"
	RetryAfter time.Duration // when one more request will be served
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s is over its budget; retry after %s", e.What, e.RetryAfter)
}

// Unwrap makes errors.Is(err, ErrRateLimited) hold.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// Limit is a budget: Burst requests at once, Rate a second sustained.
type Limit struct {
	Burst float64
	Rate  float64
}

// Bucket is a token bucket: Tokens were left at At, and tokens come back
// at the limit's rate up to its burst. The zero Bucket is full.
type Bucket struct {
	Tokens float64
	At     time.Time
}

// Take spends one token at now when there is one; otherwise it changes
// nothing and says how long until there is.
func (b *Bucket) Take(l Limit, now time.Time) (ok bool, wait time.Duration) {
	tokens := l.Burst
	if !b.At.IsZero() {
		tokens = min(l.Burst, b.Tokens+now.Sub(b.At).Seconds()*l.Rate)
	}
	if tokens < 1 {
		// Rounded up to the millisecond clients are told, so that one who
		// waits that long is served.
		wait := time.Duration((1 - tokens) / l.Rate * float64(time.Second))
		return false, (wait + time.Millisecond - 1).Truncate(time.Millisecond)
	}
	// Kept to the microsecond, as the store keeps it.
	b.Tokens, b.At = tokens-1, now.Truncate(time.Microsecond)
	return true, 0
}

// MaxConnectionsPerUser bounds a customer's or agent's open connections
// (tabs, devices): a client that keeps opening them is refused, not
// allowed to exhaust the gateway.
const MaxConnectionsPerUser = 32

// SendLimit is how fast messages may go into one conversation, from both
// parties and all their connections together: far above any person's
// typing, low enough that a runaway client cannot flood the other side.
var SendLimit = Limit{Burst: 60, Rate: 20}
