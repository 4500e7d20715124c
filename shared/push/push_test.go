package push_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/coder/websocket"

	"github.com/parley-chat/parley/cmd/parley-local/localtest"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/push"
	"github.com/parley-chat/parley/shared/store"
)

// waitFor bounds every wait; nothing here should take more than a
// fraction of it, but the machine is shared.
const waitFor = 10 * time.Second

// local is what these tests use of a local stack.
type local struct {
	URL, WSURL string
	Store      *store.Store
}

// client is one customer's WebSocket connection to the local stack and the
// connectionId API Gateway gave it.
type client struct {
	conn *websocket.Conn
	id   string
}

// connect opens a customer connection for sub on the persistent widget and
// finds its connectionId where the connect handler recorded it.
func connect(t *testing.T, s local, sub string) client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"role": "customer", "sub": sub, "widget": "persistent"})
	resp, err := http.Post(s.URL+"/local/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /local/token: %v", err)
	}
	var tok struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || tok.Token == "" {
		t.Fatalf("POST /local/token = %d, %v; want 200 and a token", resp.StatusCode, err)
	}
	conn, _, err := websocket.Dial(ctx, s.WSURL+"?token="+url.QueryEscape(tok.Token), nil)
	if err != nil {
		t.Fatalf("dial as %s: %v", sub, err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	for {
		cust, err := s.Store.Customer(ctx, "persistent", sub)
		if err != nil {
			t.Fatalf("Customer(%s): %v", sub, err)
		}
		if len(cust.ConnectionIDs) == 1 {
			return client{conn: conn, id: cust.ConnectionIDs[0]}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("connection of %s never recorded: %v", sub, cust.ConnectionIDs)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// read returns the next frame the client gets.
func (c client) read(t *testing.T) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	_, data, err := c.conn.Read(ctx)
	if err != nil {
		t.Fatalf("read on %s: %v", c.id, err)
	}
	return data
}

func newSender(s local) *push.Sender {
	api := apigatewaymanagementapi.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *apigatewaymanagementapi.Options) { o.BaseEndpoint = aws.String(s.URL) })
	return push.New(api)
}

func TestSender(t *testing.T) {
	ls := localtest.Stack(t)
	s := local{URL: ls.URL, WSURL: ls.WSURL, Store: ls.Store}
	p := newSender(s)
	ctx := t.Context()

	t.Run("Post delivers to a live connection", func(t *testing.T) {
		c := connect(t, s, "post")
		for _, frame := range []string{`{"type":"message","message":{"text":"hello"}}`, `{"type":"pong"}`} {
			if err := p.Post(ctx, c.id, []byte(frame)); err != nil {
				t.Fatalf("Post(%s) = %v; want <nil>", c.id, err)
			}
			if got := c.read(t); string(got) != frame {
				t.Errorf("client read %q; want %q", got, frame)
			}
		}
	})

	t.Run("Post to an unknown connection", func(t *testing.T) {
		err := p.Post(ctx, "nope=", []byte(`{}`))
		if !errors.Is(err, push.ErrGone) || !strings.Contains(err.Error(), "nope=") {
			t.Errorf("Post(nope=) = %v; want ErrGone naming the connection", err)
		}
	})

	t.Run("Post too large", func(t *testing.T) {
		c := connect(t, s, "large")
		err := p.Post(ctx, c.id, bytes.Repeat([]byte("x"), 129<<10))
		if !errors.Is(err, conversation.ErrTooLarge) || errors.Is(err, push.ErrGone) {
			t.Errorf("Post(129 KiB) = %v; want ErrTooLarge, not ErrGone (the connection is fine)", err)
		}
	})

	t.Run("Disconnect", func(t *testing.T) {
		c := connect(t, s, "bye")
		if err := p.Disconnect(ctx, c.id); err != nil {
			t.Fatalf("Disconnect(%s) = %v; want <nil>", c.id, err)
		}
		rctx, cancel := context.WithTimeout(ctx, waitFor)
		defer cancel()
		if _, data, err := c.conn.Read(rctx); err == nil || rctx.Err() != nil {
			t.Errorf("client read after Disconnect = %q, %v; want the connection closed", data, err)
		}
		if err := p.Disconnect(ctx, c.id); err != nil {
			t.Errorf("Disconnect(%s) again = %v; want <nil>", c.id, err)
		}
		if err := p.Post(ctx, c.id, []byte(`{}`)); !errors.Is(err, push.ErrGone) {
			t.Errorf("Post(%s) after Disconnect = %v; want ErrGone", c.id, err)
		}
	})

	t.Run("Disconnect an unknown connection", func(t *testing.T) {
		if err := p.Disconnect(ctx, "nope="); err != nil {
			t.Errorf("Disconnect(nope=) = %v; want <nil>", err)
		}
	})

	t.Run("a cancelled context is not ErrGone", func(t *testing.T) {
		c := connect(t, s, "cancelled")
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := p.Post(cctx, c.id, []byte(`{}`))
		if err == nil || errors.Is(err, push.ErrGone) || !errors.Is(err, context.Canceled) {
			t.Errorf("Post(cancelled ctx) = %v; want context.Canceled, not ErrGone", err)
		}
		if err := p.Disconnect(cctx, c.id); err == nil {
			t.Errorf("Disconnect(cancelled ctx) = <nil>; want the error")
		}
		if err := p.Post(ctx, c.id, []byte(`{"n":1}`)); err != nil {
			t.Errorf("Post(%s) after the cancelled calls = %v; want the connection still there", c.id, err)
		}
	})
}
