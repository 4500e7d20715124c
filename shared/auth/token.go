package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// maxTokenBytes bounds the work an unauthenticated caller can cause. Real
// tokens are well under 4 KiB; API Gateway itself caps a request line at 8 KiB.
const maxTokenBytes = 16 << 10

// b64 is unpadded base64url as RFC 7515 requires, strict so that a token has
// exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

// token is a compact JWS split and decoded, its signature not yet checked:
// nothing in claims may be trusted before a key set has verified it.
type token struct {
	alg, kid string
	claims   object
	signed   []byte // header.payload exactly as received: the signing input
	sig      []byte
}

// parse splits a compact JWS and decodes its parts. It refuses a bad alg
// before looking at the signature so that alg none reads as ErrAlgorithm
// however its signature part is spelled.
func parse(raw string) (*token, error) {
	if len(raw) > maxTokenBytes {
		return nil, fmt.Errorf("token of %d bytes, at most %d: %w", len(raw), maxTokenBytes, ErrMalformed)
	}
	// Go's base64 decoder skips \r and \n; checking the alphabet first means
	// the bytes that were signed are the bytes that were sent.
	for i := 0; i < len(raw); i++ {
		if !isTokenByte(raw[i]) {
			return nil, fmt.Errorf("byte %d is not base64url or '.': %w", i, ErrMalformed)
		}
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%d dot-separated parts, want 3: %w", len(parts), ErrMalformed)
	}
	hdr, err := decodePart("header", parts[0])
	if err != nil {
		return nil, err
	}
	t := &token{signed: []byte(raw[:len(parts[0])+1+len(parts[1])])}
	if err := t.readHeader(hdr); err != nil {
		return nil, err
	}
	if t.claims, err = decodePart("payload", parts[1]); err != nil {
		return nil, err
	}
	if parts[2] == "" {
		return nil, fmt.Errorf("empty signature: %w", ErrMalformed)
	}
	if t.sig, err = b64.DecodeString(parts[2]); err != nil {
		return nil, fmt.Errorf("signature is not base64url: %w", ErrMalformed)
	}
	return t, nil
}

func isTokenByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}

// readHeader takes alg and kid from the JOSE header and refuses what this
// package does not implement.
func (t *token) readHeader(h object) error {
	alg, err := h.str("alg")
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	switch alg {
	case "RS256", "ES256":
	case "":
		return fmt.Errorf("header has no alg: %w", ErrAlgorithm)
	default:
		// none, HS256 (which would let a public key serve as HMAC secret)
		// and everything else we have no reason to trust.
		return fmt.Errorf("alg %q: %w", short(alg), ErrAlgorithm)
	}
	if t.kid, err = h.str("kid"); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	// An extension marked critical changes how the token must be processed
	// (b64 false, for one); we understand none, so RFC 7515 says refuse.
	if _, ok := h["crit"]; ok {
		return fmt.Errorf("header has crit extensions, none supported: %w", ErrMalformed)
	}
	t.alg = alg
	return nil
}

// object is a JSON object whose member names are matched exactly, unlike
// encoding/json's struct fields (which would read "EXP" as exp), and whose
// duplicate names are refused, so that no two parsers can read different
// claims out of the same signed bytes.
type object map[string]json.RawMessage

func decodePart(what, part string) (object, error) {
	if part == "" {
		return nil, fmt.Errorf("empty %s: %w", what, ErrMalformed)
	}
	b, err := b64.DecodeString(part)
	if err != nil {
		return nil, fmt.Errorf("%s is not base64url: %w", what, ErrMalformed)
	}
	o, err := decodeObject(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", what, err, ErrMalformed)
	}
	return o, nil
}

func decodeObject(b []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	o := object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("invalid JSON")
		}
		name := tok.(string) // inside an object, Token yields member names as strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("invalid JSON")
		}
		if _, dup := o[name]; dup {
			return nil, fmt.Errorf("member %q appears twice", short(name))
		}
		o[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, errors.New("invalid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return o, nil
}

// str returns a string member; absent and null both read as "".
func (o object) str(name string) (string, error) {
	raw, ok := o[name]
	if !ok {
		return "", nil
	}
	var s *string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s is not a string: %w", name, ErrMalformed)
	}
	if s == nil {
		return "", nil
	}
	return *s, nil
}

// audience returns aud, which RFC 7519 allows as one string or an array.
func (o object) audience() ([]string, error) {
	raw, ok := o["aud"]
	if !ok {
		return nil, nil
	}
	var one *string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one == nil || *one == "" {
			return nil, nil
		}
		return []string{*one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("aud is neither a string nor an array of strings: %w", ErrMalformed)
	}
	return many, nil
}

// time returns a NumericDate member (seconds since the epoch, possibly
// fractional); ok is false when it is absent or null.
func (o object) time(name string) (t time.Time, ok bool, err error) {
	raw, present := o[name]
	if !present {
		return time.Time{}, false, nil
	}
	var n *json.Number
	// json.Number also takes a quoted number; RFC 7519 wants a JSON number.
	if err := json.Unmarshal(raw, &n); err != nil || bytes.HasPrefix(raw, []byte(`"`)) {
		return time.Time{}, false, fmt.Errorf("%s is not a number: %w", name, ErrMalformed)
	}
	if n == nil {
		return time.Time{}, false, nil
	}
	f, err := n.Float64()
	// ±2^53 s is far beyond any real date and keeps the conversion exact.
	if err != nil || math.Abs(f) > 1<<53 {
		return time.Time{}, false, fmt.Errorf("%s is out of range: %w", name, ErrMalformed)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// short keeps attacker-chosen strings from flooding error messages and logs.
func short(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
