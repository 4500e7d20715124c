package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// refetchInterval is the least time between two fetches of one URL. A
	// token with an unknown kid costs nothing to forge, so it may trigger a
	// fetch (that is how a rotated key is picked up) but not a storm of them.
	refetchInterval = 30 * time.Second
	// defaultTTL applies when the JWKS response says nothing about caching.
	// Providers publish a new key well before signing with it, and an
	// unknown kid refetches anyway, so an hour costs no availability.
	defaultTTL = time.Hour
	// minTTL and maxTTL bound what Cache-Control may ask for: no-cache must
	// not mean a fetch per connection, nor a year-long max-age a key that
	// can never be withdrawn.
	minTTL = time.Minute
	maxTTL = 24 * time.Hour
	// fetchTimeout bounds one fetch; it is shared by every caller waiting on
	// it, so no single caller's deadline governs it.
	fetchTimeout = 10 * time.Second
	// maxJWKSBytes bounds the body read; real sets are a few KiB.
	maxJWKSBytes = 1 << 20
)

// KeySets caches the keys of every JWKS URL it is asked about. Build one at
// Lambda init and share it across invocations (and Authenticators): it does
// no I/O until a token needs a key. It is safe for concurrent use; concurrent
// callers needing the same URL share one fetch.
//
// A URL's keys are refetched when their Cache-Control max-age (bounded to
// between a minute and a day; an hour when absent) has passed, or when a
// token names a kid the set lacks, but never more than once in 30 seconds
// per URL. When a refetch fails the previous keys stay in use, so an
// identity provider's outage does not log everyone out; a withdrawn key
// stops being trusted at the next successful fetch.
type KeySets struct {
	client *http.Client

	mu   sync.Mutex
	sets map[string]*cachedSet
}

// NewKeySets returns an empty cache fetching with client; nil means a client
// with a 10-second timeout.
func NewKeySets(client *http.Client) *KeySets {
	if client == nil {
		client = &http.Client{Timeout: fetchTimeout}
	}
	return &KeySets{client: client, sets: map[string]*cachedSet{}}
}

// cachedSet is the state of one URL.
type cachedSet struct {
	mu          sync.Mutex
	keys        *keySet // nil until a fetch succeeds
	expires     time.Time
	lastAttempt time.Time
	attempted   bool
	lastErr     error
	inflight    chan struct{} // non-nil while a fetch runs; closed when it ends
}

// get returns url's keys for a token with this kid, fetching them first
// when they are missing, stale, or lack kid and the rate limit allows it.
// now is the caller's clock, so that tests drive expiry and rate limit
// with the same clock as token times.
func (ks *KeySets) get(ctx context.Context, url, kid string, now time.Time) (*keySet, error) {
	c := ks.entry(url)
	for {
		c.mu.Lock()
		if c.keys != nil && now.Before(c.expires) && c.keys.has(kid) {
			keys := c.keys
			c.mu.Unlock()
			return keys, nil
		}
		if wait := c.inflight; wait != nil {
			c.mu.Unlock()
			select {
			case <-wait:
				continue // look again at what the fetch brought
			case <-ctx.Done():
				return nil, fmt.Errorf("wait for JWKS %s: %w", url, ctx.Err())
			}
		}
		if c.attempted && now.Sub(c.lastAttempt) < refetchInterval {
			// Too soon to fetch again: answer with what there is, stale
			// or missing the kid; verify then says which.
			keys, err := c.keys, c.lastErr
			c.mu.Unlock()
			if keys == nil {
				return nil, fmt.Errorf("JWKS %s unavailable, next try in under %s: %w", url, refetchInterval, err)
			}
			return keys, nil
		}
		done := make(chan struct{})
		c.inflight, c.attempted, c.lastAttempt = done, true, now
		c.mu.Unlock()
		// The fetch runs apart from this caller so that its cancellation
		// does not fail the others waiting on the same fetch.
		go ks.refresh(context.WithoutCancel(ctx), c, url, now, done)
	}
}

func (ks *KeySets) entry(url string) *cachedSet {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	c, ok := ks.sets[url]
	if !ok {
		c = &cachedSet{}
		ks.sets[url] = c
	}
	return c
}

func (ks *KeySets) refresh(ctx context.Context, c *cachedSet, url string, now time.Time, done chan struct{}) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	keys, ttl, err := ks.fetch(ctx, url)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.keys, c.expires = keys, now.Add(ttl)
	}
	c.lastErr, c.inflight = err, nil
	close(done)
}

func (ks *KeySets) fetch(ctx context.Context, url string) (_ *keySet, _ time.Duration, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("fetch JWKS %s: %w", url, err)
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := ks.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, 0, err
	}
	if len(body) > maxJWKSBytes {
		return nil, 0, errors.New("body larger than 1 MiB")
	}
	keys, err := parseKeySet(url, body)
	if err != nil {
		return nil, 0, err
	}
	return keys, cacheTTL(resp.Header.Get("Cache-Control")), nil
}

// cacheTTL reads max-age from a Cache-Control value, within [minTTL, maxTTL].
func cacheTTL(cc string) time.Duration {
	ttl := defaultTTL
	for _, d := range strings.Split(cc, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-cache", "no-store":
			return minTTL
		case "max-age":
			if s, err := strconv.Atoi(strings.Trim(value, `"`)); err == nil && s >= 0 {
				ttl = time.Duration(min(s, int(maxTTL/time.Second))) * time.Second
			}
		}
	}
	return min(max(ttl, minTTL), maxTTL)
}
