package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/parley-chat/parley/cmd/parley-local/internal/invoke"
	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

// authorizerEvent is the REQUEST authorizer input for a WebSocket API
// (AWS developer guide, apigateway-websocket-api-lambda-auth). It is
// declared here because aws-lambda-go's APIGatewayCustomAuthorizerRequestTypeRequest
// has the REST requestContext and would drop routeKey, connectionId and
// domainName on the way out.
type authorizerEvent struct {
	Type                            string                 `json:"type"`
	MethodArn                       string                 `json:"methodArn"`
	Headers                         map[string]string      `json:"headers"`
	MultiValueHeaders               map[string][]string    `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string      `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string    `json:"multiValueQueryStringParameters"`
	StageVariables                  map[string]string      `json:"stageVariables"`
	RequestContext                  authorizerEventContext `json:"requestContext"`
}

// authorizerEventContext is the WebSocket requestContext of the authorizer
// input; unlike route events its identity carries only sourceIp.
type authorizerEventContext struct {
	RouteKey          string `json:"routeKey"`
	EventType         string `json:"eventType"`
	ExtendedRequestID string `json:"extendedRequestId"`
	RequestTime       string `json:"requestTime"`
	MessageDirection  string `json:"messageDirection"`
	Stage             string `json:"stage"`
	ConnectedAt       int64  `json:"connectedAt"`
	RequestTimeEpoch  int64  `json:"requestTimeEpoch"`
	Identity          struct {
		SourceIP string `json:"sourceIp"`
	} `json:"identity"`
	RequestID    string `json:"requestId"`
	DomainName   string `json:"domainName"`
	ConnectionID string `json:"connectionId"`
	APIID        string `json:"apiId"`
}

// methodArn is the resource the authorizer's policy must allow.
func (g *Gateway) methodArn() string {
	return fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s",
		g.cfg.Region, g.cfg.AccountID, g.cfg.APIID, g.cfg.Stage, RouteConnect)
}

func (g *Gateway) authorizerEvent(u *upgrade) authorizerEvent {
	ev := authorizerEvent{
		Type:                            "REQUEST",
		MethodArn:                       g.methodArn(),
		Headers:                         single(u.headers),
		MultiValueHeaders:               multi(u.headers),
		QueryStringParameters:           single(u.query),
		MultiValueQueryStringParameters: multi(u.query),
		// The documented input carries empty objects, not nulls; a
		// JavaScript authorizer reading event.queryStringParameters.token
		// must not crash locally where it would not in AWS.
		StageVariables: map[string]string{},
	}
	if ev.QueryStringParameters == nil {
		ev.QueryStringParameters = map[string]string{}
		ev.MultiValueQueryStringParameters = map[string][]string{}
	}
	rc := &ev.RequestContext
	rc.RouteKey, rc.EventType, rc.MessageDirection = RouteConnect, "CONNECT", "IN"
	rc.RequestID, rc.ExtendedRequestID = u.requestID, u.requestID
	rc.RequestTime, rc.RequestTimeEpoch = u.at.UTC().Format(requestTimeLayout), u.at.UnixMilli()
	rc.ConnectedAt = u.at.UnixMilli()
	rc.Stage, rc.APIID, rc.DomainName, rc.ConnectionID = g.cfg.Stage, g.cfg.APIID, u.host, u.connectionID
	rc.Identity.SourceIP = u.sourceIP
	return ev
}

// identityPresent reports whether every identity source is present and
// non-empty. API Gateway answers 401 without calling the function otherwise.
func identityPresent(sources []string, u *upgrade) bool {
	for _, s := range sources {
		var v string
		switch {
		case strings.HasPrefix(s, "route.request.querystring."):
			if vs := u.query[strings.TrimPrefix(s, "route.request.querystring.")]; len(vs) > 0 {
				v = vs[len(vs)-1]
			}
		case strings.HasPrefix(s, "route.request.header."):
			v = u.headers.Get(strings.TrimPrefix(s, "route.request.header."))
		default:
			// stageVariables.* and context.* sources: the emulated stage has
			// no stage variables, and context sources are not emulated, so
			// they count as missing rather than silently as present.
		}
		if v == "" {
			return false
		}
	}
	return true
}

// authorizerResultLimit is the largest authorizer result API Gateway accepts.
const authorizerResultLimit = 8 << 10

// errUnauthorized is the function error message that means 401.
const errUnauthorized = "Unauthorized"

// authorize runs the authorizer for u. It returns the HTTP status refusing
// the upgrade (0 when allowed) and, when allowed, the map that becomes
// requestContext.authorizer on every event of the connection.
func (g *Gateway) authorize(ctx context.Context, u *upgrade) (status int, authz map[string]any) {
	a := g.cfg.Authorizer
	log := g.log.With("route", RouteConnect, "connectionId", u.connectionID, "requestId", u.requestID)
	if a.Function == nil {
		log.Error("authorizer has no function", "status", http.StatusInternalServerError)
		return http.StatusInternalServerError, nil
	}
	if !identityPresent(a.IdentitySource, u) {
		log.Warn("connection refused", "status", http.StatusUnauthorized, "reason", "authorizer identity source missing", "identitySource", a.IdentitySource)
		return http.StatusUnauthorized, nil
	}
	out, err := g.invokeAs(ctx, metrics.SourceAuthorizer, a.Function, RouteConnect, u.connectionID, u.requestID, g.authorizerEvent(u))
	if err != nil {
		if isUnauthorized(err) {
			log.Warn("connection refused", "status", http.StatusUnauthorized, "reason", "the authorizer answered Unauthorized")
			return http.StatusUnauthorized, nil
		}
		return http.StatusInternalServerError, nil // invokeAs logged the failure
	}
	authz, allowed, err := evaluate(out, g.methodArn())
	switch {
	case err != nil:
		log.Error("authorizer result rejected", "error", err, "status", http.StatusInternalServerError)
		return http.StatusInternalServerError, nil
	case !allowed:
		log.Warn("connection refused", "status", http.StatusForbidden, "reason", "the authorizer's policy does not allow $connect", "methodArn", g.methodArn())
		return http.StatusForbidden, nil
	}
	return 0, authz
}

// isUnauthorized reports the authorizer's refusal: the function error
// "Unauthorized", which API Gateway answers with 401.
func isUnauthorized(err error) bool {
	var fe *invoke.Error
	return errors.As(err, &fe) && fe.Message == errUnauthorized
}

// authorizerResult is the authorizer's output. Statement, Action and
// Resource may each be a single value or a list in IAM JSON, so they are
// decoded by oneOrMany rather than by aws-lambda-go's slices.
type authorizerResult struct {
	PrincipalID    *string `json:"principalId"`
	PolicyDocument *struct {
		Version   string               `json:"Version"`
		Statement oneOrMany[statement] `json:"Statement"`
	} `json:"policyDocument"`
	Context map[string]any `json:"context"`
}

type statement struct {
	Effect   string            `json:"Effect"`
	Action   oneOrMany[string] `json:"Action"`
	Resource oneOrMany[string] `json:"Resource"`
}

type oneOrMany[T any] []T

func (o *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		return json.Unmarshal(b, (*[]T)(o))
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*o = oneOrMany[T]{v}
	return nil
}

// evaluate checks an authorizer result against methodArn the way API
// Gateway's policy evaluation does for execute-api:Invoke: an explicit Deny
// wins, then an Allow, and anything else is an implicit deny.
func evaluate(out []byte, methodArn string) (authz map[string]any, allowed bool, err error) {
	if len(out) > authorizerResultLimit {
		return nil, false, fmt.Errorf("evaluate authorizer result: %d bytes, over the %d byte limit", len(out), authorizerResultLimit)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber() // context numbers reach the integration as the authorizer wrote them
	var res authorizerResult
	if err := dec.Decode(&res); err != nil {
		return nil, false, fmt.Errorf("evaluate authorizer result: %w", err)
	}
	if res.PrincipalID == nil || res.PolicyDocument == nil {
		return nil, false, errors.New("evaluate authorizer result: principalId and policyDocument are required")
	}
	authz = map[string]any{}
	for k, v := range res.Context {
		switch v.(type) {
		case string, json.Number, bool:
			authz[k] = v
		default:
			return nil, false, fmt.Errorf("evaluate authorizer result: context %q is %T; only strings, numbers and booleans are allowed", k, v)
		}
	}
	authz["principalId"] = *res.PrincipalID

	for _, s := range res.PolicyDocument.Statement {
		if !anyMatch(s.Action, "execute-api:Invoke", true) || !anyMatch(s.Resource, methodArn, false) {
			continue
		}
		switch s.Effect {
		case "Deny":
			return nil, false, nil
		case "Allow":
			allowed = true
		}
	}
	if !allowed {
		return nil, false, nil
	}
	return authz, true, nil
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if globMatch(p, s) {
			return true
		}
	}
	return false
}

// globMatch matches IAM-style wildcards: "*" any run of characters
// (slashes included), "?" any one character.
func globMatch(pattern, s string) bool {
	// Iterative matching with one backtrack point, linear in practice.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// refuse answers a refused upgrade. API Gateway's bodies for these are
// JSON messages; which exact text it uses is unverified, the status is not.
func refuse(w http.ResponseWriter, status int) {
	var msg string
	switch status {
	case http.StatusUnauthorized:
		msg = "Unauthorized"
	case http.StatusForbidden:
		msg = "Forbidden"
	default:
		msg = "Internal server error"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}
