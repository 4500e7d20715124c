package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/cmd/parley-local/localtest"
	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
	"github.com/parley-chat/parley/cmd/parley-local/localtest/wsclient"
	"github.com/parley-chat/parley/shared/store"
)

func TestMain(m *testing.M) { localtest.Main(m) }

// ctl runs parleyctl in-process and returns what it printed and its status.
func ctl(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// ctlOK runs parleyctl and fails the test unless it succeeded.
func ctlOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := ctl(t, args...)
	if code != 0 {
		t.Fatalf("parleyctl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// ctlJSON runs parleyctl with --output json and decodes what it printed.
func ctlJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := ctlOK(t, append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("parleyctl %s printed %q: %v", strings.Join(args, " "), out, err)
	}
}

func repoFile(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", "..", "..", ".."}, parts...)...)
}

// site is a website that embeds the widget: it signs its customers' tokens
// with its own key and publishes the key as a JWKS, as README's examples do.
type site struct {
	key    *ecdsa.PrivateKey
	issuer string
	jwks   *httptest.Server
}

func newSite(t *testing.T) *site {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{key: key, issuer: "https://shop.example.com"}
	b64 := base64.RawURLEncoding.EncodeToString
	pt, err := key.PublicKey.Bytes() // 0x04, x, y
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "kid": "shop-1", "use": "sig", "alg": "ES256",
		"x": b64(pt[1:33]), "y": b64(pt[33:]),
	}}})
	s.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(s.jwks.Close)
	return s
}

func (s *site) token(t *testing.T, widget, sub, name string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": "shop-1"})
	claims, _ := json.Marshal(map[string]any{"iss": s.issuer, "sub": sub, "aud": widget, "name": name,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	input := b64(header) + "." + b64(claims)
	h := sha256.Sum256([]byte(input))
	r, sg, err := ecdsa.Sign(rand.Reader, s.key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sg.FillBytes(sig[32:])
	return input + "." + b64(sig)
}

// A team's whole path through parleyctl, on a running local stack: store
// the default configuration, register its own widget, chat through it with
// tokens its own key signs, export the transcript, and erase the customer
// (twice).
func TestParleyctlEndToEnd(t *testing.T) {
	s := localtest.Stack(t)
	stackName := strings.TrimSuffix(s.Store.Tables().Conversations, "-conversations")
	g := []string{"--endpoint", s.DynamoDBEndpoint(), "--stack", stackName}
	shop := newSite(t)

	// The defaults, trusting the shop's keys (the stack's ConfigureCommand).
	var applied []map[string]string
	ctlJSON(t, &applied, append([]string{"apply", "-f", repoFile("infra", "settings.yaml"),
		"--issuer", shop.issuer, "--jwks-url", shop.jwks.URL, "--origins", "https://shop.example.com"}, g...)...)
	if len(applied) != 9 { // 4 workstreams, 4 widgets, the agent defaults
		t.Fatalf("apply = %v; want 9 settings written", applied)
	}
	var ws []map[string]any
	ctlJSON(t, &ws, append([]string{"workstreams", "list"}, g...)...)
	if len(ws) != 4 {
		t.Fatalf("workstreams = %v", ws)
	}

	// A workstream with office hours, and the shop's own widget.
	ctlOK(t, append([]string{"workstreams", "put", "shop-support", "--mode", "persistent", "--time-zone", "Europe/Oslo",
		"--always-open", "--keep-same-agent", "--holidays", "2026-12-25", "--units", "1", "--requeue-after", "4h",
		"--queue-position-text", "You are number {position}"}, g...)...)
	var got map[string]any
	ctlJSON(t, &got, append([]string{"workstreams", "get", "shop-support"}, g...)...)
	if got["mode"] != "persistent" || got["requeueReturnedAfterSeconds"] != float64(4*3600) || !got["keepSameAgent"].(bool) {
		t.Fatalf("workstream = %v", got)
	}
	ctlOK(t, append([]string{"widgets", "put", "shop", "--workstream", "shop-support", "--issuer", shop.issuer,
		"--jwks-url", shop.jwks.URL, "--origins", "https://shop.example.com,https://www.shop.example.com"}, g...)...)
	var widget map[string]any
	ctlJSON(t, &widget, append([]string{"widgets", "get", "shop"}, g...)...)
	if widget["workstream"] != "shop-support" || len(widget["allowedOrigins"].([]any)) != 2 {
		t.Fatalf("widget = %v", widget)
	}
	if out := ctlOK(t, append([]string{"widgets", "list"}, g...)...); !strings.Contains(out, "shop-support") || !strings.Contains(out, "ORIGINS") {
		t.Fatalf("widgets list = %q", out)
	}

	// The authorizer now takes the shop's tokens for its widget, and only those.
	if st := wsclient.Status(t, s.WSURL+"?token="+shop.token(t, "nope", "carol", "Carol")); st != http.StatusUnauthorized && st != http.StatusForbidden {
		t.Fatalf("a token for an unknown widget upgraded: HTTP %d", st)
	}
	agent := wsclient.Dial(t, s.WSURL+"?token="+wsclient.Token(t, s.URL, map[string]any{"role": "agent", "sub": "bob", "name": "Bob"}), "bob")
	agent.OK("hello", nil)
	carol := wsclient.Dial(t, s.WSURL+"?token="+shop.token(t, "shop", "carol", "Carol"), "carol")
	if sess := carol.OK("hello", nil); sess["role"] != "customer" {
		t.Fatalf("session = %v", sess)
	}
	conv := carol.OK("send", map[string]any{"clientMessageId": "k1", "text": "Where is my order?"})["conversation"].(map[string]any)
	id := conv["id"].(string)
	agent.ConversationEvent(id, "active")
	agent.OK("send", map[string]any{"conversationId": id, "clientMessageId": "a1", "text": "On its way.\nTomorrow."})
	carol.Next("message")

	var active []map[string]any
	ctlJSON(t, &active, append([]string{"conversations", "list", "--status", "active", "--workstream", "shop-support"}, g...)...)
	if len(active) != 1 || active[0]["id"] != id || active[0]["agent"] != "bob" {
		t.Fatalf("active conversations = %v", active)
	}
	var agents []map[string]any
	ctlJSON(t, &agents, append([]string{"agents", "list"}, g...)...)
	if len(agents) != 1 || agents[0]["used"] != float64(1) {
		t.Fatalf("agents = %v", agents)
	}
	ctlOK(t, append([]string{"agents", "set-capacity", "--agent", "bob", "--capacity", "5"}, g...)...)

	// The transcript, both ways.
	var tr struct {
		Conversation map[string]any
		Messages     []map[string]any
	}
	ctlJSON(t, &tr, append([]string{"export", "--conversation", id, "--format", "json"}, g...)...)
	if len(tr.Messages) != 2 || tr.Messages[0]["text"] != "Where is my order?" || tr.Messages[1]["senderId"] != "bob" || tr.Conversation["customer"] != "carol" {
		t.Fatalf("transcript = %+v", tr)
	}
	text := ctlOK(t, append([]string{"export", "--conversation", id}, g...)...)
	if !strings.Contains(text, "Carol (customer): Where is my order?") || !strings.Contains(text, "Bob (agent): On its way.\n    Tomorrow.") {
		t.Fatalf("text transcript = %q", text)
	}

	// Erase: the customer leaves first (a connection still open would write
	// its departure into a new customer record when it closes).
	carol.Close()
	poll.Until(t, "carol's connection to be forgotten", func() bool {
		c, err := s.Store.Customer(t.Context(), "shop", "carol")
		return err == nil && len(c.ConnectionIDs) == 0
	})
	var dry map[string]any
	ctlJSON(t, &dry, append([]string{"erase", "--customer", "carol", "--widget", "shop", "--dry-run"}, g...)...)
	if dry["dryRun"] != true || len(dry["conversations"].([]any)) != 1 || dry["messages"].(float64) < 3 || dry["customerRecord"] != true {
		t.Fatalf("dry run = %v", dry) // 2 messages and the notifier's marks
	}
	if _, err := s.Store.Conversation(t.Context(), id); err != nil {
		t.Fatalf("the dry run removed the conversation: %v", err)
	}
	var erased map[string]any
	ctlJSON(t, &erased, append([]string{"erase", "--customer", "carol", "--widget", "shop"}, g...)...)
	if erased["messages"] != dry["messages"] || len(erased["capacityFreed"].([]any)) != 1 {
		t.Fatalf("erase = %v; want what the dry run found (%v)", erased, dry)
	}
	assertNothingLeft(t, s.DynamoDBEndpoint(), s.Store.Tables(), id, "shop", "carol")
	if a, err := s.Store.Agent(t.Context(), "bob"); err != nil || a.Used != 0 || a.Capacity != 5 {
		t.Fatalf("bob after the erasure = %+v, %v; want capacity 5 with nothing used", a, err)
	}
	var again map[string]any
	ctlJSON(t, &again, append([]string{"erase", "--customer", "carol", "--widget", "shop"}, g...)...)
	if len(again["conversations"].([]any)) != 0 || again["messages"] != float64(0) || len(again["connections"].([]any)) != 0 || again["customerRecord"] != false {
		t.Fatalf("second erase = %v; want nothing found", again)
	}
	if out := ctlOK(t, append([]string{"erase", "--customer", "carol", "--widget", "shop"}, g...)...); !strings.Contains(out, "removed: conversations") {
		t.Fatalf("erase table = %q", out)
	}

	// Settings can go too.
	ctlOK(t, append([]string{"widgets", "delete", "shop"}, g...)...)
	if _, errOut, code := ctl(t, append([]string{"widgets", "get", "shop"}, g...)...); code != 1 || !strings.Contains(errOut, "widget shop not found") {
		t.Fatalf("get of a deleted widget = %d %q", code, errOut)
	}
}

// assertNothingLeft reads every table for anything about the customer.
func assertNothingLeft(t *testing.T, endpoint string, tb store.Tables, convID, widget, customer string) {
	t.Helper()
	db := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	scan := func(table, filter string, values map[string]types.AttributeValue) int {
		out, err := db.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table), FilterExpression: aws.String(filter),
			ExpressionAttributeValues: values})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Items)
	}
	if n := scan(tb.Conversations, "customerId = :c", map[string]types.AttributeValue{":c": str(customer)}); n != 0 {
		t.Errorf("%d conversations of %s left", n, customer)
	}
	for _, pk := range []string{convID, "notified#" + convID} {
		out, err := db.Query(t.Context(), &dynamodb.QueryInput{TableName: aws.String(tb.Messages),
			KeyConditionExpression: aws.String("conversationId = :c"), ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(pk)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Items) != 0 {
			t.Errorf("%d items under %s left in the messages table", len(out.Items), pk)
		}
	}
	if n := scan(tb.Messages, "senderId = :c OR messageConversationId = :id", map[string]types.AttributeValue{":c": str(customer), ":id": str(convID)}); n != 0 {
		t.Errorf("%d messages or idempotency markers of %s left", n, customer)
	}
	if n := scan(tb.Connections, "userId = :c", map[string]types.AttributeValue{":c": str(customer)}); n != 0 {
		t.Errorf("%d connections of %s left", n, customer)
	}
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(tb.Customers),
		Key: map[string]types.AttributeValue{"id": str(widget + "#" + customer)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item != nil {
		t.Errorf("customer record left: %v", out.Item)
	}
	if n := scan(tb.Customers, "customerId = :c", map[string]types.AttributeValue{":c": str(customer)}); n != 0 {
		t.Errorf("%d customer records of %s left", n, customer)
	}
}

// Bad command lines say what is wrong and exit 2; operations that fail
// exit 1; every command has --help.
func TestParleyctlCommandLine(t *testing.T) {
	s := localtest.Stack(t)
	stackName := strings.TrimSuffix(s.Store.Tables().Conversations, "-conversations")
	g := []string{"--endpoint", s.DynamoDBEndpoint(), "--stack", stackName}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"widgets", "explode"}, 2, `widgets has no subcommand "explode"`},
		{[]string{"widgets", "list", "--output", "yaml"}, 2, `--output "yaml": json or table`},
		{[]string{"widgets", "put", "w1", "--workstream", "support-live", "--issuer", "https://x", "--jwks-url", "not a url"}, 2, "jwksUrl"},
		{[]string{"widgets", "put", "w1", "--workstream", "missing", "--issuer", "https://x", "--jwks-url", "https://x/jwks"}, 1, "workstream missing"},
		{[]string{"widgets", "put", "w1", "--workstream", "support-live", "--issuer", "https://x", "--jwks-url", "https://x/jwks", "--origins", "https://x/path"}, 2, "allowed origin"},
		{[]string{"workstreams", "put", "w2", "--mode", "persistent", "--time-zone", "Mars/Olympus"}, 2, "Mars/Olympus"},
		{[]string{"workstreams", "put", "w2", "--mode", "sometimes"}, 2, "sometimes"},
		{[]string{"workstreams", "put", "w2", "--mode", "live", "--weekly", "funday=09:00-17:00"}, 2, "funday"},
		{[]string{"conversations", "list", "--status", "lost"}, 2, `--status "lost"`},
		{[]string{"export", "--conversation", "c_nothing"}, 1, "conversation c_nothing not found"},
		{[]string{"export", "--conversation", "c_x", "--format", "pdf"}, 2, "json or text"},
		{[]string{"erase", "--customer", "alice"}, 2, "erase needs --customer and --widget"},
		{[]string{"apply", "-f", repoFile("infra", "settings.yaml")}, 2, "pass --issuer and --jwks-url"},
		{[]string{"agents", "set-capacity", "--agent", "bob"}, 2, "--capacity"},
	}
	for _, c := range cases {
		_, errOut, code := ctl(t, append(c.args, g...)...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("parleyctl %s = exit %d %q; want exit %d naming %q", strings.Join(c.args, " "), code, errOut, c.code, c.want)
		}
	}
	for _, cmd := range [][]string{{"--help"}, {"apply", "--help"}, {"widgets", "--help"}, {"widgets", "put", "--help"},
		{"workstreams", "put", "--help"}, {"agents", "set-capacity", "--help"}, {"conversations", "list", "--help"},
		{"export", "--help"}, {"erase", "--help"}} {
		out, errOut, code := ctl(t, cmd...)
		if code != 0 || !strings.Contains(out, "Usage: parleyctl") {
			t.Errorf("parleyctl %s = exit %d, %q %q", strings.Join(cmd, " "), code, out, errOut)
		}
	}
	// A stack with no tables: the error says what to check.
	_, errOut, code := ctl(t, "widgets", "list", "--endpoint", s.DynamoDBEndpoint(), "--stack", "elsewhere")
	if code != 1 || !strings.Contains(errOut, "check --stack and --region") {
		t.Errorf("widgets list on a missing stack = %d %q", code, errOut)
	}
}
