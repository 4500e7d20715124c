package stack

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/cmd/parley-local/internal/issuer"
)

// get fetches path from the stack without following redirects.
func get(t *testing.T, s *Stack, path string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// webFolder lays out a built web folder with the given files.
func webFolder(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestWebNotBuilt(t *testing.T) {
	for name, web := range map[string]string{"no folder": "", "empty folder": t.TempDir()} {
		t.Run(name, func(t *testing.T) {
			s := startStack(t, embedded, func(o *Options) { o.Web = web })
			for _, path := range []string{"/", "/agent/", "/agent/conversations/c_1"} {
				resp, body := get(t, s, path)
				if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
					!strings.Contains(body, "is not built") || !strings.Contains(body, "make build") || !strings.Contains(body, "npm ci") {
					t.Errorf("GET %s without built apps = %d %s\n%s\nwant 404 with a page saying how to build them", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
				}
			}
			resp, body := get(t, s, "/widget.js")
			if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(body, "make build") {
				t.Errorf("GET /widget.js without a build = %d %s %q; want 404, a script saying how to build it", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			// What needs no build is served all the same.
			if resp, body := get(t, s, "/local/"); resp.StatusCode != 200 || !strings.Contains(body, "/local/token") || !strings.Contains(body, `href="/agent/"`) {
				t.Errorf("GET /local/ = %d; want the start page with the endpoints and the apps\n%s", resp.StatusCode, body)
			}
			if resp, _ := get(t, s, "/agent/config.json"); resp.StatusCode != 200 {
				t.Errorf("GET /agent/config.json = %d; want 200", resp.StatusCode)
			}
		})
	}
}

func TestWebServesBuiltApps(t *testing.T) {
	web := webFolder(t, map[string]string{
		"agent/dist/index.html":            "<!doctype html><title>agent app</title>",
		"agent/dist/assets/index-abc12.js": "console.log('app')",
		"agent/dist/favicon.svg":           "<svg/>",
		"widget/dist/widget.js":            "customElements.define('parley-chat', class extends HTMLElement {})",
		"demo/index.html":                  "<!doctype html><title>demo</title>",
		"demo/demo.css":                    "body{}",
		"secret.txt":                       "not for the web",
	})
	s := startStack(t, embedded, func(o *Options) { o.Web = web })
	tests := []struct {
		path, status, contentType, cache, body string
	}{
		{"/", "200", "text/html", "no-cache", "<title>demo</title>"},
		{"/?widget=live", "200", "text/html", "no-cache", "<title>demo</title>"},
		{"/demo/demo.css", "200", "text/css", "no-cache", "body{}"},
		{"/demo/missing.css", "404", "", "", ""},
		{"/widget.js", "200", "text/javascript", "no-cache", "parley-chat"},
		{"/agent/", "200", "text/html", "no-cache", "<title>agent app</title>"},
		{"/agent/index.html", "200", "text/html", "no-cache", "<title>agent app</title>"},
		{"/agent/conversations/c_1", "200", "text/html", "no-cache", "<title>agent app</title>"},
		{"/agent/?code=abc&state=xyz", "200", "text/html", "no-cache", "<title>agent app</title>"},
		{"/agent/assets/index-abc12.js", "200", "text/javascript", "immutable", "console.log"},
		{"/agent/favicon.svg", "200", "image/svg+xml", "no-cache", "<svg/>"},
		{"/agent/assets/gone-1.js", "404", "", "", ""},
		{"/agent/../secret.txt", "307", "", "", ""}, // the mux cleans the path: /secret.txt, none of ours
		{"/agent/%2e%2e/secret.txt", "404", "", "", ""},
		{"/agent/assets/..%2f..%2f..%2fsecret.txt", "404", "", "", ""},
		{"/agent", "301", "", "", ""},
	}
	for _, tt := range tests {
		resp, body := get(t, s, tt.path)
		if got := resp.Status[:3]; got != tt.status {
			t.Errorf("GET %s = %s; want %s", tt.path, resp.Status, tt.status)
			continue
		}
		if strings.Contains(body, "not for the web") {
			t.Errorf("GET %s served a file outside the apps' folders", tt.path)
		}
		if tt.status != "200" {
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
			t.Errorf("GET %s Content-Type = %q; want %s", tt.path, ct, tt.contentType)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, tt.cache) {
			t.Errorf("GET %s Cache-Control = %q; want %s", tt.path, cc, tt.cache)
		}
		if !strings.Contains(body, tt.body) {
			t.Errorf("GET %s = %q; want it to contain %q", tt.path, body, tt.body)
		}
	}
	if resp, _ := get(t, s, "/agent"); resp.Header.Get("Location") != "/agent/" {
		t.Errorf("GET /agent redirects to %q; want /agent/", resp.Header.Get("Location"))
	}
}

func TestAgentConfig(t *testing.T) {
	s := startStack(t, embedded)
	resp, body := get(t, s, "/agent/config.json")
	var cfg map[string]string
	if err := json.Unmarshal([]byte(body), &cfg); err != nil {
		t.Fatalf("GET /agent/config.json = %s: %v", body, err)
	}
	want := map[string]string{"websocketUrl": s.WSURL, "authority": s.Issuer.AgentIssuer(), "clientId": issuer.AgentAudience}
	if len(cfg) != len(want) {
		t.Errorf("config.json = %v; want exactly %v", cfg, want)
	}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("config.json %s = %q; want %q", k, cfg[k], v)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("config.json Cache-Control = %q; want no-store (it follows the stack's address)", resp.Header.Get("Cache-Control"))
	}
}

func postDemoToken(t *testing.T, s *Stack, body string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Post(s.URL+"/demo/token", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// The demo site's server side mints a customer token through the issuer:
// the typed name is the name claim, and the same name the same customer.
func TestDemoToken(t *testing.T) {
	s := startStack(t)
	status, out := postDemoToken(t, s, `{"name":"  Ada   Lovelace ","widget":"live"}`)
	if status != 200 || out["token"] == "" {
		t.Fatalf("POST /demo/token = %d %v; want a token", status, out)
	}
	c := s.dial(t, "ada", out["token"])
	session := c.OK("hello", nil)
	if u := obj(session["user"]); u["id"] != "ada-lovelace" || u["name"] != "Ada Lovelace" || session["role"] != "customer" {
		t.Errorf("hello with the demo token = %v; want customer ada-lovelace named Ada Lovelace", session)
	}
	c.Close()

	status, out = postDemoToken(t, s, `{"name":"Ada Lovelace"}`)
	if status != 200 {
		t.Fatalf("POST /demo/token without widget = %d %v; want 200 (persistent)", status, out)
	}
	c = s.dial(t, "ada-persistent", out["token"])
	if u := obj(c.OK("hello", nil)["user"]); u["id"] != "ada-lovelace" {
		t.Errorf("hello = %v; want the same customer ada-lovelace", u)
	}
	c.Close()

	for _, body := range []string{`{"name":""}`, `{"name":"   "}`, `{"widget":"live"}`, `{"name":"Ada","widget":"nope"}`, `not json`,
		`{"name":"` + strings.Repeat("a", 200) + `"}`} {
		if status, out := postDemoToken(t, s, body); status != 400 || out["error"] == "" || out["token"] != "" {
			t.Errorf("POST /demo/token %s = %d %v; want 400 with an error", body, status, out)
		}
	}
	if resp, _ := get(t, s, "/demo/token"); resp.StatusCode == 200 {
		t.Errorf("GET /demo/token = %d; want it refused", resp.StatusCode)
	}
}

// An agent signs in through the stack's hosted sign-in page as the agent
// app does and connects with the id_token.
func TestAgentSignInOnTheStack(t *testing.T) {
	s := startStack(t)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, body := get(t, s, "/local/agents/.well-known/openid-configuration")
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("discovery = %d %s", resp.StatusCode, body)
	}
	if doc["issuer"] != s.Issuer.AgentIssuer() {
		t.Fatalf("discovery issuer = %v; want %s", doc["issuer"], s.Issuer.AgentIssuer())
	}
	verifier := strings.Repeat("v3rifier-", 6)
	sum := sha256.Sum256([]byte(verifier))
	redirect := s.URL + "/agent/"
	form := url.Values{"response_type": {"code"}, "client_id": {issuer.AgentAudience}, "redirect_uri": {redirect}, "scope": {"openid profile"},
		"state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "agent_name": {"Grace Hopper"}}
	r, err := c.PostForm(doc["authorization_endpoint"].(string), form)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != 302 || !strings.HasPrefix(loc.String(), redirect) {
		t.Fatalf("sign in = %d to %s; want a redirect to the agent app", r.StatusCode, loc)
	}
	r, err = c.PostForm(doc["token_endpoint"].(string), url.Values{"grant_type": {"authorization_code"}, "client_id": {issuer.AgentAudience},
		"code": {loc.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatal(err)
	}
	var tokens map[string]any
	_ = json.NewDecoder(r.Body).Decode(&tokens)
	r.Body.Close()
	idToken, _ := tokens["id_token"].(string)
	if r.StatusCode != 200 || idToken == "" {
		t.Fatalf("exchange = %d %v", r.StatusCode, tokens)
	}
	agent := s.dial(t, "grace", idToken)
	session := agent.OK("hello", nil)
	if u := obj(session["user"]); session["role"] != "agent" || u["id"] != "grace-hopper" || u["name"] != "Grace Hopper" {
		t.Errorf("hello with the id_token = %v; want agent grace-hopper named Grace Hopper", session)
	}
}
