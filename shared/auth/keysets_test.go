package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/shared/auth"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

// oneWidget is an Authenticator trusting a single widget "w1" whose JWKS is
// served by srv.
func oneWidget(srv *jwksServer, c *clock) *auth.Authenticator {
	return &auth.Authenticator{
		Widgets: widgetMap{"w1": {ID: "w1", Issuer: shopIss, JWKSURL: srv.URL}},
		Keys:    auth.NewKeySets(nil),
		Now:     c.Now,
	}
}

// authenticateKid authenticates a customer token for w1 signed by rsaA
// with the given kid.
func authenticateKid(ctx context.Context, a *auth.Authenticator, kid string) error {
	long := customerClaims(map[string]any{"exp": t0.Add(72 * time.Hour).Unix()}) // outlives the tests' clocks
	_, err := a.Authenticate(ctx, jws(hdr("RS256", kid), long, rs256(keysOnce().rsaA)))
	return err
}

func wantFetches(t *testing.T, srv *jwksServer, when string, want int64) {
	t.Helper()
	if got := srv.fetches.Load(); got != want {
		t.Fatalf("JWKS fetches %s = %d; want %d", when, got, want)
	}
}

func TestKeySetsRotation(t *testing.T) {
	k := keysOnce()
	c := newClock()
	srv := newJWKSServer(t, jwk(k.rsaA, "old", nil))
	a := oneWidget(srv, c)
	ctx := context.Background()

	steps := []struct {
		advance time.Duration
		rotate  bool // publish "new" in place of "old"
		kid     string
		want    error
		fetches int64
	}{
		{0, false, "old", nil, 1},
		{0, true, "new", auth.ErrUnknownKey, 1},                 // fetched under 30s ago: no refetch
		{29 * time.Second, false, "new", auth.ErrUnknownKey, 1}, // still under 30s
		{2 * time.Second, false, "new", nil, 2},                 // unknown kid after 30s: refetch finds it
		{0, false, "new", nil, 2},                               // cached
		{0, false, "old", auth.ErrUnknownKey, 2},                // withdrawn, and too soon to look again
		{31 * time.Second, false, "old", auth.ErrUnknownKey, 3},
	}
	for i, s := range steps {
		c.Advance(s.advance)
		if s.rotate {
			srv.setKeys(jwk(k.rsaA, "new", nil))
		}
		if err := authenticateKid(ctx, a, s.kid); !errors.Is(err, s.want) {
			t.Fatalf("step %d: Authenticate(kid %s) = %v; want %s", i, s.kid, err, errName(s.want))
		}
		wantFetches(t, srv, fmt.Sprintf("after step %d", i), s.fetches)
	}
}

// TestKeySetsRefetchStorm: forged kids cost nothing, so a flood of them
// must cost at most one fetch per 30 seconds.
func TestKeySetsRefetchStorm(t *testing.T) {
	c := newClock()
	srv := newJWKSServer(t, jwk(keysOnce().rsaA, "k1", nil))
	a := oneWidget(srv, c)
	ctx := context.Background()
	if err := authenticateKid(ctx, a, "k1"); err != nil {
		t.Fatalf("Authenticate(kid k1) = %v; want <nil>", err)
	}
	c.Advance(31 * time.Second)

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Go(func() { errs <- authenticateKid(ctx, a, fmt.Sprintf("forged-%d", i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, auth.ErrUnknownKey) {
			t.Fatalf("Authenticate(forged kid) = %v; want ErrUnknownKey", err)
		}
	}
	wantFetches(t, srv, "after 100 concurrent forged kids", 2)
	for i := range 50 {
		c.Advance(500 * time.Millisecond)
		if err := authenticateKid(ctx, a, fmt.Sprintf("later-%d", i)); !errors.Is(err, auth.ErrUnknownKey) {
			t.Fatalf("Authenticate(forged kid) = %v; want ErrUnknownKey", err)
		}
	}
	wantFetches(t, srv, "after 50 more forged kids over 25s", 2)
}

// TestKeySetsSharedFetch: the first connections after a cold start all need
// the same JWKS; they must share one fetch.
func TestKeySetsSharedFetch(t *testing.T) {
	srv := newJWKSServer(t, jwk(keysOnce().rsaA, "k1", nil))
	a := oneWidget(srv, newClock())
	release := srv.holdRequests()
	var wg sync.WaitGroup
	var entered atomic.Int64
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			entered.Add(1)
			errs <- authenticateKid(context.Background(), a, "k1")
		})
	}
	// The fetch is held until every caller is under way: a caller that
	// fetched on its own would show up in the count while it is held.
	poll.Until(t, "the first fetch and every caller", func() bool { return srv.fetches.Load() > 0 && entered.Load() == 20 })
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Authenticate(kid k1) = %v; want <nil>", err)
		}
	}
	wantFetches(t, srv, "for 20 concurrent first tokens", 1)
}

// TestKeySetsCallerDeadline: a caller gives up at its own deadline, while
// the fetch it started completes for the next callers.
func TestKeySetsCallerDeadline(t *testing.T) {
	srv := newJWKSServer(t, jwk(keysOnce().rsaA, "k1", nil))
	a := oneWidget(srv, newClock())
	release := srv.holdRequests()
	t.Cleanup(release)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := authenticateKid(ctx, a, "k1")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, auth.ErrRefused) {
		t.Fatalf("Authenticate(kid k1) with a stalled JWKS = %v; want DeadlineExceeded, not ErrRefused", err)
	}
	release()
	if err := authenticateKid(context.Background(), a, "k1"); err != nil {
		t.Fatalf("Authenticate(kid k1) after the JWKS answered = %v; want <nil>", err)
	}
	wantFetches(t, srv, "in all", 1)
}

func TestKeySetsCacheControl(t *testing.T) {
	tests := []struct {
		cacheControl string
		ttl          time.Duration
	}{
		{"", time.Hour},
		{"max-age=120", 2 * time.Minute},
		{"public, max-age=600, must-revalidate", 10 * time.Minute},
		{"MAX-AGE=300", 5 * time.Minute},
		{`max-age="90"`, 90 * time.Second},
		{"max-age=abc", time.Hour},
		{"max-age=5", time.Minute},                  // too short: would fetch per connection
		{"max-age=0", time.Minute},                  //
		{"no-cache", time.Minute},                   //
		{"no-store, max-age=600", time.Minute},      //
		{"max-age=31536000", 24 * time.Hour},        // too long: a withdrawn key must stop working
		{"max-age=99999999999999999999", time.Hour}, // unparseable
	}
	for _, tt := range tests {
		t.Run(tt.cacheControl, func(t *testing.T) {
			c := newClock()
			srv := newJWKSServer(t, jwk(keysOnce().rsaA, "k1", nil))
			srv.setCacheControl(tt.cacheControl)
			a := oneWidget(srv, c)
			for _, s := range []struct {
				at      time.Duration
				fetches int64
			}{{0, 1}, {tt.ttl - time.Second, 1}, {tt.ttl, 2}} {
				c.Set(t0.Add(s.at))
				if err := authenticateKid(context.Background(), a, "k1"); err != nil {
					t.Fatalf("Authenticate(kid k1) at +%s = %v; want <nil>", s.at, err)
				}
				wantFetches(t, srv, fmt.Sprintf("with Cache-Control %q at +%s", tt.cacheControl, s.at), s.fetches)
			}
		})
	}
}

// TestKeySetsStaleKeysOnFailure: an identity provider's outage must not log
// everyone out, nor be hammered; its next good answer is obeyed at once.
func TestKeySetsStaleKeysOnFailure(t *testing.T) {
	k := keysOnce()
	c := newClock()
	srv := newJWKSServer(t, jwk(k.rsaA, "k1", nil))
	srv.setCacheControl("max-age=60")
	a := oneWidget(srv, c)
	steps := []struct {
		advance time.Duration
		change  func()
		kid     string
		want    error
		fetches int64
	}{
		{0, nil, "k1", nil, 1},
		{61 * time.Second, func() { srv.setStatus(500) }, "k1", nil, 2}, // stale, refetch failed: old keys serve
		{10 * time.Second, nil, "k1", nil, 2},                           // no retry within 30s
		{21 * time.Second, nil, "k1", nil, 3},
		{31 * time.Second, func() { srv.setStatus(200); srv.setKeys(jwk(k.rsaA, "k2", nil)) }, "k1", auth.ErrUnknownKey, 4},
		{0, nil, "k2", nil, 4},
	}
	for i, s := range steps {
		c.Advance(s.advance)
		if s.change != nil {
			s.change()
		}
		if err := authenticateKid(context.Background(), a, s.kid); !errors.Is(err, s.want) {
			t.Fatalf("step %d: Authenticate(kid %s) = %v; want %s", i, s.kid, err, errName(s.want))
		}
		wantFetches(t, srv, fmt.Sprintf("after step %d", i), s.fetches)
	}
}

// TestKeySetsUnavailable: with no keys at all, a failed fetch is reported
// as a failure to check, and retried at most every 30 seconds.
func TestKeySetsUnavailable(t *testing.T) {
	c := newClock()
	srv := newJWKSServer(t, jwk(keysOnce().rsaA, "k1", nil))
	srv.setStatus(503)
	a := oneWidget(srv, c)
	for i, s := range []struct {
		advance time.Duration
		fetches int64
	}{{0, 1}, {0, 1}, {29 * time.Second, 1}, {2 * time.Second, 2}} {
		c.Advance(s.advance)
		err := authenticateKid(context.Background(), a, "k1")
		if err == nil || errors.Is(err, auth.ErrRefused) {
			t.Fatalf("step %d: Authenticate(kid k1) with JWKS down = %v; want an error that is not ErrRefused", i, err)
		}
		wantFetches(t, srv, fmt.Sprintf("after step %d", i), s.fetches)
	}
	srv.setStatus(200)
	c.Advance(31 * time.Second)
	if err := authenticateKid(context.Background(), a, "k1"); err != nil {
		t.Fatalf("Authenticate(kid k1) once JWKS is back = %v; want <nil>", err)
	}
}

// TestKeySetsConcurrent runs one KeySets under load from many goroutines
// across several URLs while keys rotate and time passes; run with -race.
func TestKeySetsConcurrent(t *testing.T) {
	k := keysOnce()
	c := newClock()
	keys := auth.NewKeySets(nil)
	var servers []*jwksServer
	widgets := widgetMap{}
	for i := range 3 {
		srv := newJWKSServer(t, jwk(k.rsaA, "k1", nil))
		srv.setCacheControl("max-age=60")
		servers = append(servers, srv)
		id := fmt.Sprintf("w%d", i)
		widgets[id] = auth.Widget{ID: id, Issuer: shopIss, JWKSURL: srv.URL}
	}
	a := &auth.Authenticator{Widgets: widgets, Keys: keys, Now: c.Now}
	a2 := &auth.Authenticator{Widgets: widgets, Keys: keys, Now: c.Now} // sharing the cache

	const workers, rounds = 8, 150
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				if w == 0 {
					c.Advance(time.Second)
					if r%40 == 0 { // publish an extra key; k1 stays
						for _, srv := range servers {
							srv.setKeys(jwk(k.rsaA, "k1", nil), jwk(k.rsaB, fmt.Sprintf("extra-%d", r), nil))
						}
					}
				}
				aw := a
				if r%2 == 1 {
					aw = a2
				}
				widget := fmt.Sprintf("w%d", (w+r)%3)
				kid, want := "k1", error(nil)
				if r%5 == 0 {
					kid, want = fmt.Sprintf("forged-%d-%d", w, r), auth.ErrUnknownKey
				}
				tok := jws(hdr("RS256", kid), customerClaims(map[string]any{"aud": widget}), rs256(k.rsaA))
				if _, err := aw.Authenticate(context.Background(), tok); !errors.Is(err, want) {
					errs <- fmt.Errorf("Authenticate(kid %s, widget %s) = %v; want %s", kid, widget, err, errName(want))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Fake time ran for `rounds` seconds: at most one fetch per 30s, plus
	// the first.
	limit := int64(rounds/30 + 1)
	for i, srv := range servers {
		if got := srv.fetches.Load(); got > limit {
			t.Errorf("JWKS %d fetched %d times in %ds; want at most %d", i, got, rounds, limit)
		}
	}
}
