package issuer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/cmd/parley-local/internal/issuer"
	"github.com/parley-chat/parley/shared/auth"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func now() time.Time { return t0 }

// stack serves an Issuer at the paths parley-local mounts it on.
type stack struct {
	iss *issuer.Issuer
	srv *httptest.Server
}

func serve(t *testing.T, opts issuer.Options) *stack {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux) // listening, so its URL is known before New
	opts.BaseURL = "http://" + srv.Listener.Addr().String()
	if opts.Now == nil {
		opts.Now = now
	}
	iss, err := issuer.New(opts)
	if err != nil {
		srv.Close()
		t.Fatalf("New(%+v) = %v", opts, err)
	}
	mux.HandleFunc("/local/token", iss.ServeToken)
	mux.HandleFunc("/local/.well-known/jwks.json", iss.ServeJWKS)
	srv.Start()
	t.Cleanup(srv.Close)
	return &stack{iss: iss, srv: srv}
}

// widgets is the seeded local configuration, as far as trust goes.
type widgets map[string]auth.Widget

func (m widgets) Widget(_ context.Context, id string) (auth.Widget, error) {
	w, ok := m[id]
	if !ok {
		return auth.Widget{}, fmt.Errorf("widget %q: %w", id, auth.ErrUnknownWidget)
	}
	return w, nil
}

// authenticator trusts s's issuer the way the local stack's authorizer does.
func (s *stack) authenticator() *auth.Authenticator {
	w := func(id string) auth.Widget {
		return auth.Widget{ID: id, Issuer: s.iss.CustomerIssuer(), JWKSURL: s.iss.JWKSURL()}
	}
	return &auth.Authenticator{
		AgentIssuer:   s.iss.AgentIssuer(),
		AgentJWKSURL:  s.iss.JWKSURL(),
		AgentAudience: issuer.AgentAudience,
		Widgets:       widgets{"persistent": w("persistent"), "live": w("live")},
		Keys:          auth.NewKeySets(s.srv.Client()),
		Now:           now,
	}
}

// post sends body to /local/token.
func (s *stack) post(t *testing.T, body string) (int, map[string]string, http.Header) {
	t.Helper()
	resp, err := s.srv.Client().Post(s.srv.URL+"/local/token", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST /local/token %s: reply is not a JSON object of strings: %v", body, err)
	}
	return resp.StatusCode, out, resp.Header
}

func intp(n int) *int { return &n }

func TestTokensPassTheAuthorizer(t *testing.T) {
	s := serve(t, issuer.Options{})
	a := s.authenticator()
	tests := []struct {
		name    string
		req     issuer.TokenRequest
		want    auth.Identity
		wantErr error
	}{
		{name: "customer RS256", req: issuer.TokenRequest{Role: "customer", Sub: "alice", Name: "Alice", Widget: "persistent"},
			want: auth.Identity{Role: auth.Customer, UserID: "alice", Name: "Alice", Widget: "persistent"}},
		{name: "customer ES256", req: issuer.TokenRequest{Role: "customer", Sub: "alice", Widget: "live", Alg: "ES256"},
			want: auth.Identity{Role: auth.Customer, UserID: "alice", Name: "alice", Widget: "live"}},
		{name: "agent RS256", req: issuer.TokenRequest{Role: "agent", Sub: "bob", Name: "Bob", Alg: "RS256"},
			want: auth.Identity{Role: auth.Agent, UserID: "bob", Name: "Bob"}},
		{name: "agent ES256", req: issuer.TokenRequest{Role: "agent", Sub: "bob", Name: "Bob", Alg: "ES256"},
			want: auth.Identity{Role: auth.Agent, UserID: "bob", Name: "Bob"}},
		{name: "agent with a widget", req: issuer.TokenRequest{Role: "agent", Sub: "bob", Widget: "persistent"},
			want: auth.Identity{Role: auth.Agent, UserID: "bob", Name: "bob"}},
		{name: "customer expiring in 60s", req: issuer.TokenRequest{Role: "customer", Sub: "alice", Widget: "live", ExpiresIn: intp(60)},
			want: auth.Identity{Role: auth.Customer, UserID: "alice", Name: "alice", Widget: "live"}},
		{name: "customer of an unknown widget", req: issuer.TokenRequest{Role: "customer", Sub: "alice", Widget: "nope"}, wantErr: auth.ErrUnknownWidget},
		{name: "customer expired a minute ago", req: issuer.TokenRequest{Role: "customer", Sub: "alice", Widget: "persistent", ExpiresIn: intp(-60)}, wantErr: auth.ErrExpired},
		{name: "agent expired a minute ago", req: issuer.TokenRequest{Role: "agent", Sub: "bob", Alg: "ES256", ExpiresIn: intp(-60)}, wantErr: auth.ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := s.iss.Mint(tt.req)
			if err != nil {
				t.Fatalf("Mint(%+v) = %v", tt.req, err)
			}
			got, err := a.Authenticate(context.Background(), tok)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("Authenticate(%s) = %+v, %v; want %+v, %v", tt.name, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// decode returns a token's header and claims.
func decode(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts; want 3", len(parts))
	}
	for i, into := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
	}
	return header, claims
}

func TestMintClaims(t *testing.T) {
	s := serve(t, issuer.Options{})
	short := serve(t, issuer.Options{TTL: time.Hour})
	iat := float64(t0.Unix())
	tests := []struct {
		name   string
		iss    *issuer.Issuer
		req    issuer.TokenRequest
		alg    string
		claims map[string]any
	}{
		{"customer", s.iss, issuer.TokenRequest{Role: "customer", Sub: "alice", Name: "Alice", Widget: "persistent"}, "RS256", map[string]any{
			"iss": s.iss.CustomerIssuer(), "aud": "persistent", "sub": "alice", "name": "Alice", "iat": iat, "exp": iat + 12*3600}},
		{"customer without name", s.iss, issuer.TokenRequest{Role: "customer", Sub: "alice", Widget: "w", Alg: "ES256"}, "ES256", map[string]any{
			"iss": s.iss.CustomerIssuer(), "aud": "w", "sub": "alice", "iat": iat, "exp": iat + 12*3600}},
		{"agent", s.iss, issuer.TokenRequest{Role: "agent", Sub: "bob", Name: "Bob", Widget: "ignored"}, "RS256", map[string]any{
			"iss": s.iss.AgentIssuer(), "aud": "parley-agent-app", "sub": "bob", "name": "Bob", "iat": iat, "exp": iat + 12*3600}},
		{"TTL option", short.iss, issuer.TokenRequest{Role: "agent", Sub: "bob"}, "RS256", map[string]any{
			"iss": short.iss.AgentIssuer(), "aud": "parley-agent-app", "sub": "bob", "iat": iat, "exp": iat + 3600}},
		{"expiresIn", s.iss, issuer.TokenRequest{Role: "agent", Sub: "bob", ExpiresIn: intp(-5)}, "RS256", map[string]any{
			"iss": s.iss.AgentIssuer(), "aud": "parley-agent-app", "sub": "bob", "iat": iat, "exp": iat - 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := tt.iss.Mint(tt.req)
			if err != nil {
				t.Fatalf("Mint(%+v) = %v", tt.req, err)
			}
			h, c := decode(t, tok)
			if h["alg"] != tt.alg || h["typ"] != "JWT" || h["kid"] == "" || h["kid"] == nil {
				t.Errorf("Mint(%s) header = %v; want alg %s, typ JWT and a kid", tt.name, h, tt.alg)
			}
			if fmt.Sprint(c) != fmt.Sprint(tt.claims) {
				t.Errorf("Mint(%s) claims = %v; want %v", tt.name, c, tt.claims)
			}
		})
	}
}

func TestMintRefuses(t *testing.T) {
	s := serve(t, issuer.Options{})
	tests := []struct {
		name string
		req  issuer.TokenRequest
		want string // in the error message
	}{
		{"no role", issuer.TokenRequest{Sub: "alice", Widget: "w"}, "role is required"},
		{"unknown role", issuer.TokenRequest{Role: "admin", Sub: "alice"}, `unknown role "admin"`},
		{"no sub", issuer.TokenRequest{Role: "agent"}, "sub is required"},
		{"customer without widget", issuer.TokenRequest{Role: "customer", Sub: "alice"}, "needs a widget"},
		{"HS256", issuer.TokenRequest{Role: "agent", Sub: "bob", Alg: "HS256"}, `unsupported alg "HS256"`},
		{"none", issuer.TokenRequest{Role: "agent", Sub: "bob", Alg: "none"}, `unsupported alg "none"`},
		{"expiresIn past ten years", issuer.TokenRequest{Role: "agent", Sub: "bob", ExpiresIn: intp(1 << 40)}, "expiresIn"},
	}
	for _, tt := range tests {
		tok, err := s.iss.Mint(tt.req)
		if !errors.Is(err, issuer.ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) || tok != "" {
			t.Errorf("Mint(%s) = %q, %v; want ErrInvalidRequest saying %q", tt.name, tok, err, tt.want)
		}
	}
}

func TestServeToken(t *testing.T) {
	s := serve(t, issuer.Options{})
	a := s.authenticator()
	tests := []struct {
		name      string
		body      string
		status    int
		errorSays string // for non-200
	}{
		{"customer", `{"role":"customer","sub":"alice","name":"Alice","widget":"persistent"}`, 200, ""},
		{"agent", `{"role":"agent","sub":"bob","name":"Bob"}`, 200, ""},
		{"agent ES256", `{"role":"agent","sub":"bob","alg":"ES256","expiresIn":600}`, 200, ""},
		{"unknown fields are ignored", `{"role":"agent","sub":"bob","email":"bob@example.com"}`, 200, ""},
		{"empty body", ``, 400, "JSON object"},
		{"JSON array", `[{"role":"agent","sub":"bob"}]`, 400, "JSON object"},
		{"JSON null", `null`, 400, "JSON object"},
		{"not JSON", `role=agent&sub=bob`, 400, "JSON object"},
		{"truncated JSON", `{"role":"agent","sub":"bob"`, 400, "invalid JSON"},
		{"trailing data", `{"role":"agent","sub":"bob"} {}`, 400, "invalid JSON"},
		{"sub a number", `{"role":"agent","sub":7}`, 400, "invalid JSON"},
		{"expiresIn a string", `{"role":"agent","sub":"bob","expiresIn":"1h"}`, 400, "invalid JSON"},
		{"no role", `{"sub":"bob"}`, 400, "role is required"},
		{"unknown role", `{"role":"admin","sub":"bob"}`, 400, `unknown role \"admin\"`},
		{"no sub", `{"role":"customer","widget":"persistent"}`, 400, "sub is required"},
		{"empty sub", `{"role":"agent","sub":""}`, 400, "sub is required"},
		{"customer without widget", `{"role":"customer","sub":"alice"}`, 400, "needs a widget"},
		{"alg none", `{"role":"agent","sub":"bob","alg":"none"}`, 400, "unsupported alg"},
		{"body too large", `{"role":"agent","sub":"bob","name":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "body over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, h := s.post(t, tt.body)
			if status != tt.status {
				t.Fatalf("POST /local/token %s = %d %v; want %d", tt.name, status, out, tt.status)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("POST /local/token %s Content-Type = %q; want application/json", tt.name, ct)
			}
			if status != 200 {
				if !strings.Contains(fmt.Sprintf("%q", out["error"]), tt.errorSays) || out["token"] != "" {
					t.Errorf("POST /local/token %s = %v; want an error saying %s", tt.name, out, tt.errorSays)
				}
				return
			}
			if h.Get("Cache-Control") != "no-store" {
				t.Errorf("POST /local/token %s Cache-Control = %q; want no-store", tt.name, h.Get("Cache-Control"))
			}
			if _, err := a.Authenticate(context.Background(), out["token"]); err != nil {
				t.Errorf("Authenticate(token from POST /local/token %s) = %v; want <nil>", tt.name, err)
			}
		})
	}
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(method, s.srv.URL+"/local/token", nil)
		resp, err := s.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Errorf("%s /local/token = %d, Allow %q; want 405, Allow POST", method, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// jwksDoc fetches and decodes a JWKS.
func jwksDoc(t *testing.T, s *stack) (keys []map[string]string, header http.Header) {
	t.Helper()
	resp, err := s.srv.Client().Get(s.iss.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d; want 200", s.iss.JWKSURL(), resp.StatusCode)
	}
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("GET %s: %v", s.iss.JWKSURL(), err)
	}
	return doc.Keys, resp.Header
}

func TestServeJWKS(t *testing.T) {
	s := serve(t, issuer.Options{})
	keys, h := jwksDoc(t, s)
	if cc := h.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		t.Errorf("GET jwks.json Cache-Control = %q; want a max-age", cc)
	}
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET jwks.json Content-Type = %q; want application/json", ct)
	}
	b64len := func(n int) int { return base64.RawURLEncoding.EncodedLen(n) }
	want := map[string]map[string]int{ // member: length, 0 for any non-empty
		"RS256": {"kty": 0, "kid": 0, "use": 0, "alg": 0, "n": b64len(256), "e": 0},
		"ES256": {"kty": 0, "kid": 0, "use": 0, "alg": 0, "crv": 0, "x": b64len(32), "y": b64len(32)},
	}
	kids := map[string]bool{}
	for _, k := range keys {
		members, ok := want[k["alg"]]
		if !ok {
			t.Errorf("GET jwks.json key %v; want alg RS256 or ES256", k)
			continue
		}
		delete(want, k["alg"])
		for name, n := range members {
			if k[name] == "" || (n > 0 && len(k[name]) != n) {
				t.Errorf("GET jwks.json %s key %s = %q; want %d characters", k["alg"], name, k[name], n)
			}
		}
		if len(k) != len(members) {
			t.Errorf("GET jwks.json %s key = %v; want exactly the members %v", k["alg"], k, members)
		}
		kty, crv := map[string]string{"RS256": "RSA", "ES256": "EC"}[k["alg"]], map[string]string{"ES256": "P-256"}[k["alg"]]
		if k["use"] != "sig" || k["kty"] != kty || k["crv"] != crv {
			t.Errorf("GET jwks.json %s key = %v; want use sig, kty %s, crv %q", k["alg"], k, kty, crv)
		}
		kids[k["kid"]] = true
	}
	if len(want) != 0 || len(keys) != 2 || len(kids) != 2 {
		t.Errorf("GET jwks.json = %v; want one RS256 and one ES256 key with distinct kids", keys)
	}

	for _, tt := range []struct {
		method string
		status int
	}{{http.MethodHead, 200}, {http.MethodPost, 405}, {http.MethodDelete, 405}} {
		req, _ := http.NewRequest(tt.method, s.iss.JWKSURL(), nil)
		resp, err := s.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s jwks.json = %d; want %d", tt.method, resp.StatusCode, tt.status)
		}
	}
}

func TestKeysPersist(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "issuer") // created by New
	first := serve(t, issuer.Options{Dir: dir})
	tok, err := first.iss.Mint(issuer.TokenRequest{Role: "customer", Sub: "alice", Widget: "persistent", Alg: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	agentTok, err := first.iss.Mint(issuer.TokenRequest{Role: "agent", Sub: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"issuer-rs256.pem", "issuer-es256.pem"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("key file %s: %v", name, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("key file %s mode = %v; want 0600", name, fi.Mode().Perm())
		}
	}

	// A restart: another process, another port, the same folder.
	second := serve(t, issuer.Options{Dir: dir})
	k1, _ := jwksDoc(t, first)
	k2, _ := jwksDoc(t, second)
	if fmt.Sprint(k1) != fmt.Sprint(k2) {
		t.Errorf("JWKS after restart = %v; want the same keys %v", k2, k1)
	}
	// The old token names the old base URL as issuer; trust it as the
	// restarted stack would if it came back on the same address.
	a := second.authenticator()
	a.AgentIssuer = first.iss.AgentIssuer()
	a.Widgets = widgets{"persistent": {ID: "persistent", Issuer: first.iss.CustomerIssuer(), JWKSURL: second.iss.JWKSURL()}}
	for _, tok := range []string{tok, agentTok} {
		if _, err := a.Authenticate(context.Background(), tok); err != nil {
			t.Errorf("Authenticate(token minted before restart) = %v; want <nil>", err)
		}
	}

	inMemory := serve(t, issuer.Options{})
	k3, _ := jwksDoc(t, inMemory)
	if k3[0]["kid"] == k1[0]["kid"] || k3[1]["kid"] == k1[1]["kid"] {
		t.Errorf("in-memory issuer kids = %s, %s; want fresh keys", k3[0]["kid"], k3[1]["kid"])
	}
}

// TestConcurrentStartsShareKeys: two stacks started at once on the same
// folder must not end up with different keys on disk and in memory.
func TestConcurrentStartsShareKeys(t *testing.T) {
	dir := t.TempDir()
	const n = 4
	issuers, errs := make([]*issuer.Issuer, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { issuers[i], errs[i] = issuer.New(issuer.Options{Dir: dir, BaseURL: "http://127.0.0.1:8080"}) })
	}
	wg.Wait()
	kids := make([][]string, n)
	for i, iss := range issuers {
		if errs[i] != nil {
			t.Fatalf("concurrent New %d = %v", i, errs[i])
		}
		for _, alg := range []string{"RS256", "ES256"} {
			tok, err := iss.Mint(issuer.TokenRequest{Role: "agent", Sub: "bob", Alg: alg})
			if err != nil {
				t.Fatal(err)
			}
			h, _ := decode(t, tok)
			kids[i] = append(kids[i], fmt.Sprint(h["kid"]))
		}
	}
	for i := 1; i < n; i++ {
		if fmt.Sprint(kids[i]) != fmt.Sprint(kids[0]) {
			t.Errorf("kids of concurrent start %d = %v; want %v like start 0", i, kids[i], kids[0])
		}
	}
}

func TestNewRefusesBadKeyFiles(t *testing.T) {
	tests := []struct {
		name, file, content string
	}{
		{"not PEM", "issuer-rs256.pem", "not a key"},
		{"PEM but not a key", "issuer-es256.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := issuer.New(issuer.Options{Dir: dir, BaseURL: "http://127.0.0.1:8080"})
		if err == nil || !strings.Contains(err.Error(), tt.file) {
			t.Errorf("New(Dir with %s %s) = %v; want an error naming the file", tt.name, tt.file, err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, tt.file)); string(b) != tt.content {
			t.Errorf("New(Dir with %s %s) replaced the file; want it left for the user to inspect", tt.name, tt.file)
		}
	}
	// An ES256 key where the RS256 key belongs.
	src := t.TempDir()
	if _, err := issuer.New(issuer.Options{Dir: src, BaseURL: "http://127.0.0.1:8080"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ec, _ := os.ReadFile(filepath.Join(src, "issuer-es256.pem"))
	os.WriteFile(filepath.Join(dir, "issuer-rs256.pem"), ec, 0o600)
	if _, err := issuer.New(issuer.Options{Dir: dir, BaseURL: "http://127.0.0.1:8080"}); err == nil || !strings.Contains(err.Error(), "RSA") {
		t.Errorf("New(Dir with an EC key as issuer-rs256.pem) = %v; want an error asking for RSA", err)
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		base                  string
		agent, customer, jwks string
		wantErr               bool
	}{
		{base: "http://127.0.0.1:8080", agent: "http://127.0.0.1:8080/local/agents",
			customer: "http://127.0.0.1:8080/local/customers", jwks: "http://127.0.0.1:8080/local/.well-known/jwks.json"},
		{base: "https://parley.test/", agent: "https://parley.test/local/agents",
			customer: "https://parley.test/local/customers", jwks: "https://parley.test/local/.well-known/jwks.json"},
		{base: "", wantErr: true},
		{base: "127.0.0.1:8080", wantErr: true},
		{base: "ftp://127.0.0.1", wantErr: true},
		{base: "http://127.0.0.1:8080/?x=1", wantErr: true},
	}
	for _, tt := range tests {
		i, err := issuer.New(issuer.Options{BaseURL: tt.base})
		if tt.wantErr {
			if err == nil {
				t.Errorf("New(BaseURL %q) = <nil>; want an error", tt.base)
			}
			continue
		}
		if err != nil {
			t.Fatalf("New(BaseURL %q) = %v", tt.base, err)
		}
		if i.AgentIssuer() != tt.agent || i.CustomerIssuer() != tt.customer || i.JWKSURL() != tt.jwks {
			t.Errorf("New(BaseURL %q) = %s, %s, %s; want %s, %s, %s", tt.base,
				i.AgentIssuer(), i.CustomerIssuer(), i.JWKSURL(), tt.agent, tt.customer, tt.jwks)
		}
	}
}

// Example_curl shows the local token endpoint as a developer uses it.
func Example_curl() {
	i, _ := issuer.New(issuer.Options{BaseURL: "http://127.0.0.1:8080"})
	rec := httptest.NewRecorder()
	i.ServeToken(rec, httptest.NewRequest("POST", "/local/token", strings.NewReader(`{"role":"customer","sub":"alice"}`)))
	body, _ := io.ReadAll(rec.Body)
	fmt.Print(rec.Code, " ", string(body))
	// Output: 400 {"error":"a customer token needs a widget"}
}
