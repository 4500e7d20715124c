package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// newID returns an id shaped like API Gateway's connection, request and
// message ids: 11 random bytes in URL-safe base64, 16 characters ending
// in "=". Handlers treat them as opaque, but the shape keeps percent-encoding
// in @connections/{id} paths honest ("=" travels as %3D).
func newID() string {
	var b [11]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.URLEncoding.EncodeToString(b[:])
}

// requestTimeLayout is API Gateway's $context.requestTime format.
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// upgrade is what API Gateway knows about a connection from its upgrade
// request; every later event of the connection repeats part of it.
type upgrade struct {
	connectionID string
	requestID    string // shared by the authorizer and $connect: one HTTP request
	at           time.Time
	host         string // domainName: the Host the client dialled
	sourceIP     string
	userAgent    string
	headers      http.Header // as the integration sees them, X-Forwarded-* added
	query        url.Values
}

func newUpgrade(r *http.Request, at time.Time) *upgrade {
	u := &upgrade{
		connectionID: newID(),
		requestID:    newID(),
		at:           at,
		host:         r.Host,
		sourceIP:     remoteIP(r.RemoteAddr),
		userAgent:    r.UserAgent(),
		headers:      forwardedHeaders(r),
	}
	// API Gateway keeps what it can of a malformed query string; so does
	// ParseQuery, which returns the pairs it understood alongside the error.
	u.query, _ = url.ParseQuery(r.URL.RawQuery)
	return u
}

func remoteIP(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// awsSpelling restores the header names API Gateway passes on verbatim and
// Go's canonicalisation rewrites ("Sec-WebSocket-Key" becomes
// "Sec-Websocket-Key"); other names keep Go's canonical form, which differs
// from the client's spelling only in case.
var awsSpelling = map[string]string{
	"Sec-Websocket-Key":        "Sec-WebSocket-Key",
	"Sec-Websocket-Version":    "Sec-WebSocket-Version",
	"Sec-Websocket-Extensions": "Sec-WebSocket-Extensions",
	"Sec-Websocket-Protocol":   "Sec-WebSocket-Protocol",
}

// forwardedHeaders returns the upgrade request's headers the way API
// Gateway hands them to the authorizer and $connect: with Host, and with the
// X-Forwarded-* and X-Amzn-Trace-Id headers its front end adds.
func forwardedHeaders(r *http.Request) http.Header {
	h := make(http.Header, len(r.Header)+5)
	for k, v := range r.Header {
		if aws, ok := awsSpelling[k]; ok {
			k = aws
		}
		h[k] = append([]string(nil), v...)
	}
	h["Host"] = []string{r.Host}
	ip := remoteIP(r.RemoteAddr)
	if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
		ip = prior + ", " + ip
	}
	h["X-Forwarded-For"] = []string{ip}
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(la.String()); err == nil {
			port = p
		}
	}
	h["X-Forwarded-Proto"] = []string{proto}
	h["X-Forwarded-Port"] = []string{port}
	if r.Header.Get("X-Amzn-Trace-Id") == "" {
		h["X-Amzn-Trace-Id"] = []string{traceID(time.Now())}
	}
	return h
}

// traceID returns an X-Ray trace header: Root=1-{epoch hex}-{96 random bits}.
func traceID(now time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "Root=1-" + strconv.FormatInt(now.Unix(), 16) + "-" + hex.EncodeToString(b[:])
}

// single and multi split a multi-valued map the way API Gateway's proxy
// events do: the single-valued map keeps the last value.
func single(m map[string][]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if len(v) > 0 {
			out[k] = v[len(v)-1]
		}
	}
	return out
}

func multi(m map[string][]string) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// context returns the requestContext fields every event of the connection
// shares; eventType, routeKey and the per-event ids are set by the caller.
func (c *conn) context(routeKey, eventType, requestID string, at time.Time) events.APIGatewayWebsocketProxyRequestContext {
	return events.APIGatewayWebsocketProxyRequestContext{
		RouteKey:          routeKey,
		EventType:         eventType,
		ExtendedRequestID: requestID,
		RequestID:         requestID,
		RequestTime:       at.UTC().Format(requestTimeLayout),
		RequestTimeEpoch:  at.UnixMilli(),
		MessageDirection:  "IN",
		Stage:             c.g.cfg.Stage,
		ConnectedAt:       c.connectedAt.UnixMilli(),
		Identity:          events.APIGatewayRequestIdentity{SourceIP: c.sourceIP, UserAgent: c.userAgent},
		DomainName:        c.host,
		ConnectionID:      c.id,
		APIID:             c.g.cfg.APIID,
		Authorizer:        c.authorizerValue(),
	}
}

// authorizerValue keeps a nil map out of the interface so that omitempty
// drops requestContext.authorizer when there is no authorizer.
func (c *conn) authorizerValue() any {
	if c.authorizer == nil {
		return nil
	}
	return c.authorizer
}

// connectEvent is the $connect event: the client's upgrade headers and
// query string, no body.
func (c *conn) connectEvent(u *upgrade) events.APIGatewayWebsocketProxyRequest {
	return events.APIGatewayWebsocketProxyRequest{
		Headers:                         single(u.headers),
		MultiValueHeaders:               multi(u.headers),
		QueryStringParameters:           single(u.query),
		MultiValueQueryStringParameters: multi(u.query),
		RequestContext:                  c.context(RouteConnect, "CONNECT", u.requestID, u.at),
	}
}

// messageEvent is a MESSAGE event: the frame text and a messageId, no
// headers or query string.
func (c *conn) messageEvent(routeKey, requestID, body string, at time.Time) events.APIGatewayWebsocketProxyRequest {
	rc := c.context(routeKey, "MESSAGE", requestID, at)
	rc.MessageID = newID()
	return events.APIGatewayWebsocketProxyRequest{RequestContext: rc, Body: body}
}

// disconnectEvent is the $disconnect event. Its headers are the four API
// Gateway sends, whatever the client sent on upgrade (X-Forwarded-For is
// empty in recorded events, aws-lambda-go testdata).
func (c *conn) disconnectEvent(requestID string, code int, reason string, at time.Time) events.APIGatewayWebsocketProxyRequest {
	rc := c.context(RouteDisconnect, "DISCONNECT", requestID, at)
	rc.DisconnectStatusCode = int64(code)
	rc.DisconnectReason = &reason
	h := map[string][]string{
		"Host":            {c.host},
		"x-api-key":       {""},
		"X-Forwarded-For": {""},
		"x-restapi":       {""},
	}
	return events.APIGatewayWebsocketProxyRequest{
		Headers:           single(h),
		MultiValueHeaders: h,
		RequestContext:    rc,
	}
}
