package conversation

import (
	"fmt"
	"testing"
	"time"
)

func TestSend(t *testing.T) {
	now := t0
	tests := []struct {
		by         Participant
		status     Status
		keepSame   bool
		want       error
		wantStatus Status
		wantEffect SendEffect // Seq is checked separately
		wantAgent  bool       // an agent is still assigned afterwards
	}{
		// The customer writes in every open status.
		{by: alice, status: Queued, wantStatus: Queued},
		{by: alice, status: Active, wantStatus: Active, wantAgent: true},
		{by: alice, status: Returned, wantStatus: Returned, wantAgent: true},
		{by: alice, status: Returned, keepSame: true, wantStatus: Returned, wantAgent: true},
		// Coming back to a parked conversation returns it to its agent...
		{by: alice, status: Waiting, keepSame: true, wantStatus: Returned, wantEffect: SendEffect{Returned: true}, wantAgent: true},
		// ...or to the queue when the workstream does not keep the same agent.
		{by: alice, status: Waiting, keepSame: false, wantStatus: Queued, wantEffect: SendEffect{Requeued: true}},
		// A closed conversation takes nothing; the caller starts a new one.
		{by: alice, status: Closed, want: ErrConflict},
		// The agent writes only while working it.
		{by: bob, status: Active, wantStatus: Active, wantAgent: true},
		{by: bob, status: Waiting, want: ErrConflict},
		{by: bob, status: Returned, want: ErrConflict},
		{by: bob, status: Closed, want: ErrConflict},
		{by: bob, status: Queued, want: ErrNotFound}, // not assigned to anyone yet
		// Strangers learn nothing, whatever the status.
		{by: carol, status: Active, want: ErrNotFound},
		{by: carol, status: Closed, want: ErrNotFound},
		{by: mallory, status: Active, want: ErrNotFound},
		{by: mallory, status: Closed, want: ErrNotFound},
		{by: parley, status: Active, want: ErrNotFound},
		{by: Participant{Role: AgentRole, ID: "alice"}, status: Active, want: ErrNotFound}, // right id, wrong role
		{by: Participant{Role: Customer, ID: "bob"}, status: Active, want: ErrNotFound},
		{by: Participant{Role: Customer}, status: Active, want: ErrNotFound},
	}
	for _, mode := range []Mode{Persistent, Live} {
		for _, tt := range tests {
			call := "Send(" + name(tt.by) + ") on " + string(mode) + " " + string(tt.status)
			if tt.keepSame {
				call += " keeping the same agent"
			}
			t.Run(call, func(t *testing.T) {
				c := fixture(mode, tt.status)
				before := c.Clone()
				eff, err := c.Send(tt.by, "k", workstream(mode, tt.keepSame), now)
				checkErr(t, call, err, tt.want)
				checkMove(t, call, before, c, err, now)
				if err != nil {
					if eff != (SendEffect{}) {
						t.Errorf("%s failed but returned effect %+v", call, eff)
					}
					return
				}
				want := tt.wantEffect
				want.Seq = before.LastSeq + 1
				if eff != want {
					t.Errorf("%s = %+v; want %+v", call, eff, want)
				}
				if c.LastSeq != want.Seq {
					t.Errorf("%s: LastSeq = %d; want %d", call, c.LastSeq, want.Seq)
				}
				if c.Status != tt.wantStatus {
					t.Errorf("%s: Status = %s; want %s", call, c.Status, tt.wantStatus)
				}
				if (c.Agent != nil) != tt.wantAgent {
					t.Errorf("%s: Agent = %+v; want assigned = %t", call, c.Agent, tt.wantAgent)
				}
				if !c.LastMessageAt.Equal(now) {
					t.Errorf("%s: LastMessageAt = %v; want %v", call, c.LastMessageAt, now)
				}
				wantCustomerAt := before.LastCustomerMessageAt
				if tt.by.Role == Customer {
					wantCustomerAt = now
				}
				if !c.LastCustomerMessageAt.Equal(wantCustomerAt) {
					t.Errorf("%s: LastCustomerMessageAt = %v; want %v", call, c.LastCustomerMessageAt, wantCustomerAt)
				}
				if eff.Returned && !c.ReturnedAt.Equal(now) {
					t.Errorf("%s: ReturnedAt = %v; want %v", call, c.ReturnedAt, now)
				}
				wantQueuedAt := before.QueuedAt
				if eff.Requeued {
					wantQueuedAt = now // behind everyone already queued
				}
				if !c.QueuedAt.Equal(wantQueuedAt) {
					t.Errorf("%s: QueuedAt = %v; want %v", call, c.QueuedAt, wantQueuedAt)
				}
			})
		}
	}
}

// A customer's name may change between tokens; the subject is who they are.
func TestSendIgnoresDisplayName(t *testing.T) {
	c := fixture(Persistent, Active)
	renamed := Participant{Role: Customer, ID: "alice", Name: "Alice Smith"}
	if _, err := c.Send(renamed, "k", workstream(Persistent, true), t0); err != nil {
		t.Errorf("Send(customer alice renamed) = %v; want <nil>", err)
	}
}

func TestSendWrongWorkstream(t *testing.T) {
	c := fixture(Persistent, Waiting)
	before := c.Clone()
	other := workstream(Persistent, false)
	other.ID = "elsewhere"
	_, err := c.Send(alice, "k", other, t0)
	checkErr(t, "Send(customer) with another workstream's settings", err, ErrInvalid)
	checkMove(t, "Send(customer) with another workstream's settings", before, c, err, t0)
}

// Seq is gap-free: each send takes the next number and the version follows.
func TestSendSequence(t *testing.T) {
	c := fixture(Live, Active)
	ws := workstream(Live, false)
	for i := range 5 {
		by := alice
		if i%2 == 1 {
			by = bob
		}
		now := t0.Add(time.Duration(i) * time.Second)
		eff, err := c.Send(by, fmt.Sprintf("k%d", i), ws, now)
		if err != nil {
			t.Fatalf("Send #%d (%s) = %v; want <nil>", i+1, name(by), err)
		}
		if want := int64(6 + i); eff.Seq != want || c.LastSeq != want {
			t.Errorf("Send #%d: Seq = %d, LastSeq = %d; want %d", i+1, eff.Seq, c.LastSeq, want)
		}
		if want := int64(8 + i); c.Version != want {
			t.Errorf("Send #%d: Version = %d; want %d", i+1, c.Version, want)
		}
	}
}
