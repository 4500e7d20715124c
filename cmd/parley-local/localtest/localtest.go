// Package localtest gives tests outside the local stack (the store's, the
// handlers') the real parts it runs on: the embedded DynamoDB-compatible
// server with Parley's tables created from template.yaml, or a whole local
// stack. Nothing here is a fake; it only saves each test the wiring.
package localtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/parley-chat/parley/cmd/parley-local/internal/ddblocal"
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

// Backend names the DynamoDB-compatible server tests run on: "embedded"
// (the default) or "dynamodb-local" (PARLEY_BACKEND=dynamodb-local; make
// test runs the store and end-to-end suites on both).
func Backend() string {
	if os.Getenv("PARLEY_BACKEND") == "dynamodb-local" {
		return "dynamodb-local"
	}
	return "embedded"
}

var shared struct {
	endpoint string
	server   *ddblocal.Server
}

// Main runs a package's tests; on the dynamodb-local backend it first
// starts one DynamoDB Local for the whole package (each test then gets its
// own tables) and fails the run, never skipping it, when that cannot start.
// Use it as the package's TestMain: func TestMain(m *testing.M) { localtest.Main(m) }.
func Main(m *testing.M) {
	if Backend() != "dynamodb-local" {
		os.Exit(m.Run())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	var err error
	shared.server, err = ddblocal.Launch(ctx, ddblocal.Options{})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "PARLEY_BACKEND=dynamodb-local, but DynamoDB Local cannot run:", err)
		os.Exit(1)
	}
	shared.endpoint = shared.server.Endpoint
	code := m.Run()
	shared.server.Close()
	os.Exit(code)
}

// StackName is a test's own stack name, so tests sharing one DynamoDB Local
// never share tables.
func StackName(t testing.TB) string {
	h := sha256.Sum256([]byte(t.Name()))
	return "t" + hex.EncodeToString(h[:5])
}

// DynamoDB returns a real SDK client for a DynamoDB-compatible server with
// Parley's tables, and the table names: a fresh in-memory embedded server,
// or the package's DynamoDB Local (see Main) with tables of the test's own.
// Everything is released when the test ends.
func DynamoDB(t testing.TB) (*dynamodb.Client, store.Tables) {
	t.Helper()
	return dynamoDB(t, shared.endpoint)
}

// DynamoDBAlone is DynamoDB, but on the dynamodb-local backend with a
// DynamoDB Local of the test's own, for a test that changes a table's
// indexes: DynamoDB Local takes seconds for each such change on a fresh
// server, but minutes once the package's other tests have filled the
// shared one with tables.
func DynamoDBAlone(t testing.TB) (*dynamodb.Client, store.Tables) {
	t.Helper()
	if Backend() != "dynamodb-local" {
		return dynamoDB(t, "")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	srv, err := ddblocal.Launch(ctx, ddblocal.Options{})
	if err != nil {
		t.Fatalf("start a DynamoDB Local of the test's own: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return dynamoDB(t, srv.Endpoint)
}

func dynamoDB(t testing.TB, endpoint string) (*dynamodb.Client, store.Tables) {
	t.Helper()
	stackName := StackName(t)
	if endpoint == "" {
		if Backend() == "dynamodb-local" {
			t.Fatal("PARLEY_BACKEND=dynamodb-local needs the package's TestMain to call localtest.Main")
		}
		db, err := dynamo.Open(dynamo.Options{Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("open embedded DynamoDB: %v", err)
		}
		srv := httptest.NewServer(db)
		t.Cleanup(func() {
			srv.Close()
			_ = db.Close()
		})
		endpoint, stackName = srv.URL, "parley"
	}
	client := dynamodb.NewFromConfig(aws.Config{
		Region:      stack.Region,
		Credentials: credentials.NewStaticCredentialsProvider("parleylocal", "parleylocal", ""),
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	return client, ApplyTemplate(t, client, stackName)
}

// ApplyTemplate creates the template's tables for stackName on db, or
// brings existing ones to the template's indexes, as a stack start does;
// it returns their names.
func ApplyTemplate(t testing.TB, db *dynamodb.Client, stackName string) store.Tables {
	t.Helper()
	tpl, err := template.Load(Template())
	if err != nil {
		t.Fatal(err)
	}
	spec, err := tpl.Resolve(template.Env{StackName: stackName, Region: stack.Region, AccountID: stack.AccountID, APIID: stack.APIID})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stack.CreateTables(ctx, db, spec.Tables); err != nil {
		t.Fatal(err)
	}
	tables, err := stack.Tables(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tables
}

// Stack starts a whole local stack in memory on a free loopback port; it
// shuts down gracefully when the test ends. mod may adjust the options.
func Stack(t testing.TB, mod ...func(*stack.Options)) *stack.Stack {
	t.Helper()
	opts := stack.Options{Addr: "127.0.0.1:0", Template: Template(), Log: slog.New(slog.DiscardHandler)}
	if shared.endpoint != "" {
		opts.DynamoDBEndpoint, opts.StackName = shared.endpoint, StackName(t)
	}
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
