package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
)

func TestWidgets(t *testing.T) {
	w := newWorld(t)
	if _, err := w.s.Widget(w.ctx, "nope"); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("Widget(nope) = %v; want ErrNotFound", err)
	}
	first := conversation.Widget{ID: "shop", Workstream: "support-persistent", Issuer: "https://shop.example/",
		JWKSURL: "https://shop.example/jwks.json", AllowedOrigins: []string{"https://shop.example"}}
	second := conversation.Widget{ID: "shop", Workstream: "support-live", Issuer: "https://other.example/", JWKSURL: "https://other.example/jwks.json"}
	steps := []struct {
		put      conversation.Widget
		ifAbsent bool
		want     conversation.Widget
	}{
		{first, true, first},
		{second, true, first}, // an existing widget is kept
		{second, false, second},
	}
	for _, s := range steps {
		if err := w.s.PutWidget(w.ctx, s.put, s.ifAbsent); err != nil {
			t.Fatalf("PutWidget(%s, ifAbsent %v) = %v", s.put.Workstream, s.ifAbsent, err)
		}
		if got, err := w.s.Widget(w.ctx, "shop"); err != nil || !reflect.DeepEqual(got, s.want) {
			t.Errorf("Widget(shop) after PutWidget(%s, ifAbsent %v) = %+v, %v; want %+v", s.put.Workstream, s.ifAbsent, got, err, s.want)
		}
	}
}

// noScan is the real client, refusing Scan: listing settings must not
// read the whole table.
type noScan struct {
	store.DB
	t *testing.T
}

func (n noScan) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	n.t.Errorf("Scan(%s); want no Scan", *in.TableName)
	return nil, errors.New("scan refused by the test")
}

func workstreamConfig(id, mode string) store.WorkstreamConfig {
	c := store.WorkstreamConfig{ID: id, Mode: mode, KeepSameAgent: true}
	c.Hours.AlwaysOpen = true
	return c
}

func TestWorkstreams(t *testing.T) {
	w := newWorld(t)
	s := store.New(noScan{w.db, t}, w.tables)
	if _, err := s.Workstream(w.ctx, "nope"); !errors.Is(err, conversation.ErrNotFound) {
		t.Errorf("Workstream(nope) = %v; want ErrNotFound", err)
	}
	if got, err := s.Workstreams(w.ctx); err != nil || len(got) != 0 {
		t.Errorf("Workstreams() with none = %v, %v; want none", got, err)
	}
	for _, c := range []store.WorkstreamConfig{workstreamConfig("c", "live"), workstreamConfig("a", "persistent"), workstreamConfig("b", "live")} {
		if err := s.PutWorkstream(w.ctx, c, true); err != nil {
			t.Fatalf("PutWorkstream(%s) = %v", c.ID, err)
		}
	}
	if err := s.PutWorkstream(w.ctx, workstreamConfig("a", "live"), true); err != nil {
		t.Fatalf("PutWorkstream(a again, ifAbsent) = %v", err)
	}
	a, err := s.Workstream(w.ctx, "a")
	if err != nil || a.Mode != conversation.Persistent {
		t.Errorf("Workstream(a) after an ifAbsent put = %+v, %v; want the first, persistent", a, err)
	}

	all, err := s.Workstreams(w.ctx)
	if err != nil {
		t.Fatalf("Workstreams() = %v", err)
	}
	var got []string
	for _, x := range all {
		got = append(got, x.ID+":"+string(x.Mode))
	}
	if want := []string{"a:persistent", "b:live", "c:live"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Workstreams() = %v; want %v", got, want)
	}
	if !reflect.DeepEqual(all[0], a) {
		t.Errorf("Workstreams()[0] = %+v; want Workstream(a) %+v", all[0], a)
	}

	if err := s.PutWorkstream(w.ctx, workstreamConfig("a", "live"), false); err != nil {
		t.Fatalf("PutWorkstream(a, replace) = %v", err)
	}
	if a, err := s.Workstream(w.ctx, "a"); err != nil || a.Mode != conversation.Live {
		t.Errorf("Workstream(a) after a replacing put = %+v, %v; want live", a, err)
	}
	if all, err := s.Workstreams(w.ctx); err != nil || len(all) != 3 {
		t.Errorf("Workstreams() after replacing a = %d, %v; want 3", len(all), err)
	}

	before := w.snapshot()
	bad := workstreamConfig("d", "chat")
	if err := s.PutWorkstream(w.ctx, bad, false); !errors.Is(err, conversation.ErrInvalid) {
		t.Errorf("PutWorkstream(mode chat) = %v; want ErrInvalid", err)
	}
	w.unchanged(before, "an invalid workstream")
}

func TestWorkstreamConfig(t *testing.T) {
	weekly := store.WorkstreamConfig{ID: "office", Mode: "persistent", KeepSameAgent: true, Units: 2,
		InactivityTimeoutSeconds: 3600, RequeueReturnedAfterSeconds: 600, ReminderIntervalSeconds: 300}
	weekly.Hours.TimeZone = "Europe/Paris"
	weekly.Hours.Weekly = map[string][]string{"monday": {"09:00-12:00", "13:00-17:00"}, "Friday": {"22:00-06:00"}, "sunday": {"00:00-24:00"}}
	weekly.Hours.Holidays = []string{"2026-12-25"}
	weekly.Texts.QueuePosition = "You are number {position}"
	wantWeekly := conversation.Workstream{ID: "office", Mode: conversation.Persistent, KeepSameAgent: true, Units: 2,
		Hours: conversation.Hours{TimeZone: "Europe/Paris", Holidays: []string{"2026-12-25"}, Weekly: map[time.Weekday][]conversation.Span{
			time.Monday: {{Start: 9 * time.Hour, End: 12 * time.Hour}, {Start: 13 * time.Hour, End: 17 * time.Hour}},
			time.Friday: {{Start: 22 * time.Hour, End: 6 * time.Hour}},
			time.Sunday: {{Start: 0, End: 24 * time.Hour}},
		}},
		Texts:             conversation.Texts{QueuePosition: "You are number {position}"},
		InactivityTimeout: time.Hour, RequeueReturnedAfter: 10 * time.Minute, ReminderInterval: 5 * time.Minute}

	live := workstreamConfig("chat", "live")
	wantLive := conversation.Workstream{ID: "chat", Mode: conversation.Live, KeepSameAgent: true, Units: 1,
		Hours: conversation.Hours{AlwaysOpen: true}, InactivityTimeout: conversation.DefaultLiveInactivity,
		ReminderInterval: conversation.DefaultReminderInterval}

	never := store.WorkstreamConfig{ID: "closed", Mode: "persistent"}
	wantNever := conversation.Workstream{ID: "closed", Mode: conversation.Persistent, Units: 1,
		InactivityTimeout: conversation.DefaultPersistentInactivity, ReminderInterval: conversation.DefaultReminderInterval}

	for _, tc := range []struct {
		in   store.WorkstreamConfig
		want conversation.Workstream
	}{{weekly, wantWeekly}, {live, wantLive}, {never, wantNever}} {
		got, err := tc.in.Workstream()
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("WorkstreamConfig{%s}.Workstream() = %+v, %v; want %+v", tc.in.ID, got, err, tc.want)
		}
	}

	// The parsed hours mean what an operator wrote: Paris wall-clock time.
	ws, _ := weekly.Workstream()
	paris, _ := time.LoadLocation("Europe/Paris")
	for at, want := range map[time.Time]bool{
		time.Date(2026, 11, 23, 9, 0, 0, 0, paris):    true,  // Monday morning
		time.Date(2026, 11, 23, 12, 30, 0, 0, paris):  false, // lunch
		time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC): true,  // 09:00 in Paris
		time.Date(2026, 11, 28, 2, 0, 0, 0, paris):    true,  // Friday night's span, Saturday 02:00
		time.Date(2026, 11, 24, 10, 0, 0, 0, paris):   false, // Tuesday
	} {
		if open, err := ws.Hours.Open(at); err != nil || open != want {
			t.Errorf("Open(%v) = %v, %v; want %v", at, open, err, want)
		}
	}

	invalid := map[string]func(c *store.WorkstreamConfig){
		"unknown weekday":    func(c *store.WorkstreamConfig) { c.Hours.Weekly = map[string][]string{"funday": {"09:00-17:00"}} },
		"span without end":   func(c *store.WorkstreamConfig) { c.Hours.Weekly = map[string][]string{"monday": {"09:00"}} },
		"span in hours only": func(c *store.WorkstreamConfig) { c.Hours.Weekly = map[string][]string{"monday": {"9-17"}} },
		"span in am/pm":      func(c *store.WorkstreamConfig) { c.Hours.Weekly = map[string][]string{"monday": {"9am-5pm"}} },
		"span with a suffix": func(c *store.WorkstreamConfig) { c.Hours.Weekly = map[string][]string{"monday": {"09:00-17:00pm"}} },
		"two spans in one": func(c *store.WorkstreamConfig) {
			c.Hours.Weekly = map[string][]string{"monday": {"09:00-12:00-13:00-17:00"}}
		},
		"hour past the day":     func(c *store.WorkstreamConfig) { c.Hours.Weekly = map[string][]string{"monday": {"25:00-26:00"}} },
		"minute past the hour":  func(c *store.WorkstreamConfig) { c.Hours.Weekly = map[string][]string{"monday": {"09:60-10:00"}} },
		"empty span":            func(c *store.WorkstreamConfig) { c.Hours.Weekly = map[string][]string{"monday": {"09:00-09:00"}} },
		"unknown time zone":     func(c *store.WorkstreamConfig) { c.Hours.TimeZone = "Mars/Olympus" },
		"machine's time zone":   func(c *store.WorkstreamConfig) { c.Hours.TimeZone = "Local" },
		"holiday not a date":    func(c *store.WorkstreamConfig) { c.Hours.Holidays = []string{"25/12/2026"} },
		"no mode":               func(c *store.WorkstreamConfig) { c.Mode = "" },
		"unknown mode":          func(c *store.WorkstreamConfig) { c.Mode = "chat" },
		"no id":                 func(c *store.WorkstreamConfig) { c.ID = "" },
		"negative units":        func(c *store.WorkstreamConfig) { c.Units = -1 },
		"negative inactivity":   func(c *store.WorkstreamConfig) { c.InactivityTimeoutSeconds = -1 },
		"negative reminder gap": func(c *store.WorkstreamConfig) { c.ReminderIntervalSeconds = -60 },
	}
	for name, mod := range invalid {
		c := workstreamConfig("w", "persistent")
		c.Hours.AlwaysOpen = false
		mod(&c)
		if _, err := c.Workstream(); !errors.Is(err, conversation.ErrInvalid) {
			t.Errorf("WorkstreamConfig{%s}.Workstream() = %v; want ErrInvalid", name, err)
		}
	}
}

func TestAgentDefaults(t *testing.T) {
	w := newWorld(t)
	steps := []struct {
		put      *conversation.AgentDefaults
		ifAbsent bool
		want     int
	}{
		{nil, false, 3}, // never set
		{&conversation.AgentDefaults{Capacity: 5}, true, 5},
		{&conversation.AgentDefaults{Capacity: 7}, true, 5}, // kept
		{&conversation.AgentDefaults{Capacity: 0}, false, 3},
		{&conversation.AgentDefaults{Capacity: 4}, false, 4},
	}
	for _, s := range steps {
		if s.put != nil {
			if err := w.s.PutAgentDefaults(w.ctx, *s.put, s.ifAbsent); err != nil {
				t.Fatalf("PutAgentDefaults(%+v) = %v", *s.put, err)
			}
		}
		if got, err := w.s.AgentDefaults(w.ctx); err != nil || got.Capacity != s.want {
			t.Errorf("AgentDefaults() after %+v (ifAbsent %v) = %+v, %v; want capacity %d", s.put, s.ifAbsent, got, err, s.want)
		}
	}
}

func TestAverageWait(t *testing.T) {
	w := newWorld(t)
	if got, err := w.s.AverageWait(w.ctx, ws.ID); err != nil || got != 0 {
		t.Errorf("AverageWait(no assignments) = %v, %v; want 0", got, err)
	}
	for _, d := range []time.Duration{10 * time.Second, 20 * time.Second, 31 * time.Second} {
		if err := w.s.RecordWait(w.ctx, ws.ID, d); err != nil {
			t.Fatalf("RecordWait(%v) = %v", d, err)
		}
	}
	if err := w.s.RecordWait(w.ctx, "support-live", time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := w.s.AverageWait(w.ctx, ws.ID); err != nil || got != 20*time.Second {
		t.Errorf("AverageWait(10s, 20s, 31s) = %v, %v; want 20s", got, err)
	}
	if got, err := w.s.AverageWait(w.ctx, "support-live"); err != nil || got != time.Hour {
		t.Errorf("AverageWait(support-live) = %v, %v; want 1h", got, err)
	}
}
