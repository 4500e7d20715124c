package route_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// samTemplate is what these tests read of template.yaml: the functions, and
// which one serves each route, the authorizer, the stream and the schedule.
type samTemplate struct {
	functions  map[string]samFunction // by logical id
	routes     map[string]string      // route key → function logical id
	authorizer string                 // function logical id
	tables     map[string]samTable    // by logical id
	globalEnv  []string               // Globals.Function.Environment.Variables
}

type samTable struct {
	name           string // TableName, for stack "parley"
	streamViewType string
}

type samFunction struct {
	streamTables []string // logical ids of the tables whose streams it reads
	schedules    int      // Schedule and ScheduleV2 events
}

// loadTemplate parses template.yaml as a YAML tree: its short-form
// intrinsics (!Ref, !Sub, !GetAtt) are tags on plain scalars there.
func loadTemplate(t testing.TB) samTemplate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	root := doc.Content[0]
	tpl := samTemplate{functions: map[string]samFunction{}, routes: map[string]string{}, tables: map[string]samTable{}}
	for _, kv := range pairs(get(get(get(root, "Globals"), "Function"), "Environment")) {
		if kv[0].Value == "Variables" {
			for _, v := range pairs(kv[1]) {
				tpl.globalEnv = append(tpl.globalEnv, v[0].Value)
			}
		}
	}
	integrations := map[string]string{} // integration logical id → function logical id
	routeTargets := map[string]string{} // route key → integration logical id
	fnRef := regexp.MustCompile(`\$\{(\w+)\.Arn\}`)
	intRef := regexp.MustCompile(`^integrations/\$\{(\w+)\}$`)
	for _, res := range pairs(get(root, "Resources")) {
		id, props := res[0].Value, get(res[1], "Properties")
		switch get(res[1], "Type").Value {
		case "AWS::Serverless::Function":
			var fn samFunction
			for _, ev := range pairs(get(props, "Events")) {
				switch get(ev[1], "Type").Value {
				case "DynamoDB":
					// Stream: !GetAtt ConversationsTable.StreamArn
					tbl, _, _ := strings.Cut(get(get(ev[1], "Properties"), "Stream").Value, ".")
					fn.streamTables = append(fn.streamTables, tbl)
				case "Schedule", "ScheduleV2":
					fn.schedules++
				}
			}
			tpl.functions[id] = fn
		case "AWS::DynamoDB::Table":
			tpl.tables[id] = samTable{
				name:           strings.ReplaceAll(get(props, "TableName").Value, "${AWS::StackName}", "parley"),
				streamViewType: get(get(props, "StreamSpecification"), "StreamViewType").Value,
			}
		case "AWS::ApiGatewayV2::Integration":
			if m := fnRef.FindStringSubmatch(get(props, "IntegrationUri").Value); m != nil {
				integrations[id] = m[1]
			}
		case "AWS::ApiGatewayV2::Authorizer":
			if m := fnRef.FindStringSubmatch(get(props, "AuthorizerUri").Value); m != nil {
				tpl.authorizer = m[1]
			}
		case "AWS::ApiGatewayV2::Route":
			if m := intRef.FindStringSubmatch(get(props, "Target").Value); m != nil {
				routeTargets[get(props, "RouteKey").Value] = m[1]
			}
		}
	}
	for key, integration := range routeTargets {
		tpl.routes[key] = integrations[integration]
	}
	return tpl
}

// get returns the value of key in mapping n, or an empty node.
func get(n *yaml.Node, key string) *yaml.Node {
	for _, kv := range pairs(n) {
		if kv[0].Value == key {
			return kv[1]
		}
	}
	return &yaml.Node{}
}

func pairs(n *yaml.Node) [][2]*yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return out
}

// functionName is the template's naming convention: logical id
// <Name>Function is built from ./functions/<name>.
func functionName(logicalID string) string {
	return strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}

func logicalID(name string) string {
	return strings.ToUpper(name[:1]) + name[1:] + "Function"
}

// kindOf says which event a template function is invoked with.
func (tpl samTemplate) kindOf(logicalID string) string {
	fn := tpl.functions[logicalID]
	switch {
	case logicalID == tpl.authorizer:
		return "authorizer"
	case len(fn.streamTables) > 0:
		return "stream"
	case fn.schedules > 0:
		return "schedule"
	}
	for _, f := range tpl.routes {
		if f == logicalID {
			return "route"
		}
	}
	return ""
}

// TestFunctionsMatchTemplate checks the one naming convention the mains,
// the Makefile, SAM and the local stack share: every template function
// <Name>Function has functions/<name>/main.go starting route.<Name>, whose
// handler takes the event the template sends it.
func TestFunctionsMatchTemplate(t *testing.T) {
	tpl := loadTemplate(t)
	if len(tpl.functions) == 0 || len(tpl.routes) == 0 || tpl.authorizer == "" {
		t.Fatalf("template.yaml read as %d functions, %d routes, authorizer %q", len(tpl.functions), len(tpl.routes), tpl.authorizer)
	}
	// Building handlers does no network I/O, so nothing needs to listen here.
	d := depsAt(t, "http://127.0.0.1:1", map[string]string{})

	for id := range tpl.functions {
		name := functionName(id)
		c, ok := constructors[name]
		if !ok {
			t.Errorf("template function %s: no route constructor for %q", id, name)
			continue
		}
		main, err := os.ReadFile(filepath.Join(repoRoot(), "functions", name, "main.go"))
		if err != nil {
			t.Errorf("template function %s: %v", id, err)
		} else if !strings.Contains(string(main), "lambda.StartHandlerFunc(route."+c.name+"(") {
			t.Errorf("functions/%s/main.go does not start route.%s", name, c.name)
		}
	}

	for name := range constructors {
		id := logicalID(name)
		if _, ok := tpl.functions[id]; !ok {
			t.Errorf("constructor %q: template.yaml has no %s", name, id)
			continue
		}
		h, err := handlerOf(name, d)
		if err != nil || h == nil {
			t.Errorf("handler of %q = %v, %v", name, h, err)
			continue
		}
		var ok bool
		switch kind := tpl.kindOf(id); kind {
		case "authorizer":
			_, ok = h.(authorizerHandler)
		case "route":
			_, ok = h.(routeHandler)
		case "stream":
			_, ok = h.(streamHandler)
		case "schedule":
			_, ok = h.(scheduleHandler)
		default:
			t.Errorf("%s: the template neither routes to it nor gives it an event", id)
			continue
		}
		if !ok {
			t.Errorf("handler of %q is %T, which does not take the %s event the template sends %s", name, h, tpl.kindOf(id), id)
		}
	}

	dirs, err := os.ReadDir(filepath.Join(repoRoot(), "functions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range dirs {
		if e.IsDir() {
			if _, ok := constructors[e.Name()]; !ok {
				t.Errorf("functions/%s: no route constructor", e.Name())
			}
		}
	}

}

// TestMakefileBuildsEveryFunction checks the Makefile's side of the naming
// convention: sam build runs build-<Name>Function, make build builds
// FUNCTIONS.
func TestMakefileBuildsEveryFunction(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	mk := string(b)
	var listed []string
	if m := regexp.MustCompile(`(?m)^FUNCTIONS\s*=\s*(.*)$`).FindStringSubmatch(mk); m != nil {
		listed = strings.Fields(m[1])
	}
	for name := range constructors {
		if !slices.Contains(listed, name) {
			t.Errorf("Makefile FUNCTIONS %v lacks %s", listed, name)
		}
		if !regexp.MustCompile(`(?m)^build-` + logicalID(name) + `:`).MatchString(mk) {
			t.Errorf("Makefile has no target build-%s (sam build needs it)", logicalID(name))
		}
	}
}
