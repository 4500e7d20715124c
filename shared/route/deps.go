// Package route holds Parley's Lambda adapters: for each function a typed
// handler that reads its AWS event (API Gateway WebSocket route, REQUEST
// authorizer, DynamoDB stream, EventBridge schedule), calls the chat
// service, and delivers what it returns. Each function's main builds the
// clients its function needs and starts its handler; the local stack builds
// the same handlers, so there is no local-only code path. Frames are the
// wire package's; use cases are the chat package's; route itself holds no
// rule of the protocol.
package route

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/push"
	"github.com/parley-chat/parley/shared/store"
)

// Deps are what a handler is built from: real clients and the function's
// environment. Building them does no network I/O (Lambda init stays fast).
type Deps struct {
	DynamoDB   store.DB
	Management push.API     // functions that push; the authorizer has none
	HTTP       *http.Client // the authorizer's JWKS fetches
	Getenv     func(string) string
	Log        *slog.Logger
	Now        func() time.Time
}

// AWS is a deployed function's AWS configuration: the region and the
// execution role's credentials, which Lambda puts in every function's
// environment. That is what the SDK's default chain finds first in a
// Lambda; reading them here, rather than linking the chain (its SSO, STS
// and instance-metadata providers, which a Lambda never reaches), keeps
// each binary 1.4 MB smaller and its start faster.
func AWS(ctx context.Context) (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || id == "" || secret == "" {
		return aws.Config{}, fmt.Errorf("load AWS config: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set, as Lambda sets them")
	}
	return aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))),
	}, nil
}

// Environment is a deployed function's Deps on cfg: DynamoDB, the process
// environment, and Lambda's JSON log handler, which adds each invocation's
// request id. Functions that push add Management.
func Environment(cfg aws.Config) Deps {
	return Deps{
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			// As the SDK's own configuration reads it (sam local invoke
			// against the local stack sets it: infra/local-env.json).
			if e := cmp.Or(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), os.Getenv("AWS_ENDPOINT_URL")); e != "" {
				o.BaseEndpoint = aws.String(e)
			}
		}),
		HTTP:   &http.Client{Timeout: 5 * time.Second},
		Getenv: os.Getenv,
		Log:    lambdacontext.NewLogger(),
		Now:    time.Now,
	}
}

// ManagementAPI is the API Gateway Management API client at the
// MANAGEMENT_ENDPOINT the template gives the function.
func ManagementAPI(cfg aws.Config) *apigatewaymanagementapi.Client {
	endpoint := os.Getenv("MANAGEMENT_ENDPOINT")
	return apigatewaymanagementapi.NewFromConfig(cfg, func(o *apigatewaymanagementapi.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

func (d Deps) log() *slog.Logger {
	if d.Log == nil {
		return slog.Default()
	}
	return d.Log
}

func (d Deps) now() func() time.Time {
	if d.Now == nil {
		return time.Now
	}
	return d.Now
}

func (d Deps) getenv(k string) string {
	if d.Getenv == nil {
		return ""
	}
	return d.Getenv(k)
}

// service builds the chat service on d's clients.
func service(d Deps) *chat.Service {
	retention := time.Duration(envInt(d.getenv("MESSAGE_RETENTION_DAYS"))) * 24 * time.Hour
	st := store.New(d.DynamoDB, store.TablesFromEnv(d.getenv), store.WithClock(d.now()), store.WithRetention(retention))
	var p chat.Pusher = noPusher{}
	if d.Management != nil {
		p = push.New(d.Management)
	}
	return chat.New(st, p, chat.Options{Now: d.now(), Log: d.log()})
}

func envInt(v string) int {
	n, _ := strconv.Atoi(v)
	return n
}

// noPusher is the pusher of a function without a Management API client
// (the authorizer, which only reads settings): pushing there is a bug.
type noPusher struct{}

func (noPusher) Post(ctx context.Context, id string, _ []byte) error {
	return fmt.Errorf("post to %s: this function has no Management API client", id)
}

func (noPusher) Disconnect(ctx context.Context, id string) error {
	return fmt.Errorf("disconnect %s: this function has no Management API client", id)
}
