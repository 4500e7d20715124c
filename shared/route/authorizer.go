package route

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/shared/auth"
	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
)

// AuthorizerHandler is the handler of the $connect REQUEST authorizer.
type AuthorizerHandler = func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// Authorizer verifies the token in the query string and hands who it names
// to every later event of the connection as authorizer context. A refused
// token is "Unauthorized" (API Gateway answers 401); a failure to check it
// is an error (500), not a verdict on the client.
func Authorizer(d Deps) AuthorizerHandler {
	svc, base := service(d), d.log()
	authn := &auth.Authenticator{
		AgentIssuer:   d.getenv("AGENT_ISSUER"),
		AgentJWKSURL:  d.getenv("AGENT_JWKS_URL"),
		AgentAudience: d.getenv("AGENT_AUDIENCE"),
		Widgets:       widgetTrust{svc},
		Keys:          auth.NewKeySets(d.HTTP),
		Now:           d.now(),
	}
	return func(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		log := base.With("route", "$connect", "authorizer", true)
		id, err := authn.Authenticate(ctx, ev.QueryStringParameters["token"])
		if errors.Is(err, auth.ErrRefused) {
			log.InfoContext(ctx, "connection refused", "reason", err.Error())
			return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
		}
		if err != nil {
			log.ErrorContext(ctx, "token not checked", "error", err.Error())
			return events.APIGatewayCustomAuthorizerResponse{}, err
		}
		log.InfoContext(ctx, "connection allowed", "role", id.Role, "userId", id.UserID, "widget", id.Widget)
		return events.APIGatewayCustomAuthorizerResponse{
			PrincipalID: string(id.Role) + ":" + id.UserID,
			PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
				Version: "2012-10-17",
				Statement: []events.IAMPolicyStatement{{
					Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{ev.MethodArn},
				}},
			},
			Context: map[string]any{"role": string(id.Role), "userId": id.UserID, "name": id.Name, "widget": id.Widget},
		}, nil
	}
}

// widgetTrust adapts the service's cached settings to what the
// authorizer needs of a widget.
type widgetTrust struct{ svc *chat.Service }

func (w widgetTrust) Widget(ctx context.Context, id string) (auth.Widget, error) {
	wd, err := w.svc.Widget(ctx, id)
	if errors.Is(err, conversation.ErrNotFound) {
		return auth.Widget{}, errors.Join(auth.ErrUnknownWidget, err)
	}
	if err != nil {
		return auth.Widget{}, err
	}
	return auth.Widget{ID: wd.ID, Issuer: wd.Issuer, JWKSURL: wd.JWKSURL}, nil
}
