package conversation

import (
	"reflect"
	"testing"
	"time"
)

func TestStart(t *testing.T) {
	never := Hours{}
	nineToFive := Hours{TimeZone: "Europe/Paris", Weekly: map[time.Weekday][]Span{time.Tuesday: {{Start: 9 * time.Hour, End: 17 * time.Hour}}}}
	night := time.Date(2026, 11, 24, 22, 0, 0, 0, time.UTC) // Tuesday 23:00 in Paris
	tests := []struct {
		what      string
		id        string
		ws        Workstream
		widget    string
		customer  Participant
		now       time.Time
		want      error
		wantUnits int
	}{
		{what: "persistent, open", id: "c_1", ws: Workstream{ID: "p", Mode: Persistent, Hours: Hours{AlwaysOpen: true}}, widget: "w", customer: alice, now: t0, wantUnits: 1},
		{what: "persistent, never open: stays queued", id: "c_1", ws: Workstream{ID: "p", Mode: Persistent, Hours: never}, widget: "w", customer: alice, now: t0, wantUnits: 1},
		{what: "persistent, at night", id: "c_1", ws: Workstream{ID: "p", Mode: Persistent, Hours: nineToFive, Units: 3}, widget: "w", customer: alice, now: night, wantUnits: 3},
		{what: "live, in hours (Tuesday 11:00 Paris)", id: "c_1", ws: Workstream{ID: "l", Mode: Live, Hours: nineToFive}, widget: "w", customer: alice, now: t0, wantUnits: 1},
		{what: "live, at night", id: "c_1", ws: Workstream{ID: "l", Mode: Live, Hours: nineToFive}, widget: "w", customer: alice, now: night, want: ErrOutsideHours},
		{what: "live, never open", id: "c_1", ws: Workstream{ID: "l", Mode: Live, Hours: never}, widget: "w", customer: alice, now: t0, want: ErrOutsideHours},
		{what: "no id", ws: Workstream{ID: "p", Mode: Persistent}, widget: "w", customer: alice, now: t0, want: ErrInvalid},
		{what: "no widget", id: "c_1", ws: Workstream{ID: "p", Mode: Persistent}, customer: alice, now: t0, want: ErrInvalid},
		{what: "workstream without mode", id: "c_1", ws: Workstream{ID: "p"}, widget: "w", customer: alice, now: t0, want: ErrInvalid},
		{what: "workstream with a bad time zone", id: "c_1", ws: Workstream{ID: "p", Mode: Persistent, Hours: Hours{TimeZone: "Mars/Olympus"}}, widget: "w", customer: alice, now: t0, want: ErrInvalid},
		{what: "an agent as customer", id: "c_1", ws: Workstream{ID: "p", Mode: Persistent}, widget: "w", customer: bob, now: t0, want: ErrNotAllowed},
		{what: "a customer without id", id: "c_1", ws: Workstream{ID: "p", Mode: Persistent}, widget: "w", customer: Participant{Role: Customer}, now: t0, want: ErrNotAllowed},
	}
	for _, tt := range tests {
		call := "Start(" + tt.what + ")"
		t.Run(call, func(t *testing.T) {
			c, err := Start(tt.id, tt.ws, tt.widget, tt.customer, tt.now)
			if !checkErr(t, call, err, tt.want) || err != nil {
				if err != nil && c != nil {
					t.Errorf("%s failed but returned %+v", call, c)
				}
				return
			}
			want := Conversation{
				ID: tt.id, Workstream: tt.ws.ID, Widget: tt.widget, Mode: tt.ws.Mode, Status: Queued,
				Customer: tt.customer, Units: tt.wantUnits,
				CreatedAt: tt.now, UpdatedAt: tt.now, QueuedAt: tt.now, Version: 1,
			}
			if !reflect.DeepEqual(*c, want) {
				t.Errorf("%s =\n %+v; want\n %+v", call, *c, want)
			}
			if c.LastSeq != 0 || c.Agent != nil || c.HoldsCapacity() {
				t.Errorf("%s: starts with seq %d, agent %+v; want no message, no agent, no capacity", call, c.LastSeq, c.Agent)
			}
		})
	}
}
