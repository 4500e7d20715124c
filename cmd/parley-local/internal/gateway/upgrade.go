package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/gobwas/ws"
)

// maxURLLength is API Gateway's limit on the length, in characters, of the
// URL of a WebSocket API, query string (and so the token) included
// (docs/aws-behaviour.md section 5).
const maxURLLength = 4096

// awsURLLength is the length of the URL a client would dial to make this
// request of the deployed API: the local host and path (ws://127.0.0.1:8080/ws)
// are shorter than AWS's, so measuring them would let through tokens AWS
// refuses.
func (g *Gateway) awsURLLength(r *http.Request) int {
	n := len("wss://") + len(g.cfg.APIID) + len(".execute-api.") + len(g.cfg.Region) + len(".amazonaws.com/") + len(g.cfg.Stage)
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		n += 1 + len(r.URL.RawQuery)
	}
	return n
}

// serveUpgrade accepts a WebSocket connection the way API Gateway does: the
// upgrade waits for the authorizer and $connect, and a refused connection is
// answered with a plain HTTP status, never upgraded.
func (g *Gateway) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if status, msg := checkHandshake(r); status != 0 {
		g.log.Warn("connection refused", "status", status, "reason", msg)
		if status == http.StatusUpgradeRequired {
			w.Header().Set("Sec-WebSocket-Version", "13")
		}
		http.Error(w, msg, status)
		return
	}
	if n := g.awsURLLength(r); n > maxURLLength {
		// API Gateway's quota; which status it answers with is unverified.
		msg := fmt.Sprintf("the connection URL would be %d characters in AWS (wss://{api-id}.execute-api.{region}.amazonaws.com/{stage}?{query}), over API Gateway's %d", n, maxURLLength)
		g.log.Warn("connection refused", "status", http.StatusRequestURITooLong, "reason", msg)
		http.Error(w, msg, http.StatusRequestURITooLong)
		return
	}
	if !g.flight.tryAdd() {
		http.Error(w, "the local gateway is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer g.flight.done()

	// A client that hangs up does not cancel a Lambda invocation in AWS,
	// so the invocations must not inherit the request's cancellation.
	ctx := context.WithoutCancel(r.Context())
	u := newUpgrade(r, at)
	c := &conn{
		g:           g,
		id:          u.connectionID,
		connectedAt: at,
		host:        u.host,
		sourceIP:    u.sourceIP,
		userAgent:   u.userAgent,
		lastActive:  at,
		ready:       make(chan struct{}),
		done:        make(chan struct{}),
	}
	if g.cfg.Authorizer != nil {
		status, authz := g.authorize(ctx, u)
		if status != 0 {
			refuse(w, status)
			return
		}
		c.authorizer = authz
	}

	subprotocol, status := g.connect(ctx, c, u)
	if status != 0 {
		if status != http.StatusBadGateway { // a failed $connect is logged as the integration's failure
			g.log.Warn("connection refused", "status", status, "reason", "$connect answered "+http.StatusText(status), "connectionId", c.id, "requestId", u.requestID)
		}
		if status == http.StatusBadGateway {
			refuse(w, status)
		} else {
			// Only the status reaches the client; API Gateway drops the body.
			w.WriteHeader(status)
		}
		return
	}

	// Registered before the 101 goes out: a client that has seen its
	// upgrade succeed can count on PostToConnection reaching it. Sends wait
	// for c.ready, so nothing is written before the handshake response.
	if !g.register(c) {
		http.Error(w, "the local gateway is shutting down", http.StatusServiceUnavailable)
		if g.hasRoute(RouteConnect) {
			c.end(closeGoingAway, reasonGoingAway) // $connect ran: pair it
		}
		return
	}
	up := ws.HTTPUpgrader{Timeout: writeTimeout}
	if subprotocol != "" {
		up.Header = http.Header{"Sec-WebSocket-Protocol": {subprotocol}}
	}
	nc, rw, _, err := up.Upgrade(r, w)
	if err == nil {
		c.nc, c.br, c.bw = nc, rw.Reader, rw.Writer
	}
	close(c.ready)
	if err != nil {
		g.log.Warn("upgrade failed after $connect accepted", "connectionId", c.id, "error", err)
		if nc != nil {
			_ = nc.Close()
		}
		c.markClosing()
		// $connect has run, so the integration believes the connection
		// exists; $disconnect tells it otherwise.
		c.end(closeAbnormal, "")
		return
	}
	g.flight.add() // the reader; its done is in serve
	go c.serve()
}

func (g *Gateway) hasRoute(key string) bool {
	rt, ok := g.cfg.Routes[key]
	return ok && rt.Function != nil
}

// connect runs $connect. It returns the subprotocol to confirm, or the
// status refusing the upgrade: the integration's own non-2xx status, or 502
// when the function fails or returns something that is not a proxy response
// (a Lambda crash on $connect was reported as 502, serverless-websockets-plugin#13).
func (g *Gateway) connect(ctx context.Context, c *conn, u *upgrade) (subprotocol string, status int) {
	rt, ok := g.cfg.Routes[RouteConnect]
	if !ok || rt.Function == nil {
		return "", 0 // no $connect route: API Gateway accepts every connection
	}
	out, err := g.invoke(ctx, rt.Function, RouteConnect, c.id, u.requestID, c.connectEvent(u))
	if err != nil {
		return "", http.StatusBadGateway
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode < 200 || resp.StatusCode > 599 {
		g.log.Error("$connect returned no usable statusCode", "connectionId", c.id, "requestId", u.requestID,
			"result", truncate(string(out), 200), "error", err)
		return "", http.StatusBadGateway
	}
	if resp.StatusCode/100 != 2 {
		return "", resp.StatusCode
	}
	return responseHeader(resp, "Sec-WebSocket-Protocol"), 0
}

// responseHeader finds a header in a proxy response, case-insensitively,
// in headers or multiValueHeaders.
func responseHeader(resp events.APIGatewayProxyResponse, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range resp.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return strings.Join(v, ", ")
		}
	}
	return ""
}

// checkHandshake rejects requests that are not WebSocket handshakes before
// any function runs, so a stray GET never reaches the authorizer.
func checkHandshake(r *http.Request) (status int, msg string) {
	switch {
	case r.Method != http.MethodGet:
		return http.StatusMethodNotAllowed, "WebSocket handshakes use GET"
	case !r.ProtoAtLeast(1, 1):
		return http.StatusBadRequest, "WebSocket handshakes need HTTP/1.1"
	case !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || !hasToken(r.Header.Get("Connection"), "upgrade"):
		return http.StatusUpgradeRequired, "this is a WebSocket endpoint"
	case len(r.Header.Get("Sec-WebSocket-Key")) != 24:
		return http.StatusBadRequest, "missing or malformed Sec-WebSocket-Key"
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return http.StatusUpgradeRequired, fmt.Sprintf("unsupported Sec-WebSocket-Version %q", r.Header.Get("Sec-WebSocket-Version"))
	}
	return 0, ""
}

func hasToken(header, token string) bool {
	for _, t := range strings.Split(header, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
