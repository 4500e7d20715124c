package route

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/shared/auth"
	"github.com/parley-chat/parley/shared/conversation"
)

// Authorize is the $connect REQUEST authorizer: it verifies the token in the
// query string and hands who it names to every later event of the
// connection as authorizer context. A refused token is "Unauthorized" (API
// Gateway answers 401); a failure to check it is an error (500), not a
// verdict on the client.
func (a *App) Authorize(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	log := a.logger(ctx, "route", "$connect", "authorizer", true)
	id, err := a.auth.Authenticate(ctx, ev.QueryStringParameters["token"])
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

// Connect records a new connection; an agent coming online may be handed
// queued conversations at once.
func (a *App) Connect(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	rc := ev.RequestContext
	log := a.logger(ctx, "route", "$connect", "connectionId", rc.ConnectionID)
	who, widget, err := identity(rc)
	if err != nil {
		log.WarnContext(ctx, "connect without identity", "error", err.Error())
		return events.APIGatewayProxyResponse{StatusCode: 401}, nil
	}
	connectedAt := time.UnixMilli(rc.ConnectedAt)
	if rc.ConnectedAt == 0 {
		connectedAt = a.now()
	}
	defaults, err := a.settings.agentDefaults(ctx)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	c := conversation.Connection{ID: rc.ConnectionID, Role: who.Role, UserID: who.ID, Name: who.Name, Widget: widget, ConnectedAt: connectedAt}
	if err := a.store.AddConnection(ctx, c, defaults.Capacity); err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	log.InfoContext(ctx, "connected", "role", who.Role, "userId", who.ID)
	if who.Role == conversation.AgentRole {
		a.assignAll(ctx, log)
	}
	return events.APIGatewayProxyResponse{StatusCode: 200}, nil
}

// Disconnect forgets a connection.
func (a *App) Disconnect(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	rc := ev.RequestContext
	log := a.logger(ctx, "route", "$disconnect", "connectionId", rc.ConnectionID)
	var c conversation.Connection
	if who, widget, err := identity(rc); err == nil {
		c = storeConn(rc.ConnectionID, who, widget)
	} else {
		// The authorizer context is not documented on $disconnect: fall back
		// to what $connect recorded.
		if c, err = a.store.Connection(ctx, rc.ConnectionID); err != nil {
			if errors.Is(err, conversation.ErrNotFound) {
				return events.APIGatewayProxyResponse{StatusCode: 200}, nil
			}
			return events.APIGatewayProxyResponse{}, err
		}
	}
	if err := a.store.RemoveConnection(ctx, c, a.now()); err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	reason := ""
	if rc.DisconnectReason != nil {
		reason = *rc.DisconnectReason
	}
	log.InfoContext(ctx, "disconnected", "role", c.Role, "userId", c.UserID, "code", rc.DisconnectStatusCode, "reason", strings.TrimSpace(reason))
	return events.APIGatewayProxyResponse{StatusCode: 200}, nil
}
