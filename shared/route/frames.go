package route

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/shared/conversation"
)

// request is one client frame being served.
type request struct {
	conn      string // connectionId
	who       conversation.Participant
	widget    string // customers: the widget they came through
	action    string
	requestID any // echoed as sent; nil when absent
	fields    map[string]json.RawMessage
	log       *slog.Logger
	received  time.Time
	replied   bool
}

// identity reads who is on the connection from the authorizer context API
// Gateway attaches to every event of it; never from the frame.
func identity(rc events.APIGatewayWebsocketProxyRequestContext) (conversation.Participant, string, error) {
	m, _ := rc.Authorizer.(map[string]any)
	s := func(k string) string { v, _ := m[k].(string); return v }
	p := conversation.Participant{ID: s("userId"), Name: s("name")}
	switch s("role") {
	case "customer":
		p.Role = conversation.Customer
	case "agent":
		p.Role = conversation.AgentRole
	default:
		return p, "", fmt.Errorf("connection %s has no authorizer identity: %w", rc.ConnectionID, errUnauthorized)
	}
	if p.ID == "" || (p.Role == conversation.Customer && s("widget") == "") {
		return p, "", fmt.Errorf("connection %s: incomplete authorizer identity: %w", rc.ConnectionID, errUnauthorized)
	}
	return p, s("widget"), nil
}

type action func(context.Context, *request) ([]byte, error)

// Frames returns the handler of a route function serving the given actions
// (route keys). Every frame gets exactly one reply, pushed to the sending
// connection; a refused or failed one gets an `error` frame and leaves the
// connection usable.
func (a *App) Frames(actions ...string) func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	table := map[string]action{
		"hello": a.hello, "send": a.send, "history": a.history, "typing": a.typing, "read": a.read, "ping": a.ping,
		"park": a.park, "pickup": a.pickup, "close": a.close, "presence": a.presence,
	}
	serve := map[string]action{}
	for _, name := range actions {
		serve[name] = table[name]
	}
	return func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		rc := ev.RequestContext
		r := &request{conn: rc.ConnectionID, action: rc.RouteKey, received: a.now()}
		r.log = a.logger(ctx, "route", rc.RouteKey, "connectionId", rc.ConnectionID)
		out, err := a.serveFrame(ctx, r, ev, serve)
		if err != nil {
			lvl := slog.LevelInfo
			if code(err) == "internal" {
				lvl = slog.LevelError
			}
			r.log.Log(ctx, lvl, "request refused", "code", code(err), "error", err.Error())
			out = reply("error", r.requestID, frame{"code": code(err), "message": clientMessage(err)})
		}
		if !r.replied {
			a.respond(ctx, r, out)
		}
		r.log.InfoContext(ctx, "request served", "action", r.action, "durationMs", time.Since(r.received).Milliseconds())
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
}

func (a *App) serveFrame(ctx context.Context, r *request, ev events.APIGatewayWebsocketProxyRequest, serve map[string]action) ([]byte, error) {
	if err := json.Unmarshal([]byte(ev.Body), &r.fields); err != nil {
		return nil, badField("frame is not a JSON object")
	}
	if raw, ok := r.fields["requestId"]; ok {
		_ = json.Unmarshal(raw, &r.requestID)
	}
	who, widget, err := identity(ev.RequestContext)
	if err != nil {
		return nil, err
	}
	r.who, r.widget = who, widget
	r.log = r.log.With("role", who.Role, "userId", who.ID)
	act, ok := serve[r.action]
	if !ok || act == nil {
		return nil, fmt.Errorf("route %q is not served by this function: %w", r.action, errUnknownAction)
	}
	return act(ctx, r)
}

// Default answers frames no route matched ($default): unknown actions, and
// frames that are not JSON objects with a string action.
func (a *App) Default(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	log := a.logger(ctx, "route", "$default", "connectionId", ev.RequestContext.ConnectionID)
	var fields map[string]json.RawMessage
	var requestID any
	var err error
	if jerr := json.Unmarshal([]byte(ev.Body), &fields); jerr != nil {
		err = badField("frame is not a JSON object")
	} else {
		if raw, ok := fields["requestId"]; ok {
			_ = json.Unmarshal(raw, &requestID)
		}
		var act any
		if raw, ok := fields["action"]; !ok {
			err = badField("missing field action")
		} else if jerr := json.Unmarshal(raw, &act); jerr != nil {
			err = badField("action must be a string")
		} else if s, ok := act.(string); !ok {
			err = badField("action must be a string")
		} else {
			err = &publicError{msg: fmt.Sprintf("unknown action %q", truncate(s, 64)), err: errUnknownAction}
		}
	}
	log.InfoContext(ctx, "request refused", "code", code(err), "error", err.Error())
	out := reply("error", requestID, frame{"code": code(err), "message": clientMessage(err)})
	if perr := a.push.Post(ctx, ev.RequestContext.ConnectionID, out); perr != nil {
		log.WarnContext(ctx, "reply not delivered", "error", perr.Error())
	}
	return events.APIGatewayProxyResponse{StatusCode: 200}, nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Field readers: a missing required field or a wrongly typed one is a
// bad_request naming the field.

func (r *request) has(name string) bool {
	raw, ok := r.fields[name]
	return ok && string(raw) != "null"
}

func (r *request) str(name string, required bool) (string, error) {
	if !r.has(name) {
		if required {
			return "", badField("missing field " + name)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(r.fields[name], &s); err != nil {
		return "", badField(name + " must be a string")
	}
	return s, nil
}

func (r *request) int(name string, required bool) (int64, bool, error) {
	if !r.has(name) {
		if required {
			return 0, false, badField("missing field " + name)
		}
		return 0, false, nil
	}
	var f float64
	if err := json.Unmarshal(r.fields[name], &f); err != nil || f != float64(int64(f)) {
		return 0, false, badField(name + " must be an integer")
	}
	return int64(f), true, nil
}

func (r *request) bool(name string) (bool, error) {
	if !r.has(name) {
		return false, badField("missing field " + name)
	}
	var b bool
	if err := json.Unmarshal(r.fields[name], &b); err != nil {
		return false, badField(name + " must be a boolean")
	}
	return b, nil
}

// conversationFor reads a conversation the caller may act on; anything
// else is not_found, revealing nothing about other people's conversations.
func (a *App) conversationFor(ctx context.Context, r *request, id string) (*conversation.Conversation, error) {
	if id == "" || len(id) > 128 || !strings.HasPrefix(id, "c_") {
		return nil, fmt.Errorf("conversation %q: %w", truncate(id, 128), conversation.ErrNotFound)
	}
	c, err := a.store.Conversation(ctx, id)
	if err != nil {
		return nil, err
	}
	// Customer ids are the embedding website's; the same id on another
	// widget is another person.
	if !c.Visible(r.who) || (r.who.Role == conversation.Customer && c.Widget != r.widget) {
		return nil, fmt.Errorf("conversation %s is not %s %s's: %w", id, r.who.Role, r.who.ID, conversation.ErrNotFound)
	}
	return c, nil
}

// deliver pushes frame to connections, forgetting the ones API Gateway no
// longer has (410) instead of retrying them.
func (a *App) deliver(ctx context.Context, log *slog.Logger, conns []string, who conversation.Participant, widget string, frame []byte) {
	if len(conns) == 0 {
		return
	}
	res := a.push.Fanout(ctx, conns, frame)
	a.forgetGone(ctx, log, res.Gone, who, widget)
	if res.Err != nil {
		log.WarnContext(ctx, "push failed", "error", res.Err.Error())
	}
}

// connectGrace is how long after it was recorded a connection may answer
// 410 without being gone: API Gateway answers 410 to pushes until $connect
// has returned, and $connect records the connection first (then, for an
// agent, assigns queued conversations, whose notifications race the 101).
const connectGrace = 30 * time.Second

// forgetGone removes connections API Gateway no longer has, rather than
// pushing to them again; one still in its $connect is left alone.
func (a *App) forgetGone(ctx context.Context, log *slog.Logger, gone []string, who conversation.Participant, widget string) {
	for _, id := range gone {
		if c, err := a.store.Connection(ctx, id); err == nil && a.now().Sub(c.ConnectedAt) < connectGrace {
			log.InfoContext(ctx, "push to a connection still opening", "goneConnectionId", id)
			continue
		}
		if err := a.store.RemoveConnection(ctx, storeConn(id, who, widget), a.now()); err != nil {
			log.WarnContext(ctx, "forget gone connection", "goneConnectionId", id, "error", err.Error())
		}
	}
}

func without(ids []string, id string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == id })
}

// respond pushes the reply to the requesting connection. Actions call it
// themselves when they have follow-up work (assignment, fan-out) that the
// client should learn about after its reply.
func (a *App) respond(ctx context.Context, r *request, out []byte) {
	r.replied = true
	if err := a.push.Post(ctx, r.conn, out); err != nil {
		r.log.WarnContext(ctx, "reply not delivered", "error", err.Error())
	}
}

func storeConn(id string, who conversation.Participant, widget string) conversation.Connection {
	return conversation.Connection{ID: id, Role: who.Role, UserID: who.ID, Widget: widget}
}

// maxAttempts bounds the read-modify-write retries of one request that
// keeps losing races (each loss means another request made progress).
const maxAttempts = 8

func retryable(err error) bool { return errors.Is(err, conversation.ErrStale) }
