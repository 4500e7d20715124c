// Package issuer is the local stack's token issuer. It stands in for the
// two parties that issue Parley's tokens in production: a website's backend,
// which vouches for its customers, and Cognito, which signs agents in. It
// mints RS256 and ES256 JWTs and publishes their public keys as a JWKS, which
// the authorizer trusts exactly as it would trust any other JWKS.
//
// Agents can also sign in as they do in AWS, with OpenID Connect's
// authorization code flow and PKCE on the paths of Cognito's hosted UI
// (oidc.go); the id_token they get is an agent token like any other.
//
// It is a development tool: anyone who can reach POST /local/token, or the
// sign-in page, can become any customer or agent. It never checks that a widget exists, as a
// real website would not; refusing unknown widgets is the authorizer's job.
package issuer

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// defaultTTL is long enough for a working day of local testing on one token.
const defaultTTL = 12 * time.Hour

// AgentAudience is the aud of agent tokens, the client id Cognito would give
// the agent app.
const AgentAudience = "parley-agent-app"

// Options configures New.
type Options struct {
	// Dir, when set, is where the signing keys are kept (created 0700, key
	// files 0600), so that tokens held by open browser tabs survive a
	// restart of the local stack. Empty keeps the keys in memory only.
	Dir string
	// BaseURL is where the local stack is served, e.g.
	// http://127.0.0.1:8080; issuers and the JWKS URL are built from it.
	BaseURL string
	// TTL is how long minted tokens last unless a request says otherwise;
	// zero means 12 hours.
	TTL time.Duration
	// Now is the clock for iat and exp; nil means time.Now.
	Now func() time.Time
	// Clients are the app clients that may sign agents in with OpenID
	// Connect; empty means the agent app served by the local stack
	// (AgentAppClient).
	Clients []Client
}

// Issuer mints tokens and serves the JWKS that verifies them. Its methods are
// safe for concurrent use.
type Issuer struct {
	base   string
	ttl    time.Duration
	now    func() time.Time
	rsa    *rsa.PrivateKey
	rsaKID string
	ec     *ecdsa.PrivateKey
	ecKID  string
	jwks   []byte // rendered once: the keys never change while running
	oidc   oidcState
}

// New returns an Issuer with one RSA-2048 key (RS256) and one P-256 key
// (ES256), loaded from opts.Dir when they are there and generated (and, with
// a Dir, saved) otherwise. Each key's kid is its RFC 7638 thumbprint, so the
// same key always has the same kid.
func New(opts Options) (*Issuer, error) {
	base, err := baseURL(opts.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("new issuer: %w", err)
	}
	i := &Issuer{base: base, ttl: opts.TTL, now: opts.Now}
	if i.ttl <= 0 {
		i.ttl = defaultTTL
	}
	if i.now == nil {
		i.now = time.Now
	}
	if i.rsa, i.ec, err = loadKeys(opts.Dir); err != nil {
		return nil, fmt.Errorf("new issuer: %w", err)
	}
	i.rsaKID = rsaThumbprint(&i.rsa.PublicKey)
	if i.ecKID, err = ecThumbprint(&i.ec.PublicKey); err != nil {
		return nil, fmt.Errorf("new issuer: %w", err)
	}
	if i.jwks, err = i.renderJWKS(); err != nil {
		return nil, fmt.Errorf("new issuer: %w", err)
	}
	i.initOIDC(opts.Clients)
	return i, nil
}

func baseURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("BaseURL is required")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("BaseURL %q is not an absolute http(s) URL without query", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// AgentIssuer is the iss of agent tokens, what Cognito's user pool URL is in
// AWS.
func (i *Issuer) AgentIssuer() string { return i.base + "/local/agents" }

// CustomerIssuer is the iss of customer tokens: the local widgets' trusted
// issuer, what a website's own URL would be.
func (i *Issuer) CustomerIssuer() string { return i.base + "/local/customers" }

// JWKSURL is where ServeJWKS is expected to be mounted; both kinds of token
// verify against it.
func (i *Issuer) JWKSURL() string { return i.base + "/local/.well-known/jwks.json" }
