package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"
)

const connectArn = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/$connect"

func TestAuthorizerDecides(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		header  http.Header
		sources []string
		answer  func() (any, error)
		want    int // 0: upgraded
		called  bool
	}{
		{
			name:   "allow exact ARN",
			query:  "token=ok",
			answer: func() (any, error) { return allow("alice", connectArn, nil), nil },
			called: true,
		},
		{
			name:  "allow wildcard",
			query: "token=ok",
			answer: func() (any, error) {
				return allow("alice", "arn:aws:execute-api:eu-west-1:123456789012:abc123/*", nil), nil
			},
			called: true,
		},
		{
			name:  "allow single-character wildcard",
			query: "token=ok",
			answer: func() (any, error) {
				return allow("alice", "arn:aws:execute-api:eu-west-1:123456789012:abc12?/prod/$connect", nil), nil
			},
			called: true,
		},
		{
			name:  "allow on another stage",
			query: "token=ok",
			answer: func() (any, error) {
				return allow("alice", "arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/$connect", nil), nil
			},
			want:   http.StatusForbidden,
			called: true,
		},
		{
			name:   "deny",
			query:  "token=ok",
			answer: func() (any, error) { return policy("alice", "Deny", connectArn, nil), nil },
			want:   http.StatusForbidden,
			called: true,
		},
		{
			name:  "explicit deny beats allow",
			query: "token=ok",
			answer: func() (any, error) {
				r := allow("alice", "*", nil)
				r.PolicyDocument.Statement = append(r.PolicyDocument.Statement, policy("alice", "Deny", connectArn, nil).PolicyDocument.Statement...)
				return r, nil
			},
			want:   http.StatusForbidden,
			called: true,
		},
		{
			name:  "allow for another action",
			query: "token=ok",
			answer: func() (any, error) {
				r := allow("alice", connectArn, nil)
				r.PolicyDocument.Statement[0].Action = []string{"execute-api:ManageConnections"}
				return r, nil
			},
			want:   http.StatusForbidden,
			called: true,
		},
		{
			name:   "Unauthorized error",
			query:  "token=ok",
			answer: func() (any, error) { return nil, errors.New("Unauthorized") },
			want:   http.StatusUnauthorized,
			called: true,
		},
		{
			name:   "other error",
			query:  "token=ok",
			answer: func() (any, error) { return nil, errors.New("jwks fetch failed") },
			want:   http.StatusInternalServerError,
			called: true,
		},
		{
			name:   "panic",
			query:  "token=ok",
			answer: func() (any, error) { panic("nil map") },
			want:   http.StatusInternalServerError,
			called: true,
		},
		{
			name:  "object in context",
			query: "token=ok",
			answer: func() (any, error) {
				return allow("alice", connectArn, map[string]any{"user": map[string]any{"id": 1}}), nil
			},
			want:   http.StatusInternalServerError,
			called: true,
		},
		{
			name:   "no policy document",
			query:  "token=ok",
			answer: func() (any, error) { return map[string]any{"principalId": "alice"}, nil },
			want:   http.StatusInternalServerError,
			called: true,
		},
		{
			name:  "missing token",
			query: "other=1",
			want:  http.StatusUnauthorized,
		},
		{
			name:  "empty token",
			query: "token=",
			want:  http.StatusUnauthorized,
		},
		{
			name:    "missing header source",
			query:   "token=ok",
			sources: []string{"route.request.querystring.token", "route.request.header.Authorization"},
			want:    http.StatusUnauthorized,
		},
		{
			name:    "header source present",
			query:   "token=ok",
			header:  http.Header{"Authorization": {"Bearer x"}},
			sources: []string{"route.request.querystring.token", "route.request.header.authorization"},
			answer:  func() (any, error) { return allow("alice", connectArn, nil), nil },
			called:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var authorizerCalls, connectCalls atomic.Int32
			sources := tt.sources
			if sources == nil {
				sources = []string{"route.request.querystring.token"}
			}
			cfg := Config{
				Authorizer: &Authorizer{
					IdentitySource: sources,
					Function: fn("Authorizer", func(context.Context, json.RawMessage) (any, error) {
						authorizerCalls.Add(1)
						return tt.answer()
					}),
				},
				Routes: map[string]Route{RouteConnect: {Function: fn("Connect", func(context.Context, json.RawMessage) (events.APIGatewayProxyResponse, error) {
					connectCalls.Add(1)
					return events.APIGatewayProxyResponse{StatusCode: 200}, nil
				})}},
			}
			s := newStack(t, cfg)
			if tt.want == 0 {
				s.dial(t, tt.query, &websocket.DialOptions{HTTPHeader: tt.header}).CloseNow()
			} else if got := s.refusedWith(t, tt.query, tt.header); got != tt.want {
				t.Errorf("upgrade status = %d; want %d", got, tt.want)
			}
			if got := authorizerCalls.Load() == 1; got != tt.called {
				t.Errorf("authorizer called = %v; want %v", got, tt.called)
			}
			if got, want := connectCalls.Load(), map[bool]int32{true: 1, false: 0}[tt.want == 0]; got != want {
				t.Errorf("$connect calls = %d; want %d (only after the authorizer allowed)", got, want)
			}
		})
	}
}

func TestEvaluatePolicyForms(t *testing.T) {
	// IAM allows a lone statement object and lone strings for Action and
	// Resource; authorizers in other languages return those forms.
	tests := []struct {
		name, result string
		allowed      bool
		wantErr      bool
	}{
		{"strings", `{"principalId":"a","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"` + connectArn + `"}]}}`, true, false},
		{"statement object", `{"principalId":"a","policyDocument":{"Statement":{"Action":"execute-api:*","Effect":"Allow","Resource":"*"}}}`, true, false},
		{"action case", `{"principalId":"a","policyDocument":{"Statement":[{"Action":["Execute-API:invoke"],"Effect":"Allow","Resource":["` + connectArn + `"]}]}}`, true, false},
		{"resource case", `{"principalId":"a","policyDocument":{"Statement":[{"Action":["*"],"Effect":"Allow","Resource":["arn:aws:execute-api:eu-west-1:123456789012:ABC123/prod/$connect"]}]}}`, false, false},
		{"lower-case effect", `{"principalId":"a","policyDocument":{"Statement":[{"Action":["*"],"Effect":"allow","Resource":["*"]}]}}`, false, false},
		{"no principal", `{"policyDocument":{"Statement":[]}}`, false, true},
		{"not JSON", `Allow`, false, true},
		{"array in context", `{"principalId":"a","policyDocument":{"Statement":[]},"context":{"roles":["x"]}}`, false, true},
		{"over 8 KB", `{"principalId":"` + string(make([]byte, 9000)) + `"}`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, allowed, err := evaluate([]byte(tt.result), connectArn)
			if allowed != tt.allowed || (err != nil) != tt.wantErr {
				t.Errorf("evaluate(%s) = allowed %v, err %v; want %v, error %v", tt.name, allowed, err, tt.allowed, tt.wantErr)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything/at/all", true},
		{"arn:*:abc123/*", "arn:aws:execute-api:eu-west-1:1:abc123/prod/$connect", true},
		{"arn:*/dev/*", "arn:x/prod/$connect", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"", "", true},
		{"abc", "abcd", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v; want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
