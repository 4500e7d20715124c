package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// Role is who a token makes its bearer: a customer of a widget or an agent.
type Role string

// The two roles, spelled as docs/protocol.md spells them.
const (
	Customer Role = "customer"
	Agent    Role = "agent"
)

// Identity is what a verified token says about its bearer; it is all the
// backend ever learns about who is on a connection.
type Identity struct {
	Role   Role
	UserID string // sub: stable across visits, which is what makes a chat persistent
	Name   string // display name; never empty
	Widget string // the widget a customer came through; empty for agents
}

// Widget is a widget's trust settings: the website that embeds it issues its
// customers' tokens, and publishes the keys for them at JWKSURL.
type Widget struct {
	ID      string
	Issuer  string
	JWKSURL string
}

// Widgets finds a widget's trust settings. When there is no such widget it
// returns an error wrapping ErrUnknownWidget; any other error is taken as a
// failure to look, not as a verdict on the token.
type Widgets interface {
	Widget(ctx context.Context, id string) (Widget, error)
}

// Limits on what a token may put into every message and log line.
const (
	maxSubject = 256 // characters
	maxName    = 256 // characters
)

// defaultLeeway absorbs clock skew between issuers and Lambda; small,
// because it extends the life of every token.
const defaultLeeway = 30 * time.Second

// Authenticator verifies the tokens presented at $connect. Its fields are
// set once at init; Authenticate is then safe for concurrent use.
type Authenticator struct {
	AgentIssuer   string // iss of agent tokens (the Cognito user pool URL in AWS, the local issuer locally)
	AgentJWKSURL  string
	AgentAudience string // optional: when set, agent tokens' aud (or, lacking aud, Cognito access tokens' client_id) must name it
	Widgets       Widgets
	Keys          *KeySets         // JWKS cache, shared across invocations
	Now           func() time.Time // nil means time.Now
	Leeway        time.Duration    // clock skew allowed on exp and nbf; 0 means 30s, negative none
}

// Authenticate verifies token and returns who it identifies.
//
// The token's iss, read before verification only to choose the keys, says
// what it is: AgentIssuer means an agent token, checked against
// AgentJWKSURL; anything else is a customer token whose aud names the widget,
// and which must come from that widget's issuer and verify against its JWKS.
// A refused token yields an error wrapping ErrRefused and one of the
// specific Err values; any other error means the token could not be checked.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (Identity, error) {
	if token == "" {
		return Identity{}, fmt.Errorf("authenticate: no token: %w", ErrMalformed)
	}
	t, err := parse(token)
	if err != nil {
		return Identity{}, fmt.Errorf("authenticate: %w", err)
	}
	iss, err := t.claims.str("iss")
	if err != nil {
		return Identity{}, fmt.Errorf("authenticate: %w", err)
	}
	if iss == "" {
		return Identity{}, fmt.Errorf("authenticate: iss: %w", ErrMissingClaim)
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	if a.AgentIssuer != "" && iss == a.AgentIssuer {
		id, err := a.agent(ctx, t, now)
		if err != nil {
			return Identity{}, fmt.Errorf("authenticate agent token: %w", err)
		}
		return id, nil
	}
	id, err := a.customer(ctx, t, iss, now)
	if err != nil {
		return Identity{}, fmt.Errorf("authenticate customer token from %q: %w", short(iss), err)
	}
	return id, nil
}

func (a *Authenticator) customer(ctx context.Context, t *token, iss string, now time.Time) (Identity, error) {
	aud, err := t.claims.audience()
	if err != nil {
		return Identity{}, err
	}
	switch {
	case len(aud) == 0 || aud[0] == "":
		return Identity{}, fmt.Errorf("aud (the widget id): %w", ErrMissingClaim)
	case len(aud) > 1:
		// Taking any one of them would let a token meant for one widget
		// open another.
		return Identity{}, fmt.Errorf("aud names %d audiences, a customer token names one widget: %w", len(aud), ErrAudience)
	}
	if a.Widgets == nil {
		return Identity{}, errors.New("no Widgets configured")
	}
	w, err := a.Widgets.Widget(ctx, aud[0])
	if err != nil {
		return Identity{}, fmt.Errorf("look up widget %q: %w", short(aud[0]), err)
	}
	if w.Issuer == "" || iss != w.Issuer {
		return Identity{}, fmt.Errorf("widget %q trusts issuer %q: %w", short(aud[0]), w.Issuer, ErrIssuer)
	}
	if w.JWKSURL == "" {
		return Identity{}, fmt.Errorf("widget %q has no JWKS URL", short(aud[0]))
	}
	if err := a.verify(ctx, w.JWKSURL, t, now); err != nil {
		return Identity{}, err
	}
	sub, name, err := a.subject(t, now)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Role: Customer, UserID: sub, Name: cmp.Or(name, sub), Widget: aud[0]}, nil
}

func (a *Authenticator) agent(ctx context.Context, t *token, now time.Time) (Identity, error) {
	if a.AgentJWKSURL == "" {
		return Identity{}, errors.New("no AgentJWKSURL configured")
	}
	if err := a.verify(ctx, a.AgentJWKSURL, t, now); err != nil {
		return Identity{}, err
	}
	sub, name, err := a.subject(t, now)
	if err != nil {
		return Identity{}, err
	}
	if a.AgentAudience != "" {
		if err := a.agentAudience(t); err != nil {
			return Identity{}, err
		}
	}
	// Cognito ID tokens carry cognito:username, its access tokens username.
	for _, claim := range []string{"cognito:username", "username"} {
		if name != "" {
			break
		}
		if name, err = t.claims.str(claim); err != nil {
			return Identity{}, err
		}
	}
	return Identity{Role: Agent, UserID: sub, Name: cmp.Or(name, sub)}, nil
}

// agentAudience keeps tokens the pool issued to other apps out of the agent
// app. Cognito access tokens have no aud and name their app in client_id.
func (a *Authenticator) agentAudience(t *token) error {
	aud, err := t.claims.audience()
	if err != nil {
		return err
	}
	if len(aud) > 0 {
		if !slices.Contains(aud, a.AgentAudience) {
			return fmt.Errorf("aud does not name %q: %w", a.AgentAudience, ErrAudience)
		}
		return nil
	}
	clientID, err := t.claims.str("client_id")
	if err != nil {
		return err
	}
	if clientID != a.AgentAudience {
		return fmt.Errorf("neither aud nor client_id names %q: %w", a.AgentAudience, ErrAudience)
	}
	return nil
}

func (a *Authenticator) verify(ctx context.Context, url string, t *token, now time.Time) error {
	if a.Keys == nil {
		return errors.New("no KeySets configured")
	}
	keys, err := a.Keys.get(ctx, url, t.kid, now)
	if err != nil {
		return err
	}
	return keys.verify(t)
}

// subject checks the claims every verified token needs (exp, nbf, sub) and
// returns sub and the name claim.
func (a *Authenticator) subject(t *token, now time.Time) (sub, name string, err error) {
	leeway := a.Leeway
	switch {
	case leeway == 0:
		leeway = defaultLeeway
	case leeway < 0:
		leeway = 0
	}
	// A token without exp would be valid forever, however it leaked.
	exp, ok, err := t.claims.time("exp")
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", fmt.Errorf("exp: %w", ErrMissingClaim)
	}
	if !now.Before(exp.Add(leeway)) {
		return "", "", fmt.Errorf("expired at %s: %w", exp.UTC().Format(time.RFC3339), ErrExpired)
	}
	nbf, ok, err := t.claims.time("nbf")
	if err != nil {
		return "", "", err
	}
	if ok && now.Add(leeway).Before(nbf) {
		return "", "", fmt.Errorf("valid from %s: %w", nbf.UTC().Format(time.RFC3339), ErrNotYetValid)
	}
	if sub, err = t.claims.str("sub"); err != nil {
		return "", "", err
	}
	if sub == "" {
		return "", "", fmt.Errorf("sub: %w", ErrMissingClaim)
	}
	if n := utf8.RuneCountInString(sub); n > maxSubject {
		return "", "", fmt.Errorf("sub of %d characters, at most %d: %w", n, maxSubject, ErrMalformed)
	}
	if name, err = t.claims.str("name"); err != nil {
		return "", "", err
	}
	if n := utf8.RuneCountInString(name); n > maxName {
		return "", "", fmt.Errorf("name of %d characters, at most %d: %w", n, maxName, ErrMalformed)
	}
	return sub, name, nil
}
