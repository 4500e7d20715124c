package template

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func repoTemplate(t *testing.T) *Stack {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	tpl, err := Load(filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := tpl.Resolve(Env{StackName: "parley", Region: "us-east-1", AccountID: "000000000000", APIID: "local123ab"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The repository's own template must resolve into a WebSocket API whose
// routes, authorizer, tables, stream and schedule the local stack can run.
func TestRepositoryTemplate(t *testing.T) {
	s := repoTemplate(t)
	if s.API == nil {
		t.Fatal("no WebSocket API")
	}
	if s.API.RouteSelectionExpression != "$request.body.action" || s.API.Stage != "prod" {
		t.Errorf("api = %+v", s.API)
	}
	routes := map[string]string{}
	for _, r := range s.API.Routes {
		routes[r.Key] = r.Function
	}
	want := map[string]string{"$connect": "ConnectFunction", "$disconnect": "DisconnectFunction", "$default": "DefaultFunction",
		"hello": "MessageFunction", "send": "MessageFunction", "history": "MessageFunction", "typing": "MessageFunction",
		"read": "MessageFunction", "ping": "MessageFunction", "park": "ParkFunction", "pickup": "PickupFunction",
		"close": "CloseFunction", "presence": "PresenceFunction"}
	for k, fn := range want {
		if routes[k] != fn {
			t.Errorf("route %s → %q; want %q", k, routes[k], fn)
		}
	}
	if a := s.API.Authorizer; a == nil || a.Function != "AuthorizerFunction" || len(a.IdentitySource) != 1 || a.IdentitySource[0] != "route.request.querystring.token" {
		t.Errorf("authorizer = %+v", s.API.Authorizer)
	}
	msg := s.Functions["MessageFunction"]
	if msg.Name != "message" || msg.Timeout != 10*time.Second {
		t.Errorf("MessageFunction = %+v", msg)
	}
	if got := msg.Env["CONVERSATIONS_TABLE"]; got != "parley-conversations" {
		t.Errorf("CONVERSATIONS_TABLE = %q", got)
	}
	if got := msg.Env["MANAGEMENT_ENDPOINT"]; got != "https://local123ab.execute-api.us-east-1.amazonaws.com/prod" {
		t.Errorf("MANAGEMENT_ENDPOINT = %q", got)
	}
	if got := s.Functions["AuthorizerFunction"].Timeout; got != 5*time.Second {
		t.Errorf("authorizer timeout = %v", got)
	}
	notify := s.Functions["NotifyFunction"]
	if len(notify.Streams) != 1 {
		t.Fatalf("notify streams = %+v", notify.Streams)
	}
	st := notify.Streams[0]
	if st.Table != "ConversationsTable" || !st.ReportBatchItemFailures || !st.BisectBatchOnFunctionError || st.MaximumRetryAttempts != 5 || len(st.Filters) != 5 || st.BatchSize != 25 {
		t.Errorf("stream = %+v", st)
	}
	sw := s.Functions["SweepFunction"]
	if len(sw.Schedules) != 1 || sw.Schedules[0].Expression != "rate(1 minute)" || !sw.Schedules[0].Enabled {
		t.Errorf("schedules = %+v", sw.Schedules)
	}
	names := map[string]*Table{}
	for _, tb := range s.Tables {
		names[tb.Name] = tb
	}
	if c := names["parley-conversations"]; c == nil || c.StreamViewType() != "NEW_AND_OLD_IMAGES" {
		t.Errorf("conversations table = %+v", c)
	}
	if m := names["parley-messages"]; m == nil || m.TTLAttribute() != "expiresAt" {
		t.Errorf("messages table = %+v", m)
	}
}

func TestIntrinsics(t *testing.T) {
	src := `
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties: {KeySchema: [{AttributeName: id, KeyType: HASH}]}
  F:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          A: !Ref T
          B: !Sub "${AWS::Region}/${Stage}/${!Literal}"
          C: !Join ["-", [x, !Ref Stage]]
          D: !Select [1, !Split [",", "a,b,c"]]
          E: !GetAtt T.Arn
          G: !Sub ["${X}-${T}", {X: !Ref Stage}]
`
	tpl, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s, err := tpl.Resolve(Env{StackName: "st", Region: "eu-west-1", AccountID: "1", APIID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	env := s.Functions["F"].Env
	want := map[string]string{"A": "st-T", "B": "eu-west-1/dev/${Literal}", "C": "x-dev", "D": "b",
		"E": "arn:aws:dynamodb:eu-west-1:1:table/st-T", "G": "dev-st-T"}
	for k, w := range want {
		if env[k] != w {
			t.Errorf("%s = %q; want %q", k, env[k], w)
		}
	}
	if _, err := Parse([]byte("Resources: {X: {Type: T, Properties: {A: !Unknown x}}}")); err != nil {
		t.Fatal(err)
	}
	tpl2, _ := Parse([]byte("Resources: {X: {Type: AWS::Serverless::Function, Properties: {Environment: {Variables: {A: !Ref Nope}}}}}"))
	if _, err := tpl2.Resolve(Env{}); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("Resolve(Ref Nope) = %v; want an error naming Nope", err)
	}
}
