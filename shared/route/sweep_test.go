package route_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/shared/conversation"
)

// TestSweep runs sweep.json on an empty store, then on one holding a
// queued conversation and an agent who became available without a request
// (which only the sweep assigns), a conversation queued outside its hours,
// and a connection older than API Gateway lets one live; then again, as
// EventBridge may deliver a tick twice.
func TestSweep(t *testing.T) {
	s := startStack(t)
	d := s.deps(t)
	sweep := fixtureHandler[scheduleHandler](t, "sweep.json", d)
	tick := decode[events.CloudWatchEvent](t, "sweep.json")
	if _, err := sweep(ctxT(t), tick); err != nil {
		t.Fatalf("sweep on an empty store = %v; want <nil>", err)
	}

	h := func(name string) routeHandler { return fixtureHandler[routeHandler](t, name, d) }
	bob := s.dialAgent(t, fixtureAgent, fixtureAgentName)
	wantType(t, "presence away", call(t, h("presence.json"), bob, routeEvent(t, "presence.json", bob, nil, nil)), "ack")
	alice := s.dialCustomer(t, fixtureWidget, fixtureCustomer, fixtureCustomerName)
	ack := call(t, h("send.json"), alice, routeEvent(t, "send.json", alice, nil, nil))
	queued, _ := obj(ack["conversation"])["id"].(string)
	if obj(ack["conversation"])["status"] != "queued" {
		t.Fatalf("alice's first send with bob away: %v; want queued", ack)
	}
	// Back without a request (no assignment runs): only the sweep can
	// hand him the queue.
	if _, err := s.Store.SetPresence(ctxT(t), fixtureAgent, conversation.Available); err != nil {
		t.Fatal(err)
	}

	erin := s.dialCustomer(t, "persistent-after-hours", "erin", "Erin")
	erinAuth := customerAuthorizer("persistent-after-hours", "erin", "Erin")
	ack = call(t, h("send.json"), erin, routeEvent(t, "send.json", erin, erinAuth, nil))
	closedHours, _ := obj(ack["conversation"])["id"].(string)

	// A connection whose $disconnect never came: recorded 2h05m ago, past
	// API Gateway's 2-hour limit but before its TTL.
	connect := fixtureHandler[routeHandler](t, "connect.json", d)
	stale := decode[events.APIGatewayWebsocketProxyRequest](t, "connect.json")
	stale.RequestContext.ConnectionID = "St4leC0nnect10n="
	stale.RequestContext.Authorizer = customerAuthorizer(fixtureWidget, "dave", "Dave")
	stale.RequestContext.ConnectedAt = time.Now().Add(-2*time.Hour - 5*time.Minute).UnixMilli()
	serve(t, connect, stale)

	for i := range 2 {
		if _, err := sweep(ctxT(t), tick); err != nil {
			t.Fatalf("sweep %d on a populated store = %v; want <nil>", i+1, err)
		}
		c, err := s.Store.Conversation(ctxT(t), queued)
		if err != nil || c.Status != conversation.Active || c.Agent == nil || c.Agent.ID != fixtureAgent {
			t.Errorf("after sweep %d, alice's conversation: %+v, %v; want active with bob", i+1, c, err)
		}
		if a, err := s.Store.Agent(ctxT(t), fixtureAgent); err != nil || a.Used != 1 {
			t.Errorf("after sweep %d, bob uses %d, %v; want 1", i+1, a.Used, err)
		}
		c, err = s.Store.Conversation(ctxT(t), closedHours)
		if err != nil || c.Status != conversation.Queued {
			t.Errorf("after sweep %d, erin's conversation outside its hours: %+v, %v; want still queued", i+1, c, err)
		}
		if _, err := s.Store.Connection(ctxT(t), stale.RequestContext.ConnectionID); !errors.Is(err, conversation.ErrNotFound) {
			t.Errorf("after sweep %d, the stale connection: %v; want ErrNotFound", i+1, err)
		}
		if cust, err := s.Store.Customer(ctxT(t), fixtureWidget, "dave"); err != nil || len(cust.ConnectionIDs) != 0 {
			t.Errorf("after sweep %d, dave's connections %v, %v; want none", i+1, cust.ConnectionIDs, err)
		}
		for _, c := range []*client{alice, bob, erin} {
			if _, err := s.Store.Connection(ctxT(t), c.id); err != nil {
				t.Errorf("after sweep %d, %s's live connection: %v", i+1, c.Name, err)
			}
		}
	}
	// bob hears of it through the stack's notifier.
	bob.Wait("assignment of alice's conversation", func(f map[string]any) bool {
		return f["type"] == "conversation" && obj(f["conversation"])["id"] == queued && obj(f["conversation"])["status"] == "active"
	})
	if a, _ := s.Store.Agent(ctxT(t), fixtureAgent); !slices.Contains(a.ConnectionIDs, bob.id) {
		t.Errorf("bob's connections %v; want %s kept", a.ConnectionIDs, bob.id)
	}
}

// TestSweepFailure checks a sweep that cannot read the store says so: the
// error makes EventBridge's async invoke retry the tick.
func TestSweepFailure(t *testing.T) {
	s := startStack(t)
	broken := s.deps(t)
	broken.DynamoDB = depsAt(t, deadEndpoint(t), s.env).DynamoDB
	if _, err := fixtureHandler[scheduleHandler](t, "sweep.json", broken)(ctxT(t), decode[events.CloudWatchEvent](t, "sweep.json")); err == nil {
		t.Errorf("sweep with DynamoDB unreachable = <nil>; want an error")
	}
}
