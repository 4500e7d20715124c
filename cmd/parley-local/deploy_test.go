package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/parley-chat/parley/cmd/parley-local/internal/filter"
	"github.com/parley-chat/parley/cmd/parley-local/internal/template"
)

// These tests read template.yaml as CloudFormation will deploy it, for
// what the local stack cannot show: IAM, hosting, sign-in, outputs.

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// cfn is template.yaml decoded with CloudFormation's short tags in long
// form (!Ref X → {"Ref": "X"}), every top-level section kept.
type cfn struct {
	Parameters, Conditions, Outputs, Globals map[string]any
	Resources                                map[string]map[string]any
}

func loadCFN(t *testing.T) cfn {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	doc := longForm(&root).(map[string]any)
	c := cfn{Resources: map[string]map[string]any{}}
	c.Parameters, _ = doc["Parameters"].(map[string]any)
	c.Conditions, _ = doc["Conditions"].(map[string]any)
	c.Outputs, _ = doc["Outputs"].(map[string]any)
	c.Globals, _ = doc["Globals"].(map[string]any)
	for id, r := range doc["Resources"].(map[string]any) {
		c.Resources[id] = r.(map[string]any)
	}
	return c
}

func longForm(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		return longForm(n.Content[0])
	case yaml.AliasNode:
		return longForm(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = longForm(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		var s []any
		for _, c := range n.Content {
			s = append(s, longForm(c))
		}
		v = s
	default:
		v = n.Value
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v
	}
	switch tag := strings.TrimPrefix(n.Tag, "!"); tag {
	case "Ref", "Condition":
		return map[string]any{tag: v}
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, _ := strings.Cut(s, ".")
			return map[string]any{"Fn::GetAtt": []any{res, attr}}
		}
		return map[string]any{"Fn::GetAtt": v}
	default:
		return map[string]any{"Fn::" + tag: v}
	}
}

func (c cfn) props(id string) map[string]any {
	p, _ := c.Resources[id]["Properties"].(map[string]any)
	return p
}

func (c cfn) ofType(typ string) []string {
	var ids []string
	for id, r := range c.Resources {
		if r["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// refs lists the logical ids v refers to (Ref, GetAtt, ${X} and ${X.Attr} in Sub).
func refs(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				switch k {
				case "Ref":
					if s, ok := e.(string); ok {
						out = append(out, s)
					}
				case "Fn::GetAtt":
					if l, ok := e.([]any); ok && len(l) > 0 {
						out = append(out, fmt.Sprint(l[0]))
					}
				case "Fn::Sub":
					s, _ := e.(string)
					if l, ok := e.([]any); ok && len(l) > 0 {
						s, _ = l[0].(string)
						walk(l[1:])
					}
					for _, m := range regexp.MustCompile(`\$\{([A-Za-z0-9]+)(\.[A-Za-z.]+)?\}`).FindAllStringSubmatch(s, -1) {
						out = append(out, m[1])
					}
				default:
					walk(e)
				}
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// grant is one DynamoDB action on a table or one of its indexes.
type grant struct{ table, index, action string }

// want is what each function's handler calls, read from shared/route and
// shared/chat (the use cases each function's handler serves) and
// shared/store (the DynamoDB operations of each store method;
// TransactWriteItems is checked per contained Put, Update and Delete,
// BatchGetItem per table). The policies must equal it (nothing granted that
// the code never calls); TestPoliciesGrantWhatTheFunctionsDo checks the
// other side by running the code.
var want = map[string][]grant{
	// Authorize: the widget's trust settings (store.Widget).
	"AuthorizerFunction": {{"SettingsTable", "", "GetItem"}},
	// Connect: AgentDefaults, the user's open connections (Customer or
	// Agent, for the cap), AddConnection, and for an agent the assignment
	// (Workstreams, Queue, OnlineAgents, Apply without message, a lost
	// race's re-read, RecordWait).
	"ConnectFunction": {{"SettingsTable", "", "GetItem"}, {"SettingsTable", "", "BatchGetItem"}, {"SettingsTable", "", "UpdateItem"},
		{"ConnectionsTable", "", "PutItem"}, {"CustomersTable", "", "GetItem"}, {"CustomersTable", "", "UpdateItem"},
		{"AgentsTable", "", "GetItem"}, {"AgentsTable", "", "UpdateItem"}, {"AgentsTable", "online", "Query"},
		{"ConversationsTable", "", "GetItem"}, {"ConversationsTable", "", "BatchGetItem"}, {"ConversationsTable", "", "UpdateItem"}, {"ConversationsTable", "queueKeys", "Query"}},
	// Disconnect: Connection, RemoveConnection.
	"DisconnectFunction": {{"ConnectionsTable", "", "GetItem"}, {"ConnectionsTable", "", "DeleteItem"},
		{"CustomersTable", "", "UpdateItem"}, {"AgentsTable", "", "UpdateItem"}},
	// hello (Agent, AgentConversations, Customer, Conversation and the last
	// closed one, Messages), send (the widget and workstream, Apply with
	// create and message, a resend's stored message, Parties),
	// history, typing, read (MarkRead), and forgetting gone connections.
	// Assignment is the stream's (Notify), not the send's.
	"MessageFunction": {{"ConversationsTable", "", "GetItem"}, {"ConversationsTable", "", "PutItem"}, {"ConversationsTable", "", "UpdateItem"},
		{"ConversationsTable", "byAgentKeys", "Query"}, {"ConversationsTable", "", "BatchGetItem"},
		{"MessagesTable", "", "GetItem"}, {"MessagesTable", "", "PutItem"}, {"MessagesTable", "", "Query"},
		{"CustomersTable", "", "GetItem"}, {"CustomersTable", "", "UpdateItem"}, {"CustomersTable", "", "BatchGetItem"},
		{"AgentsTable", "", "GetItem"}, {"AgentsTable", "", "UpdateItem"}, {"AgentsTable", "", "BatchGetItem"},
		{"ConnectionsTable", "", "GetItem"}, {"ConnectionsTable", "", "DeleteItem"},
		{"SettingsTable", "", "GetItem"}},
	// park: the move (Conversation, Apply with capacity); the stream gives
	// the freed capacity to the queue.
	"ParkFunction": {{"ConversationsTable", "", "GetItem"}, {"ConversationsTable", "", "UpdateItem"}, {"AgentsTable", "", "UpdateItem"}},
	// pickup: Conversation, Agent, Apply with capacity.
	"PickupFunction": {{"ConversationsTable", "", "GetItem"}, {"ConversationsTable", "", "UpdateItem"},
		{"AgentsTable", "", "GetItem"}, {"AgentsTable", "", "UpdateItem"}},
	// close: the move (with the customer's open pointer); the stream gives
	// freed capacity to the queue.
	"CloseFunction": {{"ConversationsTable", "", "GetItem"}, {"ConversationsTable", "", "UpdateItem"},
		{"CustomersTable", "", "UpdateItem"}, {"AgentsTable", "", "UpdateItem"}},
	// presence: SetPresence, then assignAll.
	"PresenceFunction": {{"AgentsTable", "", "UpdateItem"}, {"AgentsTable", "online", "Query"},
		{"ConversationsTable", "", "GetItem"}, {"ConversationsTable", "", "BatchGetItem"}, {"ConversationsTable", "", "UpdateItem"}, {"ConversationsTable", "queueKeys", "Query"},
		{"SettingsTable", "", "GetItem"}, {"SettingsTable", "", "BatchGetItem"}, {"SettingsTable", "", "UpdateItem"}},
	// Default: no table at all.
	"DefaultFunction": nil,
	// Notify: Notified, Parties, the assigned conversation's Messages,
	// MarkNotified, forgetting gone connections; assigning the queue after
	// a new or requeued conversation or freed capacity (the workstream,
	// Queue, OnlineAgents, Apply, a lost race's re-read, RecordWait; for a
	// live customer still waiting, Customer, QueuePosition, AverageWait);
	// for an unreachable agent, Unassign.
	"NotifyFunction": {{"MessagesTable", "", "GetItem"}, {"MessagesTable", "", "PutItem"}, {"MessagesTable", "", "Query"},
		{"ConversationsTable", "", "GetItem"}, {"ConversationsTable", "", "BatchGetItem"}, {"ConversationsTable", "", "UpdateItem"}, {"ConversationsTable", "queueKeys", "Query"},
		{"CustomersTable", "", "GetItem"}, {"CustomersTable", "", "BatchGetItem"}, {"CustomersTable", "", "UpdateItem"},
		{"AgentsTable", "", "BatchGetItem"}, {"AgentsTable", "", "UpdateItem"}, {"AgentsTable", "online", "Query"},
		{"SettingsTable", "", "GetItem"}, {"SettingsTable", "", "BatchGetItem"}, {"SettingsTable", "", "UpdateItem"},
		{"ConnectionsTable", "", "GetItem"}, {"ConnectionsTable", "", "DeleteItem"}},
	// Sweep: Workstreams, assignment, ByStatus, Agent, Reminded,
	// MarkReminded, Customer, Apply (requeue, close), StaleConnections (the
	// one Scan), RemoveConnection.
	"SweepFunction": {{"SettingsTable", "", "GetItem"}, {"SettingsTable", "", "BatchGetItem"}, {"SettingsTable", "", "UpdateItem"},
		{"ConversationsTable", "", "GetItem"}, {"ConversationsTable", "", "UpdateItem"}, {"ConversationsTable", "", "BatchGetItem"},
		{"ConversationsTable", "queueKeys", "Query"}, {"ConversationsTable", "byStatusKeys", "Query"},
		{"AgentsTable", "", "GetItem"}, {"AgentsTable", "", "UpdateItem"}, {"AgentsTable", "online", "Query"},
		{"CustomersTable", "", "GetItem"}, {"CustomersTable", "", "UpdateItem"},
		{"ConnectionsTable", "", "Scan"}, {"ConnectionsTable", "", "GetItem"}, {"ConnectionsTable", "", "DeleteItem"}},
}

// manageConnections is the Management API methods each function calls
// (push.Post: POST; push.Disconnect: DELETE).
var manageConnections = map[string][]string{
	"AuthorizerFunction": nil, "ConnectFunction": nil, "DisconnectFunction": nil,
	"MessageFunction": {"POST"}, "ParkFunction": {"POST"}, "PickupFunction": {"POST"}, "CloseFunction": {"POST"},
	"PresenceFunction": {"POST"}, "DefaultFunction": {"POST"}, "NotifyFunction": {"POST"}, "SweepFunction": {"DELETE", "POST"},
}

var indexARN = regexp.MustCompile(`^\$\{([A-Za-z]+)\.Arn\}/index/([A-Za-z]+)$`)
var manageARN = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{WebSocketApi\}/\$\{StageName\}/(POST|DELETE|GET)/@connections/\*$`)

// Each function has one policy of its own, granting exactly what its code
// calls, on named tables and indexes, never on "*".
func TestPoliciesGrantWhatTheCodeCalls(t *testing.T) {
	c := loadCFN(t)
	fns := c.ofType("AWS::Serverless::Function")
	if len(fns) != len(want) {
		t.Fatalf("functions %v; want a policy entry for each of %d", fns, len(want))
	}
	for _, fn := range fns {
		got, methods := policyGrants(t, c, fn)
		wantSet := map[grant]bool{}
		for _, g := range want[fn] {
			wantSet[g] = true
			if !got[g] {
				t.Errorf("%s: its code calls %s on %s%s, which its policy does not grant", fn, g.action, g.table, indexSuffix(g.index))
			}
		}
		for g := range got {
			if !wantSet[g] {
				t.Errorf("%s: its policy grants %s on %s%s, which its code never calls", fn, g.action, g.table, indexSuffix(g.index))
			}
			if g.action == "Scan" && fn != "SweepFunction" {
				t.Errorf("%s may Scan %s: no request path scans", fn, g.table)
			}
		}
		if fmt.Sprint(methods) != fmt.Sprint(manageConnections[fn]) {
			t.Errorf("%s: ManageConnections on %v; want %v", fn, methods, manageConnections[fn])
		}
	}
}

// policyGrants reads function fn's one policy: the DynamoDB actions it
// grants on the template's tables and indexes, and the Management API
// methods.
func policyGrants(t *testing.T, c cfn, fn string) (map[grant]bool, []string) {
	t.Helper()
	pols, _ := c.props(fn)["Policies"].([]any)
	if len(pols) != 1 {
		t.Errorf("%s has %d policies; want its own one", fn, len(pols))
		return nil, nil
	}
	stmts, _ := pols[0].(map[string]any)["Statement"].([]any)
	got := map[grant]bool{}
	var methods []string
	for _, s := range stmts {
		st := s.(map[string]any)
		if st["Effect"] != "Allow" {
			t.Errorf("%s: statement %v is not an Allow", fn, st)
		}
		actions := toList(st["Action"])
		for _, res := range toList(st["Resource"]) {
			table, index := "", ""
			switch r := res.(type) {
			case map[string]any:
				if ga, ok := r["Fn::GetAtt"].([]any); ok && len(ga) == 2 && ga[1] == "Arn" {
					table = fmt.Sprint(ga[0])
				} else if sub, ok := r["Fn::Sub"].(string); ok {
					if m := indexARN.FindStringSubmatch(sub); m != nil {
						table, index = m[1], m[2]
					} else if m := manageARN.FindStringSubmatch(sub); m != nil {
						methods = append(methods, m[1])
						continue
					}
				}
			}
			if table == "" {
				t.Errorf("%s: resource %v is not a table of this template, one of its indexes or its stage's @connections (never *)", fn, res)
				continue
			}
			if c.Resources[table]["Type"] != "AWS::DynamoDB::Table" {
				t.Errorf("%s: %s is not a table of the template", fn, table)
			}
			for _, a := range actions {
				as := fmt.Sprint(a)
				if as == "execute-api:ManageConnections" {
					t.Errorf("%s: ManageConnections on table %s", fn, table)
					continue
				}
				action, ok := strings.CutPrefix(as, "dynamodb:")
				if !ok || strings.Contains(action, "*") {
					t.Errorf("%s: action %s on %s: want a named dynamodb action", fn, as, table)
				}
				got[grant{table, index, action}] = true
			}
		}
	}
	sort.Strings(methods)
	return got, methods
}

func indexSuffix(index string) string {
	if index == "" {
		return ""
	}
	return " index " + index
}

func toList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// Every table a function names in its environment exists, is granted to
// someone, and keeps its data: Retain on delete and replace, deletion
// protection, point-in-time recovery, encryption; TTL on the tables the
// code writes expiresAt to.
func TestTablesAreKept(t *testing.T) {
	c := loadCFN(t)
	env := c.Globals["Function"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
	var named []string
	for k, v := range env {
		if strings.HasSuffix(k, "_TABLE") {
			r := refs(v)
			if len(r) != 1 || c.Resources[r[0]]["Type"] != "AWS::DynamoDB::Table" {
				t.Errorf("%s = %v: not a table of the template", k, v)
				continue
			}
			named = append(named, r[0])
		}
	}
	tables := c.ofType("AWS::DynamoDB::Table")
	sort.Strings(named)
	if fmt.Sprint(named) != fmt.Sprint(tables) {
		t.Errorf("the functions' environment names %v; the template has %v", named, tables)
	}
	granted := map[string]bool{}
	for _, gs := range want {
		for _, g := range gs {
			granted[g.table] = true
		}
	}
	ttl := map[string]bool{"MessagesTable": true, "ConnectionsTable": true}
	for _, id := range tables {
		r, p := c.Resources[id], c.props(id)
		if !granted[id] {
			t.Errorf("%s is used by no function", id)
		}
		if r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
			t.Errorf("%s: DeletionPolicy %v, UpdateReplacePolicy %v; want Retain", id, r["DeletionPolicy"], r["UpdateReplacePolicy"])
		}
		if p["DeletionProtectionEnabled"] != "true" {
			t.Errorf("%s: no deletion protection", id)
		}
		if pitr, _ := p["PointInTimeRecoverySpecification"].(map[string]any); pitr["PointInTimeRecoveryEnabled"] != "true" {
			t.Errorf("%s: no point-in-time recovery", id)
		}
		if sse, _ := p["SSESpecification"].(map[string]any); sse["SSEEnabled"] != "true" {
			t.Errorf("%s: not encrypted with KMS", id)
		}
		spec, _ := p["TimeToLiveSpecification"].(map[string]any)
		if got := spec["AttributeName"] == "expiresAt" && spec["Enabled"] == "true"; got != ttl[id] {
			t.Errorf("%s: TTL on expiresAt = %v; want %v", id, got, ttl[id])
		}
	}
	pool := c.Resources["AgentUserPool"]
	if pool["DeletionPolicy"] != "Retain" || pool["UpdateReplacePolicy"] != "Retain" || c.props("AgentUserPool")["DeletionProtection"] != "ACTIVE" {
		t.Errorf("user pool %v: want Retain and deletion protection", pool)
	}
}

// Every route has an integration with a function, every integrated
// function a permission for this API, every function code that builds
// through the Makefile target sam build runs, and the stage deploys itself.
func TestRoutesIntegrationsAndBuilds(t *testing.T) {
	c := loadCFN(t)
	integrations := map[string]string{} // integration → function
	for _, id := range c.ofType("AWS::ApiGatewayV2::Integration") {
		for _, r := range refs(c.props(id)["IntegrationUri"]) {
			if c.Resources[r]["Type"] == "AWS::Serverless::Function" {
				integrations[id] = r
			}
		}
		if integrations[id] == "" {
			t.Errorf("integration %s calls no function of the template", id)
		}
	}
	invoked := map[string]bool{}
	for _, id := range c.ofType("AWS::ApiGatewayV2::Route") {
		target := refs(c.props(id)["Target"])
		if len(target) != 1 || integrations[target[0]] == "" {
			t.Errorf("route %s (%v) has no integration", id, c.props(id)["RouteKey"])
			continue
		}
		invoked[integrations[target[0]]] = true
	}
	for _, id := range c.ofType("AWS::ApiGatewayV2::Authorizer") {
		for _, r := range refs(c.props(id)["AuthorizerUri"]) {
			if c.Resources[r]["Type"] == "AWS::Serverless::Function" {
				invoked[r] = true
			}
		}
	}
	permitted := map[string]bool{}
	for _, id := range c.ofType("AWS::Lambda::Permission") {
		p := c.props(id)
		fn := refs(p["FunctionName"])
		if p["Principal"] != "apigateway.amazonaws.com" || len(fn) != 1 || !has(refs(p["SourceArn"]), "WebSocketApi") {
			t.Errorf("permission %s = %v: want API Gateway, one function, this API", id, p)
			continue
		}
		permitted[fn[0]] = true
	}
	for fn := range invoked {
		if !permitted[fn] {
			t.Errorf("%s is integrated but API Gateway may not invoke it", fn)
		}
	}
	stage := c.props("Stage")
	if stage["AutoDeploy"] != "true" || stage["DeploymentId"] != nil || len(c.ofType("AWS::ApiGatewayV2::Deployment")) != 0 {
		t.Errorf("stage %v: want AutoDeploy and no fixed Deployment (a changed route would never reach the stage)", stage)
	}
	rs := stage["DefaultRouteSettings"].(map[string]any)
	if burst, rate := atoi(rs["ThrottlingBurstLimit"]), atoi(rs["ThrottlingRateLimit"]); burst < rate || rate <= 0 || rs["DetailedMetricsEnabled"] != "true" {
		t.Errorf("stage route settings %v: want throttling with burst ≥ rate, and detailed metrics", rs)
	}
	if al, _ := stage["AccessLogSettings"].(map[string]any); !has(refs(al["DestinationArn"]), "StageAccessLogGroup") {
		t.Errorf("stage has no access log")
	}

	makefile, err := os.ReadFile(filepath.Join(repoRoot(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range c.ofType("AWS::Serverless::Function") {
		name := template.HandlerName(fn)
		p, meta := c.props(fn), c.Resources[fn]["Metadata"].(map[string]any)
		if p["CodeUri"] != "functions/"+name+"/" {
			t.Errorf("%s CodeUri %v; want functions/%s/ (sam build copies CodeUri: the whole repository otherwise)", fn, p["CodeUri"], name)
		}
		if meta["BuildMethod"] != "makefile" || meta["ContextPath"] != "." || meta["WorkingDirectory"] != "." {
			t.Errorf("%s Metadata %v: want the root Makefile, run in the root", fn, meta)
		}
		if _, err := os.Stat(filepath.Join(repoRoot(), "functions", name, "main.go")); err != nil {
			t.Errorf("%s: %v", fn, err)
		}
		target := regexp.MustCompile(`(?m)^build-` + fn + `:\n\t.*-o \$\(ARTIFACTS_DIR\)/bootstrap \./functions/` + name + `\n`)
		if !target.Match(makefile) {
			t.Errorf("Makefile has no build-%s building ./functions/%s into $(ARTIFACTS_DIR)/bootstrap", fn, name)
		}
		lc, _ := p["LoggingConfig"].(map[string]any)
		lg := refs(lc["LogGroup"])
		if len(lg) != 1 || c.Resources[lg[0]]["Type"] != "AWS::Logs::LogGroup" || !has(refs(c.props(lg[0])["RetentionInDays"]), "LogRetentionDays") {
			t.Errorf("%s: want its own log group with the LogRetentionDays retention", fn)
		}
		for _, alarm := range []string{"Errors", "Throttles"} {
			a := c.props(strings.TrimSuffix(fn, "Function") + alarm + "Alarm")
			if a == nil || a["MetricName"] != alarm || !has(refs(a["Dimensions"]), fn) || !has(refs(a["AlarmActions"]), "AlarmTopic") {
				t.Errorf("%s: no %s alarm to the alarm topic", fn, alarm)
			}
		}
	}
	if testing.Short() {
		return
	}
	// The code every function's target builds: linux/arm64, as sam build does.
	cmd := exec.Command("go", "build", "-o", os.DevNull, "./functions/...")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=linux GOARCH=arm64 go build ./functions/...: %v\n%s", err, out)
	}
}

func atoi(v any) int {
	var n int
	fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

// The stream's filters compile as Lambda's event filtering reads them, and
// its failures go to a queue someone is alarmed about; the sweeper runs one
// at a time.
func TestStreamAndSweeper(t *testing.T) {
	c := loadCFN(t)
	ev := c.props("NotifyFunction")["Events"].(map[string]any)["ConversationChanges"].(map[string]any)["Properties"].(map[string]any)
	filters := ev["FilterCriteria"].(map[string]any)["Filters"].([]any)
	if len(filters) == 0 || len(filters) > 5 {
		t.Fatalf("%d filters; Lambda takes 1 to 5", len(filters))
	}
	for _, f := range filters {
		pat := f.(map[string]any)["Pattern"].(string)
		if _, err := filter.Compile(pat); err != nil {
			t.Errorf("filter %s: %v", pat, err)
		}
	}
	dest := ev["DestinationConfig"].(map[string]any)["OnFailure"].(map[string]any)
	q := refs(dest["Destination"])
	if len(q) != 1 || c.Resources[q[0]]["Type"] != "AWS::SQS::Queue" || dest["Type"] != "SQS" {
		t.Errorf("on-failure destination %v: want an SQS queue (Type SQS, so SAM grants SendMessage)", dest)
	} else if a := c.props("NotifyFailuresAlarm"); !has(refs(a["Dimensions"]), q[0]) || a["MetricName"] != "ApproximateNumberOfMessagesVisible" {
		t.Errorf("no alarm on the depth of %s", q[0])
	}
	if a := c.props("NotifyIteratorAgeAlarm"); a["MetricName"] != "IteratorAge" || !has(refs(a["Dimensions"]), "NotifyFunction") {
		t.Errorf("no iterator-age alarm on the notifier")
	}
	if n := c.props("SweepFunction")["ReservedConcurrentExecutions"]; n != "1" {
		t.Errorf("sweeper ReservedConcurrentExecutions = %v; want 1", n)
	}
}

// Sign-in and hosting are wired to each other and to the outputs the agent
// app's config.json and make deploy-web read.
func TestSignInHostingAndOutputs(t *testing.T) {
	c := loadCFN(t)
	client := c.props("AgentUserPoolClient")
	if client["GenerateSecret"] != "false" || fmt.Sprint(client["AllowedOAuthFlows"]) != "[code]" || client["AllowedOAuthFlowsUserPoolClient"] != "true" ||
		client["PreventUserExistenceErrors"] != "ENABLED" || !has(toStrings(client["AllowedOAuthScopes"]), "openid") {
		t.Errorf("app client %v: want a public code-flow client with openid", client)
	}
	for _, k := range []string{"CallbackURLs", "LogoutURLs"} {
		if r := refs(client[k]); !has(r, "WebDistribution") || !has(r, "CustomDomainName") {
			t.Errorf("%s %v: want the distribution's (or the custom domain's) /agent/", k, client[k])
		}
	}
	if d := c.props("AgentUserPoolDomain"); !has(refs(d["Domain"]), "HostedUIDomainPrefix") || !has(refs(d["UserPoolId"]), "AgentUserPool") {
		t.Errorf("hosted UI domain %v", d)
	}
	groups := map[string]bool{}
	for _, id := range c.ofType("AWS::Cognito::UserPoolGroup") {
		groups[fmt.Sprint(c.props(id)["GroupName"])] = true
	}
	if !groups["agents"] || !groups["supervisors"] {
		t.Errorf("groups %v; want agents and supervisors", groups)
	}
	env := c.Globals["Function"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
	if !has(refs(env["AGENT_AUDIENCE"]), "AgentUserPoolClient") || !has(refs(env["AGENT_ISSUER"]), "AgentUserPool") || !has(refs(env["AGENT_JWKS_URL"]), "AgentUserPool") {
		t.Errorf("the authorizer does not trust the pool: %v", env)
	}
	if lc := c.Globals["Function"].(map[string]any)["LoggingConfig"].(map[string]any); lc["LogFormat"] != "JSON" || !has(refs(lc["ApplicationLogLevel"]), "LogLevel") {
		t.Errorf("LoggingConfig %v: want JSON and the LogLevel parameter", lc)
	}

	dist := c.props("WebDistribution")["DistributionConfig"].(map[string]any)
	origin := dist["Origins"].([]any)[0].(map[string]any)
	if !has(refs(origin["DomainName"]), "WebBucket") || !has(refs(origin["OriginAccessControlId"]), "WebOriginAccessControl") {
		t.Errorf("origin %v: want the bucket through origin access control", origin)
	}
	if b := c.props("WebBucket")["PublicAccessBlockConfiguration"].(map[string]any); b["BlockPublicPolicy"] != "true" || b["RestrictPublicBuckets"] != "true" {
		t.Errorf("bucket is not private: %v", b)
	}
	if !has(refs(c.props("WebBucketPolicy")), "WebDistribution") {
		t.Errorf("the bucket policy is not scoped to the distribution")
	}
	app := c.props("AppHeadersPolicy")["ResponseHeadersPolicyConfig"].(map[string]any)["SecurityHeadersConfig"].(map[string]any)
	for _, h := range []string{"ContentSecurityPolicy", "StrictTransportSecurity", "ContentTypeOptions", "FrameOptions"} {
		if app[h] == nil {
			t.Errorf("agent app headers lack %s", h)
		}
	}
	widget := c.props("WidgetHeadersPolicy")["ResponseHeadersPolicyConfig"].(map[string]any)
	if sec := widget["SecurityHeadersConfig"].(map[string]any); sec["FrameOptions"] != nil || sec["ContentSecurityPolicy"] != nil || sec["StrictTransportSecurity"] == nil || sec["ContentTypeOptions"] == nil {
		t.Errorf("widget headers %v: want HSTS and nosniff, no frame options (it is embedded)", sec)
	}
	if !has(refs(widget["CorsConfig"]), "DefaultWidgetOrigins") {
		t.Errorf("widget.js is not shared with the widget's allowed origins")
	}
	behaviours := dist["CacheBehaviors"].([]any)
	if b := behaviours[0].(map[string]any); b["PathPattern"] != "/widget.js" || !has(refs(b["ResponseHeadersPolicyId"]), "WidgetHeadersPolicy") {
		t.Errorf("widget.js behaviour %v", b)
	}

	for out, needs := range map[string]string{
		"WebSocketURL": "WebSocketApi", "ManagementEndpoint": "WebSocketApi", "AgentAppURL": "WebDistribution", "WidgetEmbedSnippet": "WebDistribution",
		"AgentUserPoolId": "AgentUserPool", "AgentUserPoolClientId": "AgentUserPoolClient", "AgentAuthority": "AgentUserPool",
		"WebBucketName": "WebBucket", "WebDistributionId": "WebDistribution", "ConversationsTableName": "ConversationsTable",
		"MessagesTableName": "MessagesTable", "ConnectionsTableName": "ConnectionsTable", "CustomersTableName": "CustomersTable",
		"AgentsTableName": "AgentsTable", "SettingsTableName": "SettingsTable", "Region": "AWS::Region", "ConfigureCommand": "DefaultWidgetIssuer",
	} {
		o, _ := c.Outputs[out].(map[string]any)
		if !has(refs(o["Value"]), needs) {
			t.Errorf("output %s = %v; want it made from %s", out, o["Value"], needs)
		}
	}
	for _, k := range []string{"WebBucketName", "WebDistributionId", "WebSocketURL", "AgentAuthority", "AgentUserPoolClientId", "AgentAppURL"} {
		script, _ := os.ReadFile(filepath.Join(repoRoot(), "infra", "deploy-web"))
		if !strings.Contains(string(script), "output "+k) {
			t.Errorf("infra/deploy-web does not read output %s", k)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	for _, e := range toList(v) {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// No ARN or URL names the aws partition or amazonaws.com outright: the
// template deploys to any partition (cfn-lint's I3042 checks the same on
// the transform; this runs without cfn-lint). Service principals are the
// exception: they are named the same everywhere.
func TestPartitionNeutral(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		code, _, _ := strings.Cut(line, " #")
		if strings.Contains(code, "arn:aws:") {
			t.Errorf("template.yaml:%d hard-codes the aws partition: %s", i+1, strings.TrimSpace(line))
		}
		if strings.Contains(strings.ReplaceAll(code, "apigateway.amazonaws.com", ""), ".amazonaws.com") &&
			!strings.Contains(code, "Service:") && !strings.Contains(code, "Principal") {
			t.Errorf("template.yaml:%d hard-codes amazonaws.com (use ${AWS::URLSuffix}): %s", i+1, strings.TrimSpace(line))
		}
	}
}

// The CloudFront function sends / to the app, serves a folder's
// index.html, and leaves files alone (run in Node.js; CloudFront's runtime
// is a subset of its JavaScript).
func TestWebRouterFunction(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (make test needs it for the web apps): the CloudFront function was not run")
	}
	c := loadCFN(t)
	code := c.props("WebRouterFunction")["FunctionCode"].(string)
	harness := code + `
const cases = JSON.parse(process.argv[1]);
const out = {};
for (const uri of cases) {
  const r = handler({request: {uri: uri, headers: {}}});
  out[uri] = r.statusCode ? r.statusCode + ' ' + r.headers.location.value : r.uri;
}
console.log(JSON.stringify(out));
`
	want := map[string]string{
		"/": "302 /agent/", "/agent": "302 /agent/", "/agent/": "/agent/index.html",
		"/agent/assets/index-1a2b.js": "/agent/assets/index-1a2b.js", "/agent/config.json": "/agent/config.json",
		"/agent/conversations/c_1": "302 /agent/", "/widget.js": "/widget.js",
	}
	var uris []string
	for u := range want {
		uris = append(uris, u)
	}
	arg, _ := json.Marshal(uris)
	out, err := exec.Command(node, "-e", harness, string(arg)).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	for u, w := range want {
		if got[u] != w {
			t.Errorf("%s → %q; want %q", u, got[u], w)
		}
	}
}
