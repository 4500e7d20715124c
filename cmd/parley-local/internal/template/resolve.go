package template

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// resolver evaluates CloudFormation intrinsics with local physical ids:
// tables are named as the template names them (or stack-LogicalId), other
// resources take their logical id, and ARNs use the Env's region and account.
type resolver struct {
	t   *Template
	env Env
}

var noValue = struct{}{}

func (r *resolver) resolveMap(m map[string]any) (map[string]any, error) {
	v, err := r.resolve(m)
	if err != nil {
		return nil, err
	}
	out, _ := v.(map[string]any)
	return out, nil
}

func (r *resolver) resolve(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return r.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if rv != noValue {
				out[k] = rv
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out = append(out, rv)
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

func (r *resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			//lint:ignore ST1005 the intrinsic's name, spelled as CloudFormation spells it
			return nil, fmt.Errorf("Ref takes a name, got %v", arg)
		}
		return r.ref(name)
	case "Fn::GetAtt":
		parts, ok := arg.([]any)
		if !ok || len(parts) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt takes [Resource, Attribute], got %v", arg)
		}
		res, _ := parts[0].(string)
		attr, _ := parts[1].(string)
		return r.getAtt(res, attr)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::Join":
		parts, ok := arg.([]any)
		if !ok || len(parts) != 2 {
			return nil, fmt.Errorf("Fn::Join takes [delimiter, list]")
		}
		sep, _ := parts[0].(string)
		list, err := r.resolve(parts[1])
		if err != nil {
			return nil, err
		}
		items, _ := list.([]any)
		strs := make([]string, 0, len(items))
		for _, it := range items {
			strs = append(strs, fmt.Sprint(it))
		}
		return strings.Join(strs, sep), nil
	case "Fn::Select":
		parts, ok := arg.([]any)
		if !ok || len(parts) != 2 {
			return nil, fmt.Errorf("Fn::Select takes [index, list]")
		}
		idx, err := r.resolve(parts[0])
		if err != nil {
			return nil, err
		}
		list, err := r.resolve(parts[1])
		if err != nil {
			return nil, err
		}
		items, _ := list.([]any)
		i, err := strconv.Atoi(fmt.Sprint(idx))
		if err != nil || i < 0 || i >= len(items) {
			return nil, fmt.Errorf("Fn::Select index %v out of range", idx)
		}
		return items[i], nil
	case "Fn::Split":
		parts, ok := arg.([]any)
		if !ok || len(parts) != 2 {
			return nil, fmt.Errorf("Fn::Split takes [delimiter, string]")
		}
		sep, _ := parts[0].(string)
		s, err := r.resolve(parts[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(fmt.Sprint(s), sep) {
			out = append(out, p)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s is not supported by the local stack", fn)
	}
}

func (r *resolver) ref(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return r.env.Region, nil
	case "AWS::AccountId":
		return r.env.AccountID, nil
	case "AWS::StackName":
		return r.env.StackName, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::NoValue":
		return noValue, nil
	}
	if p, ok := r.t.Parameters[name]; ok {
		if v, ok := r.env.Parameters[name]; ok {
			return v, nil
		}
		if d, ok := p["Default"]; ok {
			return fmt.Sprint(d), nil
		}
		return nil, fmt.Errorf("parameter %s has no default and no local value", name)
	}
	res, ok := r.t.Resources[name]
	if !ok {
		//lint:ignore ST1005 the intrinsic's name, spelled as CloudFormation spells it
		return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
	}
	switch res.Type {
	case "AWS::DynamoDB::Table":
		return r.tableName(name), nil
	case "AWS::ApiGatewayV2::Api":
		return r.env.APIID, nil
	case "AWS::Cognito::UserPool":
		return r.env.Region + "_" + name, nil
	default:
		// Locally every other resource's physical id is its logical id.
		return name, nil
	}
}

func (r *resolver) tableName(id string) string {
	if n, ok := r.t.Resources[id].Properties["TableName"]; ok {
		if v, err := r.resolve(n); err == nil {
			if s, ok := v.(string); ok && s != "" {
				return s
			}
		}
	}
	return r.env.StackName + "-" + id
}

func (r *resolver) getAtt(res, attr string) (any, error) {
	rr, ok := r.t.Resources[res]
	if !ok {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no such resource", res, attr)
	}
	switch {
	case rr.Type == "AWS::Serverless::Function" && attr == "Arn":
		return r.functionARN(res), nil
	case rr.Type == "AWS::DynamoDB::Table" && attr == "Arn":
		return r.tableARN(res), nil
	case rr.Type == "AWS::DynamoDB::Table" && attr == "StreamArn":
		// The real label is the stream's creation time; the local stack maps
		// stream events by table, so a fixed label is enough here.
		return r.tableARN(res) + "/stream/local", nil
	case rr.Type == "AWS::Cognito::UserPool" && attr == "ProviderURL":
		return "cognito-idp." + r.env.Region + ".amazonaws.com/" + r.env.Region + "_" + res, nil
	default:
		// Attributes the local stack never needs to act on resolve to a
		// readable placeholder rather than failing the whole template.
		return res + "." + attr, nil
	}
}

func (r *resolver) functionARN(id string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.env.Region, r.env.AccountID, id)
}

func (r *resolver) tableARN(id string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", r.env.Region, r.env.AccountID, r.tableName(id))
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (r *resolver) sub(arg any) (any, error) {
	var tmpl string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub takes a string or [string, vars]")
		}
		tmpl, _ = a[0].(string)
		vm, _ := a[1].(map[string]any)
		for k, v := range vm {
			rv, err := r.resolve(v)
			if err != nil {
				return nil, err
			}
			vars[k] = rv
		}
	default:
		return nil, fmt.Errorf("Fn::Sub takes a string or [string, vars]")
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		if v, ok := vars[name]; ok {
			return fmt.Sprint(v)
		}
		var v any
		var err error
		if res, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			v, err = r.getAtt(res, attr)
		} else {
			v, err = r.ref(name)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return fmt.Sprint(v)
	})
	if firstErr != nil {
		return nil, fmt.Errorf("Fn::Sub %q: %w", tmpl, firstErr)
	}
	return out, nil
}

func (r *resolver) function(id string) (*Function, error) {
	props := mergeGlobals(r.t.Globals, r.t.Resources[id].Properties)
	f := &Function{LogicalID: id, Name: HandlerName(id), ARN: r.functionARN(id), Timeout: 3 * time.Second, Env: map[string]string{}}
	if t, ok := props["Timeout"]; ok {
		n, err := strconv.Atoi(fmt.Sprint(t))
		if err != nil {
			//lint:ignore ST1005 the property's name, spelled as SAM spells it
			return nil, fmt.Errorf("Timeout %v: %w", t, err)
		}
		f.Timeout = time.Duration(n) * time.Second
	}
	if m, ok := props["MemorySize"]; ok {
		f.Memory, _ = strconv.Atoi(fmt.Sprint(m))
	}
	if envm, ok := props["Environment"].(map[string]any); ok {
		vars, _ := envm["Variables"].(map[string]any)
		for k, v := range vars {
			rv, err := r.resolve(v)
			if err != nil {
				return nil, fmt.Errorf("environment %s: %w", k, err)
			}
			f.Env[k] = fmt.Sprint(rv)
		}
	}
	events, _ := props["Events"].(map[string]any)
	names := make([]string, 0, len(events))
	for n := range events {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		ev, _ := events[name].(map[string]any)
		typ, _ := ev["Type"].(string)
		ep, _ := ev["Properties"].(map[string]any)
		switch typ {
		case "DynamoDB":
			se, err := r.streamEvent(name, ep)
			if err != nil {
				return nil, fmt.Errorf("event %s: %w", name, err)
			}
			f.Streams = append(f.Streams, se)
		case "Schedule", "ScheduleV2":
			se, err := r.scheduleEvent(id, name, typ, ep)
			if err != nil {
				return nil, fmt.Errorf("event %s: %w", name, err)
			}
			f.Schedules = append(f.Schedules, se)
		}
	}
	return f, nil
}

func (r *resolver) streamEvent(name string, p map[string]any) (StreamEvent, error) {
	se := StreamEvent{Name: name, StartingPosition: "LATEST", BatchSize: 100, MaximumRetryAttempts: -1, Enabled: true}
	table, err := r.streamTable(p["Stream"])
	if err != nil {
		return se, err
	}
	se.Table = table
	rp, err := r.resolveMap(p)
	if err != nil {
		return se, err
	}
	if v, ok := rp["StartingPosition"].(string); ok {
		se.StartingPosition = v
	}
	geti := func(k string, dst *int) error {
		if v, ok := rp[k]; ok {
			n, err := strconv.Atoi(fmt.Sprint(v))
			if err != nil {
				return fmt.Errorf("%s %v: %w", k, v, err)
			}
			*dst = n
		}
		return nil
	}
	var window, age int = 0, -1
	for k, dst := range map[string]*int{"BatchSize": &se.BatchSize, "MaximumBatchingWindowInSeconds": &window,
		"MaximumRetryAttempts": &se.MaximumRetryAttempts, "MaximumRecordAgeInSeconds": &age} {
		if err := geti(k, dst); err != nil {
			return se, err
		}
	}
	se.BatchingWindow = time.Duration(window) * time.Second
	if age > 0 {
		se.MaximumRecordAge = time.Duration(age) * time.Second
	}
	se.BisectBatchOnFunctionError, _ = rp["BisectBatchOnFunctionError"].(bool)
	if en, ok := rp["Enabled"].(bool); ok {
		se.Enabled = en
	}
	if rts, ok := rp["FunctionResponseTypes"].([]any); ok {
		for _, t := range rts {
			if t == "ReportBatchItemFailures" {
				se.ReportBatchItemFailures = true
			}
		}
	}
	if fc, ok := rp["FilterCriteria"].(map[string]any); ok {
		fs, _ := fc["Filters"].([]any)
		for _, f := range fs {
			fm, _ := f.(map[string]any)
			if pat, ok := fm["Pattern"].(string); ok {
				se.Filters = append(se.Filters, pat)
			}
		}
	}
	return se, nil
}

// streamTable finds the table behind a DynamoDB event's Stream property:
// !GetAtt Table.StreamArn, or a literal ARN naming one of the tables.
func (r *resolver) streamTable(v any) (string, error) {
	if m, ok := v.(map[string]any); ok {
		if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			if id, _ := ga[0].(string); r.t.Resources[id].Type == "AWS::DynamoDB::Table" {
				return id, nil
			}
		}
	}
	rv, err := r.resolve(v)
	if err != nil {
		return "", err
	}
	arn := fmt.Sprint(rv)
	for _, id := range r.t.ByType("AWS::DynamoDB::Table") {
		if strings.Contains(arn, ":table/"+r.tableName(id)+"/") {
			return id, nil
		}
	}
	return "", fmt.Errorf("stream %s is not the stream of a table in this template", arn)
}

func (r *resolver) scheduleEvent(fn, name, typ string, p map[string]any) (ScheduleEvent, error) {
	rp, err := r.resolveMap(p)
	if err != nil {
		return ScheduleEvent{}, err
	}
	se := ScheduleEvent{Name: name, Kind: typ, Enabled: true,
		RuleARN: fmt.Sprintf("arn:aws:events:%s:%s:rule/%s-%s%s", r.env.Region, r.env.AccountID, r.env.StackName, fn, name)}
	if typ == "Schedule" {
		se.Expression, _ = rp["Schedule"].(string)
		if en, ok := rp["Enabled"].(bool); ok {
			se.Enabled = en
		}
		if st, ok := rp["State"].(string); ok {
			se.Enabled = st == "ENABLED"
		}
	} else {
		se.Expression, _ = rp["ScheduleExpression"].(string)
		se.RuleARN = fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/default/%s-%s%s", r.env.Region, r.env.AccountID, r.env.StackName, fn, name)
		if st, ok := rp["State"].(string); ok {
			se.Enabled = st != "DISABLED"
		}
	}
	se.Input, _ = rp["Input"].(string)
	if se.Expression == "" {
		return se, fmt.Errorf("schedule has no expression")
	}
	return se, nil
}

// mergeGlobals applies SAM's Globals.Function to a function's properties:
// the function's own values win; maps (Environment.Variables) merge.
func mergeGlobals(globals, props map[string]any) map[string]any {
	g, _ := globals["Function"].(map[string]any)
	return mergeMaps(g, props)
}

func mergeMaps(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook && !isIntrinsic(om) {
			out[k] = mergeMaps(bm, om)
			continue
		}
		out[k] = v
	}
	return out
}

func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

func (r *resolver) api(id string) (*API, error) {
	p, err := r.resolveMap(r.t.Resources[id].Properties)
	if err != nil {
		return nil, err
	}
	api := &API{LogicalID: id, ID: r.env.APIID}
	api.RouteSelectionExpression, _ = p["RouteSelectionExpression"].(string)
	belongs := func(res Resource) (map[string]any, bool, error) {
		rp, err := r.resolveMap(res.Properties)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", res.LogicalID, err)
		}
		return rp, fmt.Sprint(rp["ApiId"]) == api.ID, nil
	}
	for _, sid := range r.t.ByType("AWS::ApiGatewayV2::Stage") {
		sp, ok, err := belongs(r.t.Resources[sid])
		if err != nil {
			return nil, err
		}
		if ok {
			api.Stage, _ = sp["StageName"].(string)
		}
	}
	if api.Stage == "" {
		api.Stage = "$default"
	}
	for _, rid := range r.t.ByType("AWS::ApiGatewayV2::Route") {
		rp, ok, err := belongs(r.t.Resources[rid])
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		key, _ := rp["RouteKey"].(string)
		target, _ := rp["Target"].(string)
		integ := strings.TrimPrefix(target, "integrations/")
		fn, err := r.integrationFunction(integ, "IntegrationUri")
		if err != nil {
			return nil, fmt.Errorf("route %s (%s): %w", key, rid, err)
		}
		_, rr := rp["RouteResponseSelectionExpression"]
		api.Routes = append(api.Routes, Route{Key: key, Function: fn, RouteResponse: rr})
		if at, _ := rp["AuthorizationType"].(string); at == "CUSTOM" {
			if key != "$connect" {
				return nil, fmt.Errorf("route %s: WebSocket APIs authorize $connect only", key)
			}
			aid, _ := rp["AuthorizerId"].(string)
			afn, err := r.integrationFunction(aid, "AuthorizerUri")
			if err != nil {
				return nil, fmt.Errorf("authorizer %s: %w", aid, err)
			}
			ap, _ := r.resolveMap(r.t.Resources[aid].Properties)
			a := &Authorizer{Function: afn}
			if srcs, ok := ap["IdentitySource"].([]any); ok {
				for _, s := range srcs {
					a.IdentitySource = append(a.IdentitySource, fmt.Sprint(s))
				}
			}
			api.Authorizer = a
		}
	}
	sort.Slice(api.Routes, func(i, j int) bool { return api.Routes[i].Key < api.Routes[j].Key })
	return api, nil
}

var lambdaURI = regexp.MustCompile(`functions/arn:aws:lambda:[^:]*:[^:]*:function:([^/:]+)(?::[^/]+)?/invocations`)

// integrationFunction finds the function a Lambda (proxy) integration or an
// authorizer invokes, from its URI.
func (r *resolver) integrationFunction(id, uriProp string) (string, error) {
	res, ok := r.t.Resources[id]
	if !ok {
		return "", fmt.Errorf("no resource %q", id)
	}
	p, err := r.resolveMap(res.Properties)
	if err != nil {
		return "", err
	}
	uri, _ := p[uriProp].(string)
	m := lambdaURI.FindStringSubmatch(uri)
	if m == nil {
		return "", fmt.Errorf("%s %q is not a Lambda function invocation URI", uriProp, uri)
	}
	return m[1], nil
}
