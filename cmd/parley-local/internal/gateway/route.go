package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/parley-chat/parley/cmd/parley-local/internal/invoke"
	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

// selector evaluates a route selection expression of the form
// $request.body.a.b (or ${request.body.a.b}): a JSONPath into the message.
type selector struct {
	path []string // nil: unsupported expression, every message goes to $default
}

func parseSelection(expr string) (selector, error) {
	e := strings.TrimSpace(expr)
	if strings.HasPrefix(e, "${") && strings.HasSuffix(e, "}") {
		e = "$" + e[2:len(e)-1]
	}
	const prefix = "$request.body."
	if !strings.HasPrefix(e, prefix) || len(e) == len(prefix) {
		return selector{}, fmt.Errorf("parse route selection expression %q: want $request.body.<path>", expr)
	}
	path := strings.Split(e[len(prefix):], ".")
	for _, p := range path {
		if p == "" {
			return selector{}, fmt.Errorf("parse route selection expression %q: empty path segment", expr)
		}
	}
	return selector{path: path}, nil
}

// key returns the stringified value at the selector's path, or "" when the
// body is not JSON or the path is missing: both end at $default.
func (s selector) key(body string) string {
	k, _ := s.keyOf(body)
	return k
}

// keyOf is key, also returning the body decoded (nil when it is not JSON).
func (s selector) keyOf(body string) (string, any) {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber() // stringify numbers as written: {"action": 1.50} selects "1.50"
	var doc any
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return "", nil
	}
	if s.path == nil {
		return "", doc
	}
	return s.at(doc), doc
}

func (s selector) at(v any) string {
	for _, p := range s.path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		if v, ok = m[p]; !ok {
			return ""
		}
	}
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	default: // object or array: its JSON text, which no sane route key equals
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// routeFor picks the integration for a selection result. Custom keys cannot
// start with "$", so "$disconnect" as an action must not reach $disconnect.
func (g *Gateway) routeFor(key string) (string, Route, bool) {
	if key != "" && !strings.HasPrefix(key, "$") {
		if rt, ok := g.cfg.Routes[key]; ok && rt.Function != nil {
			return key, rt, true
		}
	}
	rt, ok := g.cfg.Routes[RouteDefault]
	return RouteDefault, rt, ok && rt.Function != nil
}

// API Gateway's error frame texts for a frame the gateway will not pass on
// (which texts it uses for these is unverified).
const (
	msgThrottled    = "Too Many Requests"
	msgShuttingDown = "Going away"
)

// dispatch routes one complete text message. Invocations of one
// connection run concurrently, as in API Gateway, so a slow handler does
// not hold up the next frame, up to Limits.Inflight at once; a frame over
// that, or one that arrives once Shutdown has begun, is answered with an
// error frame at once. Shutdown waits for the invocations through flight
// and routes.
func (c *conn) dispatch(body string, at time.Time) {
	g := c.g
	if !g.routes.tryAdd() {
		c.sendError(msgShuttingDown, newID())
		return
	}
	if !c.takeSlot() {
		g.routes.done()
		g.log.Debug("frame throttled", "connectionId", c.id, "inflight", g.limits.Inflight)
		c.sendError(msgThrottled, newID())
		return
	}
	g.flight.add()
	go func() {
		defer g.flight.done()
		defer g.routes.done()
		defer c.releaseSlot()
		c.route(body, at)
	}()
}

// takeSlot counts one more invocation running for c, unless c has
// Limits.Inflight running already.
func (c *conn) takeSlot() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight >= c.g.limits.Inflight {
		return false
	}
	c.inflight++
	return true
}

func (c *conn) releaseSlot() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight--
}

func (c *conn) route(body string, at time.Time) {
	g := c.g
	requestID := newID()
	selected, doc := g.sel.keyOf(body)
	key, rt, ok := g.routeFor(selected)
	if !ok {
		g.log.Info("no route matched and there is no $default", "connectionId", c.id, "requestId", requestID)
		c.sendError("Forbidden", requestID)
		return
	}
	// Background: the invocation outlives the connection, as a Lambda does.
	// The client's own request id, when the frame has one, labels the
	// invocation so a client can find what its request cost.
	ctx := context.Background()
	if m, ok := doc.(map[string]any); ok {
		if id, ok := m["requestId"].(string); ok {
			ctx = metrics.WithClientRequestID(ctx, id)
		}
	}
	out, err := g.invoke(ctx, rt.Function, key, c.id, requestID, c.messageEvent(key, requestID, body, at))
	if err != nil {
		c.sendError("Internal server error", requestID)
		return
	}
	if !rt.RouteResponse {
		return // one-way route: API Gateway drops the return value
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		g.log.Error("route response is not a proxy response", "route", key, "connectionId", c.id, "requestId", requestID, "error", err)
		c.sendError("Internal server error", requestID)
		return
	}
	reply := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if reply, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			g.log.Error("route response body is not base64", "route", key, "connectionId", c.id, "requestId", requestID, "error", err)
			c.sendError("Internal server error", requestID)
			return
		}
	}
	if len(reply) == 0 {
		return
	}
	if err := c.send(reply); err != nil {
		g.log.Info("route response not delivered", "route", key, "connectionId", c.id, "requestId", requestID, "error", err)
	}
}

// sendError sends API Gateway's error frame, spelled as API Gateway spells
// it (note the space after the first colon only).
func (c *conn) sendError(message, requestID string) {
	frame := fmt.Sprintf(`{"message": %s, "connectionId":%s, "requestId":%s}`,
		jsonString(message), jsonString(c.id), jsonString(requestID))
	if err := c.send([]byte(frame)); err != nil {
		c.g.log.Info("error frame not delivered", "connectionId", c.id, "requestId", requestID, "error", err)
	}
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// invoke runs fn on event and writes the per-invocation log line: route,
// connectionId, requestId (API Gateway's) and duration.
func (g *Gateway) invoke(ctx context.Context, fn *invoke.Function, route, connectionID, requestID string, event any) ([]byte, error) {
	return g.invokeAs(ctx, metrics.SourceRoute, fn, route, connectionID, requestID, event)
}

// invokeAs is invoke for an invocation of the given source (a route's
// integration or the authorizer), labelled so its requests are credited
// to it.
func (g *Gateway) invokeAs(ctx context.Context, source string, fn *invoke.Function, route, connectionID, requestID string, event any) ([]byte, error) {
	ctx = metrics.WithLabels(ctx, metrics.Labels{Source: source, RouteKey: route, ConnectionID: connectionID,
		ClientRequestID: metrics.ClientRequestID(ctx)})
	payload, err := json.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("encode %s event for %s: %w", route, connectionID, err)
	}
	start := time.Now()
	out, lambdaRequestID, err := fn.Invoke(ctx, payload)
	attrs := []any{
		"route", route, "connectionId", connectionID, "requestId", requestID,
		"function", fn.Name, "lambdaRequestId", lambdaRequestID, "duration", time.Since(start),
	}
	if err != nil {
		if source != metrics.SourceAuthorizer || !isUnauthorized(err) {
			g.log.ErrorContext(ctx, "integration failed", append(attrs, "error", err.Error())...)
		} // an authorizer's refusal is no failure: authorize logs it as one
		return nil, fmt.Errorf("invoke %s for %s on %s: %w", fn.Name, route, connectionID, err)
	}
	g.log.InfoContext(ctx, "integration done", attrs...)
	return out, nil
}
