package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
)

func TestRequestsAreCreditedToTheirInvocation(t *testing.T) {
	c := New()
	ctx := WithLabels(context.Background(), Labels{Source: SourceRoute, RouteKey: "send", ConnectionID: "c1", ClientRequestID: "r1"})
	sendCtx, send := c.Begin(ctx, "message", "req-1")
	_, other := c.Begin(WithLabels(context.Background(), Labels{Source: SourceStream}), "notify", "req-2")

	c.Add(DynamoDB, "GetItem") // the server side counts globally
	c.Credit(sendCtx, DynamoDB, "GetItem")
	c.Credit(sendCtx, ManagementAPI, "PostToConnection")
	c.Credit(context.Background(), DynamoDB, "Scan") // outside any invocation

	if v := c.View(); v.ByRoute["send"].Invocations != 0 || len(v.ByRoute["send"].DynamoDB) != 0 {
		t.Errorf("byRoute.send before the invocation ends = %+v; want nothing yet", v.ByRoute["send"])
	}
	send.End("")
	other.End("boom")
	send.End("") // twice: counted once

	v := c.View()
	if got := v.ByRoute["send"]; got.Invocations != 1 || got.DynamoDB["GetItem"] != 1 || got.ManagementAPI["PostToConnection"] != 1 {
		t.Errorf("byRoute.send = %+v; want 1 invocation, 1 GetItem, 1 push", got)
	}
	if got := v.ByFunction["message"]; got.Invocations != 1 || got.DynamoDB["GetItem"] != 1 {
		t.Errorf("byFunction.message = %+v", got)
	}
	if got := v.ByFunction["notify"]; got.Invocations != 1 || len(got.DynamoDB) != 0 {
		t.Errorf("byFunction.notify = %+v; want 1 invocation, no requests", got)
	}
	if _, ok := v.ByRoute[""]; ok {
		t.Errorf("byRoute has a stream invocation: %+v", v.ByRoute)
	}
	if v.Unattributed[DynamoDB]["Scan"] != 1 || v.DynamoDB["GetItem"] != 1 {
		t.Errorf("unattributed = %v, global = %v", v.Unattributed, v.DynamoDB)
	}

	// A handler at work past its deadline: still its function's and route's.
	c.Credit(sendCtx, DynamoDB, "Query")
	if got := c.View().ByRoute["send"]; got.DynamoDB["Query"] != 1 || got.Invocations != 1 {
		t.Errorf("late request: byRoute.send = %+v; want the Query credited, still 1 invocation", got)
	}

	recs, next := c.Finished(0)
	if len(recs) != 2 || next != 2 {
		t.Fatalf("Finished(0) = %d records, next %d; want 2, 2", len(recs), next)
	}
	if r := recs[0]; r.Seq != 1 || r.Function != "message" || r.RouteKey != "send" || r.ConnectionID != "c1" ||
		r.ClientRequestID != "r1" || r.RequestID != "req-1" || r.DynamoDB["GetItem"] != 1 || r.Error != "" {
		t.Errorf("first record = %+v", r)
	}
	if r := recs[1]; r.Source != SourceStream || r.Error != "boom" {
		t.Errorf("second record = %+v", r)
	}
	if recs, _ := c.Finished(1); len(recs) != 1 || recs[0].Seq != 2 {
		t.Errorf("Finished(1) = %+v; want the second only", recs)
	}
}

func TestFinishedKeepsTheLastThousand(t *testing.T) {
	c := New()
	for i := range keep + 5 {
		_, inv := c.Begin(context.Background(), "ping", fmt.Sprint(i))
		inv.End("")
	}
	recs, next := c.Finished(0)
	if len(recs) != keep || recs[0].Seq != 6 || next != keep+5 {
		t.Errorf("Finished(0) = %d records from seq %d, next %d; want %d from 6, next %d", len(recs), recs[0].Seq, next, keep, keep+5)
	}
	var nilCounters *Counters
	ctx, inv := nilCounters.Begin(context.Background(), "x", "y")
	inv.End("") // no counters: nothing to do, no panic
	if ctx == nil {
		t.Error("Begin on nil counters returned a nil ctx")
	}
}

func TestServeInvocations(t *testing.T) {
	c := New()
	_, inv := c.Begin(context.Background(), "message", "r")
	inv.End("")
	rec := httptest.NewRecorder()
	c.ServeInvocations(rec, httptest.NewRequest("GET", "/local/metrics/invocations?since=0", nil))
	var out struct {
		Next        int64    `json:"next"`
		Invocations []Record `json:"invocations"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Next != 1 || len(out.Invocations) != 1 {
		t.Errorf("GET ?since=0 = %s (%v); want one invocation, next 1", rec.Body, err)
	}
	for _, q := range []string{"?since=x", "?since=-1"} {
		rec := httptest.NewRecorder()
		c.ServeInvocations(rec, httptest.NewRequest("GET", "/local/metrics/invocations"+q, nil))
		if rec.Code != 400 {
			t.Errorf("GET %s = %d; want 400", q, rec.Code)
		}
	}
}

// Capacity units are credited to the invocation whose ctx consumed them,
// summed into its record and into its route's and function's totals.
func TestCapacityIsCreditedToTheInvocation(t *testing.T) {
	c := New()
	ctx := WithLabels(context.Background(), Labels{Source: SourceRoute, RouteKey: "send"})
	sendCtx, send := c.Begin(ctx, "message", "req-1")
	c.CreditCapacity(sendCtx, Capacity{Write: 4})
	c.CreditCapacity(sendCtx, Capacity{Read: 0.5})
	c.CreditCapacity(context.Background(), Capacity{Read: 9}) // outside any invocation: nobody's
	send.End("")
	c.CreditCapacity(sendCtx, Capacity{Write: 1}) // after the end: the totals only

	recs, _ := c.Finished(0)
	if len(recs) != 1 || recs[0].Capacity != (Capacity{Read: 0.5, Write: 4}) {
		t.Fatalf("records = %+v; want one with read 0.5, write 4", recs)
	}
	v := c.View()
	for name, got := range map[string]Capacity{"byRoute.send": v.ByRoute["send"].Capacity, "byFunction.message": v.ByFunction["message"].Capacity} {
		if got != (Capacity{Read: 0.5, Write: 5}) {
			t.Errorf("%s capacity = %+v; want read 0.5, write 5", name, got)
		}
	}
	b, err := json.Marshal(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(b, &raw)
	if string(raw["capacity"]) != `{"read":0.5,"write":4}` {
		t.Errorf(`record's "capacity" = %s; want {"read":0.5,"write":4}`, raw["capacity"])
	}
}
