package issuer

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// The OpenID Connect side of the issuer: the agent app signs in with the
// authorization code flow and PKCE, on the paths Cognito's user pool and
// hosted UI use (under /local), so the app runs one code path locally and
// in AWS. The id_token it gets is the agent's WebSocket token.

// Paths of the OpenID Connect endpoints, as RegisterOIDC mounts them.
const (
	DiscoveryPath = "/local/agents/.well-known/openid-configuration"
	AuthorizePath = "/local/oauth2/authorize"
	TokenPath     = "/local/oauth2/token"
	UserInfoPath  = "/local/oauth2/userInfo"
	LogoutPath    = "/local/logout"
)

const (
	// codeTTL is how long an authorization code may be exchanged; the app
	// exchanges it at once, on the page the code was delivered to.
	codeTTL = 2 * time.Minute
	// idTokenTTL is Cognito's default for ID and access tokens, so the
	// agent app renews locally as it must in AWS.
	idTokenTTL = time.Hour
	// refreshTTL is Cognito's default refresh token lifetime.
	refreshTTL = 30 * 24 * time.Hour
	// maxCodes bounds the codes held for exchange; a sign-in page left to
	// itself cannot fill memory.
	maxCodes = 1000
)

// Client is an app client of the local agent pool, as a Cognito user pool
// app client: a public client (no secret) that must use PKCE.
type Client struct {
	ID           string
	RedirectURIs []string // where authorize may send a code (callback URLs), compared exactly
	LogoutURIs   []string // where logout may send the browser (sign-out URLs)
}

// AgentAppClient is the agent app's registration when Options.Clients is
// empty: served by the local stack at {base}/agent/, on the base URL and on
// its loopback twin (localhost for 127.0.0.1 and back), so the app works
// whichever of the two the browser was pointed at.
func AgentAppClient(base string) Client {
	var uris []string
	for _, b := range loopbackTwins(strings.TrimRight(base, "/")) {
		uris = append(uris, b+"/agent/")
	}
	return Client{ID: AgentAudience, RedirectURIs: uris, LogoutURIs: uris}
}

func loopbackTwins(base string) []string {
	u, err := url.Parse(base)
	if err != nil {
		return []string{base}
	}
	out := []string{base}
	twin := *u
	switch u.Hostname() {
	case "127.0.0.1":
		twin.Host = net.JoinHostPort("localhost", u.Port())
	case "localhost":
		twin.Host = net.JoinHostPort("127.0.0.1", u.Port())
	default:
		return out
	}
	if u.Port() == "" {
		twin.Host = strings.TrimSuffix(twin.Host, ":")
	}
	return append(out, twin.String())
}

// grant is an issued authorization code waiting for its exchange.
type grant struct {
	client, redirectURI, challenge, nonce string
	sub, name                             string
	authTime                              time.Time
	expires                               time.Time
}

// oidcState is the issuer's memory of codes; codes live only in memory, as
// a restart in the middle of a sign-in just means signing in again.
type oidcState struct {
	clients    map[string]Client
	refreshKey []byte
	mu         sync.Mutex
	codes      map[string]grant
}

func (i *Issuer) initOIDC(clients []Client) {
	if len(clients) == 0 {
		clients = []Client{AgentAppClient(i.base)}
	}
	i.oidc.clients = map[string]Client{}
	for _, c := range clients {
		i.oidc.clients[c.ID] = c
	}
	// Refresh tokens are sealed with a key derived from the signing key, so
	// with a Dir they survive restarts as the signing keys do.
	k := sha256.Sum256(append([]byte("parley-local refresh tokens\x00"), i.rsa.D.Bytes()...))
	i.oidc.refreshKey = k[:]
	i.oidc.codes = map[string]grant{}
}

// RegisterOIDC mounts the OpenID Connect endpoints on mux.
func (i *Issuer) RegisterOIDC(mux *http.ServeMux) {
	mux.HandleFunc(DiscoveryPath, i.ServeDiscovery)
	mux.HandleFunc(AuthorizePath, i.ServeAuthorize)
	mux.HandleFunc(TokenPath, i.ServeOAuthToken)
	mux.HandleFunc(UserInfoPath, i.ServeUserInfo)
	mux.HandleFunc(LogoutPath, i.ServeLogout)
}

// cors lets an app served from another origin (a dev server, localhost
// for 127.0.0.1) read the answers, as Cognito's endpoints do. It reports
// whether the request was a preflight, now answered.
func cors(w http.ResponseWriter, r *http.Request, methods string) bool {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", methods)
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// ServeDiscovery answers OpenID Connect discovery with the members
// Cognito's user pools publish (no end_session_endpoint: Cognito signs out
// at {hosted UI}/logout), plus PKCE's and the grants'.
func (i *Issuer) ServeDiscovery(w http.ResponseWriter, r *http.Request) {
	if cors(w, r, "GET, HEAD") {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET"})
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                i.AgentIssuer(),
		"authorization_endpoint":                i.base + AuthorizePath,
		"token_endpoint":                        i.base + TokenPath,
		"userinfo_endpoint":                     i.base + UserInfoPath,
		"jwks_uri":                              i.JWKSURL(),
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"none"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "name", "cognito:username", "iss", "aud", "exp", "iat", "auth_time", "nonce", "token_use"},
	})
}

// authorizeParams are the parameters of an authorization request.
type authorizeParams struct {
	ResponseType, ClientID, RedirectURI, Scope, State string
	Challenge, ChallengeMethod, Nonce                 string
}

func readAuthorize(v url.Values) authorizeParams {
	return authorizeParams{ResponseType: v.Get("response_type"), ClientID: v.Get("client_id"),
		RedirectURI: v.Get("redirect_uri"), Scope: v.Get("scope"), State: v.Get("state"),
		Challenge: v.Get("code_challenge"), ChallengeMethod: v.Get("code_challenge_method"), Nonce: v.Get("nonce")}
}

// challengePattern is RFC 7636's code_challenge (and code_verifier) alphabet.
var challengePattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// check validates p. A request with an unknown client or a redirect_uri
// not registered for it must not be redirected anywhere (RFC 6749 4.1.2.1):
// page is then the text of the error page. Any other fault is redirected
// back to the app as error and description.
func (i *Issuer) checkAuthorize(p authorizeParams) (page string, code, desc string) {
	c, ok := i.oidc.clients[p.ClientID]
	switch {
	case p.ClientID == "":
		return "The sign-in link has no client_id.", "", ""
	case !ok:
		return fmt.Sprintf("No app is registered as client %q.", p.ClientID), "", ""
	case p.RedirectURI == "":
		return "The sign-in link has no redirect_uri.", "", ""
	case !slices.Contains(c.RedirectURIs, p.RedirectURI):
		return fmt.Sprintf("The redirect_uri %q is not registered for %s (registered: %s).", p.RedirectURI, p.ClientID, strings.Join(c.RedirectURIs, ", ")), "", ""
	case p.ResponseType != "code":
		return "", "unsupported_response_type", "response_type must be code"
	case !slices.Contains(strings.Fields(p.Scope), "openid"):
		return "", "invalid_scope", "scope must include openid"
	case p.Challenge == "":
		return "", "invalid_request", "PKCE is required: send code_challenge and code_challenge_method=S256"
	case p.ChallengeMethod != "S256":
		return "", "invalid_request", "code_challenge_method must be S256"
	case !challengePattern.MatchString(p.Challenge):
		return "", "invalid_request", "code_challenge is not a base64url SHA-256"
	}
	return "", "", ""
}

// redirect sends the browser back to the app with params added to its
// redirect_uri's query.
func redirect(w http.ResponseWriter, r *http.Request, to string, params map[string]string) {
	u, err := url.Parse(to)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, v := range params {
		if v != "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// ServeAuthorize is the hosted sign-in page: GET shows a form asking for
// the agent's name, POST signs that agent in and redirects back to the app
// with a one-time code. Any name is accepted: this is a local stand-in for
// Cognito, not a password check. The agent's sub is SubjectFor(name), so
// signing in with the same name is the same agent again.
func (i *Issuer) ServeAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		i.authorizePage(w, http.StatusBadRequest, authorizeView{Fatal: "The sign-in request could not be read."})
		return
	}
	p := readAuthorize(r.Form)
	if page, code, desc := i.checkAuthorize(p); page != "" {
		i.authorizePage(w, http.StatusBadRequest, authorizeView{Fatal: page})
		return
	} else if code != "" {
		redirect(w, r, p.RedirectURI, map[string]string{"error": code, "error_description": desc, "state": p.State})
		return
	}
	if r.Method == http.MethodGet {
		i.authorizePage(w, http.StatusOK, authorizeView{P: p})
		return
	}
	name := strings.Join(strings.Fields(r.PostForm.Get("agent_name")), " ")
	switch {
	case name == "":
		i.authorizePage(w, http.StatusBadRequest, authorizeView{P: p, Error: "Enter your name to sign in."})
		return
	case utf8.RuneCountInString(name) > 128:
		i.authorizePage(w, http.StatusBadRequest, authorizeView{P: p, Name: name, Error: "Use a name of at most 128 characters."})
		return
	}
	code, err := i.issueCode(grant{client: p.ClientID, redirectURI: p.RedirectURI, challenge: p.Challenge, nonce: p.Nonce,
		sub: SubjectFor(name), name: name, authTime: i.now()})
	if err != nil {
		i.authorizePage(w, http.StatusServiceUnavailable, authorizeView{P: p, Name: name, Error: "Too many sign-ins are waiting; try again in a minute."})
		return
	}
	redirect(w, r, p.RedirectURI, map[string]string{"code": code, "state": p.State})
}

func (i *Issuer) issueCode(g grant) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	code := b64.EncodeToString(b)
	now := i.now()
	g.expires = now.Add(codeTTL)
	i.oidc.mu.Lock()
	defer i.oidc.mu.Unlock()
	for k, old := range i.oidc.codes {
		if !now.Before(old.expires) {
			delete(i.oidc.codes, k)
		}
	}
	if len(i.oidc.codes) >= maxCodes {
		return "", errors.New("too many codes")
	}
	i.oidc.codes[code] = g
	return code, nil
}

// takeCode returns the grant of code and forgets it: a code is good once,
// whether or not its exchange succeeds (RFC 6749 4.1.2).
func (i *Issuer) takeCode(code string) (grant, bool) {
	i.oidc.mu.Lock()
	defer i.oidc.mu.Unlock()
	g, ok := i.oidc.codes[code]
	delete(i.oidc.codes, code)
	if !ok || !i.now().Before(g.expires) {
		return grant{}, false
	}
	return g, true
}

type authorizeView struct {
	P     authorizeParams
	Name  string
	Error string // a fault the agent can fix on the page
	Fatal string // a fault of the app's sign-in link: no form
}

var authorizeTemplate = template.Must(template.New("authorize").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in · Parley agents</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f3f4f6;color:#111827}
main{max-width:24rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:.75rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.375rem;margin:0 0 .5rem}p{margin:.5rem 0 1rem;color:#374151}
label{display:block;font-weight:600;margin-bottom:.25rem}
input{box-sizing:border-box;width:100%;font:inherit;padding:.5rem .625rem;border:1px solid #6b7280;border-radius:.375rem}
button{margin-top:1rem;width:100%;font:inherit;font-weight:600;padding:.625rem;border:0;border-radius:.375rem;background:#1d4ed8;color:#fff;cursor:pointer}
button:hover{background:#1e40af}:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.error{color:#991b1b;background:#fef2f2;border:1px solid #fecaca;padding:.5rem .75rem;border-radius:.375rem}
small{display:block;margin-top:1rem;color:#4b5563}
</style></head>
<body><main>
<h1>Sign in to Parley</h1>
{{if .Fatal}}<p class="error" role="alert">{{.Fatal}}</p>
{{else}}<p>Agents of the local stack sign in by name.</p>
{{if .Error}}<p class="error" role="alert" id="error">{{.Error}}</p>{{end}}
<form method="post" action="authorize">
<input type="hidden" name="response_type" value="{{.P.ResponseType}}">
<input type="hidden" name="client_id" value="{{.P.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.P.RedirectURI}}">
<input type="hidden" name="scope" value="{{.P.Scope}}">
<input type="hidden" name="state" value="{{.P.State}}">
<input type="hidden" name="code_challenge" value="{{.P.Challenge}}">
<input type="hidden" name="code_challenge_method" value="{{.P.ChallengeMethod}}">
<input type="hidden" name="nonce" value="{{.P.Nonce}}">
<label for="agent-name">Agent name</label>
<input id="agent-name" name="agent_name" value="{{.Name}}" autocomplete="username" required autofocus{{if .Error}} aria-describedby="error" aria-invalid="true"{{end}}>
<button type="submit">Sign in</button>
</form>
<small>The same name is the same agent. In AWS, Cognito's hosted UI stands here.</small>{{end}}
</main></body></html>
`))

func (i *Issuer) authorizePage(w http.ResponseWriter, status int, v authorizeView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY") // no sign-in page inside another site
	w.WriteHeader(status)
	_ = authorizeTemplate.Execute(w, v)
}

// oauthError answers the token endpoint's errors as RFC 6749 5.2 spells them.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// ServeOAuthToken exchanges a code (with its PKCE verifier) or a refresh
// token for an id_token, an access_token and, for a code, a refresh_token.
func (i *Issuer) ServeOAuthToken(w http.ResponseWriter, r *http.Request) {
	if cors(w, r, "POST") {
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST with a form body")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	if user, _, ok := r.BasicAuth(); ok && clientID == "" {
		clientID = user
	}
	if _, ok := i.oidc.clients[clientID]; !ok {
		oauthError(w, http.StatusUnauthorized, "invalid_client", fmt.Sprintf("unknown client_id %q", clientID))
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		g, ok := i.takeCode(f.Get("code"))
		switch {
		case !ok:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the code is unknown, expired or already used")
		case g.client != clientID:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the code was issued to another client")
		case f.Get("redirect_uri") != g.redirectURI:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's")
		case !verifierMatches(f.Get("code_verifier"), g.challenge):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		default:
			i.tokens(w, g, true)
		}
	case "refresh_token":
		g, err := i.openRefresh(f.Get("refresh_token"), clientID)
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_grant", err.Error())
			return
		}
		i.tokens(w, g, false)
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
	}
}

func verifierMatches(verifier, challenge string) bool {
	if !challengePattern.MatchString(verifier) {
		return false
	}
	h := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(b64.EncodeToString(h[:])), []byte(challenge)) == 1
}

// tokens answers a successful exchange with Cognito's token set: an ID
// token (aud the client id: the agent's WebSocket token), an access token
// (client_id, no aud) and, for a code, a refresh token.
func (i *Issuer) tokens(w http.ResponseWriter, g grant, withRefresh bool) {
	now := i.now()
	id := map[string]any{"iss": i.AgentIssuer(), "aud": g.client, "sub": g.sub, "name": g.name,
		"cognito:username": g.sub, "token_use": "id", "auth_time": g.authTime.Unix(),
		"iat": now.Unix(), "exp": now.Add(idTokenTTL).Unix()}
	if g.nonce != "" {
		id["nonce"] = g.nonce
	}
	access := map[string]any{"iss": i.AgentIssuer(), "client_id": g.client, "sub": g.sub, "username": g.sub,
		"token_use": "access", "scope": "openid profile", "auth_time": g.authTime.Unix(),
		"iat": now.Unix(), "exp": now.Add(idTokenTTL).Unix()}
	idToken, err := i.signJWT("RS256", id)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "could not sign the token")
		return
	}
	accessToken, err := i.signJWT("RS256", access)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "could not sign the token")
		return
	}
	out := map[string]any{"id_token": idToken, "access_token": accessToken, "token_type": "Bearer",
		"expires_in": int(idTokenTTL / time.Second)}
	if withRefresh {
		out["refresh_token"] = i.sealRefresh(g, now)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, out)
}

// refreshClaims is what a refresh token seals. Refresh tokens are not
// JWTs (the "~" keeps them out of any JWT parser), so one can never pass
// for an agent's WebSocket token.
type refreshClaims struct {
	Client string `json:"c"`
	Sub    string `json:"s"`
	Name   string `json:"n"`
	Auth   int64  `json:"a"`
	Exp    int64  `json:"e"`
}

func (i *Issuer) sealRefresh(g grant, now time.Time) string {
	b, _ := json.Marshal(refreshClaims{Client: g.client, Sub: g.sub, Name: g.name, Auth: g.authTime.Unix(), Exp: now.Add(refreshTTL).Unix()})
	payload := b64.EncodeToString(b)
	m := hmac.New(sha256.New, i.oidc.refreshKey)
	m.Write([]byte(payload))
	return payload + "~" + b64.EncodeToString(m.Sum(nil))
}

func (i *Issuer) openRefresh(tok, clientID string) (grant, error) {
	payload, mac, ok := strings.Cut(tok, "~")
	if !ok {
		return grant{}, errors.New("refresh_token is not one this issuer made")
	}
	m := hmac.New(sha256.New, i.oidc.refreshKey)
	m.Write([]byte(payload))
	got, err := b64.DecodeString(mac)
	if err != nil || !hmac.Equal(got, m.Sum(nil)) {
		return grant{}, errors.New("refresh_token is not one this issuer made")
	}
	b, err := b64.DecodeString(payload)
	var c refreshClaims
	if err != nil || json.Unmarshal(b, &c) != nil {
		return grant{}, errors.New("refresh_token is not one this issuer made")
	}
	if c.Client != clientID {
		return grant{}, errors.New("refresh_token was issued to another client")
	}
	if !i.now().Before(time.Unix(c.Exp, 0)) {
		return grant{}, errors.New("refresh_token has expired: sign in again")
	}
	return grant{client: c.Client, sub: c.Sub, name: c.Name, authTime: time.Unix(c.Auth, 0)}, nil
}

// ServeUserInfo answers who the bearer of an access token is.
func (i *Issuer) ServeUserInfo(w http.ResponseWriter, r *http.Request) {
	if cors(w, r, "GET, POST") {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET"})
		return
	}
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "send the access token as Authorization: Bearer"})
		return
	}
	c, err := i.verifyOwn(strings.TrimSpace(tok))
	if err == nil && (c["token_use"] != "access" || c["iss"] != i.AgentIssuer()) {
		err = errors.New("not an access token of this issuer")
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": err.Error()})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"sub": c["sub"], "username": c["username"], "name": i.nameOf(c)})
}

// nameOf is the display name of an access token's user: access tokens do
// not carry one, and local names are where subs come from.
func (i *Issuer) nameOf(c map[string]any) any {
	if n, ok := c["name"]; ok {
		return n
	}
	return c["username"]
}

// verifyOwn checks an RS256 token this issuer signed and returns its claims
// when it has not expired.
func (i *Issuer) verifyOwn(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	hb, err1 := b64.DecodeString(parts[0])
	cb, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, errors.New("not a JWT")
	}
	var h struct{ Alg, Kid string }
	if json.Unmarshal(hb, &h) != nil || h.Alg != "RS256" || h.Kid != i.rsaKID {
		return nil, errors.New("not signed by this issuer")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&i.rsa.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return nil, errors.New("bad signature")
	}
	var c map[string]any
	if json.Unmarshal(cb, &c) != nil {
		return nil, errors.New("claims are not a JSON object")
	}
	exp, _ := c["exp"].(float64)
	if !i.now().Before(time.Unix(int64(exp), 0)) {
		return nil, errors.New("token expired")
	}
	return c, nil
}

// ServeLogout ends the hosted UI's session, as Cognito's /logout does:
// with a registered logout_uri the browser goes back there. The local
// sign-in page keeps no session, so there is nothing else to forget.
func (i *Issuer) ServeLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	c, ok := i.oidc.clients[q.Get("client_id")]
	to := q.Get("logout_uri")
	switch {
	case !ok:
		i.authorizePage(w, http.StatusBadRequest, authorizeView{Fatal: fmt.Sprintf("No app is registered as client %q.", q.Get("client_id"))})
	case to == "":
		i.authorizePage(w, http.StatusOK, authorizeView{Fatal: "You are signed out."})
	case !slices.Contains(c.LogoutURIs, to):
		i.authorizePage(w, http.StatusBadRequest, authorizeView{Fatal: fmt.Sprintf("The logout_uri %q is not registered for %s.", to, c.ID)})
	default:
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, to, http.StatusFound)
	}
}

// SubjectFor is the stable id the local stack gives a person it knows only
// by name (an agent signing in, a demo site's visitor): the name in lower
// case with every run of other characters made one "-", so "Ada Lovelace"
// is ada-lovelace, every time. A name with no letter or digit gets
// "user-" and a hash of it.
func SubjectFor(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	s := b.String()
	if s == "" || utf8.RuneCountInString(s) > 64 {
		h := sha256.Sum256([]byte(name))
		prefix := []rune(s)
		if len(prefix) > 48 {
			prefix = prefix[:48]
		}
		if len(prefix) == 0 {
			return fmt.Sprintf("user-%x", h[:6])
		}
		return fmt.Sprintf("%s-%x", string(prefix), h[:4])
	}
	return s
}
