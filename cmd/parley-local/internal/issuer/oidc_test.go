package issuer_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/cmd/parley-local/internal/issuer"
	"github.com/parley-chat/parley/shared/auth"
)

// clock is a settable time for code and token expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type oidcStack struct {
	*stack
	clock    *clock
	client   *http.Client // follows no redirects
	redirect string       // the agent app's registered redirect_uri
}

func serveOIDC(t *testing.T) *oidcStack {
	t.Helper()
	c := &clock{t: t0}
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	base := "http://" + srv.Listener.Addr().String()
	iss, err := issuer.New(issuer.Options{BaseURL: base, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("/local/.well-known/jwks.json", iss.ServeJWKS)
	iss.RegisterOIDC(mux)
	srv.Start()
	t.Cleanup(srv.Close)
	hc := srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &oidcStack{stack: &stack{iss: iss, srv: srv}, clock: c, client: hc, redirect: base + "/agent/"}
}

func (s *oidcStack) authenticator() *auth.Authenticator {
	a := s.stack.authenticator()
	a.Now = s.clock.now
	return a
}

// pkce returns a verifier and its S256 challenge.
func pkce(seed string) (verifier, challenge string) {
	verifier = base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat(seed+".", 64)))[:64]
	h := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(h[:])
}

func (s *oidcStack) authorizeParams(challenge string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {issuer.AgentAudience}, "redirect_uri": {s.redirect},
		"scope": {"openid profile"}, "state": {"st-1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "nonce": {"n-1"}}
}

// signIn posts the sign-in form and returns the redirect it answers with.
func (s *oidcStack) signIn(t *testing.T, params url.Values, name string) (int, *url.URL, string) {
	t.Helper()
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("agent_name", name)
	resp, err := s.client.PostForm(s.srv.URL+issuer.AuthorizePath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return resp.StatusCode, loc, string(body)
}

func (s *oidcStack) token(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := s.client.PostForm(s.srv.URL+issuer.TokenPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("token endpoint reply is not JSON: %v", err)
	}
	return resp.StatusCode, out
}

// code signs name in and returns the code and the verifier that goes with it.
func (s *oidcStack) code(t *testing.T, name string) (code, verifier string) {
	t.Helper()
	verifier, challenge := pkce(name)
	status, loc, body := s.signIn(t, s.authorizeParams(challenge), name)
	if status != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("sign in as %s = %d %s %s; want 302 with a code", name, status, loc, body)
	}
	return loc.Query().Get("code"), verifier
}

func (s *oidcStack) exchange(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {issuer.AgentAudience}, "code": {code},
		"redirect_uri": {s.redirect}, "code_verifier": {verifier}}
}

func TestDiscovery(t *testing.T) {
	s := serveOIDC(t)
	resp, err := s.client.Get(s.srv.URL + issuer.DiscoveryPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	base := s.srv.URL
	want := map[string]string{
		"issuer":                 base + "/local/agents",
		"authorization_endpoint": base + "/local/oauth2/authorize",
		"token_endpoint":         base + "/local/oauth2/token",
		"userinfo_endpoint":      base + "/local/oauth2/userInfo",
		"jwks_uri":               base + "/local/.well-known/jwks.json",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("discovery %s = %v; want %s", k, doc[k], v)
		}
	}
	if doc["issuer"] != s.iss.AgentIssuer() {
		t.Errorf("discovery issuer %v; want the agent tokens' iss %s", doc["issuer"], s.iss.AgentIssuer())
	}
	if got, _ := json.Marshal(doc["code_challenge_methods_supported"]); string(got) != `["S256"]` {
		t.Errorf("code_challenge_methods_supported = %s; want [\"S256\"]", got)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("discovery has no CORS header; an app on another origin could not read it")
	}
}

func TestSignInPage(t *testing.T) {
	s := serveOIDC(t)
	_, challenge := pkce("x")
	resp, err := s.client.Get(s.srv.URL + issuer.AuthorizePath + "?" + s.authorizeParams(challenge).Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != 200 || !strings.Contains(page, `<label for="agent-name">Agent name</label>`) ||
		!strings.Contains(page, `<input id="agent-name"`) || !strings.Contains(page, `<button type="submit">Sign in</button>`) {
		t.Fatalf("GET authorize = %d\n%s\nwant a form with textbox \"Agent name\" and button \"Sign in\"", resp.StatusCode, page)
	}
	// Parameters travel in hidden fields, escaped.
	if !strings.Contains(page, `name="state" value="st-1"`) {
		t.Errorf("sign-in page does not carry the state on")
	}

	status, _, body2 := s.signIn(t, s.authorizeParams(challenge), "   ")
	if status != http.StatusBadRequest || !strings.Contains(body2, "Enter your name") {
		t.Errorf("sign in with a blank name = %d; want 400 asking for a name", status)
	}
}

func TestCodeFlow(t *testing.T) {
	s := serveOIDC(t)
	a := s.authenticator()
	verifier, challenge := pkce("ada")
	status, loc, body := s.signIn(t, s.authorizeParams(challenge), "Ada  Lovelace")
	if status != http.StatusFound {
		t.Fatalf("sign in = %d %s; want 302", status, body)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != s.redirect || loc.Query().Get("state") != "st-1" {
		t.Fatalf("sign in redirects to %s; want %s with state st-1", loc, s.redirect)
	}
	code := loc.Query().Get("code")

	status, out := s.token(t, s.exchange(code, verifier))
	if status != 200 {
		t.Fatalf("exchange = %d %v; want 200", status, out)
	}
	if out["token_type"] != "Bearer" || out["expires_in"] != float64(3600) || out["refresh_token"] == nil {
		t.Errorf("exchange = %v; want token_type Bearer, expires_in 3600 and a refresh_token", out)
	}
	idToken, _ := out["id_token"].(string)
	id, err := a.Authenticate(context.Background(), idToken)
	if want := (auth.Identity{Role: auth.Agent, UserID: "ada-lovelace", Name: "Ada Lovelace"}); err != nil || id != want {
		t.Fatalf("Authenticate(id_token) = %+v, %v; want %+v", id, err, want)
	}
	_, claims := decode(t, idToken)
	if claims["aud"] != issuer.AgentAudience || claims["nonce"] != "n-1" || claims["token_use"] != "id" || claims["exp"] != float64(t0.Add(time.Hour).Unix()) {
		t.Errorf("id_token claims = %v; want aud %s, nonce n-1, token_use id, exp in an hour", claims, issuer.AgentAudience)
	}
	// The access token passes too, as a Cognito access token does (client_id, no aud).
	accessToken, _ := out["access_token"].(string)
	if id, err := a.Authenticate(context.Background(), accessToken); err != nil || id.UserID != "ada-lovelace" {
		t.Errorf("Authenticate(access_token) = %+v, %v; want agent ada-lovelace", id, err)
	}

	// A code is good once.
	if status, out := s.token(t, s.exchange(code, verifier)); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("second exchange of a code = %d %v; want 400 invalid_grant", status, out)
	}

	// userInfo answers for the access token, not for the id_token.
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+issuer.UserInfoPath, nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if resp.StatusCode != 200 || info["sub"] != "ada-lovelace" {
		t.Errorf("userInfo = %d %v; want sub ada-lovelace", resp.StatusCode, info)
	}
	req.Header.Set("Authorization", "Bearer "+idToken)
	if resp, err := s.client.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("userInfo with an id_token = %v, %v; want 401", resp.Status, err)
	}
}

func TestCodeExchangeRefuses(t *testing.T) {
	s := serveOIDC(t)
	tests := []struct {
		name   string
		mod    func(f url.Values)
		before func()
		status int
		error  string
	}{
		{name: "wrong verifier", mod: func(f url.Values) { f.Set("code_verifier", strings.Repeat("a", 64)) }, status: 400, error: "invalid_grant"},
		{name: "no verifier", mod: func(f url.Values) { f.Del("code_verifier") }, status: 400, error: "invalid_grant"},
		{name: "other redirect_uri", mod: func(f url.Values) { f.Set("redirect_uri", s.srv.URL+"/elsewhere/") }, status: 400, error: "invalid_grant"},
		{name: "unknown client", mod: func(f url.Values) { f.Set("client_id", "other-app") }, status: 401, error: "invalid_client"},
		{name: "unknown code", mod: func(f url.Values) { f.Set("code", "made-up") }, status: 400, error: "invalid_grant"},
		{name: "expired code", before: func() { s.clock.add(3 * time.Minute) }, status: 400, error: "invalid_grant"},
		{name: "no grant_type", mod: func(f url.Values) { f.Del("grant_type") }, status: 400, error: "invalid_request"},
		{name: "implicit grant", mod: func(f url.Values) { f.Set("grant_type", "password") }, status: 400, error: "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, verifier := s.code(t, "Bob")
			form := s.exchange(code, verifier)
			if tt.mod != nil {
				tt.mod(form)
			}
			if tt.before != nil {
				tt.before()
			}
			status, out := s.token(t, form)
			if status != tt.status || out["error"] != tt.error || out["id_token"] != nil {
				t.Fatalf("exchange with %s = %d %v; want %d %s", tt.name, status, out, tt.status, tt.error)
			}
			if tt.error == "invalid_grant" && tt.name != "unknown code" && tt.name != "expired code" {
				// A failed exchange spends the code: the right verifier is too late.
				if status, out := s.token(t, s.exchange(code, verifier)); status != 400 {
					t.Errorf("exchange after a failed one = %d %v; want 400", status, out)
				}
			}
		})
	}
	resp, err := s.client.Post(s.srv.URL+issuer.TokenPath, "application/json", strings.NewReader(`{"grant_type":"authorization_code"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("token request as JSON = %d; want 400", resp.StatusCode)
	}
}

func TestAuthorizeRefuses(t *testing.T) {
	s := serveOIDC(t)
	_, challenge := pkce("x")
	tests := []struct {
		name  string
		mod   func(v url.Values)
		error string // "" for an error page without redirect
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "other-app") }, ""},
		{"no client", func(v url.Values) { v.Del("client_id") }, ""},
		{"unregistered redirect_uri", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/agent/") }, ""},
		{"redirect_uri with extra path", func(v url.Values) { v.Set("redirect_uri", s.redirect+"x") }, ""},
		{"no redirect_uri", func(v url.Values) { v.Del("redirect_uri") }, ""},
		{"token response", func(v url.Values) { v.Set("response_type", "token") }, "unsupported_response_type"},
		{"no openid scope", func(v url.Values) { v.Set("scope", "profile") }, "invalid_scope"},
		{"no PKCE", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, "invalid_request"},
		{"plain PKCE", func(v url.Values) { v.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"short challenge", func(v url.Values) { v.Set("code_challenge", "abc") }, "invalid_request"},
	}
	for _, tt := range tests {
		for _, method := range []string{"GET", "POST"} {
			p := s.authorizeParams(challenge)
			tt.mod(p)
			var status int
			var loc *url.URL
			if method == "GET" {
				resp, err := s.client.Get(s.srv.URL + issuer.AuthorizePath + "?" + p.Encode())
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				status = resp.StatusCode
				loc, _ = url.Parse(resp.Header.Get("Location"))
			} else {
				status, loc, _ = s.signIn(t, p, "Bob")
			}
			if tt.error == "" {
				if status != 400 || loc.String() != "" {
					t.Errorf("%s authorize with %s = %d to %q; want 400 and no redirect", method, tt.name, status, loc)
				}
				continue
			}
			if status != 302 || loc.Query().Get("error") != tt.error || loc.Query().Get("code") != "" || loc.Query().Get("state") != "st-1" {
				t.Errorf("%s authorize with %s = %d to %s; want a redirect with error %s and the state", method, tt.name, status, loc, tt.error)
			}
		}
	}
}

func TestRefreshToken(t *testing.T) {
	s := serveOIDC(t)
	a := s.authenticator()
	code, verifier := s.code(t, "Carol")
	_, out := s.token(t, s.exchange(code, verifier))
	refresh, _ := out["refresh_token"].(string)
	if _, err := a.Authenticate(context.Background(), refresh); !errors.Is(err, auth.ErrRefused) {
		t.Errorf("Authenticate(refresh_token) = %v; want it refused: it is no WebSocket token", err)
	}

	s.clock.add(2 * time.Hour) // the id_token has expired
	if _, err := a.Authenticate(context.Background(), out["id_token"].(string)); !errors.Is(err, auth.ErrExpired) {
		t.Fatalf("Authenticate(id_token two hours on) = %v; want ErrExpired", err)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {issuer.AgentAudience}, "refresh_token": {refresh}}
	status, renewed := s.token(t, form)
	if status != 200 || renewed["refresh_token"] != nil {
		t.Fatalf("refresh = %d %v; want 200 and no new refresh token (Cognito keeps the first)", status, renewed)
	}
	if id, err := a.Authenticate(context.Background(), renewed["id_token"].(string)); err != nil || id.UserID != "carol" || id.Name != "Carol" {
		t.Errorf("Authenticate(renewed id_token) = %+v, %v; want agent carol", id, err)
	}

	for name, tok := range map[string]string{
		"tampered":   strings.Replace(refresh, refresh[:4], "AAAA", 1),
		"not sealed": "abc",
		"a JWT":      out["id_token"].(string),
	} {
		form.Set("refresh_token", tok)
		if status, out := s.token(t, form); status != 400 || out["error"] != "invalid_grant" {
			t.Errorf("refresh with a %s token = %d %v; want 400 invalid_grant", name, status, out)
		}
	}
	s.clock.add(31 * 24 * time.Hour)
	form.Set("refresh_token", refresh)
	if status, out := s.token(t, form); status != 400 || out["error"] != "invalid_grant" {
		t.Errorf("refresh after 31 days = %d %v; want 400 invalid_grant", status, out)
	}
}

func TestLogout(t *testing.T) {
	s := serveOIDC(t)
	tests := []struct {
		query    url.Values
		status   int
		location string
	}{
		{url.Values{"client_id": {issuer.AgentAudience}, "logout_uri": {s.redirect}}, 302, s.redirect},
		{url.Values{"client_id": {issuer.AgentAudience}, "logout_uri": {"https://evil.example/"}}, 400, ""},
		{url.Values{"client_id": {"other"}, "logout_uri": {s.redirect}}, 400, ""},
		{url.Values{"client_id": {issuer.AgentAudience}}, 200, ""},
	}
	for _, tt := range tests {
		resp, err := s.client.Get(s.srv.URL + issuer.LogoutPath + "?" + tt.query.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
			t.Errorf("logout %s = %d to %q; want %d to %q", tt.query.Encode(), resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location)
		}
	}
}

func TestLoopbackTwin(t *testing.T) {
	c := issuer.AgentAppClient("http://127.0.0.1:8080")
	want := []string{"http://127.0.0.1:8080/agent/", "http://localhost:8080/agent/"}
	if strings.Join(c.RedirectURIs, " ") != strings.Join(want, " ") || c.ID != issuer.AgentAudience {
		t.Errorf("AgentAppClient = %+v; want redirect URIs %v", c, want)
	}
	if c := issuer.AgentAppClient("https://parley.test"); len(c.RedirectURIs) != 1 {
		t.Errorf("AgentAppClient(https://parley.test) = %v; want one redirect URI", c.RedirectURIs)
	}
}

func TestSubjectFor(t *testing.T) {
	tests := map[string]string{
		"Alice":            "alice",
		"  Ada  Lovelace ": "ada-lovelace",
		"O'Brien, Pat":     "o-brien-pat",
		"Åse Ødegård":      "åse-ødegård",
		"agent 7":          "agent-7",
	}
	for in, want := range tests {
		if got := issuer.SubjectFor(in); got != want {
			t.Errorf("SubjectFor(%q) = %q; want %q", in, got, want)
		}
	}
	if a, b := issuer.SubjectFor("!!!"), issuer.SubjectFor("???"); !strings.HasPrefix(a, "user-") || a == b {
		t.Errorf("SubjectFor of names without letters = %q, %q; want distinct user- ids", a, b)
	}
	long := strings.Repeat("x", 300)
	if got := issuer.SubjectFor(long); len(got) > 64 || got == issuer.SubjectFor(long+"y") {
		t.Errorf("SubjectFor(300 x) = %q; want at most 64 characters, distinct from a longer name", got)
	}
}
