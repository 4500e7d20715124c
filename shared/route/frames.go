package route

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// RouteHandler is the handler of a WebSocket route's function.
type RouteHandler = func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)

// Message serves the chat routes: hello, send, history, typing, read, ping.
func Message(d Deps) RouteHandler {
	return frames(d, wire.ActionHello, wire.ActionSend, wire.ActionHistory, wire.ActionTyping, wire.ActionRead, wire.ActionPing)
}

// Park serves the park route.
func Park(d Deps) RouteHandler { return frames(d, wire.ActionPark) }

// Pickup serves the pickup route.
func Pickup(d Deps) RouteHandler { return frames(d, wire.ActionPickup) }

// Close serves the close route.
func Close(d Deps) RouteHandler { return frames(d, wire.ActionClose) }

// Presence serves the presence route.
func Presence(d Deps) RouteHandler { return frames(d, wire.ActionPresence) }

// frames is the handler of a route function serving the given actions.
// Every frame gets exactly one reply, pushed to the sending connection; a
// refused or failed one gets an `error` frame and leaves the connection
// usable.
func frames(d Deps, serves ...wire.Action) RouteHandler {
	svc, base, now := service(d), d.log(), d.now()
	return func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		rc := ev.RequestContext
		start := now()
		log := base.With("route", rc.RouteKey, "connectionId", rc.ConnectionID)
		req, caller, err := admit(ev, serves)
		if caller.ID != "" {
			log = log.With("role", caller.Role, "userId", caller.ID)
			// Every frame of a known caller spends its budgets, good or bad.
			if lerr := svc.Admit(caller); lerr != nil {
				err = lerr
			}
		}
		ctx = chat.WithLog(ctx, log)
		var res chat.Result
		if err == nil {
			res, err = svc.Serve(ctx, caller, req)
		}
		if err != nil {
			refused(ctx, log, err)
			res = chat.Result{Reply: wire.ErrorFrame(req.ID, err)}
		}
		if err := svc.Deliver(ctx, rc.ConnectionID, res); err != nil {
			log.WarnContext(ctx, "follow-up failed", "error", err.Error())
		}
		log.InfoContext(ctx, "request served", "action", req.Action, "durationMs", now().Sub(start).Milliseconds())
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
}

// admit decodes a frame and says who sent it, in the order the protocol
// promises: a frame that is not one is bad_request, a connection without an
// identity unauthorized, an action this function does not serve
// unknown_action, an agent-only action from a customer forbidden before its
// fields are even read, then the fields.
func admit(ev events.APIGatewayWebsocketProxyRequest, serves []wire.Action) (wire.Request, chat.Caller, error) {
	req, derr := wire.Decode([]byte(ev.Body))
	if req.Action == "" {
		return req, chat.Caller{}, derr
	}
	caller, err := callerOf(ev.RequestContext)
	if err != nil {
		return req, caller, err
	}
	if !slices.Contains(serves, req.Action) {
		return req, caller, fmt.Errorf("route %q is not served by this function: %w", req.Action, wire.ErrUnknownAction)
	}
	if req.Action.AgentOnly() && caller.Role != conversation.AgentRole {
		return req, caller, wire.Public(fmt.Sprintf("only agents may %s", req.Action), conversation.ErrNotAllowed)
	}
	return req, caller, derr
}

// refused logs a request that gets an error frame: a refusal is news, a
// failure is an error.
func refused(ctx context.Context, log *slog.Logger, err error) {
	lvl := slog.LevelInfo
	if wire.CodeOf(err) == wire.CodeInternal {
		lvl = slog.LevelError
	}
	log.Log(ctx, lvl, "request refused", "code", wire.CodeOf(err), "error", err.Error())
}

// Default answers frames no route matched ($default): unknown actions, and
// frames that are not JSON objects with a string action.
func Default(d Deps) RouteHandler {
	svc, base := service(d), d.log()
	return func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		log := base.With("route", "$default", "connectionId", ev.RequestContext.ConnectionID)
		req, err := wire.Decode([]byte(ev.Body))
		if err == nil {
			err = wire.Public(fmt.Sprintf("unknown action %q", req.Action), wire.ErrUnknownAction)
		}
		refused(ctx, log, err)
		ctx = chat.WithLog(ctx, log)
		_ = svc.Deliver(ctx, ev.RequestContext.ConnectionID, chat.Result{Reply: wire.ErrorFrame(req.ID, err)})
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
}

// Connect records a new connection; an agent coming online may be handed
// queued conversations at once.
func Connect(d Deps) RouteHandler {
	svc, base, now := service(d), d.log(), d.now()
	return func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		rc := ev.RequestContext
		log := base.With("route", "$connect", "connectionId", rc.ConnectionID)
		ctx = chat.WithLog(ctx, log)
		c, err := callerOf(rc)
		if err != nil {
			log.WarnContext(ctx, "connect without identity", "error", err.Error())
			return events.APIGatewayProxyResponse{StatusCode: 401}, nil
		}
		at := time.UnixMilli(rc.ConnectedAt)
		if rc.ConnectedAt == 0 {
			at = now()
		}
		res, err := svc.Connect(ctx, conversation.Connection{ID: rc.ConnectionID, Role: c.Role, UserID: c.ID, Name: c.Name, Widget: c.Widget, ConnectedAt: at})
		if errors.Is(err, conversation.ErrRateLimited) {
			// Too many open connections: API Gateway refuses the upgrade
			// with this status.
			log.WarnContext(ctx, "connection refused", "error", err.Error())
			return events.APIGatewayProxyResponse{StatusCode: 429}, nil
		}
		if err != nil {
			return events.APIGatewayProxyResponse{}, err
		}
		if err := svc.Deliver(ctx, "", res); err != nil {
			log.WarnContext(ctx, "follow-up failed", "error", err.Error())
		}
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
}

// Disconnect forgets a connection.
func Disconnect(d Deps) RouteHandler {
	svc, base := service(d), d.log()
	return func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		rc := ev.RequestContext
		ctx = chat.WithLog(ctx, base.With("route", "$disconnect", "connectionId", rc.ConnectionID))
		// The authorizer context is not documented on $disconnect: without
		// it, the service falls back to what $connect recorded.
		var who *conversation.Connection
		if c, err := callerOf(rc); err == nil {
			who = &conversation.Connection{Role: c.Role, UserID: c.ID, Name: c.Name, Widget: c.Widget}
		}
		reason := ""
		if rc.DisconnectReason != nil {
			reason = *rc.DisconnectReason
		}
		if err := svc.Disconnect(ctx, rc.ConnectionID, who, rc.DisconnectStatusCode, reason); err != nil {
			return events.APIGatewayProxyResponse{}, err
		}
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
}
