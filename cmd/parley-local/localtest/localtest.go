// Package localtest gives tests outside the local stack (the store's, the
// handlers') the real parts it runs on: the embedded DynamoDB-compatible
// server with Parley's tables created from template.yaml, or a whole local
// stack. Nothing here is a fake; it only saves each test the wiring.
package localtest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/parley-chat/parley/cmd/parley-local/internal/dynamo"
	"github.com/parley-chat/parley/cmd/parley-local/internal/stack"
	"github.com/parley-chat/parley/cmd/parley-local/internal/template"
	"github.com/parley-chat/parley/shared/store"
)

// Template is the path of the repository's template.yaml.
func Template() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "template.yaml")
}

// DynamoDB starts an in-memory embedded DynamoDB-compatible server with
// Parley's tables and returns a real SDK client for it and the table names.
// The server stops when the test ends.
func DynamoDB(t testing.TB) (*dynamodb.Client, store.Tables) {
	t.Helper()
	db, err := dynamo.Open(dynamo.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("open embedded DynamoDB: %v", err)
	}
	srv := httptest.NewServer(db)
	t.Cleanup(func() {
		srv.Close()
		_ = db.Close()
	})
	client := dynamodb.NewFromConfig(aws.Config{
		Region:      stack.Region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	tpl, err := template.Load(Template())
	if err != nil {
		t.Fatal(err)
	}
	spec, err := tpl.Resolve(template.Env{StackName: "parley", Region: stack.Region, AccountID: stack.AccountID, APIID: stack.APIID})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := stack.CreateTables(ctx, client, spec.Tables); err != nil {
		t.Fatal(err)
	}
	tables, err := stack.Tables(spec)
	if err != nil {
		t.Fatal(err)
	}
	return client, tables
}

// Stack starts a whole local stack in memory on a free loopback port; it
// shuts down gracefully when the test ends. mod may adjust the options.
func Stack(t testing.TB, mod ...func(*stack.Options)) *stack.Stack {
	t.Helper()
	opts := stack.Options{Addr: "127.0.0.1:0", Template: Template(), Log: slog.New(slog.DiscardHandler)}
	for _, m := range mod {
		m(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	s, err := stack.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start local stack: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close local stack: %v", err)
		}
	})
	return s
}
