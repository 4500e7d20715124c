package route_test

import (
	"encoding/json"
	"errors"
	"maps"
	"net"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/shared/conversation"
)

// TestAuthorizer runs authorizer.json with tokens from the local issuer:
// a good token gets an Allow on the methodArn and the context every later
// event of the connection carries; a refused one gets "Unauthorized",
// which API Gateway answers with 401.
func TestAuthorizer(t *testing.T) {
	s := startStack(t)
	authorize := fixtureHandler[authorizerHandler](t, "authorizer.json", s.deps(t))
	expired := -120

	allowed := []struct {
		name    string
		token   string
		context map[string]any
	}{
		{"customer", s.customerToken(t, fixtureWidget, fixtureCustomer, fixtureCustomerName),
			customerAuthorizer(fixtureWidget, fixtureCustomer, fixtureCustomerName)},
		{"customer ES256", s.token(t, map[string]any{"role": "customer", "sub": fixtureCustomer, "name": fixtureCustomerName, "widget": fixtureWidget, "alg": "ES256"}),
			customerAuthorizer(fixtureWidget, fixtureCustomer, fixtureCustomerName)},
		{"agent", s.agentToken(t, fixtureAgent, fixtureAgentName), agentAuthorizer(fixtureAgent, fixtureAgentName)},
	}
	for _, tc := range allowed {
		t.Run(tc.name, func(t *testing.T) {
			ev := decode[events.APIGatewayCustomAuthorizerRequestTypeRequest](t, "authorizer.json")
			ev.QueryStringParameters["token"] = tc.token
			ev.MultiValueQueryStringParameters["token"] = []string{tc.token}
			resp, err := authorize(ctxT(t), ev)
			if err != nil {
				t.Fatalf("Authorize(%s token) = %v; want an Allow policy", tc.name, err)
			}
			p := resp.PolicyDocument
			if p.Version != "2012-10-17" || len(p.Statement) != 1 || p.Statement[0].Effect != "Allow" ||
				!slices.Equal(p.Statement[0].Action, []string{"execute-api:Invoke"}) || !slices.Equal(p.Statement[0].Resource, []string{ev.MethodArn}) {
				t.Errorf("policy %+v; want Allow execute-api:Invoke on %s", p, ev.MethodArn)
			}
			// API Gateway hands principalId and the context to every later
			// event of the connection as requestContext.authorizer.
			got := maps.Clone(resp.Context)
			got["principalId"] = resp.PrincipalID
			if !reflect.DeepEqual(got, tc.context) {
				t.Errorf("principalId and context %v; want %v", got, tc.context)
			}
			for k, v := range resp.Context {
				if _, ok := v.(string); !ok {
					t.Errorf("context[%q] is %T; API Gateway takes strings, numbers and booleans, and the handlers read strings", k, v)
				}
			}
			if b, _ := json.Marshal(resp); len(b) > 8<<10 {
				t.Errorf("authorizer result is %d bytes; API Gateway's limit is 8 KB", len(b))
			}
		})
	}
	// What connect.json carries is what the authorizer gives alice.
	if got, want := authorizerOf(t, "connect.json"), allowed[0].context; !reflect.DeepEqual(got, want) {
		t.Errorf("connect.json requestContext.authorizer %v; the authorizer gives %v", got, want)
	}

	refused := []struct{ name, token string }{
		{"garbage", "not-a-jwt"},
		{"sample token", decode[events.APIGatewayCustomAuthorizerRequestTypeRequest](t, "authorizer.json").QueryStringParameters["token"]},
		{"unknown widget", s.customerToken(t, "no-such-widget", fixtureCustomer, fixtureCustomerName)},
		{"expired", s.token(t, map[string]any{"role": "customer", "sub": fixtureCustomer, "widget": fixtureWidget, "expiresIn": expired})},
		{"empty", ""},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			ev := decode[events.APIGatewayCustomAuthorizerRequestTypeRequest](t, "authorizer.json")
			ev.QueryStringParameters["token"] = tc.token
			ev.MultiValueQueryStringParameters["token"] = []string{tc.token}
			resp, err := authorize(ctxT(t), ev)
			if err == nil || err.Error() != "Unauthorized" {
				t.Errorf("Authorize(%s) = %+v, %v; want error Unauthorized", tc.name, resp, err)
			}
		})
	}
}

// TestConnectDisconnect runs connect.json and disconnect.json: $connect
// records the connection under the authorizer's identity, $disconnect
// forgets it, with or without the authorizer context on its event.
func TestConnectDisconnect(t *testing.T) {
	s := startStack(t)
	d := s.deps(t)
	connect := fixtureHandler[routeHandler](t, "connect.json", d)
	disconnect := fixtureHandler[routeHandler](t, "disconnect.json", d)

	// The sample's connectedAt is hours old; recorded as is, the
	// connection's TTL would already have passed and the store's expiry
	// could remove it under the test.
	connectNow := func(authorizer map[string]any) events.APIGatewayWebsocketProxyRequest {
		ev := decode[events.APIGatewayWebsocketProxyRequest](t, "connect.json")
		ev.RequestContext.ConnectedAt = time.Now().UnixMilli()
		if authorizer != nil {
			ev.RequestContext.Authorizer = authorizer
		}
		return ev
	}
	ev := connectNow(nil)
	id := ev.RequestContext.ConnectionID
	serve(t, connect, ev)
	c, err := s.Store.Connection(ctxT(t), id)
	if err != nil || c.Role != conversation.Customer || c.UserID != fixtureCustomer || c.Name != fixtureCustomerName || c.Widget != fixtureWidget {
		t.Fatalf("connection %s after $connect: %+v, %v; want alice's on widget persistent", id, c, err)
	}
	cust, err := s.Store.Customer(ctxT(t), fixtureWidget, fixtureCustomer)
	if err != nil || !slices.Contains(cust.ConnectionIDs, id) {
		t.Fatalf("customer alice's connections %v, %v; want %s", cust.ConnectionIDs, err, id)
	}

	serve(t, disconnect, decode[events.APIGatewayWebsocketProxyRequest](t, "disconnect.json"))
	if _, err := s.Store.Connection(ctxT(t), id); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("connection %s after $disconnect: %v; want ErrNotFound", id, err)
	}
	if cust, err := s.Store.Customer(ctxT(t), fixtureWidget, fixtureCustomer); err != nil || len(cust.ConnectionIDs) != 0 || cust.LastDisconnectedAt.IsZero() {
		t.Errorf("customer alice after $disconnect: %+v, %v; want no connections and lastDisconnectedAt set", cust, err)
	}
	// $disconnect is best-effort and may come twice, or for a connection
	// the sweeper already dropped.
	serve(t, disconnect, decode[events.APIGatewayWebsocketProxyRequest](t, "disconnect.json"))

	t.Run("disconnect without authorizer context", func(t *testing.T) {
		// aws-lambda-go's recorded $disconnect has no authorizer; the
		// handler falls back to what $connect recorded.
		ag := connectNow(agentAuthorizer(fixtureAgent, fixtureAgentName))
		serve(t, connect, ag)
		a, err := s.Store.Agent(ctxT(t), fixtureAgent)
		if err != nil || !slices.Contains(a.ConnectionIDs, id) || a.Presence != conversation.Available {
			t.Fatalf("agent bob after $connect: %+v, %v; want online with %s", a, err, id)
		}
		ev := decode[events.APIGatewayWebsocketProxyRequest](t, "disconnect.json")
		ev.RequestContext.Authorizer = nil
		serve(t, disconnect, ev)
		a, err = s.Store.Agent(ctxT(t), fixtureAgent)
		if err != nil || len(a.ConnectionIDs) != 0 || a.Presence != conversation.Offline {
			t.Errorf("agent bob after $disconnect: %+v, %v; want offline", a, err)
		}
		online, err := s.Store.OnlineAgents(ctxT(t))
		if err != nil || slices.ContainsFunc(online, func(a conversation.Agent) bool { return a.ID == fixtureAgent }) {
			t.Errorf("online agents %v, %v; want no bob", online, err)
		}
	})

	t.Run("connect without authorizer context", func(t *testing.T) {
		ev := connectNow(nil)
		ev.RequestContext.Authorizer = nil
		resp, err := connect(ctxT(t), ev)
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("$connect without identity = %d, %v; want 401", resp.StatusCode, err)
		}
	})
}

// TestAuthorizerOutage checks the other half of the authorizer's contract:
// a token that could not be checked (settings or JWKS unreachable) is an
// error API Gateway answers with 500, never "Unauthorized", which would
// tell the client its credentials are bad.
func TestAuthorizerOutage(t *testing.T) {
	s := startStack(t)
	customer := s.customerToken(t, fixtureWidget, fixtureCustomer, fixtureCustomerName)
	agent := s.agentToken(t, fixtureAgent, fixtureAgentName)

	dead := deadEndpoint(t)
	noSettings := depsAt(t, dead, s.env) // DynamoDB (the widget's trust settings) unreachable
	env := maps.Clone(s.env)
	env["AGENT_JWKS_URL"] = dead + "/.well-known/jwks.json"
	noJWKS := s.deps(t)
	noJWKS.Getenv = func(k string) string { return env[k] }

	for _, tc := range []struct {
		name, token string
		deps        func() authorizerHandler
	}{
		{"customer, settings unreachable", customer, func() authorizerHandler { return fixtureHandler[authorizerHandler](t, "authorizer.json", noSettings) }},
		{"agent, JWKS unreachable", agent, func() authorizerHandler { return fixtureHandler[authorizerHandler](t, "authorizer.json", noJWKS) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := decode[events.APIGatewayCustomAuthorizerRequestTypeRequest](t, "authorizer.json")
			ev.QueryStringParameters["token"] = tc.token
			resp, err := tc.deps()(ctxT(t), ev)
			if err == nil || err.Error() == "Unauthorized" {
				t.Errorf("Authorize(%s) = %+v, %v; want an error other than Unauthorized", tc.name, resp, err)
			}
		})
	}
}

// deadEndpoint is a loopback URL nothing listens on.
func deadEndpoint(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}
