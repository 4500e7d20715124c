package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/shared/auth"
)

// t0 is the tests' present.
var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// clock is a settable time source, safe to read from many goroutines.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testKeys are generated once per test binary: RSA generation is slow
// under -race.
type testKeys struct {
	rsaA, rsaB, rsa1024 *rsa.PrivateKey
	ecA, ecB, ecP384    *ecdsa.PrivateKey
}

var keysOnce = sync.OnceValue(func() testKeys {
	var k testKeys
	k.rsaA = must(rsa.GenerateKey(rand.Reader, 2048))
	k.rsaB = must(rsa.GenerateKey(rand.Reader, 2048))
	k.rsa1024 = must(rsa.GenerateKey(rand.Reader, 1024))
	k.ecA = must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	k.ecB = must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	k.ecP384 = must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	return k
})

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwk is the public JWK of key (an *rsa.PrivateKey or *ecdsa.PrivateKey)
// with the given members added or, when nil, removed.
func jwk(key crypto.Signer, kid string, extra map[string]any) map[string]any {
	m := map[string]any{"kid": kid, "use": "sig"}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		m["kty"], m["alg"] = "RSA", "RS256"
		m["n"], m["e"] = b64(k.N.Bytes()), b64(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PrivateKey:
		point := must(k.PublicKey.Bytes())
		size := (len(point) - 1) / 2
		m["kty"], m["alg"], m["crv"] = "EC", "ES256", k.Curve.Params().Name
		m["x"], m["y"] = b64(point[1:1+size]), b64(point[1+size:])
	}
	for name, v := range extra {
		if v == nil {
			delete(m, name)
		} else {
			m[name] = v
		}
	}
	return m
}

// jwksServer serves a JWKS that tests can replace, and counts fetches.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int64

	mu           sync.Mutex
	body         []byte
	status       int
	cacheControl string
	hold         chan struct{} // when set, requests wait until it is closed
}

func newJWKSServer(t testing.TB, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.setKeys(keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		hold := s.hold
		s.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
			}
		}
		s.mu.Lock()
		body, status, cc := s.body, s.status, s.cacheControl
		s.mu.Unlock()
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// holdRequests makes requests wait until the returned function is called.
func (s *jwksServer) holdRequests() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hold := make(chan struct{})
	s.hold = hold
	return sync.OnceFunc(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hold = nil
		close(hold)
	})
}

func (s *jwksServer) setKeys(keys ...map[string]any) {
	if keys == nil {
		keys = []map[string]any{}
	}
	s.setBody(must(json.Marshal(map[string]any{"keys": keys})))
}

func (s *jwksServer) setBody(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = b
}

func (s *jwksServer) setStatus(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = code
}

func (s *jwksServer) setCacheControl(cc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cacheControl = cc
}

// segment encodes a JOSE header or claims set: a string is taken as the raw
// JSON text (to build malformed tokens), anything else is marshalled.
func segment(v any) string {
	if s, ok := v.(string); ok {
		return b64([]byte(s))
	}
	return b64(must(json.Marshal(v)))
}

// signFunc signs a JWS signing input.
type signFunc func(input []byte) []byte

func rs256(k *rsa.PrivateKey) signFunc {
	return func(input []byte) []byte {
		h := sha256.Sum256(input)
		return must(rsa.SignPKCS1v15(nil, k, crypto.SHA256, h[:]))
	}
}

// es256 signs in JWS form, r||s.
func es256(k *ecdsa.PrivateKey) signFunc {
	return func(input []byte) []byte {
		h := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			panic(err)
		}
		return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	}
}

// es256DER signs in ASN.1 DER, the form JWS does not use.
func es256DER(k *ecdsa.PrivateKey) signFunc {
	return func(input []byte) []byte {
		h := sha256.Sum256(input)
		return must(ecdsa.SignASN1(rand.Reader, k, h[:]))
	}
}

func hs256(secret []byte) signFunc {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

func unsigned(input []byte) []byte { return nil }

// jws builds a compact JWS from a header, claims and a signer.
func jws(header, claims any, sign signFunc) string {
	input := segment(header) + "." + segment(claims)
	return input + "." + b64(sign([]byte(input)))
}

// claims returns a valid claims set with the given members added or, when
// nil, removed.
func claims(base map[string]any, extra map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

// widgetMap is the test's widget store.
type widgetMap map[string]auth.Widget

func (m widgetMap) Widget(ctx context.Context, id string) (auth.Widget, error) {
	w, ok := m[id]
	if !ok {
		return auth.Widget{}, fmt.Errorf("widget %q: %w", id, auth.ErrUnknownWidget)
	}
	return w, nil
}

// errName names a sentinel for failure messages.
func errName(err error) string {
	for name, e := range map[string]error{
		"ErrMalformed": auth.ErrMalformed, "ErrAlgorithm": auth.ErrAlgorithm, "ErrSignature": auth.ErrSignature,
		"ErrExpired": auth.ErrExpired, "ErrNotYetValid": auth.ErrNotYetValid, "ErrIssuer": auth.ErrIssuer,
		"ErrAudience": auth.ErrAudience, "ErrUnknownKey": auth.ErrUnknownKey, "ErrUnknownWidget": auth.ErrUnknownWidget,
		"ErrMissingClaim": auth.ErrMissingClaim,
	} {
		if err == e {
			return name
		}
	}
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
