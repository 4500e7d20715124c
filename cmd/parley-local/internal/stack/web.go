package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/cmd/parley-local/internal/issuer"
)

// The web side of the local stack: the agent app at /agent/ (its runtime
// settings at /agent/config.json), the customer widget at /widget.js, a
// demo customer site at / that embeds it (and mints its visitors' tokens
// server side at POST /demo/token, as a real site would), the start page
// at /local/, and the agent issuer's OpenID Connect endpoints.
//
// The apps are served from Options.Web as built: agent/dist, widget/dist
// and demo. Whatever is not built is answered with a page saying how to
// build it, never an error.

// webRoutes registers the web side on mux.
func (s *Stack) webRoutes(mux *http.ServeMux) {
	s.Issuer.RegisterOIDC(mux)
	mux.HandleFunc("GET /local/{$}", s.startPage)
	mux.HandleFunc("GET /{$}", s.serveDemo)
	mux.HandleFunc("GET /demo/{file...}", s.serveDemoAsset)
	mux.HandleFunc("POST /demo/token", s.serveDemoToken)
	mux.HandleFunc("GET /widget.js", s.serveWidget)
	mux.HandleFunc("GET /agent/config.json", s.serveAgentConfig)
	mux.HandleFunc("GET /agent/{path...}", s.serveAgent)
	mux.Handle("GET /agent", http.RedirectHandler("/agent/", http.StatusMovedPermanently))
}

// webPath is a file of the built web apps ("" when there is no web folder).
func (s *Stack) webPath(parts ...string) string {
	if s.opts.Web == "" {
		return ""
	}
	return filepath.Join(append([]string{s.opts.Web}, parts...)...)
}

// serveFile serves name from within root (no path escapes root), with
// cache as its Cache-Control. It reports false, having written nothing,
// when there is no such file.
func serveFile(w http.ResponseWriter, r *http.Request, root, name, cache string) bool {
	if root == "" {
		return false
	}
	f, err := os.OpenInRoot(root, name)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		return false
	}
	w.Header().Set("Cache-Control", cache)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
	return true
}

// The built apps change on every build: revalidate, except the agent
// app's hashed assets, which never change under their name.
const (
	revalidate = "no-cache"
	immutable  = "public, max-age=31536000, immutable"
)

var notBuiltPage = template.Must(template.New("notbuilt").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.What}} is not built · Parley local stack</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#111827}code,pre{background:#f3f4f6;padding:.1rem .3rem;border-radius:.25rem}pre{padding:.75rem;overflow:auto}</style>
</head><body><main>
<h1>{{.What}} is not built</h1>
<p>The local stack serves the web apps from <code>{{.Dir}}</code>, and <code>{{.Missing}}</code> is not there.
Build them (Node.js 20 or later and npm) from the repository's root:</p>
<pre>make build</pre>
<p>or only the web apps:</p>
<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>then reload this page. <code>make run</code> builds them before it starts the stack; <code>--web</code> names another folder.
The rest of the stack is running: see <a href="/local/">its endpoints</a>.</p>
</main></body></html>
`))

// notBuilt answers for an app that is not built: 404 with a page that says
// how to build it.
func (s *Stack) notBuilt(w http.ResponseWriter, what, missing string) {
	dir := s.opts.Web
	if dir == "" {
		dir = "(no folder: --web is empty)"
	} else if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	_ = notBuiltPage.Execute(w, map[string]string{"What": what, "Dir": dir, "Missing": missing})
}

func (s *Stack) built(parts ...string) bool {
	p := s.webPath(parts...)
	if p == "" {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// serveDemo serves the demo customer site, which is only a demo with the
// widget it embeds.
func (s *Stack) serveDemo(w http.ResponseWriter, r *http.Request) {
	if !s.built("widget", "dist", "widget.js") {
		s.notBuilt(w, "The customer widget", "widget/dist/widget.js")
		return
	}
	if !serveFile(w, r, s.webPath("demo"), "index.html", revalidate) {
		s.notBuilt(w, "The demo site", "demo/index.html")
	}
}

func (s *Stack) serveDemoAsset(w http.ResponseWriter, r *http.Request) {
	if !serveFile(w, r, s.webPath("demo"), r.PathValue("file"), revalidate) {
		http.NotFound(w, r)
	}
}

// serveWidget serves the customer widget's one script. Not built, it is a
// script that says so in the console, so a page embedding it still loads.
func (s *Stack) serveWidget(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*") // any site may embed it
	if serveFile(w, r, s.webPath("widget", "dist"), "widget.js", revalidate) {
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintln(w, `// The Parley widget is not built: run "make build" (or "cd web && npm ci && npm run build") and reload.`)
	fmt.Fprintln(w, `console.error("Parley widget is not built: run \"make build\" in the repository, then reload.");`)
}

// agentConfig is the agent app's runtime settings (PROTOCOL.md 7): in AWS
// the same file names the API Gateway URL and the Cognito user pool.
type agentConfig struct {
	WebSocketURL string `json:"websocketUrl"`
	Authority    string `json:"authority"`
	ClientID     string `json:"clientId"`
}

func (s *Stack) serveAgentConfig(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, agentConfig{WebSocketURL: s.WSURL, Authority: s.Issuer.AgentIssuer(), ClientID: issuer.AgentAudience})
}

// serveAgent serves the agent app, a single-page app: a path that names no
// file (a route of the app, the sign-in callback) gets its index.html.
func (s *Stack) serveAgent(w http.ResponseWriter, r *http.Request) {
	root := s.webPath("agent", "dist")
	if !s.built("agent", "dist", "index.html") {
		s.notBuilt(w, "The agent app", "agent/dist/index.html")
		return
	}
	name := path.Clean("/" + r.PathValue("path"))[1:]
	cache := revalidate
	if strings.HasPrefix(name, "assets/") {
		cache = immutable
	}
	if name == "index.html" {
		name = ""
	}
	if name != "" && serveFile(w, r, root, name, cache) {
		return
	}
	if name != "" && strings.Contains(path.Base(name), ".") {
		http.NotFound(w, r) // a missing asset, not a route of the app
		return
	}
	serveFile(w, r, root, "index.html", revalidate)
}

// demoTokenRequest is what the demo site's page sends its own server.
type demoTokenRequest struct {
	Name   string `json:"name"`
	Widget string `json:"widget"`
}

// serveDemoToken is the demo site's server side: it vouches for the
// visitor by name, as a real site vouches for its signed-in customer, and
// mints the customer token through the local issuer. The same name is the
// same customer (sub = issuer.SubjectFor(name)), which is what lets a
// visitor come back to a persistent chat.
func (s *Stack) serveDemoToken(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"})
		return
	}
	var req demoTokenRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be JSON: {"name": "Alice", "widget": "persistent"}`})
		return
	}
	name := strings.Join(strings.Fields(req.Name), " ")
	if req.Widget == "" {
		req.Widget = "persistent"
	}
	switch {
	case name == "":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "name is required"})
		return
	case utf8.RuneCountInString(name) > 128:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "name must be at most 128 characters"})
		return
	case !seededWidget(req.Widget):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("unknown widget %q", req.Widget)})
		return
	}
	token, err := s.Issuer.Mint(issuer.TokenRequest{Role: "customer", Sub: issuer.SubjectFor(name), Name: name, Widget: req.Widget})
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, issuer.ErrInvalidRequest) {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func seededWidget(id string) bool {
	for _, s := range seeded {
		if s.widget == id {
			return true
		}
	}
	return false
}
