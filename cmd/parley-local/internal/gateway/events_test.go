package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"
)

// The key sets below are those of aws-lambda-go v1.55.1's recorded events,
// events/testdata/apigw-websocket-request-send-message.json and
// apigw-websocket-request-disconnect.json, and of the CONNECT and
// authorizer inputs in the AWS developer guide (docs/aws-behaviour.md sections 1, 2).
var (
	baseContextKeys = []string{"routeKey", "eventType", "extendedRequestId", "requestTime", "messageDirection",
		"stage", "connectedAt", "requestTimeEpoch", "identity", "requestId", "domainName", "connectionId", "apiId"}
	connectKeys    = sorted("headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters", "requestContext", "isBase64Encoded")
	messageKeys    = sorted("requestContext", "body", "isBase64Encoded")
	disconnectKeys = sorted("headers", "multiValueHeaders", "requestContext", "isBase64Encoded")
	authorizerKeys = sorted("type", "methodArn", "headers", "multiValueHeaders", "queryStringParameters",
		"multiValueQueryStringParameters", "stageVariables", "requestContext")
)

func contextKeys(extra ...string) []string {
	return sorted(append(append([]string(nil), baseContextKeys...), extra...)...)
}

// lifecycle dials, sends one message and closes, recording every event.
type lifecycle struct {
	connect, message, disconnect json.RawMessage
	dialedAt                     time.Time
}

func runLifecycle(t *testing.T, cfg Config, query string, header http.Header) lifecycle {
	t.Helper()
	connect, message, disconnect := newRecorder(), newRecorder(), newRecorder()
	cfg.Routes = map[string]Route{
		RouteConnect:    {Function: fn("Connect", connect.handler(200))},
		RouteDisconnect: {Function: fn("Disconnect", disconnect.handler(200))},
		"send":          {Function: fn("Send", message.handler(200))},
	}
	s := newStack(t, cfg)
	var lc lifecycle
	lc.dialedAt = time.Now()
	c := s.dial(t, query, &websocket.DialOptions{HTTPHeader: header})
	write(t, c, `{"action":"send","text":"hi"}`)
	lc.connect, lc.message = connect.next(t), message.next(t)
	if err := c.Close(4000, "bye"); err != nil {
		t.Fatalf("Close(4000) = %v", err)
	}
	lc.disconnect = disconnect.next(t)
	return lc
}

func TestEventShapes(t *testing.T) {
	header := http.Header{"User-Agent": {"parley-test/1"}, "X-Custom": {"a"}}
	lc := runLifecycle(t, Config{}, "name=me&x=1&x=2", header)

	t.Run("CONNECT", func(t *testing.T) {
		if got := keys(t, lc.connect); !reflect.DeepEqual(got, connectKeys) {
			t.Errorf("CONNECT keys = %v; want %v", got, connectKeys)
		}
		if got, want := keys(t, field(t, lc.connect, "requestContext")), contextKeys(); !reflect.DeepEqual(got, want) {
			t.Errorf("CONNECT requestContext keys = %v; want %v", got, want)
		}
		ev := decodeEvent(t, lc.connect)
		rc := ev.RequestContext
		checkCommon(t, "CONNECT", rc, lc.dialedAt)
		if rc.RouteKey != "$connect" || rc.EventType != "CONNECT" {
			t.Errorf("CONNECT routeKey, eventType = %q, %q; want $connect, CONNECT", rc.RouteKey, rc.EventType)
		}
		if rc.ConnectedAt != rc.RequestTimeEpoch {
			t.Errorf("CONNECT connectedAt = %d; want requestTimeEpoch %d", rc.ConnectedAt, rc.RequestTimeEpoch)
		}
		if got := ev.QueryStringParameters; !reflect.DeepEqual(got, map[string]string{"name": "me", "x": "2"}) {
			t.Errorf("CONNECT queryStringParameters = %v; want name=me, x=2 (the last value)", got)
		}
		if got := ev.MultiValueQueryStringParameters["x"]; !reflect.DeepEqual(got, []string{"1", "2"}) {
			t.Errorf("CONNECT multiValueQueryStringParameters[x] = %v; want [1 2]", got)
		}
		for name, want := range map[string]string{
			"X-Custom":              "a",
			"User-Agent":            "parley-test/1",
			"Sec-WebSocket-Version": "13",
			"X-Forwarded-For":       "127.0.0.1",
			"X-Forwarded-Proto":     "http",
		} {
			if got := ev.Headers[name]; got != want {
				t.Errorf("CONNECT headers[%s] = %q; want %q", name, got, want)
			}
			if got := ev.MultiValueHeaders[name]; !reflect.DeepEqual(got, []string{want}) {
				t.Errorf("CONNECT multiValueHeaders[%s] = %q; want [%q]", name, got, want)
			}
		}
		if ev.Headers["Host"] != rc.DomainName || ev.Headers["Sec-WebSocket-Key"] == "" || !strings.HasPrefix(ev.Headers["X-Amzn-Trace-Id"], "Root=1-") {
			t.Errorf("CONNECT headers = %v; want Host, Sec-WebSocket-Key and X-Amzn-Trace-Id as API Gateway passes them", ev.Headers)
		}
		if ev.Body != "" || ev.IsBase64Encoded {
			t.Errorf("CONNECT body, isBase64Encoded = %q, %v; want none, false", ev.Body, ev.IsBase64Encoded)
		}
	})

	connect := decodeEvent(t, lc.connect).RequestContext

	t.Run("MESSAGE", func(t *testing.T) {
		if got := keys(t, lc.message); !reflect.DeepEqual(got, messageKeys) {
			t.Errorf("MESSAGE keys = %v; want %v", got, messageKeys)
		}
		if got, want := keys(t, field(t, lc.message, "requestContext")), contextKeys("messageId"); !reflect.DeepEqual(got, want) {
			t.Errorf("MESSAGE requestContext keys = %v; want %v", got, want)
		}
		ev := decodeEvent(t, lc.message)
		rc := ev.RequestContext
		checkCommon(t, "MESSAGE", rc, lc.dialedAt)
		if rc.RouteKey != "send" || rc.EventType != "MESSAGE" {
			t.Errorf("MESSAGE routeKey, eventType = %q, %q; want send, MESSAGE", rc.RouteKey, rc.EventType)
		}
		if id, _ := rc.MessageID.(string); !idPattern.MatchString(id) || id == rc.RequestID {
			t.Errorf("MESSAGE messageId = %v; want its own API Gateway id", rc.MessageID)
		}
		if rc.ConnectionID != connect.ConnectionID || rc.ConnectedAt != connect.ConnectedAt {
			t.Errorf("MESSAGE connectionId, connectedAt = %s, %d; want the connection's %s, %d",
				rc.ConnectionID, rc.ConnectedAt, connect.ConnectionID, connect.ConnectedAt)
		}
		if rc.RequestID == connect.RequestID {
			t.Errorf("MESSAGE requestId = $connect's %s; want a new one per message", rc.RequestID)
		}
		if ev.Body != `{"action":"send","text":"hi"}` {
			t.Errorf("MESSAGE body = %q; want the frame text", ev.Body)
		}
	})

	t.Run("DISCONNECT", func(t *testing.T) {
		if got := keys(t, lc.disconnect); !reflect.DeepEqual(got, disconnectKeys) {
			t.Errorf("DISCONNECT keys = %v; want %v", got, disconnectKeys)
		}
		if got, want := keys(t, field(t, lc.disconnect, "requestContext")), contextKeys("disconnectStatusCode", "disconnectReason"); !reflect.DeepEqual(got, want) {
			t.Errorf("DISCONNECT requestContext keys = %v; want %v", got, want)
		}
		ev := decodeEvent(t, lc.disconnect)
		rc := ev.RequestContext
		checkCommon(t, "DISCONNECT", rc, lc.dialedAt)
		if rc.RouteKey != "$disconnect" || rc.EventType != "DISCONNECT" {
			t.Errorf("DISCONNECT routeKey, eventType = %q, %q; want $disconnect, DISCONNECT", rc.RouteKey, rc.EventType)
		}
		if rc.DisconnectStatusCode != 4000 || rc.DisconnectReason == nil || *rc.DisconnectReason != "bye" {
			t.Errorf("DISCONNECT status, reason = %d, %v; want the client's 4000, bye", rc.DisconnectStatusCode, rc.DisconnectReason)
		}
		want := map[string]string{"Host": connect.DomainName, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
		if !reflect.DeepEqual(ev.Headers, want) {
			t.Errorf("DISCONNECT headers = %v; want only %v", ev.Headers, want)
		}
		if len(ev.MultiValueHeaders) != 4 || !reflect.DeepEqual(ev.MultiValueHeaders["Host"], []string{connect.DomainName}) {
			t.Errorf("DISCONNECT multiValueHeaders = %v; want the same four headers", ev.MultiValueHeaders)
		}
		if rc.ConnectionID != connect.ConnectionID || rc.ConnectedAt != connect.ConnectedAt {
			t.Errorf("DISCONNECT connectionId, connectedAt = %s, %d; want %s, %d", rc.ConnectionID, rc.ConnectedAt, connect.ConnectionID, connect.ConnectedAt)
		}
	})
}

// checkCommon checks the requestContext fields every event shares.
func checkCommon(t *testing.T, name string, rc events.APIGatewayWebsocketProxyRequestContext, dialedAt time.Time) {
	t.Helper()
	if rc.Stage != "prod" || rc.APIID != "abc123" || rc.MessageDirection != "IN" {
		t.Errorf("%s stage, apiId, messageDirection = %q, %q, %q; want prod, abc123, IN", name, rc.Stage, rc.APIID, rc.MessageDirection)
	}
	if !strings.HasPrefix(rc.DomainName, "127.0.0.1:") {
		t.Errorf("%s domainName = %q; want the Host the client dialled", name, rc.DomainName)
	}
	if !idPattern.MatchString(rc.ConnectionID) || !idPattern.MatchString(rc.RequestID) {
		t.Errorf("%s connectionId, requestId = %q, %q; want 16-char URL-safe base64 ending in =", name, rc.ConnectionID, rc.RequestID)
	}
	if rc.ExtendedRequestID != rc.RequestID {
		t.Errorf("%s extendedRequestId = %q; want requestId %q", name, rc.ExtendedRequestID, rc.RequestID)
	}
	at, err := time.Parse(requestTimeLayout, rc.RequestTime)
	if err != nil || at.Unix() != rc.RequestTimeEpoch/1000 || !strings.HasSuffix(rc.RequestTime, " +0000") {
		t.Errorf("%s requestTime = %q (%v); want dd/Mon/yyyy:hh:mm:ss +0000 matching requestTimeEpoch %d", name, rc.RequestTime, err, rc.RequestTimeEpoch)
	}
	if lo := dialedAt.Add(-time.Second).UnixMilli(); rc.ConnectedAt < lo || rc.RequestTimeEpoch < rc.ConnectedAt {
		t.Errorf("%s connectedAt, requestTimeEpoch = %d, %d; want around the dial at %d, in order", name, rc.ConnectedAt, rc.RequestTimeEpoch, dialedAt.UnixMilli())
	}
	if rc.Identity.SourceIP != "127.0.0.1" || rc.Identity.UserAgent == "" {
		t.Errorf("%s identity = %+v; want sourceIp 127.0.0.1 and the client's User-Agent", name, rc.Identity)
	}
}

func TestAuthorizerEventAndContext(t *testing.T) {
	authz := newRecorder()
	cfg := Config{Authorizer: &Authorizer{
		Function: fn("Authorizer", func(_ context.Context, ev json.RawMessage) (events.APIGatewayCustomAuthorizerResponse, error) {
			authz <- ev
			return allow("alice", "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/$connect", map[string]any{"role": "customer", "tier": 2, "vip": true}), nil
		}),
		IdentitySource: []string{"route.request.querystring.token"},
	}}
	lc := runLifecycle(t, cfg, "token=t0k3n", http.Header{"User-Agent": {"parley-test/1"}})
	raw := authz.next(t)

	if got := keys(t, raw); !reflect.DeepEqual(got, authorizerKeys) {
		t.Errorf("authorizer event keys = %v; want %v", got, authorizerKeys)
	}
	rcRaw := field(t, raw, "requestContext")
	if got, want := keys(t, rcRaw), sorted(baseContextKeys...); !reflect.DeepEqual(got, want) {
		t.Errorf("authorizer requestContext keys = %v; want %v", got, want)
	}
	if got := keys(t, field(t, rcRaw, "identity")); !reflect.DeepEqual(got, []string{"sourceIp"}) {
		t.Errorf("authorizer identity keys = %v; want [sourceIp]", got)
	}
	if got := string(field(t, raw, "stageVariables")); got != "{}" {
		t.Errorf("authorizer stageVariables = %s; want {}", got)
	}
	var ev events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "REQUEST" || ev.MethodArn != "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/$connect" {
		t.Errorf("authorizer type, methodArn = %q, %q; want REQUEST and the $connect ARN", ev.Type, ev.MethodArn)
	}
	if ev.QueryStringParameters["token"] != "t0k3n" || ev.MultiValueQueryStringParameters["token"][0] != "t0k3n" || ev.Headers["User-Agent"] != "parley-test/1" {
		t.Errorf("authorizer query, headers = %v, %v; want the upgrade request's", ev.QueryStringParameters, ev.Headers)
	}
	// The WebSocket fields the REST-shaped Go type drops.
	wsrc := decodeEvent(t, json.RawMessage(`{"requestContext":`+string(rcRaw)+`}`)).RequestContext
	connect := decodeEvent(t, lc.connect).RequestContext
	if wsrc.RouteKey != "$connect" || wsrc.EventType != "CONNECT" || wsrc.ConnectionID != connect.ConnectionID ||
		wsrc.DomainName != connect.DomainName || wsrc.RequestID != connect.RequestID || wsrc.ConnectedAt != connect.ConnectedAt {
		t.Errorf("authorizer requestContext = %+v; want routeKey $connect, CONNECT and $connect's connectionId, domainName, requestId, connectedAt %+v", wsrc, connect)
	}

	// The authorizer's context and principalId reach every event of the connection.
	want := map[string]any{"principalId": "alice", "role": "customer", "tier": float64(2), "vip": true}
	for name, raw := range map[string]json.RawMessage{"CONNECT": lc.connect, "MESSAGE": lc.message, "DISCONNECT": lc.disconnect} {
		if got := decodeEvent(t, raw).RequestContext.Authorizer; !reflect.DeepEqual(got, want) {
			t.Errorf("%s requestContext.authorizer = %v; want %v", name, got, want)
		}
	}
	if got := string(field(t, field(t, lc.message, "requestContext"), "authorizer")); !strings.Contains(got, `"tier":2`) {
		t.Errorf("MESSAGE authorizer = %s; want numbers passed as the authorizer wrote them", got)
	}
}

func allow(principal, resource string, ctx map[string]any) events.APIGatewayCustomAuthorizerResponse {
	return policy(principal, "Allow", resource, ctx)
}

func policy(principal, effect, resource string, ctx map[string]any) events.APIGatewayCustomAuthorizerResponse {
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version:   "2012-10-17",
			Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{resource}}},
		},
		Context: ctx,
	}
}

func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newID()
		if !idPattern.MatchString(id) {
			t.Fatalf("newID() = %q; want 16-char URL-safe base64 ending in =", id)
		}
		if seen[id] {
			t.Fatalf("newID() repeated %q", id)
		}
		seen[id] = true
	}
}
