package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// TokenRequest asks for a token. Role, Sub, Name and Widget are the fields
// docs/protocol.md section 7 names; Alg and ExpiresIn are local additions for
// testing the authorizer.
type TokenRequest struct {
	Role   string `json:"role"`   // "customer" or "agent"
	Sub    string `json:"sub"`    // required: the customer's or agent's id
	Name   string `json:"name"`   // optional display name
	Widget string `json:"widget"` // required for customers (their aud); ignored for agents
	Alg    string `json:"alg"`    // "RS256" (default) or "ES256"
	// ExpiresIn is the token's lifetime in seconds, nil for the issuer's
	// TTL. Negative mints an already expired token, to test expiry (the
	// authorizer forgives 30 seconds of clock skew).
	ExpiresIn *int `json:"expiresIn"`
}

// maxExpiresIn (ten years, in seconds) keeps exp far from overflowing.
const maxExpiresIn = 10 * 365 * 24 * 60 * 60

// ErrInvalidRequest is wrapped by Mint's errors that are the request's
// fault, which ServeToken answers with 400.
var ErrInvalidRequest = errors.New("issuer: invalid token request")

// invalid is a request error whose text is fit to show the caller as is.
type invalid string

func (e invalid) Error() string        { return string(e) }
func (e invalid) Is(target error) bool { return target == ErrInvalidRequest }

// Mint signs a token for req. It does not check that the widget exists,
// as a website's backend would not: the authorizer is what refuses unknown
// widgets, and tests need such tokens to prove it.
func (i *Issuer) Mint(req TokenRequest) (string, error) {
	iss, aud := i.CustomerIssuer(), req.Widget
	switch req.Role {
	case "customer":
		if req.Widget == "" {
			return "", invalid("a customer token needs a widget")
		}
	case "agent":
		iss, aud = i.AgentIssuer(), AgentAudience
	case "":
		return "", invalid(`role is required: "customer" or "agent"`)
	default:
		return "", invalid(fmt.Sprintf(`unknown role %q: want "customer" or "agent"`, req.Role))
	}
	if req.Sub == "" {
		return "", invalid("sub is required")
	}
	ttl := i.ttl
	if req.ExpiresIn != nil {
		if d := *req.ExpiresIn; d > maxExpiresIn || d < -maxExpiresIn {
			return "", invalid(fmt.Sprintf("expiresIn %d is beyond ±%d seconds", d, maxExpiresIn))
		}
		ttl = time.Duration(*req.ExpiresIn) * time.Second
	}
	now := i.now()
	claims := struct {
		Iss  string `json:"iss"`
		Aud  string `json:"aud"`
		Sub  string `json:"sub"`
		Name string `json:"name,omitempty"`
		Iat  int64  `json:"iat"`
		Exp  int64  `json:"exp"`
	}{iss, aud, req.Sub, req.Name, now.Unix(), now.Add(ttl).Unix()}

	return i.signJWT(req.Alg, claims)
}

// signJWT signs claims as a compact JWS with alg ("" is RS256) under the
// key's kid.
func (i *Issuer) signJWT(alg string, claims any) (string, error) {
	if alg == "" {
		alg = "RS256"
	}
	var kid string
	switch alg {
	case "RS256":
		kid = i.rsaKID
	case "ES256":
		kid = i.ecKID
	default:
		return "", invalid(fmt.Sprintf(`unsupported alg %q: want "RS256" or "ES256"`, alg))
	}
	header := struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{alg, kid, "JWT"}

	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	sig, err := i.sign(alg, []byte(input))
	if err != nil {
		return "", fmt.Errorf("mint %s token: %w", alg, err)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

func (i *Issuer) sign(alg string, input []byte) ([]byte, error) {
	h := sha256.Sum256(input)
	if alg == "RS256" {
		return rsa.SignPKCS1v15(nil, i.rsa, crypto.SHA256, h[:])
	}
	r, s, err := ecdsa.Sign(rand.Reader, i.ec, h[:])
	if err != nil {
		return nil, err
	}
	// JWS wants r||s, 32 bytes each (RFC 7518 3.4), not ASN.1 DER.
	return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...), nil
}
