package chat

import (
	"fmt"
	"sync"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

// Request budgets (docs/protocol.md section 4, rate limits): a well-behaved
// client (a burst of 20, 5 a second sustained, per connection) never meets
// them.
var (
	// ConnectionLimit is each connection's budget.
	ConnectionLimit = conversation.Limit{Burst: 40, Rate: 10}
	// UserLimit is each customer's or agent's budget over all their
	// connections.
	UserLimit = conversation.Limit{Burst: 100, Rate: 30}
)

// limiter keeps the request budgets of connections and users in the
// function instance's memory: no store request is spent on it. That is
// exact on the local stack (one process serves every request) and, in AWS,
// a bound per instance: API Gateway spreads one connection's requests over
// the instances that are free, so there the stage's per-route throttling
// bounds the whole and the per-conversation send budget (kept on the
// conversation item, conversation.SendLimit) is exact everywhere.
type limiter struct {
	conn, user conversation.Limit

	mu      sync.Mutex
	buckets map[string]*conversation.Bucket
}

// maxBuckets bounds the limiter's memory; past it, buckets that have
// refilled (and so are as good as new) are dropped.
const maxBuckets = 50000

func newLimiter(conn, user conversation.Limit) *limiter {
	return &limiter{conn: conn, user: user, buckets: map[string]*conversation.Bucket{}}
}

// admit spends one request of c's connection and of c's user; when either
// is spent out it spends nothing and says when to come back.
func (l *limiter) admit(c Caller, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	conn, user := l.bucket("c\x00"+c.ConnectionID), l.bucket("u\x00"+string(c.Role)+"\x00"+c.Widget+"\x00"+c.ID)
	cb, ub := *conn, *user
	if ok, wait := cb.Take(l.conn, now); !ok {
		return &conversation.RateLimitError{What: "connection " + c.ConnectionID, RetryAfter: wait}
	}
	if ok, wait := ub.Take(l.user, now); !ok {
		return &conversation.RateLimitError{What: fmt.Sprintf("%s %s", c.Role, c.ID), RetryAfter: wait}
	}
	*conn, *user = cb, ub
	if len(l.buckets) > maxBuckets {
		l.forget(now)
	}
	return nil
}

func (l *limiter) bucket(key string) *conversation.Bucket {
	b, ok := l.buckets[key]
	if !ok {
		b = &conversation.Bucket{}
		l.buckets[key] = b
	}
	return b
}

// forget drops the buckets that are full again.
func (l *limiter) forget(now time.Time) {
	full := time.Duration(max(l.conn.Burst/l.conn.Rate, l.user.Burst/l.user.Rate) * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.At) > full {
			delete(l.buckets, k)
		}
	}
}
