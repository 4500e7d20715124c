package dynamo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/poll"
)

func (l *rwLock) waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

// rawPost sends one DynamoDB request over HTTP with ctx, as the SDK would.
func rawPost(ctx context.Context, url, op string, in any) (*http.Response, error) {
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	return http.DefaultClient.Do(req)
}

// TestAbandonedRequestsLeaveTheQueue is issue 10's stall: invocations that
// had timed out left their store requests queued behind the lock, and the
// store served every one of them for nobody while live clients waited. A
// request whose caller has gone must stop waiting and do nothing.
func TestAbandonedRequestsLeaveTheQueue(t *testing.T) {
	s := openStore(t, Options{})
	db := client(t, s)
	createTable(t, db, tableSpec{name: "busy", gsi: true})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)

	s.writeMu.Lock() // a long write holds the lock
	const callers = 20
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	for i := range callers {
		wg.Go(func() {
			op, in := "PutItem", any(map[string]any{"TableName": "busy", "Item": map[string]any{"pk": map[string]string{"S": "abandoned-" + string(rune('a'+i))}}})
			if i%2 == 1 {
				op, in = "Query", map[string]any{"TableName": "busy", "KeyConditionExpression": "pk = :p",
					"ExpressionAttributeValues": map[string]any{":p": map[string]string{"S": "x"}}}
			}
			resp, err := rawPost(ctx, srv.URL, op, in)
			if err == nil {
				resp.Body.Close()
				t.Errorf("%s answered %d while the lock was held; want it still waiting when its caller left", op, resp.StatusCode)
			}
		})
	}
	poll.Until(t, "every request to queue for the lock", func() bool { return s.writeMu.waiting() == callers })
	cancel() // the callers' deadlines pass: the SDK closes their connections
	wg.Wait()
	poll.Until(t, "the abandoned requests to leave the queue", func() bool { return s.writeMu.waiting() == 0 })
	s.writeMu.Unlock()

	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("busy")})
	if err != nil || out.Count != 0 {
		t.Errorf("Scan after the callers left = %d items, %v; want none written for callers who were gone", out.Count, err)
	}
	// The store serves on.
	put(t, db, "busy", map[string]types.AttributeValue{"pk": str("live")})
	if get(t, db, "busy", "live") == nil {
		t.Error("a live request after the abandoned ones was not served")
	}
}

// TestCloseEndsWaits: requests waiting for the lock when the store closes
// are answered at once, so Close does not wait for a queue of them.
func TestCloseEndsWaits(t *testing.T) {
	s := mustOpen(t, Options{})
	db := client(t, s)
	createTable(t, db, tableSpec{name: "busy"})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)

	s.writeMu.Lock()
	type answer struct {
		status int
		body   string
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := rawPost(context.Background(), srv.URL, "GetItem", map[string]any{"TableName": "busy", "Key": map[string]any{"pk": map[string]string{"S": "a"}}})
		if err != nil {
			answers <- answer{body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers <- answer{resp.StatusCode, string(b)}
	}()
	poll.Until(t, "the request to queue for the lock", func() bool { return s.writeMu.waiting() == 1 })
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	a := <-answers
	if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "ServiceUnavailable") {
		t.Errorf("waiting request when the store closed = %d %s; want 503 ServiceUnavailable", a.status, a.body)
	}
	s.writeMu.Unlock()
	if err := <-closed; err != nil {
		t.Errorf("Close() = %v", err)
	}
}

// TestPanicIsAnInternalServerError: a request that panics inside the store
// gets DynamoDB's 500 and is logged; the store goes on serving.
func TestPanicIsAnInternalServerError(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	s := openStore(t, Options{Log: slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))})
	db := client(t, s)
	createTable(t, db, tableSpec{name: "fragile"})
	s.testHook = func(target string) {
		if strings.HasSuffix(target, ".GetItem") {
			panic("boom")
		}
	}
	_, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("fragile"), Key: map[string]types.AttributeValue{"pk": str("a")}})
	var ise *types.InternalServerError
	if !errors.As(err, &ise) {
		t.Errorf("GetItem that panicked = %v; want an InternalServerError", err)
	}
	if s.panics.Load() != 1 {
		t.Errorf("panics counted = %d; want 1", s.panics.Load())
	}
	mu.Lock()
	logged := logs.String()
	mu.Unlock()
	if !strings.Contains(logged, `"msg":"request panicked"`) || !strings.Contains(logged, "boom") {
		t.Errorf("log = %s; want the panic logged", logged)
	}
	put(t, db, "fragile", map[string]types.AttributeValue{"pk": str("b")}) // still serving, lock released
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
