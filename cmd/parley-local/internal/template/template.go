// Package template reads a SAM template (template.yaml) into what the local
// stack runs: the WebSocket API with its routes and authorizer, the functions
// with their environment, stream and schedule events, and the DynamoDB
// tables. Adding a route, a table or an event to the template is all it takes
// for the local stack to have it; nothing here names Parley's resources.
package template

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Template is a parsed template: resources keyed by logical id, with
// CloudFormation intrinsics still unresolved (long form).
type Template struct {
	Parameters map[string]map[string]any
	Globals    map[string]any
	Resources  map[string]Resource
}

// Resource is one entry of the template's Resources.
type Resource struct {
	LogicalID  string
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template from YAML (or JSON, which is YAML).
func Parse(b []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	v, err := decode(&root)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template is not a mapping")
	}
	t := &Template{Parameters: map[string]map[string]any{}, Resources: map[string]Resource{}}
	if ps, ok := doc["Parameters"].(map[string]any); ok {
		for k, p := range ps {
			pm, _ := p.(map[string]any)
			t.Parameters[k] = pm
		}
	}
	t.Globals, _ = doc["Globals"].(map[string]any)
	rs, ok := doc["Resources"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template has no Resources")
	}
	for id, r := range rs {
		rm, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s is not a mapping", id)
		}
		typ, _ := rm["Type"].(string)
		if typ == "" {
			return nil, fmt.Errorf("resource %s has no Type", id)
		}
		props, _ := rm["Properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		meta, _ := rm["Metadata"].(map[string]any)
		t.Resources[id] = Resource{LogicalID: id, Type: typ, Properties: props, Metadata: meta}
	}
	return t, nil
}

// ByType returns the logical ids of resources of type typ, sorted.
func (t *Template) ByType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Env is where the template is being "deployed": the values pseudo
// parameters and resource references take locally.
type Env struct {
	StackName  string            // AWS::StackName
	Region     string            // AWS::Region
	AccountID  string            // AWS::AccountId
	APIID      string            // the physical id !Ref gives an AWS::ApiGatewayV2::Api
	Parameters map[string]string // overrides of parameter defaults
}

// Stack is the template resolved for the local stack.
type Stack struct {
	Env       Env
	API       *API
	Functions map[string]*Function // by logical id
	Tables    []*Table
}

// API is the WebSocket API (AWS::ApiGatewayV2::Api, ProtocolType WEBSOCKET).
type API struct {
	LogicalID                string
	ID                       string
	RouteSelectionExpression string
	Stage                    string
	Routes                   []Route
	Authorizer               *Authorizer // on $connect, nil when the route has none
}

// Route is one route key and the function its Lambda proxy integration calls.
type Route struct {
	Key           string
	Function      string // logical id
	RouteResponse bool   // RouteResponseSelectionExpression set: the function's body is sent back
}

// Authorizer is the REQUEST authorizer of the $connect route.
type Authorizer struct {
	Function       string // logical id
	IdentitySource []string
}

// Function is one AWS::Serverless::Function with Globals applied.
type Function struct {
	LogicalID string
	Name      string // handler name: the logical id without its "Function" suffix, lower case (./functions/<Name>)
	ARN       string
	Timeout   time.Duration
	Memory    int
	Env       map[string]string
	Streams   []StreamEvent
	Schedules []ScheduleEvent
}

// StreamEvent is a DynamoDB event source of a function.
type StreamEvent struct {
	Name                       string // event logical id
	Table                      string // logical id of the table whose stream it reads
	StartingPosition           string
	BatchSize                  int
	BatchingWindow             time.Duration
	MaximumRetryAttempts       int
	MaximumRecordAge           time.Duration
	BisectBatchOnFunctionError bool
	ReportBatchItemFailures    bool
	Filters                    []string // FilterCriteria.Filters[].Pattern
	Enabled                    bool
}

// ScheduleEvent is a Schedule (EventBridge rule) or ScheduleV2 (EventBridge
// Scheduler) event of a function.
type ScheduleEvent struct {
	Name       string
	Kind       string // "Schedule" or "ScheduleV2"
	Expression string
	Input      string
	Enabled    bool
	RuleARN    string
}

// Table is one AWS::DynamoDB::Table.
type Table struct {
	LogicalID string
	Name      string
	// Properties resolved; the keys are CloudFormation's, which for the parts
	// CreateTable takes are the DynamoDB API's own names.
	Properties map[string]any
}

// StreamViewType returns the table's stream view type, "" without a stream.
func (t *Table) StreamViewType() string {
	ss, _ := t.Properties["StreamSpecification"].(map[string]any)
	v, _ := ss["StreamViewType"].(string)
	return v
}

// TTLAttribute returns the enabled TimeToLive attribute, "" when none.
func (t *Table) TTLAttribute() string {
	ttl, _ := t.Properties["TimeToLiveSpecification"].(map[string]any)
	if enabled, _ := ttl["Enabled"].(bool); !enabled {
		return ""
	}
	a, _ := ttl["AttributeName"].(string)
	return a
}

// Resolve resolves the template for env.
func (t *Template) Resolve(env Env) (*Stack, error) {
	r := &resolver{t: t, env: env}
	s := &Stack{Env: env, Functions: map[string]*Function{}}
	for _, id := range t.ByType("AWS::DynamoDB::Table") {
		props, err := r.resolveMap(t.Resources[id].Properties)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", id, err)
		}
		s.Tables = append(s.Tables, &Table{LogicalID: id, Name: r.tableName(id), Properties: props})
	}
	for _, id := range t.ByType("AWS::Serverless::Function") {
		f, err := r.function(id)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", id, err)
		}
		s.Functions[id] = f
	}
	apis := t.ByType("AWS::ApiGatewayV2::Api")
	for _, id := range apis {
		if p, _ := t.Resources[id].Properties["ProtocolType"].(string); p != "WEBSOCKET" {
			continue
		}
		if s.API != nil {
			return nil, fmt.Errorf("more than one WebSocket API (%s, %s): the local stack serves one", s.API.LogicalID, id)
		}
		api, err := r.api(id)
		if err != nil {
			return nil, fmt.Errorf("api %s: %w", id, err)
		}
		for _, rt := range api.Routes {
			if s.Functions[rt.Function] == nil {
				return nil, fmt.Errorf("route %s integrates %s, which is not an AWS::Serverless::Function", rt.Key, rt.Function)
			}
		}
		s.API = api
	}
	return s, nil
}

// HandlerName is the conventional handler name of a function logical id:
// MessageFunction → message, built from ./functions/message.
func HandlerName(logicalID string) string {
	return strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}
