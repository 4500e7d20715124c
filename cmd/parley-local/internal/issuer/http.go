package issuer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// maxRequestBytes is far more than any honest token request.
const maxRequestBytes = 64 << 10

// jwksMaxAge lets verifiers cache the keys; they only change when the local
// stack restarts without a Dir, and then an unknown kid refetches anyway.
const jwksMaxAge = "public, max-age=300"

// ServeToken handles POST /local/token: a TokenRequest as JSON in, 200
// {"token": "..."} out. A request the issuer cannot serve gets 400
// {"error": "..."} saying what to fix; any method but POST gets 405.
func (i *Issuer) ServeToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST with a JSON body"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("body over %d bytes", maxRequestBytes)})
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "read body: " + err.Error()})
		return
	}
	if b := bytes.TrimSpace(body); len(b) == 0 || b[0] != '{' {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be a JSON object: {"role": "customer"|"agent", "sub": "...", "name": "...", "widget": "..."}`})
		return
	}
	var req TokenRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body: " + err.Error()})
		return
	}
	token, err := i.Mint(req)
	switch {
	case errors.Is(err, ErrInvalidRequest):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case err != nil:
		slog.ErrorContext(r.Context(), "mint token failed", "role", req.Role, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not sign the token"})
	default:
		w.Header().Set("Cache-Control", "no-store") // a bearer credential
		writeJSON(w, http.StatusOK, map[string]string{"token": token})
	}
}

// ServeJWKS handles GET /local/.well-known/jwks.json: the public keys that
// verify every token the issuer mints, cacheable for five minutes.
func (i *Issuer) ServeJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET"})
		return
	}
	w.Header().Set("Cache-Control", jwksMaxAge)
	w.Header().Set("Content-Type", "application/json")
	w.Write(i.jwks)
}

// jwk is one public key as RFC 7517 spells it.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

func (i *Issuer) renderJWKS() ([]byte, error) {
	n, e := rsaMembers(&i.rsa.PublicKey)
	x, y, err := ecMembers(&i.ec.PublicKey)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string][]jwk{"keys": {
		{Kty: "RSA", Kid: i.rsaKID, Use: "sig", Alg: "RS256", N: n, E: e},
		{Kty: "EC", Kid: i.ecKID, Use: "sig", Alg: "ES256", Crv: "P-256", X: x, Y: y},
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
