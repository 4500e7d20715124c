package route_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/route"
	"github.com/parley-chat/parley/shared/store"
)

// fixtureKinds lists every sample event in events/ and the kind of event
// it is; which function it goes to is template.yaml's business.
var fixtureKinds = map[string]string{
	"authorizer.json": "authorizer",
	"connect.json":    "route",
	"disconnect.json": "route",
	"hello.json":      "route",
	"send.json":       "route",
	"history.json":    "route",
	"typing.json":     "route",
	"read.json":       "route",
	"ping.json":       "route",
	"park.json":       "route",
	"pickup.json":     "route",
	"close.json":      "route",
	"presence.json":   "route",
	"default.json":    "route",
	"notify.json":     "stream",
	"sweep.json":      "schedule",
}

// envFile is not an event: it is sam local invoke's --env-vars file.
const envFile = "env.json"

var (
	// API Gateway ids: 11 random bytes, URL-safe base64 (docs/aws-behaviour.md 1).
	gatewayID = regexp.MustCompile(`^[A-Za-z0-9_-]{15}=$`)
	jwtShape  = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
)

// fixtureFunction is the function (its folder name under functions/) template.yaml
// sends the fixture's event to.
func fixtureFunction(t testing.TB, tpl samTemplate, name string) string {
	t.Helper()
	var id string
	switch fixtureKinds[name] {
	case "authorizer":
		id = tpl.authorizer
	case "route":
		ev := decode[events.APIGatewayWebsocketProxyRequest](t, name)
		id = tpl.routes[ev.RequestContext.RouteKey]
	case "stream":
		ev := decode[events.DynamoDBEvent](t, name)
		if len(ev.Records) == 0 {
			t.Fatalf("%s has no records", name)
		}
		table := tableOfStream(ev.Records[0].EventSourceArn)
		for fid, fn := range tpl.functions {
			for _, tl := range fn.streamTables {
				if tpl.tables[tl].name == table {
					id = fid
				}
			}
		}
	case "schedule":
		for fid, fn := range tpl.functions {
			if fn.schedules > 0 {
				id = fid
			}
		}
	default:
		t.Fatalf("%s is not a known fixture", name)
	}
	if id == "" {
		t.Fatalf("template.yaml sends %s to no function", name)
	}
	return functionName(id)
}

// fixtureHandler is the handler template.yaml sends the fixture to.
func fixtureHandler[H any](t testing.TB, name string, d route.Deps) H {
	t.Helper()
	return handler[H](t, fixtureFunction(t, loadTemplate(t), name), d)
}

var streamARN = regexp.MustCompile(`^arn:aws:dynamodb:([a-z0-9-]+):(\d{12}):table/([A-Za-z0-9_.-]+)/stream/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$`)

func tableOfStream(arn string) string {
	if m := streamARN.FindStringSubmatch(arn); m != nil {
		return m[3]
	}
	return ""
}

// TestEventsDirectory checks that events/ holds exactly the fixtures above
// (and the env file), and that README.md names each with its function.
func TestEventsDirectory(t *testing.T) {
	entries, err := os.ReadDir(eventsDir())
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") && e.Name() != envFile {
			files = append(files, e.Name())
		}
	}
	if want := slices.Sorted(maps.Keys(fixtureKinds)); !slices.Equal(files, want) {
		t.Errorf("events/*.json = %v; want %v", files, want)
	}

	tpl := loadTemplate(t)
	readme, err := os.ReadFile(filepath.Join(eventsDir(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(readme), "\n")
	for _, name := range slices.Sorted(maps.Keys(fixtureKinds)) {
		fn := logicalID(fixtureFunction(t, tpl, name))
		if !slices.ContainsFunc(lines, func(l string) bool {
			return strings.Contains(l, "`"+name+"`") && strings.Contains(l, fn)
		}) {
			t.Errorf("events/README.md has no line naming `%s` with %s", name, fn)
		}
	}
	if !strings.Contains(string(readme), "sam build && sam local invoke MessageFunction -e events/send.json") {
		t.Errorf("events/README.md does not show how to invoke a function")
	}

	// sam local invoke --env-vars can only override variables the
	// template declares; the file should set them all.
	var envVars struct{ Parameters map[string]string }
	if err := json.Unmarshal(fixture(t, envFile), &envVars); err != nil {
		t.Fatalf("%s: %v", envFile, err)
	}
	if got, want := slices.Sorted(maps.Keys(envVars.Parameters)), slices.Sorted(slices.Values(tpl.globalEnv)); !slices.Equal(got, want) {
		t.Errorf("%s sets %v; template.yaml's Globals declare %v", envFile, got, want)
	}
}

// TestRouteEvents decodes every WebSocket route fixture into the type the
// handlers take and checks it is shaped as API Gateway sends it
// (docs/aws-behaviour.md 1), and carries what Parley relies on: the route key the
// template routes, the connectionId pushes go to, and the authorizer
// context that says who is on the connection.
func TestRouteEvents(t *testing.T) {
	tpl := loadTemplate(t)
	connections := map[string]events.APIGatewayWebsocketProxyRequestContext{}
	for _, name := range slices.Sorted(maps.Keys(fixtureKinds)) {
		if fixtureKinds[name] != "route" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			ev := decode[events.APIGatewayWebsocketProxyRequest](t, name)
			rc := ev.RequestContext
			if _, ok := tpl.routes[rc.RouteKey]; !ok {
				t.Errorf("routeKey %q is not a route of template.yaml", rc.RouteKey)
			}
			wantType := map[string]string{"$connect": "CONNECT", "$disconnect": "DISCONNECT"}[rc.RouteKey]
			if wantType == "" {
				wantType = "MESSAGE"
			}
			if rc.EventType != wantType || rc.MessageDirection != "IN" {
				t.Errorf("eventType %q, messageDirection %q; want %q, IN", rc.EventType, rc.MessageDirection, wantType)
			}
			if !gatewayID.MatchString(rc.ConnectionID) || !gatewayID.MatchString(rc.RequestID) || rc.ExtendedRequestID != rc.RequestID {
				t.Errorf("connectionId %q, requestId %q, extendedRequestId %q: want API Gateway ids, requestId = extendedRequestId",
					rc.ConnectionID, rc.RequestID, rc.ExtendedRequestID)
			}
			if rc.APIID == "" || rc.Stage == "" || !strings.HasPrefix(rc.DomainName, rc.APIID+".execute-api.") {
				t.Errorf("apiId %q, stage %q, domainName %q", rc.APIID, rc.Stage, rc.DomainName)
			}
			at, err := time.Parse("02/Jan/2006:15:04:05 -0700", rc.RequestTime)
			if err != nil || at.Unix() != rc.RequestTimeEpoch/1000 || rc.ConnectedAt == 0 || rc.ConnectedAt > rc.RequestTimeEpoch {
				t.Errorf("requestTime %q (%v), requestTimeEpoch %d, connectedAt %d: inconsistent", rc.RequestTime, err, rc.RequestTimeEpoch, rc.ConnectedAt)
			}
			if rc.Identity.SourceIP == "" {
				t.Errorf("identity.sourceIp is empty")
			}
			checkAuthorizerContext(t, rc.Authorizer)
			if ev.IsBase64Encoded {
				t.Errorf("isBase64Encoded is true; Parley's frames are text")
			}
			if prev, ok := connections[rc.ConnectionID]; ok && (prev.ConnectedAt != rc.ConnectedAt || !reflect.DeepEqual(prev.Authorizer, rc.Authorizer)) {
				t.Errorf("connection %s: connectedAt or authorizer differ from another fixture's of the same connection", rc.ConnectionID)
			}
			connections[rc.ConnectionID] = rc

			switch rc.EventType {
			case "CONNECT":
				token := ev.QueryStringParameters["token"]
				if !jwtShape.MatchString(token) || !slices.Equal(ev.MultiValueQueryStringParameters["token"], []string{token}) {
					t.Errorf("queryStringParameters.token %q (multi %v): want one JWT", token, ev.MultiValueQueryStringParameters["token"])
				}
				if ev.Headers["Host"] != rc.DomainName || ev.Headers["Sec-WebSocket-Key"] == "" || ev.Body != "" {
					t.Errorf("headers %v, body %q: want the upgrade request's headers and no body", ev.Headers, ev.Body)
				}
			case "DISCONNECT":
				if got := slices.Sorted(maps.Keys(ev.Headers)); !slices.Equal(got, []string{"Host", "X-Forwarded-For", "x-api-key", "x-restapi"}) {
					t.Errorf("headers %v; want only API Gateway's four", got)
				}
				if rc.DisconnectStatusCode == 0 || rc.DisconnectReason == nil || ev.QueryStringParameters != nil || ev.Body != "" {
					t.Errorf("disconnectStatusCode %d, disconnectReason %v, query %v, body %q", rc.DisconnectStatusCode, rc.DisconnectReason, ev.QueryStringParameters, ev.Body)
				}
			case "MESSAGE":
				if id, _ := rc.MessageID.(string); !gatewayID.MatchString(id) {
					t.Errorf("messageId %v: want an API Gateway id", rc.MessageID)
				}
				if ev.Headers != nil || ev.QueryStringParameters != nil {
					t.Errorf("a MESSAGE event has no headers or query string")
				}
				var body map[string]any
				if err := json.Unmarshal([]byte(ev.Body), &body); err != nil {
					t.Fatalf("body %q: %v", ev.Body, err)
				}
				action, _ := body["action"].(string)
				// Route selection is $request.body.action.
				if _, routed := tpl.routes[action]; (rc.RouteKey == "$default") == routed || (routed && action != rc.RouteKey) {
					t.Errorf("body action %q under routeKey %q: route selection would not pick it", action, rc.RouteKey)
				}
				if id, _ := body["requestId"].(string); id == "" {
					t.Errorf("body has no requestId: nothing to match the reply with")
				}
				if id, ok := body["conversationId"]; ok && id != fixtureConversation {
					t.Errorf("body conversationId %v; the fixtures' conversation is %s", id, fixtureConversation)
				}
			}
		})
	}
}

// checkAuthorizerContext checks an authorizer map is the context Authorize
// writes for one of the fixtures' people (and API Gateway's principalId).
func checkAuthorizerContext(t testing.TB, v any) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Errorf("requestContext.authorizer is %T; want the authorizer's context", v)
		return
	}
	customer := customerAuthorizer(fixtureWidget, fixtureCustomer, fixtureCustomerName)
	agent := agentAuthorizer(fixtureAgent, fixtureAgentName)
	if !reflect.DeepEqual(m, customer) && !reflect.DeepEqual(m, agent) {
		t.Errorf("requestContext.authorizer %v; want %v or %v", m, customer, agent)
	}
}

// TestAuthorizerEvent checks authorizer.json is the REQUEST authorizer
// input of connect.json's upgrade (docs/aws-behaviour.md 2).
func TestAuthorizerEvent(t *testing.T) {
	ev := decode[events.APIGatewayCustomAuthorizerRequestTypeRequest](t, "authorizer.json")
	conn := decode[events.APIGatewayWebsocketProxyRequest](t, "connect.json")
	crc := conn.RequestContext
	if ev.Type != "REQUEST" {
		t.Errorf("type %q; want REQUEST", ev.Type)
	}
	if want := "arn:aws:execute-api:"; !strings.HasPrefix(ev.MethodArn, want) || !strings.HasSuffix(ev.MethodArn, ":"+crc.APIID+"/"+crc.Stage+"/$connect") {
		t.Errorf("methodArn %q; want arn:aws:execute-api:{region}:{account}:%s/%s/$connect", ev.MethodArn, crc.APIID, crc.Stage)
	}
	token := ev.QueryStringParameters["token"]
	if !jwtShape.MatchString(token) || token != conn.QueryStringParameters["token"] || !slices.Equal(ev.MultiValueQueryStringParameters["token"], []string{token}) {
		t.Errorf("queryStringParameters.token %q: want connect.json's JWT, with its multi-value twin", token)
	}
	if ev.Headers["Host"] != crc.DomainName || ev.StageVariables == nil {
		t.Errorf("headers.Host %q, stageVariables %v: want connect.json's host and an object", ev.Headers["Host"], ev.StageVariables)
	}
	if ev.RequestContext.APIID != crc.APIID || ev.RequestContext.Stage != crc.Stage || ev.RequestContext.RequestID != crc.RequestID {
		t.Errorf("requestContext apiId %q, stage %q, requestId %q; want connect.json's", ev.RequestContext.APIID, ev.RequestContext.Stage, ev.RequestContext.RequestID)
	}
	// The Go type's REST-shaped requestContext drops the WebSocket fields;
	// check them on the JSON itself.
	var raw struct {
		RequestContext map[string]any `json:"requestContext"`
	}
	_ = json.Unmarshal(fixture(t, "authorizer.json"), &raw)
	for k, want := range map[string]any{"routeKey": "$connect", "eventType": "CONNECT", "connectionId": crc.ConnectionID, "domainName": crc.DomainName} {
		if got := raw.RequestContext[k]; got != want {
			t.Errorf("requestContext.%s = %v; want %v", k, got, want)
		}
	}
	if _, ok := raw.RequestContext["authorizer"]; ok {
		t.Errorf("requestContext.authorizer present: the authorizer has not run yet")
	}
}

// TestStreamEvent checks notify.json is a conversations-table stream
// record as Lambda delivers it (docs/aws-behaviour.md 6), whose images the store
// reads as the fixtures' conversation coming back from waiting.
func TestStreamEvent(t *testing.T) {
	tpl := loadTemplate(t)
	ev := decode[events.DynamoDBEvent](t, "notify.json")
	if len(ev.Records) != 1 {
		t.Fatalf("%d records; want 1", len(ev.Records))
	}
	rec := ev.Records[0]
	m := streamARN.FindStringSubmatch(rec.EventSourceArn)
	if m == nil {
		t.Fatalf("eventSourceARN %q is not a DynamoDB stream ARN", rec.EventSourceArn)
	}
	if tpl.tables["ConversationsTable"].name != m[3] {
		t.Errorf("eventSourceARN names table %s; want the conversations table %s", m[3], tpl.tables["ConversationsTable"].name)
	}
	if rec.EventName != "MODIFY" || rec.EventSource != "aws:dynamodb" || rec.EventVersion != "1.1" || rec.AWSRegion != m[1] || len(rec.EventID) != 32 {
		t.Errorf("eventName %q, eventSource %q, eventVersion %q, awsRegion %q, eventID %q", rec.EventName, rec.EventSource, rec.EventVersion, rec.AWSRegion, rec.EventID)
	}
	ch := rec.Change
	if ch.StreamViewType != tpl.tables["ConversationsTable"].streamViewType || ch.SizeBytes <= 0 ||
		!regexp.MustCompile(`^\d{21,40}$`).MatchString(ch.SequenceNumber) || ch.ApproximateCreationDateTime.IsZero() {
		t.Errorf("streamViewType %q, sizeBytes %d, sequenceNumber %q, approximateCreationDateTime %v",
			ch.StreamViewType, ch.SizeBytes, ch.SequenceNumber, ch.ApproximateCreationDateTime)
	}
	before, err := store.ConversationFromStream(ch.OldImage)
	if err != nil {
		t.Fatal(err)
	}
	after, err := store.ConversationFromStream(ch.NewImage)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Keys["id"].String() != fixtureConversation || before.ID != fixtureConversation || after.ID != fixtureConversation {
		t.Errorf("keys.id %v, old id %q, new id %q; want %s", ch.Keys["id"], before.ID, after.ID, fixtureConversation)
	}
	if before.Status != conversation.Waiting || after.Status != conversation.Returned ||
		after.Version != before.Version+1 || after.LastSeq != before.LastSeq+1 || after.ReturnedAt.IsZero() {
		t.Errorf("old %s v%d seq %d → new %s v%d seq %d (returnedAt %v); want waiting → returned by one customer message",
			before.Status, before.Version, before.LastSeq, after.Status, after.Version, after.LastSeq, after.ReturnedAt)
	}
	if after.Agent == nil || after.Agent.ID != fixtureAgent || after.Customer.ID != fixtureCustomer || after.Widget != fixtureWidget || after.Mode != conversation.Persistent {
		t.Errorf("new image: agent %v, customer %v, widget %q, mode %q", after.Agent, after.Customer, after.Widget, after.Mode)
	}
}

// TestScheduleEvent checks sweep.json is an EventBridge scheduled event
// (docs/aws-behaviour.md 7).
func TestScheduleEvent(t *testing.T) {
	ev := decode[events.CloudWatchEvent](t, "sweep.json")
	if ev.Version != "0" || ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || ev.Time.IsZero() {
		t.Errorf("version %q, detail-type %q, source %q, time %v", ev.Version, ev.DetailType, ev.Source, ev.Time)
	}
	rule := regexp.MustCompile(`^arn:aws:events:` + regexp.QuoteMeta(ev.Region) + `:` + regexp.QuoteMeta(ev.AccountID) + `:rule/\S+$`)
	if !regexp.MustCompile(`^\d{12}$`).MatchString(ev.AccountID) || len(ev.Resources) != 1 || !rule.MatchString(ev.Resources[0]) {
		t.Errorf("account %q, resources %v; want one rule ARN in %s", ev.AccountID, ev.Resources, ev.Region)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(ev.ID) || string(ev.Detail) != "{}" {
		t.Errorf("id %q, detail %s", ev.ID, ev.Detail)
	}
}

// TestFixturesInvokeAsIs feeds every fixture, byte for byte, to the
// function template.yaml sends it to, the way the Lambda runtime (and sam
// local invoke -e) does, against a local stack. Its ids are made up, so
// nothing is delivered, but each must decode and get its function's normal
// answer.
func TestFixturesInvokeAsIs(t *testing.T) {
	s := startStack(t)
	d := s.deps(t)
	tpl := loadTemplate(t)
	// connect.json's connection was opened on the day the fixtures were
	// recorded, so its item expires as it is written. DynamoDB Local deletes
	// expired items within seconds (DynamoDB within days), which would take
	// it before sweep.json finds it stale: TTL is not what this test is
	// about, so it is off on this test's connections table.
	if _, err := dynamoDBAt(s.dynamoDB).UpdateTimeToLive(ctxT(t), &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(s.env["CONNECTIONS_TABLE"]),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(false)},
	}); err != nil {
		t.Fatalf("turn TTL off on the connections table: %v", err)
	}
	// connect before the routes (it records the connection), sweep and
	// disconnect last.
	order := []string{"authorizer.json", "connect.json", "hello.json", "send.json", "history.json", "typing.json", "read.json",
		"ping.json", "default.json", "presence.json", "park.json", "pickup.json", "close.json", "notify.json", "sweep.json", "disconnect.json"}
	if !slices.Equal(slices.Sorted(slices.Values(order)), slices.Sorted(maps.Keys(fixtureKinds))) {
		t.Fatalf("order %v does not list every fixture", order)
	}
	for _, name := range order {
		fn := fixtureFunction(t, tpl, name)
		h, err := handlerOf(fn, d)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		out, err := lambda.NewHandler(h).Invoke(ctx, fixture(t, name))
		cancel()
		switch fixtureKinds[name] {
		case "authorizer":
			// The sample token is signed by no key the widget trusts.
			if err == nil || err.Error() != "Unauthorized" {
				t.Errorf("%s → %s = %s, %v; want error Unauthorized", name, fn, out, err)
			}
		case "route":
			var resp events.APIGatewayProxyResponse
			if err != nil || json.Unmarshal(out, &resp) != nil || resp.StatusCode != 200 {
				t.Errorf("%s → %s = %s, %v; want statusCode 200", name, fn, out, err)
			}
		case "stream":
			var resp events.DynamoDBEventResponse
			if err != nil || json.Unmarshal(out, &resp) != nil || len(resp.BatchItemFailures) != 0 {
				t.Errorf("%s → %s = %s, %v; want no batchItemFailures", name, fn, out, err)
			}
		case "schedule":
			var rep chat.SweepReport
			if err != nil || json.Unmarshal(out, &rep) != nil || rep.Disconnects != 1 {
				t.Errorf("%s → %s = %s, %v; want a report of the one stale connection dropped", name, fn, out, err)
			}
		}
	}
	// send.json created the customer's conversation; disconnect.json
	// forgot the connection connect.json recorded.
	cust, err := s.Store.Customer(ctxT(t), fixtureWidget, fixtureCustomer)
	if err != nil || cust.OpenConversationID == "" || len(cust.ConnectionIDs) != 0 {
		t.Errorf("customer %s after the fixtures: %+v, %v; want an open conversation and no connections", fixtureCustomer, cust, err)
	}
	conn := decode[events.APIGatewayWebsocketProxyRequest](t, "connect.json").RequestContext.ConnectionID
	if _, err := s.Store.Connection(ctxT(t), conn); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("connection %s after disconnect.json: %v; want ErrNotFound", conn, err)
	}
}
