package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/shared/auth"
)

const (
	shopIss   = "https://shop.example"
	otherIss  = "https://other.example"
	singleIss = "https://single.example"
	agentIss  = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
)

// fixture is three websites and an agent identity provider, each with its
// own JWKS server, and an Authenticator trusting them.
type fixture struct {
	k                           testKeys
	shop, other, single, agents *jwksServer
	clock                       *clock
	auth                        *auth.Authenticator
	shopJWK                     map[string]any // shop-rsa as served
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{k: keysOnce(), clock: newClock()}
	k := f.k
	f.shopJWK = jwk(k.rsaA, "shop-rsa", nil)
	f.shop = newJWKSServer(t,
		f.shopJWK,
		jwk(k.ecA, "shop-ec", nil),
		jwk(k.rsaB, "no-alg-no-use", map[string]any{"alg": nil, "use": nil}),
		// Keys that must not verify anything, each for its own reason.
		jwk(k.rsaB, "enc-key", map[string]any{"use": "enc"}),
		jwk(k.rsa1024, "small", nil),
		jwk(k.rsaB, "declared-rs512", map[string]any{"alg": "RS512"}),
		jwk(k.ecB, "ec-declared-rs256", map[string]any{"alg": "RS256"}),
		jwk(k.ecP384, "p384", map[string]any{"alg": "ES384"}),
		map[string]any{"kty": "oct", "kid": "oct", "k": b64([]byte("shared secret"))},
		jwk(k.rsaB, "published-private", map[string]any{"d": b64(k.rsaB.D.Bytes())}),
		jwk(k.rsaB, "keyops-encrypt", map[string]any{"key_ops": []string{"encrypt"}}),
		jwk(k.rsaB, "even-e", map[string]any{"e": b64([]byte{1, 0, 0})}),
		jwk(k.rsaB, "bad-n", map[string]any{"n": "n/a"}),
		jwk(k.ecB, "short-x", map[string]any{"x": b64(make([]byte, 31))}),
		jwk(k.ecB, "off-curve", map[string]any{"y": b64(make([]byte, 32))}),
		map[string]any{"kty": "RSA", "kid": "invalid-json", "n": 5},
		// Padding is tolerated in key material, which comes from a trusted URL.
		jwk(k.rsaA, "padded", map[string]any{"n": b64(k.rsaA.N.Bytes()) + "=="}),
	)
	f.other = newJWKSServer(t, jwk(k.rsaB, "other-rsa", nil))
	f.single = newJWKSServer(t, jwk(k.rsaA, "", map[string]any{"kid": nil}))
	f.agents = newJWKSServer(t, jwk(k.rsaB, "agent-rsa", nil), jwk(k.ecB, "agent-ec", nil))
	f.auth = &auth.Authenticator{
		AgentIssuer:  agentIss,
		AgentJWKSURL: f.agents.URL,
		Widgets: widgetMap{
			"w1":     {ID: "w1", Issuer: shopIss, JWKSURL: f.shop.URL},
			"w2":     {ID: "w2", Issuer: otherIss, JWKSURL: f.other.URL},
			"single": {ID: "single", Issuer: singleIss, JWKSURL: f.single.URL},
		},
		Keys: auth.NewKeySets(nil),
		Now:  f.clock.Now,
	}
	return f
}

func customerClaims(extra map[string]any) map[string]any {
	return claims(map[string]any{
		"iss": shopIss, "aud": "w1", "sub": "alice", "name": "Alice",
		"iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(),
	}, extra)
}

func agentClaims(extra map[string]any) map[string]any {
	return claims(map[string]any{
		"iss": agentIss, "aud": "parley-agent-app", "sub": "bob", "name": "Bob",
		"iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(),
	}, extra)
}

func hdr(alg, kid string) map[string]any {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	return h
}

type authCase struct {
	name    string
	token   string
	want    auth.Identity
	wantErr error
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	k := f.k
	shopRS, shopES := rs256(k.rsaA), es256(k.ecA)
	alice := auth.Identity{Role: auth.Customer, UserID: "alice", Name: "Alice", Widget: "w1"}
	bob := auth.Identity{Role: auth.Agent, UserID: "bob", Name: "Bob"}
	valid := jws(hdr("RS256", "shop-rsa"), customerClaims(nil), shopRS)
	parts := strings.Split(valid, ".")

	pubDER := must(x509.MarshalPKIXPublicKey(&k.rsaA.PublicKey))
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pkcs1DER := x509.MarshalPKCS1PublicKey(&k.rsaA.PublicKey)
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1DER})
	jwkJSON := must(json.Marshal(f.shopJWK))

	tests := []authCase{
		// Accepted.
		{name: "RS256 customer", token: valid, want: alice},
		{name: "ES256 customer", token: jws(hdr("ES256", "shop-ec"), customerClaims(nil), shopES), want: alice},
		{name: "customer without name is named by sub", token: jws(hdr("ES256", "shop-ec"), customerClaims(map[string]any{"name": nil}), shopES),
			want: auth.Identity{Role: auth.Customer, UserID: "alice", Name: "alice", Widget: "w1"}},
		{name: "customer aud as one-element array", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"aud": []string{"w1"}}), shopRS), want: alice},
		{name: "JWK without alg and use", token: jws(hdr("RS256", "no-alg-no-use"), customerClaims(nil), rs256(k.rsaB)), want: alice},
		{name: "JWK with padded n", token: jws(hdr("RS256", "padded"), customerClaims(nil), shopRS), want: alice},
		{name: "no kid, set of one key", token: jws(hdr("RS256", ""), customerClaims(map[string]any{"iss": singleIss, "aud": "single"}), shopRS),
			want: auth.Identity{Role: auth.Customer, UserID: "alice", Name: "Alice", Widget: "single"}},
		{name: "exp within leeway", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"exp": t0.Add(-10 * time.Second).Unix()}), shopRS), want: alice},
		{name: "fractional exp", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"exp": float64(t0.Unix()) + 60.5}), shopRS), want: alice},
		{name: "nbf past", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"nbf": t0.Add(-time.Minute).Unix()}), shopRS), want: alice},
		{name: "nbf within leeway", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"nbf": t0.Add(10 * time.Second).Unix()}), shopRS), want: alice},
		{name: "sub of 256 characters", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"sub": strings.Repeat("é", 256), "name": "A"}), shopRS),
			want: auth.Identity{Role: auth.Customer, UserID: strings.Repeat("é", 256), Name: "A", Widget: "w1"}},
		{name: "RS256 agent", token: jws(hdr("RS256", "agent-rsa"), agentClaims(nil), rs256(k.rsaB)), want: bob},
		{name: "ES256 agent", token: jws(hdr("ES256", "agent-ec"), agentClaims(nil), es256(k.ecB)), want: bob},
		{name: "agent named by cognito:username", token: jws(hdr("RS256", "agent-rsa"), agentClaims(map[string]any{"name": nil, "cognito:username": "bobby"}), rs256(k.rsaB)),
			want: auth.Identity{Role: auth.Agent, UserID: "bob", Name: "bobby"}},
		{name: "agent named by sub", token: jws(hdr("RS256", "agent-rsa"), agentClaims(map[string]any{"name": nil}), rs256(k.rsaB)),
			want: auth.Identity{Role: auth.Agent, UserID: "bob", Name: "bob"}},

		// Missing or malformed.
		{name: "missing token", token: "", wantErr: auth.ErrMalformed},
		{name: "one part", token: "abc", wantErr: auth.ErrMalformed},
		{name: "two parts", token: parts[0] + "." + parts[1], wantErr: auth.ErrMalformed},
		{name: "four parts", token: valid + ".x", wantErr: auth.ErrMalformed},
		{name: "five parts (JWE)", token: parts[0] + ".." + parts[1] + ".." + parts[2], wantErr: auth.ErrMalformed},
		{name: "empty header", token: "." + parts[1] + "." + parts[2], wantErr: auth.ErrMalformed},
		{name: "empty payload", token: parts[0] + ".." + parts[2], wantErr: auth.ErrMalformed},
		{name: "empty signature", token: parts[0] + "." + parts[1] + ".", wantErr: auth.ErrMalformed},
		{name: "header not base64url", token: "A." + parts[1] + "." + parts[2], wantErr: auth.ErrMalformed},
		{name: "padded base64", token: parts[0] + "." + parts[1] + "==." + parts[2], wantErr: auth.ErrMalformed},
		{name: "standard base64 alphabet", token: parts[0] + "." + parts[1] + "." + parts[2][:10] + "+/" + parts[2][12:], wantErr: auth.ErrMalformed},
		{name: "signature with non-zero trailing bits", token: parts[0] + "." + parts[1] + ".AB", wantErr: auth.ErrMalformed},
		{name: "newline inside", token: parts[0] + "." + parts[1][:5] + "\n" + parts[1][5:] + "." + parts[2], wantErr: auth.ErrMalformed},
		{name: "space around", token: " " + valid, wantErr: auth.ErrMalformed},
		{name: "header not JSON", token: jws(`RS256`, customerClaims(nil), shopRS), wantErr: auth.ErrMalformed},
		{name: "header a JSON array", token: jws(`["RS256"]`, customerClaims(nil), shopRS), wantErr: auth.ErrMalformed},
		{name: "header with trailing data", token: jws(`{"alg":"RS256","kid":"shop-rsa"} {}`, customerClaims(nil), shopRS), wantErr: auth.ErrMalformed},
		{name: "alg not a string", token: jws(`{"alg":256,"kid":"shop-rsa"}`, customerClaims(nil), shopRS), wantErr: auth.ErrMalformed},
		{name: "kid not a string", token: jws(`{"alg":"RS256","kid":7}`, customerClaims(nil), shopRS), wantErr: auth.ErrMalformed},
		{name: "crit header", token: jws(map[string]any{"alg": "RS256", "kid": "shop-rsa", "crit": []string{"b64"}, "b64": false}, customerClaims(nil), shopRS), wantErr: auth.ErrMalformed},
		{name: "payload not JSON", token: jws(hdr("RS256", "shop-rsa"), `alice`, shopRS), wantErr: auth.ErrMalformed},
		{name: "payload null", token: jws(hdr("RS256", "shop-rsa"), `null`, shopRS), wantErr: auth.ErrMalformed},
		{name: "payload a JSON string", token: jws(hdr("RS256", "shop-rsa"), `"alice"`, shopRS), wantErr: auth.ErrMalformed},
		{name: "payload truncated", token: jws(hdr("RS256", "shop-rsa"), `{"iss":"https://shop.example"`, shopRS), wantErr: auth.ErrMalformed},
		{name: "duplicate claim", token: jws(hdr("RS256", "shop-rsa"),
			`{"iss":"https://shop.example","aud":"w1","sub":"alice","sub":"mallory","exp":4102444800}`, shopRS), wantErr: auth.ErrMalformed},
		{name: "exp a string", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"exp": "tomorrow"}), shopRS), wantErr: auth.ErrMalformed},
		{name: "exp a quoted number", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"exp": "4102444800"}), shopRS), wantErr: auth.ErrMalformed},
		{name: "nbf a boolean", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"nbf": true}), shopRS), wantErr: auth.ErrMalformed},
		{name: "sub a number", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"sub": 42}), shopRS), wantErr: auth.ErrMalformed},
		{name: "aud a number", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"aud": 1}), shopRS), wantErr: auth.ErrMalformed},
		{name: "name an object", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"name": map[string]any{}}), shopRS), wantErr: auth.ErrMalformed},
		{name: "sub of 257 characters", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"sub": strings.Repeat("a", 257)}), shopRS), wantErr: auth.ErrMalformed},
		{name: "name of 257 characters", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"name": strings.Repeat("a", 257)}), shopRS), wantErr: auth.ErrMalformed},
		{name: "token over 16 KiB", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"pad": strings.Repeat("a", 16<<10)}), shopRS), wantErr: auth.ErrMalformed},

		// Algorithms.
		{name: "alg none unsigned", token: jws(hdr("none", ""), customerClaims(nil), unsigned), wantErr: auth.ErrAlgorithm},
		{name: "alg none with kid", token: jws(hdr("none", "shop-rsa"), customerClaims(nil), unsigned), wantErr: auth.ErrAlgorithm},
		{name: "alg None", token: jws(hdr("None", ""), customerClaims(nil), unsigned), wantErr: auth.ErrAlgorithm},
		{name: "alg none with RS256 signature", token: jws(hdr("none", "shop-rsa"), customerClaims(nil), shopRS), wantErr: auth.ErrAlgorithm},
		{name: "alg missing", token: jws(map[string]any{"kid": "shop-rsa"}, customerClaims(nil), shopRS), wantErr: auth.ErrAlgorithm},
		{name: "alg lower case", token: jws(hdr("rs256", "shop-rsa"), customerClaims(nil), shopRS), wantErr: auth.ErrAlgorithm},
		{name: "HS256 keyed with PKIX DER public key", token: jws(hdr("HS256", "shop-rsa"), customerClaims(nil), hs256(pubDER)), wantErr: auth.ErrAlgorithm},
		{name: "HS256 keyed with PKIX PEM public key", token: jws(hdr("HS256", "shop-rsa"), customerClaims(nil), hs256(pubPEM)), wantErr: auth.ErrAlgorithm},
		{name: "HS256 keyed with PKCS1 DER public key", token: jws(hdr("HS256", "shop-rsa"), customerClaims(nil), hs256(pkcs1DER)), wantErr: auth.ErrAlgorithm},
		{name: "HS256 keyed with PKCS1 PEM public key", token: jws(hdr("HS256", "shop-rsa"), customerClaims(nil), hs256(pkcs1PEM)), wantErr: auth.ErrAlgorithm},
		{name: "HS256 keyed with the JWK", token: jws(hdr("HS256", "shop-rsa"), customerClaims(nil), hs256(jwkJSON)), wantErr: auth.ErrAlgorithm},
		{name: "HS256 keyed with the oct JWK", token: jws(hdr("HS256", "oct"), customerClaims(nil), hs256([]byte("shared secret"))), wantErr: auth.ErrAlgorithm},
		{name: "HS256 agent token", token: jws(hdr("HS256", "agent-rsa"), agentClaims(nil), hs256(must(x509.MarshalPKIXPublicKey(&k.rsaB.PublicKey)))), wantErr: auth.ErrAlgorithm},
		{name: "RS512", token: jws(hdr("RS512", "shop-rsa"), customerClaims(nil), shopRS), wantErr: auth.ErrAlgorithm},
		{name: "PS256", token: jws(hdr("PS256", "shop-rsa"), customerClaims(nil), shopRS), wantErr: auth.ErrAlgorithm},
		{name: "ES384", token: jws(hdr("ES384", "p384"), customerClaims(nil), shopES), wantErr: auth.ErrAlgorithm},
		{name: "EdDSA", token: jws(hdr("EdDSA", "shop-ec"), customerClaims(nil), shopES), wantErr: auth.ErrAlgorithm},
		{name: "RS256 token, EC key", token: jws(hdr("RS256", "shop-ec"), customerClaims(nil), shopRS), wantErr: auth.ErrAlgorithm},
		{name: "ES256 token, RSA key", token: jws(hdr("ES256", "shop-rsa"), customerClaims(nil), shopES), wantErr: auth.ErrAlgorithm},
		{name: "RS256 token, EC key declared RS256", token: jws(hdr("RS256", "ec-declared-rs256"), customerClaims(nil), rs256(k.rsaB)), wantErr: auth.ErrAlgorithm},
		{name: "ES256 token, P-384 key", token: jws(hdr("ES256", "p384"), customerClaims(nil), shopES), wantErr: auth.ErrAlgorithm},
		{name: "RS256 token, oct key", token: jws(hdr("RS256", "oct"), customerClaims(nil), shopRS), wantErr: auth.ErrAlgorithm},
		{name: "RS256 token, key declared RS512", token: jws(hdr("RS256", "declared-rs512"), customerClaims(nil), rs256(k.rsaB)), wantErr: auth.ErrAlgorithm},
		{name: "key with use enc", token: jws(hdr("RS256", "enc-key"), customerClaims(nil), rs256(k.rsaB)), wantErr: auth.ErrAlgorithm},
		{name: "key with key_ops encrypt", token: jws(hdr("RS256", "keyops-encrypt"), customerClaims(nil), rs256(k.rsaB)), wantErr: auth.ErrAlgorithm},
		{name: "RSA key of 1024 bits", token: jws(hdr("RS256", "small"), customerClaims(nil), rs256(k.rsa1024)), wantErr: auth.ErrAlgorithm},
		{name: "RSA key with even exponent", token: jws(hdr("RS256", "even-e"), customerClaims(nil), rs256(k.rsaB)), wantErr: auth.ErrAlgorithm},
		{name: "RSA key with n not base64url", token: jws(hdr("RS256", "bad-n"), customerClaims(nil), rs256(k.rsaB)), wantErr: auth.ErrAlgorithm},
		{name: "EC key with a short x", token: jws(hdr("ES256", "short-x"), customerClaims(nil), es256(k.ecB)), wantErr: auth.ErrAlgorithm},
		{name: "EC key off the curve", token: jws(hdr("ES256", "off-curve"), customerClaims(nil), es256(k.ecB)), wantErr: auth.ErrAlgorithm},
		{name: "JWK that is not valid", token: jws(hdr("RS256", "invalid-json"), customerClaims(nil), rs256(k.rsaB)), wantErr: auth.ErrAlgorithm},
		{name: "key published with its private part", token: jws(hdr("RS256", "published-private"), customerClaims(nil), rs256(k.rsaB)), wantErr: auth.ErrAlgorithm},

		// Signatures and keys.
		{name: "RS256 by another key with the same kid", token: jws(hdr("RS256", "shop-rsa"), customerClaims(nil), rs256(k.rsaB)), wantErr: auth.ErrSignature},
		{name: "ES256 by another key with the same kid", token: jws(hdr("ES256", "shop-ec"), customerClaims(nil), es256(k.ecB)), wantErr: auth.ErrSignature},
		{name: "payload changed after signing", token: parts[0] + "." + segment(customerClaims(map[string]any{"sub": "mallory"})) + "." + parts[2], wantErr: auth.ErrSignature},
		{name: "header changed after signing", token: segment(map[string]any{"alg": "RS256", "kid": "shop-rsa", "typ": "at+jwt"}) + "." + parts[1] + "." + parts[2], wantErr: auth.ErrSignature},
		{name: "signature a byte short", token: jws(hdr("RS256", "shop-rsa"), customerClaims(nil), func(in []byte) []byte { return shopRS(in)[1:] }), wantErr: auth.ErrSignature},
		{name: "ES256 signature in ASN.1 DER", token: jws(hdr("ES256", "shop-ec"), customerClaims(nil), es256DER(k.ecA)), wantErr: auth.ErrSignature},
		{name: "ES256 signature all zero", token: jws(hdr("ES256", "shop-ec"), customerClaims(nil), func([]byte) []byte { return make([]byte, 64) }), wantErr: auth.ErrSignature},
		{name: "unknown kid", token: jws(hdr("RS256", "nobody"), customerClaims(nil), shopRS), wantErr: auth.ErrUnknownKey},
		{name: "no kid, several keys", token: jws(hdr("RS256", ""), customerClaims(nil), shopRS), wantErr: auth.ErrUnknownKey},
		{name: "agent token signed by a website key", token: jws(hdr("RS256", "shop-rsa"), agentClaims(nil), shopRS), wantErr: auth.ErrUnknownKey},
		{name: "agent token without kid", token: jws(hdr("RS256", ""), agentClaims(nil), rs256(k.rsaB)), wantErr: auth.ErrUnknownKey},

		// Claims.
		{name: "expired", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"exp": t0.Add(-31 * time.Second).Unix()}), shopRS), wantErr: auth.ErrExpired},
		{name: "expired agent", token: jws(hdr("ES256", "agent-ec"), agentClaims(map[string]any{"exp": t0.Add(-time.Hour).Unix()}), es256(k.ecB)), wantErr: auth.ErrExpired},
		{name: "nbf in future", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"nbf": t0.Add(time.Minute).Unix()}), shopRS), wantErr: auth.ErrNotYetValid},
		{name: "missing exp", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"exp": nil}), shopRS), wantErr: auth.ErrMissingClaim},
		{name: "missing sub", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"sub": nil}), shopRS), wantErr: auth.ErrMissingClaim},
		{name: "empty sub", token: jws(hdr("ES256", "shop-ec"), customerClaims(map[string]any{"sub": ""}), shopES), wantErr: auth.ErrMissingClaim},
		{name: "agent without sub", token: jws(hdr("RS256", "agent-rsa"), agentClaims(map[string]any{"sub": nil}), rs256(k.rsaB)), wantErr: auth.ErrMissingClaim},
		{name: "missing iss", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"iss": nil}), shopRS), wantErr: auth.ErrMissingClaim},
		{name: "missing aud", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"aud": nil}), shopRS), wantErr: auth.ErrMissingClaim},
		{name: "empty aud", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"aud": []string{}}), shopRS), wantErr: auth.ErrMissingClaim},
		{name: "aud naming two widgets", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"aud": []string{"w1", "w2"}}), shopRS), wantErr: auth.ErrAudience},
		{name: "unknown widget", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"aud": "nope"}), shopRS), wantErr: auth.ErrUnknownWidget},
		{name: "iss of another website", token: jws(hdr("RS256", "other-rsa"), customerClaims(map[string]any{"iss": otherIss}), rs256(k.rsaB)), wantErr: auth.ErrIssuer},
		{name: "aud of another website's widget", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"aud": "w2"}), shopRS), wantErr: auth.ErrIssuer},
		{name: "iss differing in case", token: jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"iss": "https://SHOP.example"}), shopRS), wantErr: auth.ErrIssuer},
	}
	run(t, f.auth, tests)
}

// run checks each case, and that errors are refusals that do not repeat the
// token.
func run(t *testing.T, a *auth.Authenticator, tests []authCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Authenticate(context.Background(), tt.token)
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("Authenticate(%s) = %+v, %v; want %+v", tt.name, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate(%s) = %v; want %s", tt.name, err, errName(tt.wantErr))
			}
			if !errors.Is(err, auth.ErrRefused) {
				t.Errorf("Authenticate(%s) = %v; want it to match ErrRefused", tt.name, err)
			}
			if got != (auth.Identity{}) {
				t.Errorf("Authenticate(%s) identity = %+v; want none", tt.name, got)
			}
			for _, part := range strings.Split(tt.token, ".") {
				if len(part) >= 16 && strings.Contains(err.Error(), part) {
					t.Errorf("Authenticate(%s) error %q repeats the token", tt.name, err)
				}
			}
		})
	}
}

func TestAgentAudience(t *testing.T) {
	f := newFixture(t)
	f.auth.AgentAudience = "parley-agent-app"
	sign := rs256(f.k.rsaB)
	bob := auth.Identity{Role: auth.Agent, UserID: "bob", Name: "Bob"}
	tok := func(extra map[string]any) string { return jws(hdr("RS256", "agent-rsa"), agentClaims(extra), sign) }
	run(t, f.auth, []authCase{
		{name: "aud names the app", token: tok(nil), want: bob},
		{name: "aud array includes the app", token: tok(map[string]any{"aud": []string{"other-app", "parley-agent-app"}}), want: bob},
		{name: "access token, client_id names the app", token: tok(map[string]any{"aud": nil, "client_id": "parley-agent-app", "token_use": "access", "name": nil, "username": "bobby"}),
			want: auth.Identity{Role: auth.Agent, UserID: "bob", Name: "bobby"}},
		{name: "aud names another app", token: tok(map[string]any{"aud": "other-app"}), wantErr: auth.ErrAudience},
		{name: "aud names another app, client_id the app", token: tok(map[string]any{"aud": "other-app", "client_id": "parley-agent-app"}), wantErr: auth.ErrAudience},
		{name: "access token of another app", token: tok(map[string]any{"aud": nil, "client_id": "other-app"}), wantErr: auth.ErrAudience},
		{name: "neither aud nor client_id", token: tok(map[string]any{"aud": nil}), wantErr: auth.ErrAudience},
	})
}

func TestLeeway(t *testing.T) {
	f := newFixture(t)
	alice := auth.Identity{Role: auth.Customer, UserID: "alice", Name: "Alice", Widget: "w1"}
	expiredBy := func(d time.Duration) string {
		return jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"exp": t0.Add(-d).Unix()}), rs256(f.k.rsaA))
	}
	early := func(d time.Duration) string {
		return jws(hdr("RS256", "shop-rsa"), customerClaims(map[string]any{"nbf": t0.Add(d).Unix()}), rs256(f.k.rsaA))
	}
	tests := []struct {
		leeway time.Duration
		token  string
		name   string
		want   error
	}{
		{0, expiredBy(29 * time.Second), "zero is 30s: expired 29s ago", nil},
		{0, expiredBy(30 * time.Second), "zero is 30s: expired 30s ago", auth.ErrExpired},
		{-1, expiredBy(time.Second), "negative is none: expired 1s ago", auth.ErrExpired},
		{-1, expiredBy(0), "negative is none: expiring now", auth.ErrExpired},
		{-1, early(time.Second), "negative is none: valid in 1s", auth.ErrNotYetValid},
		{5 * time.Minute, expiredBy(4 * time.Minute), "5m: expired 4m ago", nil},
		{5 * time.Minute, early(4 * time.Minute), "5m: valid in 4m", nil},
		{5 * time.Minute, early(6 * time.Minute), "5m: valid in 6m", auth.ErrNotYetValid},
	}
	for _, tt := range tests {
		f.auth.Leeway = tt.leeway
		got, err := f.auth.Authenticate(context.Background(), tt.token)
		if !errors.Is(err, tt.want) || (tt.want == nil && got != alice) {
			t.Errorf("Authenticate(%s) = %+v, %v; want %s", tt.name, got, err, errName(tt.want))
		}
	}
}

// failingWidgets is a widget store that cannot be reached.
type failingWidgets struct{}

func (failingWidgets) Widget(context.Context, string) (auth.Widget, error) {
	return auth.Widget{}, errors.New("settings table: throttled")
}

// TestCheckFailuresAreNotRefusals: when the token cannot be checked, the
// error must not pass for a refusal, or an outage would look like bad tokens.
func TestCheckFailuresAreNotRefusals(t *testing.T) {
	f := newFixture(t)
	down := newJWKSServer(t)
	down.setStatus(503)
	garbage := newJWKSServer(t)
	garbage.setBody([]byte("<html>"))
	customer := jws(hdr("RS256", "shop-rsa"), customerClaims(nil), rs256(f.k.rsaA))
	tests := []struct {
		name   string
		change func(a *auth.Authenticator)
		token  string
	}{
		{"widget store failing", func(a *auth.Authenticator) { a.Widgets = failingWidgets{} }, customer},
		{"JWKS answering 503", func(a *auth.Authenticator) {
			a.Widgets = widgetMap{"w1": {ID: "w1", Issuer: shopIss, JWKSURL: down.URL}}
		}, customer},
		{"JWKS not JSON", func(a *auth.Authenticator) {
			a.Widgets = widgetMap{"w1": {ID: "w1", Issuer: shopIss, JWKSURL: garbage.URL}}
		}, customer},
		{"JWKS unreachable", func(a *auth.Authenticator) { a.AgentJWKSURL = "http://127.0.0.1:1/jwks" },
			jws(hdr("RS256", "agent-rsa"), agentClaims(nil), rs256(f.k.rsaB))},
		{"no key sets", func(a *auth.Authenticator) { a.Keys = nil }, customer},
		{"no widget store", func(a *auth.Authenticator) { a.Widgets = nil }, customer},
		{"widget without JWKS URL", func(a *auth.Authenticator) { a.Widgets = widgetMap{"w1": {ID: "w1", Issuer: shopIss}} }, customer},
		{"no agent JWKS URL", func(a *auth.Authenticator) { a.AgentJWKSURL = "" }, jws(hdr("RS256", "agent-rsa"), agentClaims(nil), rs256(f.k.rsaB))},
	}
	for _, tt := range tests {
		a := *f.auth
		a.Keys = auth.NewKeySets(nil)
		tt.change(&a)
		_, err := a.Authenticate(context.Background(), tt.token)
		if err == nil || errors.Is(err, auth.ErrRefused) {
			t.Errorf("Authenticate(%s) = %v; want an error that is not ErrRefused", tt.name, err)
		}
	}
}
