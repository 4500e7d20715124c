package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/coder/websocket"
)

func TestConnectRefusal(t *testing.T) {
	tests := []struct {
		name    string
		handler any
		want    int
	}{
		{"403", func(context.Context, json.RawMessage) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 403, Body: "no"}, nil
		}, 403},
		{"429", func(context.Context, json.RawMessage) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 429}, nil
		}, 429},
		{"function error", func(context.Context, json.RawMessage) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, errors.New("table missing")
		}, http.StatusBadGateway},
		{"panic", func(context.Context, json.RawMessage) (events.APIGatewayProxyResponse, error) {
			panic("boom")
		}, http.StatusBadGateway},
		{"no statusCode", func(context.Context, json.RawMessage) (map[string]string, error) {
			return map[string]string{"hello": "world"}, nil
		}, http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			disconnect := newRecorder()
			s := newStack(t, Config{Routes: map[string]Route{
				RouteConnect:    {Function: fn("Connect", tt.handler)},
				RouteDisconnect: {Function: fn("Disconnect", disconnect.handler(200))},
			}})
			if got := s.refusedWith(t, "", nil); got != tt.want {
				t.Errorf("upgrade status = %d; want %d", got, tt.want)
			}
			disconnect.none(t, 50*time.Millisecond) // a refused connection never existed
		})
	}
}

func TestConnectPassesOnlySubprotocol(t *testing.T) {
	s := newStack(t, Config{Routes: map[string]Route{
		RouteConnect: {Function: fn("Connect", func(context.Context, json.RawMessage) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{
				StatusCode: 200,
				Headers:    map[string]string{"sec-websocket-protocol": "parley.v1", "X-Secret": "leak"},
				Body:       "not for the client",
			}, nil
		})},
	}})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, s.url(""), &websocket.DialOptions{Subprotocols: []string{"parley.v1"}})
	if err != nil {
		t.Fatalf("Dial = %v", err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != "parley.v1" {
		t.Errorf("Subprotocol() = %q; want parley.v1 from $connect's response", c.Subprotocol())
	}
	if resp.Header.Get("X-Secret") != "" {
		t.Errorf("upgrade response header X-Secret = %q; want only Sec-WebSocket-Protocol passed on", resp.Header.Get("X-Secret"))
	}
}

func TestConnectionGoneUntilConnectReturns(t *testing.T) {
	type outcome struct{ post, get error }
	during := make(chan outcome, 1)
	var s *stack
	s = newStack(t, Config{Routes: map[string]Route{
		RouteConnect: {Function: fn("Connect", func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			id := aws.String(ev.RequestContext.ConnectionID)
			_, post := s.client().PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: id, Data: []byte("early")})
			_, get := s.client().GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: id})
			during <- outcome{post, get}
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		})},
	}})
	s.dial(t, "", nil)
	o := <-during
	var gone *types.GoneException
	if !errors.As(o.post, &gone) || !errors.As(o.get, &gone) {
		t.Errorf("PostToConnection, GetConnection during $connect = %v, %v; want GoneException", o.post, o.get)
	}
}

func TestNoConnectRouteAccepts(t *testing.T) {
	s := newStack(t, Config{Routes: map[string]Route{}})
	s.dial(t, "", nil)
}

func TestNotAWebSocketRequest(t *testing.T) {
	called := newRecorder()
	s := newStack(t, Config{Routes: map[string]Route{RouteConnect: {Function: fn("Connect", called.handler(200))}}})
	resp, err := http.Get(s.srv.URL + "/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET /ws = %d; want 426", resp.StatusCode)
	}
	called.none(t, 20*time.Millisecond)
}

func TestURLTooLong(t *testing.T) {
	s := newStack(t, Config{})
	if got := s.refusedWith(t, "token="+strings.Repeat("x", maxURLLength), nil); got != http.StatusRequestURITooLong {
		t.Errorf("upgrade with a %d-character URL = %d; want 414", maxURLLength, got)
	}
	// The limit is measured on the URL the client dials in AWS,
	// wss://abc123.execute-api.eu-west-1.amazonaws.com/prod?token=..., not on
	// the shorter local one: a token AWS refuses is refused locally too, and
	// the longest AWS takes is taken.
	aws := len("wss://abc123.execute-api.eu-west-1.amazonaws.com/prod?token=")
	longest := strings.Repeat("x", maxURLLength-aws)
	if got := s.refusedWith(t, "token="+longest+"x", nil); got != http.StatusRequestURITooLong {
		t.Errorf("upgrade one character over the limit in AWS = %d; want 414", got)
	}
	c := s.dial(t, "token="+longest, nil)
	_ = c.CloseNow()
}
