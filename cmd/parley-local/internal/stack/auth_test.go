package stack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func segment(v any) string {
	b, _ := json.Marshal(v)
	return b64(b)
}

// jwks fetches the local issuer's keys as any verifier would.
func (s *Stack) jwks(t *testing.T) []map[string]any {
	resp, err := http.Get(s.URL + "/local/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	return set.Keys
}

// Every forged, stale or unknown token is refused at the upgrade with 401 or
// 403 and never becomes a connection.
func TestTokensRefusedAtUpgrade(t *testing.T) {
	s := startStack(t)
	good := s.customerToken(t, "persistent", "alice")
	parts := strings.Split(good, ".")
	var header map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(hb, &header)
	kid := header["kid"].(string)
	now := time.Now().Unix()
	claims := map[string]any{"iss": s.Issuer.CustomerIssuer(), "aud": "persistent", "sub": "alice", "exp": now + 600, "iat": now}

	// Signed by another RSA key under the issuer's kid.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forgedInput := segment(map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}) + "." + segment(claims)
	h := sha256.Sum256([]byte(forgedInput))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, other, 5, h[:]) // crypto.SHA256 == 5
	forged := forgedInput + "." + b64(sig)

	// alg none.
	none := segment(map[string]any{"alg": "none", "typ": "JWT"}) + "." + segment(claims) + "."

	// HS256 keyed with the issuer's public RSA key (key confusion).
	var rsaJWK map[string]any
	for _, k := range s.jwks(t) {
		if k["kty"] == "RSA" {
			rsaJWK = k
		}
	}
	pubJSON, _ := json.Marshal(rsaJWK)
	hsInput := segment(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + segment(claims)
	mac := hmac.New(sha256.New, pubJSON)
	mac.Write([]byte(hsInput))
	confused := hsInput + "." + b64(mac.Sum(nil))

	// ES256 signed by a key the issuer never published.
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	esInput := segment(map[string]any{"alg": "ES256", "typ": "JWT", "kid": kid}) + "." + segment(claims)
	eh := sha256.Sum256([]byte(esInput))
	r, sv, _ := ecdsa.Sign(rand.Reader, ec, eh[:])
	esSig := make([]byte, 64)
	r.FillBytes(esSig[:32])
	sv.FillBytes(esSig[32:])
	foreignES := esInput + "." + b64(esSig)

	expired := s.token(t, map[string]any{"role": "customer", "sub": "alice", "widget": "persistent", "expiresIn": -120})
	unknownWidget := s.token(t, map[string]any{"role": "customer", "sub": "alice", "widget": "no-such-widget"})
	tampered := parts[0] + "." + segment(map[string]any{"iss": s.Issuer.CustomerIssuer(), "aud": "persistent", "sub": "bob", "exp": now + 600}) + "." + parts[2]

	cases := map[string]string{
		"missing token":       "",
		"malformed":           "?token=not-a-jwt",
		"forged signature":    "?token=" + forged,
		"alg none":            "?token=" + none,
		"HS256 key confusion": "?token=" + confused,
		"unpublished ES256":   "?token=" + foreignES,
		"expired":             "?token=" + expired,
		"unknown widget":      "?token=" + unknownWidget,
		"tampered claims":     "?token=" + tampered,
	}
	for name, q := range cases {
		if st := s.dialStatus(t, q); st != 401 && st != 403 {
			t.Errorf("%s: upgrade answered %d; want 401 or 403", name, st)
		}
	}
	if st := s.dialStatus(t, "?token="+good); st != 0 {
		t.Fatalf("valid token refused with %d", st)
	}
	es := s.token(t, map[string]any{"role": "agent", "sub": "bob", "alg": "ES256"})
	if st := s.dialStatus(t, "?token="+es); st != 0 {
		t.Fatalf("valid ES256 agent token refused with %d", st)
	}
}
