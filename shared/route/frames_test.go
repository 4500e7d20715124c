package route_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/shared/conversation"
)

// requestIDOf is the requestId a fixture's frame carries.
func requestIDOf(t testing.TB, ev events.APIGatewayWebsocketProxyRequest) string {
	t.Helper()
	var body struct {
		RequestID string `json:"requestId"`
	}
	if err := json.Unmarshal([]byte(ev.Body), &body); err != nil || body.RequestID == "" {
		t.Fatalf("body %q has no requestId (%v)", ev.Body, err)
	}
	return body.RequestID
}

// call serves ev and returns the reply its connection c receives.
func call(t testing.TB, h routeHandler, c *client, ev events.APIGatewayWebsocketProxyRequest) map[string]any {
	t.Helper()
	serve(t, h, ev)
	return c.Reply(requestIDOf(t, ev))
}

func wantType(t testing.TB, what string, f map[string]any, typ string) {
	t.Helper()
	if f["type"] != typ {
		t.Fatalf("%s: reply %v; want type %s", what, f, typ)
	}
}

func wantError(t testing.TB, what string, f map[string]any, code string) {
	t.Helper()
	if f["type"] != "error" || f["code"] != code {
		t.Fatalf("%s: reply %v; want error %s", what, f, code)
	}
}

// TestMessageFunction runs the customer's message-route fixtures (hello,
// send, history, typing, read, ping) through the function the template
// routes them to, on a real connection: what the handler pushes is what
// alice's WebSocket receives.
func TestMessageFunction(t *testing.T) {
	s := startStack(t)
	d := s.deps(t)
	alice := s.dialCustomer(t, fixtureWidget, fixtureCustomer, fixtureCustomerName)
	h := func(name string) routeHandler { return fixtureHandler[routeHandler](t, name, d) }
	ev := func(name string, set map[string]any) events.APIGatewayWebsocketProxyRequest {
		return routeEvent(t, name, alice, nil, set)
	}

	pong := call(t, h("ping.json"), alice, ev("ping.json", nil))
	wantType(t, "ping", pong, "pong")

	// A page view creates nothing: no conversation yet.
	session := call(t, h("hello.json"), alice, ev("hello.json", nil))
	wantType(t, "hello", session, "session")
	if session["role"] != "customer" || obj(session["user"])["id"] != fixtureCustomer || obj(session["user"])["name"] != fixtureCustomerName ||
		session["conversation"] != nil || len(list(session["messages"])) != 0 {
		t.Errorf("hello before any message = %v; want alice's session with no conversation", session)
	}

	send := decode[events.APIGatewayWebsocketProxyRequest](t, "send.json")
	var sent struct {
		ClientMessageID string `json:"clientMessageId"`
		Text            string `json:"text"`
	}
	_ = json.Unmarshal([]byte(send.Body), &sent)
	ack := call(t, h("send.json"), alice, ev("send.json", nil))
	wantType(t, "send", ack, "ack")
	msg, conv := obj(ack["message"]), obj(ack["conversation"])
	convID, _ := conv["id"].(string)
	if msg["text"] != sent.Text || msg["clientMessageId"] != sent.ClientMessageID || msg["seq"] != 1.0 || msg["conversationId"] != convID ||
		obj(msg["sender"])["role"] != "customer" || obj(msg["sender"])["id"] != fixtureCustomer {
		t.Errorf("send ack message = %v; want alice's text as seq 1", msg)
	}
	// No agent is online, and persistent chats get no queue messages.
	if !strings.HasPrefix(convID, "c_") || conv["status"] != "queued" || conv["mode"] != "persistent" || conv["widget"] != fixtureWidget || conv["lastSeq"] != 1.0 {
		t.Errorf("send ack conversation = %v; want a new queued persistent conversation", conv)
	}

	// The same clientMessageId again (a client retry, or Lambda's) is the
	// same message, stored once.
	again := call(t, h("send.json"), alice, ev("send.json", nil))
	wantType(t, "send again", again, "ack")
	if obj(again["message"])["id"] != msg["id"] || obj(again["message"])["seq"] != 1.0 || obj(again["conversation"])["lastSeq"] != 1.0 {
		t.Errorf("repeated send ack = %v; want message %v again", again, msg["id"])
	}

	hist := call(t, h("history.json"), alice, ev("history.json", map[string]any{"conversationId": convID}))
	wantType(t, "history", hist, "history")
	if msgs := list(hist["messages"]); hist["conversationId"] != convID || len(msgs) != 1 || obj(msgs[0])["id"] != msg["id"] || hist["hasMore"] != false {
		t.Errorf("history = %v; want the one message", hist)
	}

	// hello.json resumes after lastSeq 3, past this conversation's end: the
	// newest messages come instead.
	session = call(t, h("hello.json"), alice, ev("hello.json", nil))
	if obj(session["conversation"])["id"] != convID || len(list(session["messages"])) != 1 {
		t.Errorf("hello with a conversation = %v; want it with its message", session)
	}

	typing := call(t, h("typing.json"), alice, ev("typing.json", map[string]any{"conversationId": convID}))
	wantType(t, "typing", typing, "ack")

	// read.json says seq 4; this conversation has 1.
	read := call(t, h("read.json"), alice, ev("read.json", map[string]any{"conversationId": convID}))
	wantError(t, "read past the end", read, "bad_request")
	read = call(t, h("read.json"), alice, ev("read.json", map[string]any{"conversationId": convID, "seq": 1}))
	wantType(t, "read", read, "ack")

	// The fixtures' own conversation id is nobody's here.
	hist = call(t, h("history.json"), alice, ev("history.json", nil))
	wantError(t, "history of another conversation", hist, "not_found")

	// The message function serves only its own routes.
	other := call(t, h("ping.json"), alice, routeEvent(t, "park.json", alice, authorizerOf(t, "ping.json"), nil))
	wantError(t, "park sent to the message function", other, "unknown_action")
}

// TestAgentFunctions runs the agent's fixtures (presence, park, pickup,
// close) through their functions on the conversation alice starts.
func TestAgentFunctions(t *testing.T) {
	s := startStack(t)
	d := s.deps(t)
	h := func(name string) routeHandler { return fixtureHandler[routeHandler](t, name, d) }
	alice := s.dialCustomer(t, fixtureWidget, fixtureCustomer, fixtureCustomerName)
	ack := call(t, h("send.json"), alice, routeEvent(t, "send.json", alice, nil, nil))
	convID, _ := obj(ack["conversation"])["id"].(string)

	// bob's $connect (the stack's own function) assigns him the queued
	// conversation before his connection opens.
	bob := s.dialAgent(t, fixtureAgent, fixtureAgentName)
	c, err := s.Store.Conversation(ctxT(t), convID)
	if err != nil || c.Status != conversation.Active || c.Agent == nil || c.Agent.ID != fixtureAgent {
		t.Fatalf("conversation after bob connected: %+v, %v; want active with bob", c, err)
	}
	ev := func(name string, set map[string]any) events.APIGatewayWebsocketProxyRequest {
		return routeEvent(t, name, bob, nil, set)
	}
	onConv := map[string]any{"conversationId": convID}

	pres := call(t, h("presence.json"), bob, ev("presence.json", nil))
	wantType(t, "presence away", pres, "ack")
	if ag := obj(pres["agent"]); ag["presence"] != "away" || ag["capacity"] != 3.0 || ag["used"] != 1.0 {
		t.Errorf("presence away ack agent = %v; want away, 1 of 3 used", ag)
	}
	pres = call(t, h("presence.json"), bob, ev("presence.json", map[string]any{"status": "available"}))
	if obj(pres["agent"])["presence"] != "available" {
		t.Errorf("presence available ack = %v", pres)
	}
	pres = call(t, h("presence.json"), bob, ev("presence.json", map[string]any{"status": "busy"}))
	wantError(t, "presence busy", pres, "bad_request")

	park := call(t, h("park.json"), bob, ev("park.json", onConv))
	wantType(t, "park", park, "ack")
	if obj(park["conversation"])["status"] != "waiting" {
		t.Errorf("park ack = %v; want waiting", park)
	}
	if a, err := s.Store.Agent(ctxT(t), fixtureAgent); err != nil || a.Used != 0 {
		t.Errorf("bob after park: used %d, %v; want his capacity freed at once", a.Used, err)
	}

	// alice comes back: waiting → returned (notify.json's transition).
	back := call(t, h("send.json"), alice, routeEvent(t, "send.json", alice, nil, map[string]any{"clientMessageId": "k-back", "text": "Any news?"}))
	if obj(back["conversation"])["status"] != "returned" {
		t.Errorf("customer send on a waiting conversation: %v; want returned", back)
	}

	pickup := call(t, h("pickup.json"), bob, ev("pickup.json", onConv))
	wantType(t, "pickup", pickup, "ack")
	if obj(pickup["conversation"])["status"] != "active" {
		t.Errorf("pickup ack = %v; want active", pickup)
	}
	pickup = call(t, h("pickup.json"), bob, ev("pickup.json", onConv))
	wantError(t, "pickup of an active conversation", pickup, "conflict")

	// Agents act only on their own conversations; carol learns nothing.
	carol := s.dialAgent(t, "carol", "Carol")
	stranger := call(t, h("park.json"), carol, routeEvent(t, "park.json", carol, agentAuthorizer("carol", "Carol"), onConv))
	wantError(t, "park by another agent", stranger, "not_found")

	// Only agents end persistent conversations.
	refused := call(t, h("close.json"), alice, routeEvent(t, "close.json", alice, customerAuthorizer(fixtureWidget, fixtureCustomer, fixtureCustomerName), onConv))
	wantError(t, "customer close", refused, "forbidden")
	if refused["message"] != "persistent conversations can only be ended by an agent" {
		t.Errorf("customer close message %q", refused["message"])
	}

	closed := call(t, h("close.json"), bob, ev("close.json", onConv))
	wantType(t, "close", closed, "ack")
	if cv := obj(closed["conversation"]); cv["status"] != "closed" || cv["closedBy"] != "agent" || cv["closedAt"] == nil {
		t.Errorf("close ack conversation = %v; want closed by agent", cv)
	}
	closed = call(t, h("close.json"), bob, ev("close.json", onConv))
	wantError(t, "close again", closed, "conflict")

	// A customer's presence is no such thing.
	pres = call(t, h("presence.json"), alice, routeEvent(t, "presence.json", alice, customerAuthorizer(fixtureWidget, fixtureCustomer, fixtureCustomerName), nil))
	wantError(t, "customer presence", pres, "forbidden")
}

// TestDefaultFunction runs default.json: an action no route matched gets
// unknown_action, and a frame that is not JSON gets bad_request; neither
// closes the connection.
func TestDefaultFunction(t *testing.T) {
	s := startStack(t)
	d := s.deps(t)
	def := fixtureHandler[routeHandler](t, "default.json", d)
	alice := s.dialCustomer(t, fixtureWidget, fixtureCustomer, fixtureCustomerName)

	f := call(t, def, alice, routeEvent(t, "default.json", alice, nil, nil))
	wantError(t, "unknown action", f, "unknown_action")
	if msg, _ := f["message"].(string); !strings.Contains(msg, `"transfer"`) {
		t.Errorf("unknown action message %q; want it to name the action", msg)
	}

	notJSON := routeEvent(t, "default.json", alice, nil, nil)
	notJSON.Body = "hello?"
	serve(t, def, notJSON)
	bad := alice.Wait("error for a non-JSON frame", func(f map[string]any) bool { return f["type"] == "error" })
	if bad["code"] != "bad_request" || bad["requestId"] != nil {
		t.Errorf("non-JSON frame reply = %v; want bad_request without requestId", bad)
	}

	// Still usable afterwards.
	pong := call(t, fixtureHandler[routeHandler](t, "ping.json", d), alice, routeEvent(t, "ping.json", alice, nil, nil))
	wantType(t, "ping after errors", pong, "pong")
}

// TestFrameFailure runs send.json while DynamoDB is unreachable: the frame
// still gets exactly one reply, an `internal` error that reveals nothing,
// and the connection stays usable.
func TestFrameFailure(t *testing.T) {
	s := startStack(t)
	alice := s.dialCustomer(t, fixtureWidget, fixtureCustomer, fixtureCustomerName)
	broken := s.deps(t)
	broken.DynamoDB = depsAt(t, deadEndpoint(t), s.env).DynamoDB

	f := call(t, fixtureHandler[routeHandler](t, "send.json", broken), alice, routeEvent(t, "send.json", alice, nil, nil))
	wantError(t, "send with DynamoDB down", f, "internal")
	if f["message"] != "something went wrong; try again" {
		t.Errorf("internal error message %q; want nothing internal", f["message"])
	}
	pong := call(t, fixtureHandler[routeHandler](t, "ping.json", s.deps(t)), alice, routeEvent(t, "ping.json", alice, nil, nil))
	wantType(t, "ping after a failure", pong, "pong")
}
