package auth

import (
	"cmp"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// RSA keys below 2048 bits are factorable at a cost some attackers can pay;
// above 8192 they only make verification slow.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// keySet is one fetched JWKS, immutable once built so that concurrent
// authentications can read it without locks.
type keySet struct {
	url    string
	byKID  map[string][]*jwk // duplicates are kept: providers briefly publish two during rotation
	usable []*jwk            // keys with no flaw of their own, for tokens without kid
}

// jwk is one key of a set. A key with a flaw is kept rather than dropped, so
// a token naming it is told why (ErrAlgorithm) instead of sending the cache
// to refetch a kid it already has.
type jwk struct {
	kid  string
	alg  string // as declared in the JWK; "" when absent
	kind string // what the key is, for messages: "RSA 2048", "EC P-256", "oct"
	fits string // the one alg it can verify here: RS256, ES256 or ""
	pub  crypto.PublicKey
	flaw string // why the key is refused whatever the token, "" if none
}

// parseKeySet reads a JWKS document. One unusable key does not spoil the
// others: a website adding an Ed25519 key must not lock its customers out.
func parseKeySet(url string, body []byte) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New("decode JWKS: no keys member")
	}
	s := &keySet{url: url, byKID: map[string][]*jwk{}}
	for _, raw := range doc.Keys {
		k := parseJWK(raw)
		s.byKID[k.kid] = append(s.byKID[k.kid], k)
		if k.flaw == "" && k.pub != nil {
			s.usable = append(s.usable, k)
		}
	}
	return s, nil
}

// has reports whether kid is in the set, or, for a token without kid, that
// the set has some key to try; a miss is what justifies a refetch.
func (s *keySet) has(kid string) bool {
	if kid == "" {
		return len(s.usable) > 0
	}
	return len(s.byKID[kid]) > 0
}

// verify checks t's signature with the key its kid names.
func (s *keySet) verify(t *token) error {
	candidates := s.byKID[t.kid]
	if t.kid == "" {
		// Without kid the choice of key would be a guess; allow it only
		// when there is nothing to choose between.
		if len(s.usable) != 1 {
			return fmt.Errorf("token has no kid and %s has %d usable keys: %w", s.url, len(s.usable), ErrUnknownKey)
		}
		candidates = s.usable
	}
	if len(candidates) == 0 {
		return fmt.Errorf("no key with kid %q in %s: %w", short(t.kid), s.url, ErrUnknownKey)
	}
	// Several candidates share a kid only mid-rotation; any one of them
	// verifying is enough, since all are trusted.
	var refused, bad error
	for _, k := range candidates {
		if err := k.accepts(t.alg); err != nil {
			refused = err
			continue
		}
		if err := k.check(t.alg, t.signed, t.sig); err != nil {
			bad = err
			continue
		}
		return nil
	}
	if bad != nil {
		return bad
	}
	return refused
}

// accepts says whether k may verify an alg token; the pairing is fixed by
// the key, never by the token, which is what defeats alg substitution.
func (k *jwk) accepts(alg string) error {
	switch {
	case k.flaw != "":
		return fmt.Errorf("key %q refused: %s: %w", short(k.kid), k.flaw, ErrAlgorithm)
	case k.fits != alg:
		return fmt.Errorf("key %q is %s, which cannot verify %s: %w", short(k.kid), k.kind, alg, ErrAlgorithm)
	case k.alg != "" && k.alg != alg:
		return fmt.Errorf("key %q is declared for %s, token uses %s: %w", short(k.kid), short(k.alg), alg, ErrAlgorithm)
	}
	return nil
}

func (k *jwk) check(alg string, signed, sig []byte) error {
	h := sha256.Sum256(signed)
	switch alg {
	case "RS256":
		if rsa.VerifyPKCS1v15(k.pub.(*rsa.PublicKey), crypto.SHA256, h[:], sig) != nil {
			return fmt.Errorf("RS256 with key %q: %w", short(k.kid), ErrSignature)
		}
	case "ES256":
		// JWS carries r||s, 32 bytes each (RFC 7518 3.4), not ASN.1 DER.
		if len(sig) != 64 {
			return fmt.Errorf("ES256 signature of %d bytes, want 64: %w", len(sig), ErrSignature)
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(k.pub.(*ecdsa.PublicKey), h[:], r, s) {
			return fmt.Errorf("ES256 with key %q: %w", short(k.kid), ErrSignature)
		}
	default:
		return fmt.Errorf("alg %q: %w", alg, ErrAlgorithm) // parse already refused it
	}
	return nil
}

// parseJWK never fails: what is wrong with a key becomes its flaw.
func parseJWK(raw json.RawMessage) *jwk {
	var m struct {
		Kty    string    `json:"kty"`
		Kid    string    `json:"kid"`
		Use    string    `json:"use"`
		Alg    string    `json:"alg"`
		KeyOps *[]string `json:"key_ops"`
		Crv    string    `json:"crv"`
		N      string    `json:"n"`
		E      string    `json:"e"`
		X      string    `json:"x"`
		Y      string    `json:"y"`
		D      string    `json:"d"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		// Salvage the kid if possible so a token naming it learns why.
		var id struct {
			Kid string `json:"kid"`
		}
		_ = json.Unmarshal(raw, &id)
		return &jwk{kid: id.Kid, kind: "invalid JWK", flaw: "invalid JWK JSON"}
	}
	k := &jwk{kid: m.Kid, alg: m.Alg, kind: cmp.Or(short(m.Kty), "a key without kty")}
	switch {
	case m.Use != "" && m.Use != "sig":
		k.flaw = fmt.Sprintf("use is %q, not sig", short(m.Use))
	case m.KeyOps != nil && !slices.Contains(*m.KeyOps, "verify"):
		k.flaw = "key_ops does not include verify"
	case m.D != "":
		// A published private key means anyone can mint tokens with it.
		k.flaw = "the JWKS publishes its private part"
	}
	switch m.Kty {
	case "RSA":
		k.fits = "RS256"
		k.pub, k.kind = parseRSA(m.N, m.E, k)
	case "EC":
		k.kind = "EC " + short(m.Crv)
		if m.Crv == "P-256" {
			k.fits = "ES256"
			k.pub = parseP256(m.X, m.Y, k)
		}
	}
	return k
}

func parseRSA(n64, e64 string, k *jwk) (*rsa.PublicKey, string) {
	n, errN := decodeInt(n64)
	e, errE := decodeInt(e64)
	if errN != nil || errE != nil || n.Sign() <= 0 {
		k.setFlaw("RSA n or e is not base64url")
		return nil, "RSA"
	}
	kind := fmt.Sprintf("RSA %d", n.BitLen())
	switch {
	case n.BitLen() < minRSABits:
		k.setFlaw(fmt.Sprintf("RSA key of %d bits, at least %d required", n.BitLen(), minRSABits))
		return nil, kind
	case n.BitLen() > maxRSABits:
		k.setFlaw(fmt.Sprintf("RSA key of %d bits, at most %d allowed", n.BitLen(), maxRSABits))
		return nil, kind
	case !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0:
		k.setFlaw("RSA exponent out of range")
		return nil, kind
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, kind
}

func parseP256(x64, y64 string, k *jwk) *ecdsa.PublicKey {
	x, errX := decodeB64(x64)
	y, errY := decodeB64(y64)
	// RFC 7518 6.2.1.2: coordinates are the full 32 bytes, zero-padded.
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		k.setFlaw("EC x or y is not 32 bytes of base64url")
		return nil
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		k.setFlaw("EC point is not on P-256")
		return nil
	}
	return pub
}

func (k *jwk) setFlaw(why string) {
	if k.flaw == "" {
		k.flaw = why
	}
}

// decodeB64 is lenient about padding: key material comes from a trusted
// URL, and some providers pad.
func decodeB64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func decodeInt(s string) (*big.Int, error) {
	b, err := decodeB64(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("bad integer")
	}
	return new(big.Int).SetBytes(b), nil
}
