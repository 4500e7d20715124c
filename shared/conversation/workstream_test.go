package conversation

import (
	"testing"
	"time"
)

func TestWorkstreamWithDefaults(t *testing.T) {
	tests := []struct {
		in, want Workstream
	}{
		{
			in:   Workstream{ID: "p", Mode: Persistent},
			want: Workstream{ID: "p", Mode: Persistent, Units: 1, InactivityTimeout: 30 * 24 * time.Hour, ReminderInterval: 15 * time.Minute},
		},
		{
			in:   Workstream{ID: "l", Mode: Live},
			want: Workstream{ID: "l", Mode: Live, Units: 1, InactivityTimeout: 20 * time.Minute, ReminderInterval: 15 * time.Minute},
		},
		{
			in:   Workstream{ID: "l", Mode: Live, Units: 2, InactivityTimeout: time.Hour, RequeueReturnedAfter: 2 * time.Hour, ReminderInterval: time.Minute},
			want: Workstream{ID: "l", Mode: Live, Units: 2, InactivityTimeout: time.Hour, RequeueReturnedAfter: 2 * time.Hour, ReminderInterval: time.Minute},
		},
	}
	for _, tt := range tests {
		got := tt.in.WithDefaults()
		got.Hours, tt.want.Hours = Hours{}, Hours{}
		if got.ID != tt.want.ID || got.Mode != tt.want.Mode || got.Units != tt.want.Units ||
			got.InactivityTimeout != tt.want.InactivityTimeout || got.RequeueReturnedAfter != tt.want.RequeueReturnedAfter ||
			got.ReminderInterval != tt.want.ReminderInterval {
			t.Errorf("%+v.WithDefaults() =\n %+v; want\n %+v", tt.in, got, tt.want)
		}
	}
}

func TestWorkstreamValidate(t *testing.T) {
	ok := Workstream{ID: "p", Mode: Persistent}
	tests := []struct {
		what   string
		change func(*Workstream)
		want   error
	}{
		{what: "minimal persistent", change: func(*Workstream) {}},
		{what: "live with hours", change: func(w *Workstream) {
			w.Mode = Live
			w.Hours = Hours{TimeZone: "America/New_York", Weekly: map[time.Weekday][]Span{time.Monday: {{9 * time.Hour, 17 * time.Hour}}}}
		}},
		{what: "no id", change: func(w *Workstream) { w.ID = "" }, want: ErrInvalid},
		{what: "no mode", change: func(w *Workstream) { w.Mode = "" }, want: ErrInvalid},
		{what: "unknown mode", change: func(w *Workstream) { w.Mode = "classic" }, want: ErrInvalid},
		{what: "negative units", change: func(w *Workstream) { w.Units = -1 }, want: ErrInvalid},
		{what: "negative timeout", change: func(w *Workstream) { w.InactivityTimeout = -time.Second }, want: ErrInvalid},
		{what: "negative requeue", change: func(w *Workstream) { w.RequeueReturnedAfter = -time.Second }, want: ErrInvalid},
		{what: "negative reminder", change: func(w *Workstream) { w.ReminderInterval = -time.Second }, want: ErrInvalid},
		{what: "bad hours", change: func(w *Workstream) { w.Hours.Holidays = []string{"25/12/2026"} }, want: ErrInvalid},
	}
	for _, tt := range tests {
		w := ok
		tt.change(&w)
		checkErr(t, "Validate("+tt.what+")", w.Validate(), tt.want)
	}
}
