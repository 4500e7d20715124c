// Package route holds Parley's Lambda handlers: one per WebSocket route,
// plus the conversations-stream notifier and the scheduled sweeper. Each
// takes an AWS event, calls the conversation domain and the store, and
// pushes frames back through the Management API. The functions' mains and
// the local stack build the same handlers from Functions, so there is no
// local-only code path.
package route

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/parley-chat/parley/shared/push"
	"github.com/parley-chat/parley/shared/store"
)

// Deps are what a handler is built from: real clients and the function's
// environment. Building them does no network I/O (Lambda init stays fast).
type Deps struct {
	DynamoDB   store.DB
	Management push.API
	HTTP       *http.Client // for JWKS
	Getenv     func(string) string
	Log        *slog.Logger
	Now        func() time.Time
}

// FromEnvironment builds Deps as a deployed function does: the default AWS
// configuration, the Management API at MANAGEMENT_ENDPOINT, JSON logs.
func FromEnvironment(ctx context.Context) (Deps, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Deps{}, fmt.Errorf("load AWS config: %w", err)
	}
	endpoint := os.Getenv("MANAGEMENT_ENDPOINT")
	return Deps{
		DynamoDB: dynamodb.NewFromConfig(cfg),
		Management: apigatewaymanagementapi.NewFromConfig(cfg, func(o *apigatewaymanagementapi.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		}),
		HTTP:   &http.Client{Timeout: 5 * time.Second},
		Getenv: os.Getenv,
		Log:    lambdacontext.NewLogger(),
		Now:    time.Now,
	}, nil
}

// Functions builds each function's handler by its name (the ./functions
// directory; template.HandlerName of its logical id). The value is what the
// function's main passes to lambda.Start.
var Functions = map[string]func(*App) any{
	"authorizer": func(a *App) any { return a.Authorize },
	"connect":    func(a *App) any { return a.Connect },
	"disconnect": func(a *App) any { return a.Disconnect },
	"message":    func(a *App) any { return a.Frames("hello", "send", "history", "typing", "read", "ping") },
	"park":       func(a *App) any { return a.Frames("park") },
	"pickup":     func(a *App) any { return a.Frames("pickup") },
	"close":      func(a *App) any { return a.Frames("close") },
	"presence":   func(a *App) any { return a.Frames("presence") },
	"default":    func(a *App) any { return a.Default },
	"notify":     func(a *App) any { return a.Notify },
	"sweep":      func(a *App) any { return a.Sweep },
}

// Handler returns the handler of the named function.
func Handler(name string, d Deps) (any, error) {
	f, ok := Functions[name]
	if !ok {
		return nil, fmt.Errorf("no handler for function %q", name)
	}
	return f(New(d)), nil
}

func envInt(getenv func(string) string, k string, def int) int {
	if v, err := strconv.Atoi(getenv(k)); err == nil {
		return v
	}
	return def
}
