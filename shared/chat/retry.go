package chat

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

// The one retry policy for writes that lose a race: every loss means
// another request made progress, so trying again converges; a short random
// wait spreads the racers out.
const (
	maxAttempts = 32
	firstWait   = time.Millisecond
	longestWait = 40 * time.Millisecond
	// reserve is the part of a deadline kept for answering after the last
	// attempt.
	reserve = 250 * time.Millisecond
)

// errBusy is what a request gets when its conversation stays too contended
// to take its write within the deadline: rate_limited, which clients retry
// after retryAfterMs (docs/protocol.md section 2).
var errBusy = &conversation.RateLimitError{What: "the conversation", RetryAfter: 200 * time.Millisecond}

// retry runs attempt until it succeeds or fails with anything but
// conversation.ErrStale; when attempts or the deadline run out first, the
// caller is told to try again later.
func retry(ctx context.Context, attempt func() error) error {
	wait := firstWait
	for n := 1; ; n++ {
		err := attempt()
		if err == nil || !errors.Is(err, conversation.ErrStale) {
			return err
		}
		pause := wait/2 + rand.N(wait)
		if deadline, ok := ctx.Deadline(); n == maxAttempts || ok && time.Until(deadline) < pause+reserve {
			return busy(n, err)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return busy(n, err)
		case <-t.C:
		}
		wait = min(2*wait, longestWait)
	}
}

// busy is errBusy, saying (but not wrapping: it must not read as a
// conflict) which race was lost last.
func busy(attempts int, lost error) error {
	return fmt.Errorf("%w: %d attempts, the last lost: %v", errBusy, attempts, lost)
}
