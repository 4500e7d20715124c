// Package stack assembles the local stack from template.yaml: the embedded
// DynamoDB-compatible store (or an external endpoint), the template's
// functions built from the very handlers the Lambdas run, the WebSocket and
// Management APIs, stream event source mappings, schedules, and the local
// token issuer, all on one HTTP address.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/parley-chat/parley/cmd/parley-local/internal/dynamo"
	"github.com/parley-chat/parley/cmd/parley-local/internal/filter"
	"github.com/parley-chat/parley/cmd/parley-local/internal/gateway"
	"github.com/parley-chat/parley/cmd/parley-local/internal/invoke"
	"github.com/parley-chat/parley/cmd/parley-local/internal/issuer"
	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
	"github.com/parley-chat/parley/cmd/parley-local/internal/schedule"
	"github.com/parley-chat/parley/cmd/parley-local/internal/streams"
	"github.com/parley-chat/parley/cmd/parley-local/internal/template"
	"github.com/parley-chat/parley/shared/route"
	"github.com/parley-chat/parley/shared/store"
)

// Options configure a local stack. Zero values mean the defaults of
// docs/protocol.md section 7 and of API Gateway.
type Options struct {
	Addr             string        // listen address; "127.0.0.1:0" picks a free port
	Listener         net.Listener  // when set, used instead of Addr
	Data             string        // folder for data that survives restarts; "" keeps all in memory
	DynamoDBEndpoint string        // external DynamoDB-compatible endpoint instead of the embedded one
	ScheduleInterval time.Duration // run scheduled functions this often instead of their rate
	Template         string        // path to template.yaml
	Web              string        // folder of the built web apps (agent/dist, widget/dist, demo); "" serves none
	StackName        string        // AWS::StackName, default "parley"
	Limits           gateway.Limits
	FlushInterval    time.Duration // embedded store's group-commit interval (default 1s)
	TTLInterval      time.Duration // embedded store's TTL sweep interval (default 30s)
	StreamRetryDelay time.Duration // first backoff of a failed stream batch
	// StreamPollInterval is how often an external endpoint's stream is
	// polled when quiet (default 250ms, about Lambda's rate).
	StreamPollInterval time.Duration
	Now                func() time.Time // the handlers' clock (tests move it); nil is time.Now
	Log                *slog.Logger
	// ReadTimeout bounds how long one HTTP request may take to arrive,
	// headers and body (default 30s); see server.go.
	ReadTimeout time.Duration
	// FaultRate makes the embedded store throttle, and the Management API
	// fail, that fraction of requests, as AWS does under load
	// (dynamo/faults.go, gateway/management.go); 0 fails none.
	FaultRate float64
}

// Local values of the pseudo parameters.
const (
	Region    = "us-east-1"
	AccountID = "000000000000"
	APIID     = "parleylocal"
)

// Stack is a running local stack.
type Stack struct {
	URL     string // http://host:port
	WSURL   string // ws://host:port/ws
	Metrics *metrics.Counters
	Issuer  *issuer.Issuer
	Store   *store.Store // the handlers' store, on an uncounted client (for tests and tools)

	opts      Options
	log       *slog.Logger
	server    *http.Server
	listener  net.Listener
	db        *dynamo.Store // nil with an external endpoint
	gw        *gateway.Gateway
	runners   []*streams.Runner
	cancel    context.CancelFunc
	bg        sync.WaitGroup
	ready     atomic.Bool
	closing   atomic.Bool
	closeOnce sync.Once
	closeErr  error
	spec      *template.Stack
	accepted  atomic.Int64 // TCP connections the server accepted (server.go)
	dbCfg     aws.Config   // the store's clients' configuration (real credentials on AWS)
	dbRegion  string
}

// Start builds and serves a local stack; it returns once /healthz is 200.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if opts.Template == "" {
		opts.Template = "template.yaml"
	}
	if opts.StackName == "" {
		opts.StackName = "parley"
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Stack{opts: opts, log: log, Metrics: metrics.New()}
	defer func() {
		if err != nil {
			s.abort()
		}
	}()

	tpl, err := template.Load(opts.Template)
	if err != nil {
		return nil, err
	}
	spec, err := tpl.Resolve(template.Env{StackName: opts.StackName, Region: Region, AccountID: AccountID, APIID: APIID})
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", opts.Template, err)
	}
	if spec.API == nil {
		return nil, fmt.Errorf("%s declares no WebSocket API (AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET)", opts.Template)
	}
	s.spec = spec

	s.listener = opts.Listener
	if s.listener == nil {
		addr := opts.Addr
		if addr == "" {
			addr = "127.0.0.1:8080"
		}
		if s.listener, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
	}
	s.warnIfExposed()
	s.URL = "http://" + s.listener.Addr().String()
	s.WSURL = "ws://" + s.listener.Addr().String() + "/ws"

	dbEndpoint := opts.DynamoDBEndpoint
	if dbEndpoint == "" {
		dir := ""
		if opts.Data != "" {
			dir = filepath.Join(opts.Data, "dynamodb")
		}
		s.db, err = dynamo.Open(dynamo.Options{Dir: dir, Region: Region, AccountID: AccountID, Log: log,
			FlushInterval: opts.FlushInterval, TTLInterval: opts.TTLInterval, FaultRate: opts.FaultRate})
		if err != nil {
			return nil, fmt.Errorf("open embedded DynamoDB: %w", err)
		}
		dbEndpoint = s.URL + "/local/dynamodb"
	}
	issuerDir := ""
	if opts.Data != "" {
		issuerDir = filepath.Join(opts.Data, "issuer")
	}
	if s.Issuer, err = issuer.New(issuer.Options{Dir: issuerDir, BaseURL: s.URL}); err != nil {
		return nil, fmt.Errorf("start token issuer: %w", err)
	}

	mux := http.NewServeMux()
	s.server = s.newServer(mux)
	go func() {
		if err := s.server.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("local stack server stopped", "error", err.Error())
		}
	}()
	if s.db != nil {
		mux.Handle("POST /local/dynamodb", s.db)
		mux.Handle("POST /local/dynamodb/", s.db)
	}

	cfg := awsConfig(Region)
	dbCfg, dbRegion, err := dynamoConfig(ctx, dbEndpoint)
	if err != nil {
		return nil, err
	}
	s.dbCfg, s.dbRegion = dbCfg, dbRegion
	// The stack's own work (tables, seeding, ending stale connections, and
	// what tests read through s.Store) plays the operator's part, the one
	// parleyctl and CloudFormation play in AWS: it retries throttling as
	// long as those do rather than fail a start under Options.FaultRate.
	adminCfg := dbCfg.Copy()
	adminCfg.RetryMaxAttempts = adminAttempts
	admin := dynamoClient(adminCfg, dbEndpoint, nil)
	if err := CreateTables(ctx, admin, spec.Tables); err != nil {
		return nil, err
	}
	tables, err := s.tables()
	if err != nil {
		return nil, err
	}
	s.Store = store.New(admin, tables)
	if err := seed(ctx, s.Store, s.Issuer.CustomerIssuer(), s.Issuer.JWKSURL()); err != nil {
		return nil, fmt.Errorf("seed configuration: %w", err)
	}

	fns, err := s.functions(cfg, dbEndpoint)
	if err != nil {
		return nil, err
	}
	s.gw = gateway.New(s.gatewayConfig(fns))
	if err := s.endStaleConnections(ctx, admin); err != nil {
		return nil, err
	}
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /ws", s.upgrades(s.gw.WebSocket()))
	mux.Handle("/@connections/", s.gw.Management())
	mux.Handle("/"+spec.API.Stage+"/@connections/", s.gw.Management())
	mux.HandleFunc("POST /local/token", s.Issuer.ServeToken)
	mux.HandleFunc("GET /local/.well-known/jwks.json", s.Issuer.ServeJWKS)
	mux.Handle("GET /local/metrics", s.Metrics)
	mux.HandleFunc("GET /local/metrics/invocations", s.Metrics.ServeInvocations)
	s.webRoutes(mux)

	bgctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if err := s.startStreams(bgctx, fns); err != nil {
		return nil, err
	}
	s.startSchedules(bgctx, fns)
	s.ready.Store(true)
	return s, nil
}

// tables finds the store's table names in the functions' environment, as
// the deployed functions do.
func (s *Stack) tables() (store.Tables, error) { return Tables(s.spec) }

// Tables finds the store's table names in a resolved template's function
// environments, as the deployed functions do.
func Tables(spec *template.Stack) (store.Tables, error) {
	ids := make([]string, 0, len(spec.Functions))
	for id := range spec.Functions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		env := spec.Functions[id].Env
		if t := store.TablesFromEnv(func(k string) string { return env[k] }); t.Conversations != "" {
			return t, nil
		}
	}
	return store.Tables{}, fmt.Errorf("no function's environment names CONVERSATIONS_TABLE")
}

// DynamoDBEndpoint is where the stack's store answers: its embedded
// DynamoDB-compatible API, or the external endpoint it was given.
func (s *Stack) DynamoDBEndpoint() string {
	if s.db == nil {
		return s.opts.DynamoDBEndpoint
	}
	return s.URL + "/local/dynamodb"
}

// localEnv overrides the environment values that name AWS resources the
// local stack stands in for, as `sam local invoke --env-vars` would.
func (s *Stack) localEnv() map[string]string {
	return map[string]string{
		"MANAGEMENT_ENDPOINT": s.URL, // the SDK appends /@connections/{id}
		"AGENT_ISSUER":        s.Issuer.AgentIssuer(),
		"AGENT_JWKS_URL":      s.Issuer.JWKSURL(),
		"AGENT_AUDIENCE":      issuer.AgentAudience,
		"AWS_REGION":          Region,
	}
}

// functions builds every template function from its handler in shared/route.
func (s *Stack) functions(cfg aws.Config, dbEndpoint string) (map[string]*invoke.Function, error) {
	handlerDB := dynamoClient(s.dbCfg, dbEndpoint, s.Metrics)
	mgmt := managementClient(cfg, s.URL, s.Metrics)
	httpClient := &http.Client{Timeout: 10 * time.Second}
	now := s.opts.Now
	if now == nil {
		now = time.Now
	}
	fns := map[string]*invoke.Function{}
	for id, f := range s.spec.Functions {
		env := map[string]string{}
		for k, v := range f.Env {
			env[k] = v
		}
		for k, v := range s.localEnv() {
			env[k] = v
		}
		// The handlers log as in Lambda, where the log handler adds the
		// request id of the invocation in ctx; the function's name tells
		// the functions' lines apart here, as their log groups do in AWS.
		h, err := handler(f.Name, route.Deps{
			DynamoDB: handlerDB, Management: mgmt, HTTP: httpClient,
			Getenv: func(k string) string { return env[k] }, Log: handlerLogger(s.log, id), Now: now,
		})
		if err != nil {
			return nil, fmt.Errorf("function %s (./functions/%s): %w", id, f.Name, err)
		}
		fns[id] = &invoke.Function{Name: id, ARN: f.ARN, Timeout: f.Timeout, Handler: invoke.NewHandler(h),
			Log: s.log.With("component", "lambda"), Label: f.Name, Metrics: s.Metrics}
	}
	return fns, nil
}

func (s *Stack) gatewayConfig(fns map[string]*invoke.Function) gateway.Config {
	api := s.spec.API
	cfg := gateway.Config{APIID: api.ID, Stage: api.Stage, Region: Region, AccountID: AccountID,
		RouteSelectionExpression: api.RouteSelectionExpression, Routes: map[string]gateway.Route{},
		Limits: s.opts.Limits, Metrics: s.Metrics, Log: s.log.With("component", "apigateway"), FaultRate: s.opts.FaultRate}
	for _, r := range api.Routes {
		cfg.Routes[r.Key] = gateway.Route{Function: fns[r.Function], RouteResponse: r.RouteResponse}
	}
	if a := api.Authorizer; a != nil {
		cfg.Authorizer = &gateway.Authorizer{Function: fns[a.Function], IdentitySource: a.IdentitySource}
	}
	return cfg
}

func (s *Stack) startStreams(ctx context.Context, fns map[string]*invoke.Function) error {
	byLogical := map[string]*template.Table{}
	for _, t := range s.spec.Tables {
		byLogical[t.LogicalID] = t
	}
	for id, f := range s.spec.Functions {
		for _, ev := range f.Streams {
			if !ev.Enabled {
				continue
			}
			src, err := s.streamSource(ctx, byLogical[ev.Table].Name)
			if err != nil {
				return fmt.Errorf("function %s event %s: %w", id, ev.Name, err)
			}
			crit, err := filter.CompileAll(ev.Filters...)
			if err != nil {
				return fmt.Errorf("function %s event %s: %w", id, ev.Name, err)
			}
			r := streams.New(src, streams.Mapping{Name: ev.Name, Function: fns[id], BatchSize: ev.BatchSize,
				BatchingWindow: ev.BatchingWindow, StartingPosition: ev.StartingPosition,
				MaximumRetryAttempts: ev.MaximumRetryAttempts, MaximumRecordAge: ev.MaximumRecordAge,
				BisectBatchOnFunctionError: ev.BisectBatchOnFunctionError, ReportBatchItemFailures: ev.ReportBatchItemFailures,
				Filters: crit, RetryDelay: s.opts.StreamRetryDelay}, s.log.With("component", "streams"))
			s.runners = append(s.runners, r)
			s.bg.Add(1)
			go func() {
				defer s.bg.Done()
				if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
					s.log.Error("stream runner stopped", "function", id, "error", err.Error())
				}
			}()
		}
	}
	return nil
}

func (s *Stack) startSchedules(ctx context.Context, fns map[string]*invoke.Function) {
	var list []schedule.Schedule
	for id, f := range s.spec.Functions {
		for _, ev := range f.Schedules {
			list = append(list, schedule.Schedule{Name: ev.Name, Function: fns[id], Expression: ev.Expression,
				Interval: s.opts.ScheduleInterval, Kind: ev.Kind, Input: ev.Input, Enabled: ev.Enabled,
				RuleARN: ev.RuleARN, Region: Region, AccountID: AccountID})
		}
	}
	if len(list) == 0 {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		schedule.Run(ctx, list, s.log.With("component", "schedule"))
	}()
}

// streamSource is the change stream of a table: the embedded store's own,
// or, on an external endpoint (DynamoDB Local, AWS), the table's latest
// stream read through the DynamoDB Streams API, as Lambda reads it.
func (s *Stack) streamSource(ctx context.Context, table string) (streams.Source, error) {
	if s.db != nil {
		if src := s.db.Stream(table); src != nil {
			return src, nil
		}
		return nil, fmt.Errorf("table %s has no stream", table)
	}
	out, err := dynamoClient(s.dbCfg, s.opts.DynamoDBEndpoint, nil).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("describe table %s: %w", table, err)
	}
	if out.Table.LatestStreamArn == nil {
		return nil, fmt.Errorf("table %s has no stream", table)
	}
	api := dynamodbstreams.NewFromConfig(s.dbCfg, func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(streamsEndpoint(s.opts.DynamoDBEndpoint))
	})
	return streams.NewAPISource(api, *out.Table.LatestStreamArn, s.dbRegion, streams.APISourceOptions{
		PollInterval: s.opts.StreamPollInterval, Log: s.log.With("component", "streams", "table", table)}), nil
}

// upgrades refuses new WebSocket connections once shutdown has begun.
func (s *Stack) upgrades(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.closing.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Stack) healthz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() || s.closing.Load() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// Close shuts the stack down gracefully: connections are closed with
// $disconnect, in-flight invocations and pending stream records are
// delivered, and the store is flushed to disk.
func (s *Stack) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		var errs []error
		// The HTTP server stays up throughout: handlers reach DynamoDB and
		// the Management API through it.
		if s.gw != nil {
			errs = append(errs, s.gw.Shutdown(ctx))
		}
		for _, r := range s.runners {
			if err := r.Drain(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("drain stream: %w", err))
			}
		}
		if s.cancel != nil {
			s.cancel()
		}
		s.bg.Wait()
		if s.server != nil {
			errs = append(errs, s.server.Shutdown(ctx))
		}
		if s.db != nil {
			errs = append(errs, s.db.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// abort releases what a failed Start acquired.
func (s *Stack) abort() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.server != nil {
		_ = s.server.Close()
	} else if s.listener != nil {
		_ = s.listener.Close()
	}
	if s.db != nil {
		_ = s.db.Close()
	}
}
