package stack

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
)

// Banner is what `make run` prints on start: what is running and where.
func (s *Stack) Banner() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Parley local stack on %s\n\n", s.URL)
	fmt.Fprintf(&b, "  Demo site          %s/  (live chat: %s/?widget=live)\n", s.URL, s.URL)
	fmt.Fprintf(&b, "  Agent app          %s/agent/\n", s.URL)
	fmt.Fprintf(&b, "  Widget             %s/widget.js\n", s.URL)
	fmt.Fprintf(&b, "  Endpoints          %s/local/\n\n", s.URL)
	fmt.Fprintf(&b, "  WebSocket API      %s?token=JWT\n", s.WSURL)
	fmt.Fprintf(&b, "  Management API     %s/@connections/{connectionId}\n", s.URL)
	fmt.Fprintf(&b, "  Token issuer       POST %s/local/token\n", s.URL)
	fmt.Fprintf(&b, "  JWKS               %s\n", s.Issuer.JWKSURL())
	fmt.Fprintf(&b, "  OpenID Connect     %s/.well-known/openid-configuration\n", s.Issuer.AgentIssuer())
	fmt.Fprintf(&b, "  DynamoDB           %s\n", s.dynamoEndpoint())
	fmt.Fprintf(&b, "  Metrics            %s/local/metrics\n", s.URL)
	fmt.Fprintf(&b, "  Health             %s/healthz\n\n", s.URL)
	fmt.Fprintf(&b, "  Routes             %s\n", strings.Join(s.routeKeys(), " "))
	fmt.Fprintf(&b, "  Widgets            persistent, live, persistent-after-hours, live-after-hours\n\n")
	fmt.Fprintf(&b, "Get a token and connect:\n")
	fmt.Fprintf(&b, "  curl -s -X POST %s/local/token -d '{\"role\":\"customer\",\"sub\":\"alice\",\"name\":\"Alice\",\"widget\":\"persistent\"}'\n", s.URL)
	fmt.Fprintf(&b, "  curl -s -X POST %s/local/token -d '{\"role\":\"agent\",\"sub\":\"bob\",\"name\":\"Bob\"}'\n", s.URL)
	fmt.Fprintf(&b, "  then open %s?token=<token> and send {\"action\":\"hello\"}\n", s.WSURL)
	return b.String()
}

func (s *Stack) dynamoEndpoint() string {
	if s.db == nil {
		return s.opts.DynamoDBEndpoint + " (external)"
	}
	return s.URL + "/local/dynamodb (embedded; aws dynamodb --endpoint-url " + s.URL + "/local/dynamodb ...)"
}

func (s *Stack) routeKeys() []string {
	var keys []string
	for _, r := range s.spec.API.Routes {
		keys = append(keys, r.Key)
	}
	sort.Strings(keys)
	return keys
}

var startPage = template.Must(template.New("start").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parley local stack</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}code,pre{background:#f4f4f4;padding:.1rem .3rem}pre{padding:.75rem;overflow:auto}</style>
</head><body>
<h1>Parley local stack</h1>
<p>The WebSocket API, its Lambda handlers, DynamoDB, the conversations stream and the sweep schedule from <code>template.yaml</code>, running in one process.</p>
<h2>Apps</h2>
<ul>
<li><a href="/">Demo customer site</a> with the persistent widget · <a href="/?widget=live">with the live one</a></li>
<li><a href="/agent/">Agent app</a> (sign in with any agent name)</li>
<li>Widget script: <a href="/widget.js"><code>/widget.js</code></a> · agent app settings: <a href="/agent/config.json"><code>/agent/config.json</code></a></li>
</ul>
<h2>Endpoints</h2>
<ul>
<li>WebSocket API: <code>{{.WS}}?token=JWT</code></li>
<li>Token issuer: <code>POST {{.URL}}/local/token</code></li>
<li>JWKS: <a href="/local/.well-known/jwks.json"><code>/local/.well-known/jwks.json</code></a></li>
<li>Agent sign-in (OpenID Connect): <a href="/local/agents/.well-known/openid-configuration"><code>/local/agents/.well-known/openid-configuration</code></a></li>
<li>Demo site's token endpoint: <code>POST {{.URL}}/demo/token</code> with <code>{"name": "Alice", "widget": "persistent"}</code></li>
<li>Management API: <code>{{.URL}}/@connections/{connectionId}</code></li>
<li>DynamoDB: <code>{{.DB}}</code></li>
<li>Metrics: <a href="/local/metrics"><code>/local/metrics</code></a> · Health: <a href="/healthz"><code>/healthz</code></a></li>
</ul>
<h2>Routes</h2>
<p>{{range .Routes}}<code>{{.}}</code> {{end}}</p>
<h2>Try it</h2>
<pre>curl -s -X POST {{.URL}}/local/token -d '{"role":"customer","sub":"alice","name":"Alice","widget":"persistent"}'
curl -s -X POST {{.URL}}/local/token -d '{"role":"agent","sub":"bob","name":"Bob"}'</pre>
<p>Connect to <code>{{.WS}}?token=&lt;token&gt;</code> and send <code>{"action":"hello"}</code>, then
<code>{"action":"send","clientMessageId":"k1","text":"Hello"}</code>.
Seeded widgets: <code>persistent</code>, <code>live</code>, <code>persistent-after-hours</code>, <code>live-after-hours</code>.</p>
</body></html>
`))

func (s *Stack) startPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = startPage.Execute(w, map[string]any{"URL": s.URL, "WS": s.WSURL, "DB": s.dynamoEndpoint(), "Routes": s.routeKeys()})
}
