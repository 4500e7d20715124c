package auth

import "errors"

// ErrRefused is matched (errors.Is) by every error below. It separates "this
// token is refused" (the connection gets 401/403) from "the token could not
// be checked" (a JWKS that did not answer, a widget lookup that failed),
// which is an outage to alarm on, not a client to turn away quietly.
var ErrRefused = errors.New("auth: token refused")

// The reasons a token is refused. Authenticate wraps exactly one of them, with
// context that never includes the token itself.
var (
	// ErrMalformed: not three base64url parts, not JSON objects, a claim of
	// the wrong type, duplicate claims, an oversized token or subject.
	ErrMalformed error = refusal("malformed token")
	// ErrAlgorithm: alg is not RS256 or ES256 (none and HS256 included), or
	// the key the kid names cannot verify that alg (key type, curve, size,
	// use, or declared alg disagree).
	ErrAlgorithm error = refusal("algorithm not accepted")
	// ErrSignature: the signature does not verify with the trusted key.
	ErrSignature error = refusal("invalid signature")
	// ErrExpired: exp is past, beyond the allowed clock skew.
	ErrExpired error = refusal("token expired")
	// ErrNotYetValid: nbf is still ahead, beyond the allowed clock skew.
	ErrNotYetValid error = refusal("token not yet valid")
	// ErrIssuer: iss is not the issuer the widget trusts.
	ErrIssuer error = refusal("untrusted issuer")
	// ErrAudience: aud does not name exactly one widget (customers), or does
	// not name the agent app (agents, when an audience is configured).
	ErrAudience error = refusal("wrong audience")
	// ErrUnknownKey: the trusted key set has no key for the token's kid, even
	// after a refetch, or the token has no kid and the set several keys.
	ErrUnknownKey error = refusal("unknown signing key")
	// ErrUnknownWidget: aud names no configured widget. Widgets
	// implementations wrap it when a widget does not exist.
	ErrUnknownWidget error = refusal("unknown widget")
	// ErrMissingClaim: iss, sub, exp or (customers) aud is absent or empty.
	ErrMissingClaim error = refusal("missing claim")
)

// refusal is a string so each sentinel is a distinct comparable value, and a
// type of its own so that all of them also match ErrRefused.
type refusal string

func (r refusal) Error() string { return "auth: " + string(r) }

// Is reports every refusal as an ErrRefused too.
func (r refusal) Is(target error) bool { return target == ErrRefused }
