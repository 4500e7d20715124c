package stack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/cmd/parley-local/internal/ddblocal"
	"github.com/parley-chat/parley/cmd/parley-local/localtest/wsclient"
)

// waitFor bounds every wait in these tests; nothing here should take more
// than a fraction of it, but the machine is shared.
const waitFor = wsclient.WaitFor

func templatePath(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "template.yaml")
}

// testLog keeps the stack's logs out of the test output unless a test fails.
type testLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// backend is the DynamoDB-compatible server the tests run on: the embedded
// one (endpoint ""), or Amazon DynamoDB Local when PARLEY_BACKEND says so
// (make test runs the suite on both).
var backend struct {
	name     string
	endpoint string
}

func TestMain(m *testing.M) {
	if os.Getenv("PARLEY_BACKEND") != "dynamodb-local" {
		os.Exit(m.Run())
	}
	backend.name = "dynamodb-local"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	srv, err := ddblocal.Launch(ctx, ddblocal.Options{})
	cancel()
	if err != nil {
		// No quiet skip: the parity run fails when its backend cannot run.
		fmt.Fprintln(os.Stderr, "PARLEY_BACKEND=dynamodb-local, but DynamoDB Local cannot run:", err)
		os.Exit(1)
	}
	backend.endpoint = srv.Endpoint
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// embedded keeps a stack on the embedded store whatever the backend (for
// tests about the embedded store itself).
func embedded(o *Options) { o.DynamoDBEndpoint = embeddedStore }

const embeddedStore = "embedded"

// stackName gives each test its own tables on a shared DynamoDB Local.
func stackName(t testing.TB) string {
	h := sha256.Sum256([]byte(t.Name()))
	return "t" + hex.EncodeToString(h[:5])
}

func startStack(t testing.TB, mod ...func(*Options)) *Stack {
	t.Helper()
	lg := &testLog{}
	opts := Options{Addr: "127.0.0.1:0", Template: templatePath(t), StreamRetryDelay: 20 * time.Millisecond,
		Log: slog.New(slog.NewJSONHandler(lg, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if backend.endpoint != "" {
		opts.DynamoDBEndpoint, opts.StackName = backend.endpoint, stackName(t)
	}
	for _, m := range mod {
		m(&opts)
	}
	if opts.DynamoDBEndpoint == embeddedStore {
		opts.DynamoDBEndpoint = ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		if path := os.Getenv("PARLEY_TEST_LOG"); path != "" {
			lg.mu.Lock()
			_ = os.WriteFile(path, lg.buf.Bytes(), 0o644)
			lg.mu.Unlock()
		}
		if t.Failed() {
			lg.mu.Lock()
			out := lg.buf.String()
			lg.mu.Unlock()
			if len(out) > 20000 {
				out = out[len(out)-20000:]
			}
			t.Logf("stack log (tail):\n%s", out)
		}
	})
	return s
}

// token mints a token from the local issuer over HTTP, as any client would.
func (s *Stack) token(t testing.TB, fields map[string]any) string {
	t.Helper()
	return wsclient.Token(t, s.URL, fields)
}

func (s *Stack) customerToken(t testing.TB, widget, sub string) string {
	return s.token(t, map[string]any{"role": "customer", "sub": sub, "name": strings.ToUpper(sub[:1]) + sub[1:], "widget": widget})
}

func (s *Stack) agentToken(t testing.TB, sub string) string {
	return s.token(t, map[string]any{"role": "agent", "sub": sub, "name": strings.ToUpper(sub[:1]) + sub[1:]})
}

// client is a test client's connection (see wsclient).
type client = wsclient.Conn

// dialStatus tries to connect and returns the HTTP status of a refusal (0
// when the connection was accepted, which it then closes).
func (s *Stack) dialStatus(t testing.TB, query string) int {
	t.Helper()
	return wsclient.Status(t, s.WSURL+query)
}

func (s *Stack) dial(t testing.TB, name, token string) *client {
	t.Helper()
	return wsclient.Dial(t, s.WSURL+"?token="+token, name)
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any         { l, _ := v.([]any); return l }
func num(v any) int            { f, _ := v.(float64); return int(f) }
