package route_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/parley-chat/parley/cmd/parley-local/localtest"
	"github.com/parley-chat/parley/cmd/parley-local/localtest/wsclient"
	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/route"
	"github.com/parley-chat/parley/shared/store"
)

// waitFor bounds every wait; nothing should take more than a fraction of
// it, but the machine is shared.
const waitFor = wsclient.WaitFor

// The people and the conversation the fixtures in events/ are about. The
// tests mint tokens for the same people, so a fixture's authorizer context
// is what the authorizer gives a real connection of theirs.
const (
	fixtureCustomer     = "alice"
	fixtureCustomerName = "Alice"
	fixtureWidget       = "persistent"
	fixtureAgent        = "bob"
	fixtureAgentName    = "Bob"
	fixtureConversation = "c_SCLXBAIQAZGOV6XV5G27M34ZWP"
)

// repoRoot is the module root, found from this file rather than the
// working directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func eventsDir() string { return filepath.Join(repoRoot(), "events") }

// fixture reads events/<name> as sam local invoke would send it.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir(), name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// decode reads events/<name> into the aws-lambda-go type the function's
// handler takes, as the Lambda runtime does.
func decode[T any](t testing.TB, name string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(fixture(t, name), &v); err != nil {
		t.Fatalf("decode %s into %T: %v", name, v, err)
	}
	return v
}

// The handler signatures of the four kinds of function.
type (
	authorizerHandler = func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)
	routeHandler      = func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)
	streamHandler     = func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)
	scheduleHandler   = func(context.Context, events.CloudWatchEvent) (chat.SweepReport, error)
)

// constructors are the functions' typed handlers, by folder name under
// functions/, and the name of the route constructor each main starts.
var constructors = map[string]struct {
	name  string
	build func(route.Deps) any
}{
	"authorizer": {"Authorizer", func(d route.Deps) any { return route.Authorizer(d) }},
	"connect":    {"Connect", func(d route.Deps) any { return route.Connect(d) }},
	"disconnect": {"Disconnect", func(d route.Deps) any { return route.Disconnect(d) }},
	"message":    {"Message", func(d route.Deps) any { return route.Message(d) }},
	"park":       {"Park", func(d route.Deps) any { return route.Park(d) }},
	"pickup":     {"Pickup", func(d route.Deps) any { return route.Pickup(d) }},
	"close":      {"Close", func(d route.Deps) any { return route.Close(d) }},
	"presence":   {"Presence", func(d route.Deps) any { return route.Presence(d) }},
	"default":    {"Default", func(d route.Deps) any { return route.Default(d) }},
	"notify":     {"Notify", func(d route.Deps) any { return route.Notify(d) }},
	"sweep":      {"Sweep", func(d route.Deps) any { return route.Sweep(d) }},
}

// handlerOf builds the named function's handler as its main does.
func handlerOf(name string, d route.Deps) (any, error) {
	c, ok := constructors[name]
	if !ok {
		return nil, fmt.Errorf("no function %q", name)
	}
	return c.build(d), nil
}

// handler builds the named function's handler and checks its signature.
func handler[H any](t testing.TB, name string, d route.Deps) H {
	t.Helper()
	h, err := handlerOf(name, d)
	if err != nil {
		t.Fatal(err)
	}
	typed, ok := h.(H)
	if !ok {
		var want H
		t.Fatalf("handler of %q is %T; want %T", name, h, want)
	}
	return typed
}

// testStack is a running local stack: what the tests use of it.
type testStack struct {
	URL, WSURL string
	Store      *store.Store // uncounted client, for setting up and checking
	dynamoDB   string       // the store's endpoint: embedded, or DynamoDB Local
	env        map[string]string
}

// startStack starts a local stack for the test, on the embedded store or
// on DynamoDB Local (PARLEY_BACKEND=dynamodb-local; see TestMain).
func startStack(t testing.TB) *testStack {
	t.Helper()
	s := localtest.Stack(t)
	tables := s.Store.Tables()
	return &testStack{URL: s.URL, WSURL: s.WSURL, Store: s.Store, dynamoDB: s.DynamoDBEndpoint(), env: map[string]string{
		"CONVERSATIONS_TABLE": tables.Conversations,
		"MESSAGES_TABLE":      tables.Messages,
		"CONNECTIONS_TABLE":   tables.Connections,
		"CUSTOMERS_TABLE":     tables.Customers,
		"AGENTS_TABLE":        tables.Agents,
		"SETTINGS_TABLE":      tables.Settings,
		"AGENT_ISSUER":        s.Issuer.AgentIssuer(),
		"AGENT_JWKS_URL":      s.Issuer.JWKSURL(),
		"AGENT_AUDIENCE":      "parley-agent-app", // issuer.AgentAudience (an internal package)
	}}
}

// logBuffer keeps the handlers' logs out of the output unless a test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// deps builds Deps the way the local stack builds its own functions': SDK
// clients aimed at the stack with dummy static credentials, and the
// environment template.yaml gives the functions there.
func (s *testStack) deps(t testing.TB) route.Deps {
	t.Helper()
	d := depsAt(t, s.URL, s.env)
	d.DynamoDB = dynamoDBAt(s.dynamoDB)
	return d
}

func testConfig() aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("parleytest", "parleytest", ""),
		HTTPClient:       &http.Client{Timeout: waitFor},
		RetryMaxAttempts: 3,
	}
}

func dynamoDBAt(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(testConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

func depsAt(t testing.TB, url string, env map[string]string) route.Deps {
	t.Helper()
	cfg := testConfig()
	logs := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			out := logs.String()
			if len(out) > 20000 {
				out = out[len(out)-20000:]
			}
			t.Logf("handler log (tail):\n%s", out)
		}
	})
	return route.Deps{
		DynamoDB: dynamoDBAt(url + "/local/dynamodb"),
		Management: apigatewaymanagementapi.NewFromConfig(cfg, func(o *apigatewaymanagementapi.Options) {
			o.BaseEndpoint = aws.String(url) // the SDK appends /@connections/{id}
		}),
		HTTP:   &http.Client{Timeout: waitFor},
		Getenv: func(k string) string { return env[k] },
		Log:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    time.Now,
	}
}

// token mints a token from the local issuer over HTTP, as any client would.
func (s *testStack) token(t testing.TB, fields map[string]any) string {
	t.Helper()
	return wsclient.Token(t, s.URL, fields)
}

func (s *testStack) customerToken(t testing.TB, widget, sub, name string) string {
	return s.token(t, map[string]any{"role": "customer", "sub": sub, "name": name, "widget": widget})
}

func (s *testStack) agentToken(t testing.TB, sub, name string) string {
	return s.token(t, map[string]any{"role": "agent", "sub": sub, "name": name})
}

// client is a real WebSocket connection to the stack's gateway: what a
// handler pushes to its connectionId arrives here.
type client struct {
	*wsclient.Conn
	id string // connectionId, as the gateway recorded it
}

// dial connects with token. The gateway runs $connect before the 101, so
// the connection is in the store once dial returns; connID finds it there.
func (s *testStack) dial(t testing.TB, name, token string, connID func(context.Context) ([]string, error)) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	before, err := connID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{Conn: wsclient.Dial(t, s.WSURL+"?token="+token, name)}
	after, err := connID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range after {
		if !slices.Contains(before, id) {
			c.id = id
		}
	}
	if c.id == "" {
		t.Fatalf("%s: connected, but no new connection recorded (before %v, after %v)", name, before, after)
	}
	return c
}

// dialCustomer connects a customer of widget and finds its connectionId.
func (s *testStack) dialCustomer(t testing.TB, widget, sub, name string) *client {
	t.Helper()
	return s.dial(t, sub, s.customerToken(t, widget, sub, name), func(ctx context.Context) ([]string, error) {
		c, err := s.Store.Customer(ctx, widget, sub)
		return c.ConnectionIDs, err
	})
}

// dialAgent connects an agent and finds its connectionId.
func (s *testStack) dialAgent(t testing.TB, sub, name string) *client {
	t.Helper()
	return s.dial(t, sub, s.agentToken(t, sub, name), func(ctx context.Context) ([]string, error) {
		a, err := s.Store.Agent(ctx, sub)
		if errors.Is(err, conversation.ErrNotFound) {
			return nil, nil
		}
		return a.ConnectionIDs, err
	})
}

// routeEvent is a route fixture re-aimed at a real connection: its
// connectionId and authorizer context become c's, the body's fields are
// replaced by set (nil deletes one).
func routeEvent(t testing.TB, name string, c *client, authorizer map[string]any, set map[string]any) events.APIGatewayWebsocketProxyRequest {
	t.Helper()
	ev := decode[events.APIGatewayWebsocketProxyRequest](t, name)
	if c != nil {
		ev.RequestContext.ConnectionID = c.id
	}
	if authorizer != nil {
		ev.RequestContext.Authorizer = authorizer
	}
	if len(set) > 0 {
		var body map[string]any
		if err := json.Unmarshal([]byte(ev.Body), &body); err != nil {
			t.Fatalf("%s: body: %v", name, err)
		}
		for k, v := range set {
			if v == nil {
				delete(body, k)
			} else {
				body[k] = v
			}
		}
		b, _ := json.Marshal(body)
		ev.Body = string(b)
	}
	return ev
}

// authorizerOf is the authorizer context a fixture carries.
func authorizerOf(t testing.TB, name string) map[string]any {
	t.Helper()
	ev := decode[events.APIGatewayWebsocketProxyRequest](t, name)
	m, ok := ev.RequestContext.Authorizer.(map[string]any)
	if !ok {
		t.Fatalf("%s: requestContext.authorizer is %T", name, ev.RequestContext.Authorizer)
	}
	return m
}

// customerAuthorizer and agentAuthorizer are authorizer contexts as
// Authorize writes them (and API Gateway adds principalId).
func customerAuthorizer(widget, sub, name string) map[string]any {
	return map[string]any{"principalId": "customer:" + sub, "role": "customer", "userId": sub, "name": name, "widget": widget}
}

func agentAuthorizer(sub, name string) map[string]any {
	return map[string]any{"principalId": "agent:" + sub, "role": "agent", "userId": sub, "name": name, "widget": ""}
}

// serve runs a route handler as the gateway would and checks it answered
// 200 (route handlers reply through PostToConnection, not the response).
func serve(t testing.TB, h routeHandler, ev events.APIGatewayWebsocketProxyRequest) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	resp, err := h(ctx, ev)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s handler = %d, %v; want 200, <nil>", ev.RequestContext.RouteKey, resp.StatusCode, err)
	}
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any         { l, _ := v.([]any); return l }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}
