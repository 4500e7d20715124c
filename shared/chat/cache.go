package chat

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

// cache keeps values read from the store for ttl. Settings change rarely,
// and reading them on every message would double its cost.
type cache[K comparable, V any] struct {
	ttl  time.Duration
	now  func() time.Time
	load func(context.Context, K) (V, error)
	// keepErr says which failed loads to remember (an answer, not an
	// outage); nil remembers none.
	keepErr func(error) bool

	mu      sync.Mutex
	entries map[K]entry[V]
}

type entry[V any] struct {
	v   V
	err error
	at  time.Time
}

func newCache[K comparable, V any](ttl time.Duration, now func() time.Time, load func(context.Context, K) (V, error), keepErr func(error) bool) *cache[K, V] {
	return &cache[K, V]{ttl: ttl, now: now, load: load, keepErr: keepErr, entries: map[K]entry[V]{}}
}

func (c *cache[K, V]) get(ctx context.Context, k K) (V, error) {
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if ok && c.now().Sub(e.at) < c.ttl {
		return e.v, e.err
	}
	v, err := c.load(ctx, k)
	if err != nil && (c.keepErr == nil || !c.keepErr(err)) {
		return v, err
	}
	c.mu.Lock()
	c.entries[k] = entry[V]{v, err, c.now()}
	c.mu.Unlock()
	return v, err
}

func notFound(err error) bool { return errors.Is(err, conversation.ErrNotFound) }
