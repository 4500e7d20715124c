package stack

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Conversations, messages and the issuer's keys survive a graceful restart
// on the same data folder, even on another port.
func TestDataKeptAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	first := startStack(t, func(o *Options) { o.Data, o.Addr = dir, addr })
	bob := first.dial(t, "bob", first.agentToken(t, "bob"))
	bob.OK("hello", nil)
	aliceToken := first.customerToken(t, "persistent", "alice")
	alice := first.dial(t, "alice", aliceToken)
	id := obj(alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "before the restart"})["conversation"])["id"].(string)
	bob.ConversationEvent(id, "active")
	bob.OK("send", map[string]any{"conversationId": id, "clientMessageId": "b1", "text": "noted"})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}

	second := startStack(t, func(o *Options) { o.Data, o.Addr = dir, addr })
	// The token minted before the restart still verifies: the keys persisted.
	back := second.dial(t, "alice-again", aliceToken)
	sess := back.OK("hello", nil)
	conv := obj(sess["conversation"])
	if conv["id"] != id || num(conv["lastSeq"]) != 2 || len(list(sess["messages"])) != 2 {
		t.Fatalf("after restart: %v", sess)
	}
	if a := obj(conv["agent"]); a["id"] != "bob" {
		t.Fatalf("agent after restart = %v", a)
	}
}

// --dynamodb-endpoint: a stack whose store is another stack's embedded
// DynamoDB works through it alone.
func TestExternalDynamoDBEndpoint(t *testing.T) {
	backend := startStack(t, embedded, func(o *Options) { o.StackName = "parley" })
	front := startStack(t, func(o *Options) { o.DynamoDBEndpoint = backend.URL + "/local/dynamodb"; o.StackName = "parley" })
	if front.db != nil {
		t.Fatal("front stack opened an embedded store")
	}
	alice := front.dial(t, "alice", front.customerToken(t, "persistent", "alice"))
	id := obj(alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "stored elsewhere"})["conversation"])["id"].(string)
	c, err := backend.Store.Conversation(t.Context(), id)
	if err != nil || c.LastSeq != 1 {
		t.Fatalf("conversation in the backend store = %v, %v", c, err)
	}
	out, err := dynamoClient(awsConfig(Region), backend.URL+"/local/dynamodb", nil).ListTables(t.Context(), &dynamodb.ListTablesInput{})
	if err != nil || len(out.TableNames) < 6 {
		t.Fatalf("backend tables = %v, %v", out, err)
	}
}

// The local stack is driven by the template: a route and a table added to
// it are served without touching the local stack's code.
func TestTemplateDrivesTheStack(t *testing.T) {
	src, err := os.ReadFile(templatePath(t))
	if err != nil {
		t.Fatal(err)
	}
	extra := strings.Replace(string(src), "  SettingsTable:\n", `  AuditTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-audit"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]

  EchoRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref WebSocketApi, RouteKey: echo, Target: !Sub "integrations/${MessageIntegration}"}

  SettingsTable:
`, 1)
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startStack(t, func(o *Options) { o.Template = path })
	out, err := dynamoClient(awsConfig(Region), s.DynamoDBEndpoint(), nil).ListTables(t.Context(), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := s.opts.StackName + "-audit"; !strings.Contains(strings.Join(out.TableNames, ","), want) {
		t.Fatalf("tables = %v; want %s", out.TableNames, want)
	}
	// The new route reaches the message function, which does not serve it.
	alice := s.dial(t, "alice", s.customerToken(t, "persistent", "alice"))
	if r := alice.Do("echo", nil); r["code"] != "unknown_action" {
		t.Fatalf("echo = %v", r)
	}
}

// Graceful shutdown sends $disconnect for every connection: the connection
// items are gone and agents are offline afterwards.
func TestShutdownDisconnects(t *testing.T) {
	dir := t.TempDir()
	s := startStack(t, func(o *Options) { o.Data = dir })
	s.dial(t, "bob", s.agentToken(t, "bob")).OK("hello", nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	again := startStack(t, func(o *Options) { o.Data = dir })
	ag, err := again.Store.Agent(t.Context(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if len(ag.ConnectionIDs) != 0 || ag.Presence != "offline" || ag.OfflineSince.IsZero() {
		t.Fatalf("agent after shutdown = %+v; want offline with no connections", ag)
	}
}

func TestStoreEndpoints(t *testing.T) {
	cases := []struct{ endpoint, streams string }{
		{"http://127.0.0.1:8000", "http://127.0.0.1:8000"},
		{"http://127.0.0.1:8080/local/dynamodb", "http://127.0.0.1:8080/local/dynamodb"},
		{"https://dynamodb.eu-west-1.amazonaws.com", "https://streams.dynamodb.eu-west-1.amazonaws.com"},
	}
	for _, c := range cases {
		if got := streamsEndpoint(c.endpoint); got != c.streams {
			t.Errorf("streamsEndpoint(%s) = %s; want %s", c.endpoint, got, c.streams)
		}
	}
	if _, region, err := dynamoConfig(t.Context(), "http://127.0.0.1:8000"); err != nil || region != Region {
		t.Errorf("dynamoConfig(local) region %q, %v; want %s", region, err, Region)
	}
	// AWS itself: the region comes from the host, credentials from the
	// machine's default chain (resolved lazily: no request is made here).
	if cfg, region, err := dynamoConfig(t.Context(), "https://dynamodb.eu-west-1.amazonaws.com"); err != nil || region != "eu-west-1" || cfg.Region != "eu-west-1" {
		t.Errorf("dynamoConfig(AWS) region %q/%q, %v; want eu-west-1", region, cfg.Region, err)
	}
}
