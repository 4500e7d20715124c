package stack

import (
	"reflect"
	"strings"
	"testing"

	"github.com/parley-chat/parley/infra"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
)

// workstreamConfig is one of the seeded workstreams as docs/protocol.md
// section 7 describes it: one unit a conversation, UTC, always or never open.
func workstreamConfig(id string, mode conversation.Mode, open, keepSameAgent bool) store.WorkstreamConfig {
	w := store.WorkstreamConfig{ID: id, Mode: string(mode), KeepSameAgent: keepSameAgent, Units: 1}
	w.Hours.TimeZone = "UTC"
	w.Hours.AlwaysOpen = open // never open: no weekly hours at all
	return w
}

// The local stack seeds exactly docs/protocol.md section 7's configuration,
// read from infra/settings.yaml, with every widget trusting the local issuer.
func TestSeedIsInfraSettings(t *testing.T) {
	s := startStack(t)
	ctx := t.Context()
	want := []struct {
		widget     string
		workstream store.WorkstreamConfig
	}{
		{"persistent", workstreamConfig("support-persistent", conversation.Persistent, true, true)},
		{"live", workstreamConfig("support-live", conversation.Live, true, false)},
		{"persistent-after-hours", workstreamConfig("after-hours-persistent", conversation.Persistent, false, true)},
		{"live-after-hours", workstreamConfig("after-hours-live", conversation.Live, false, false)},
	}
	for _, w := range want {
		got, err := s.Store.WorkstreamConfigOf(ctx, w.workstream.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, w.workstream) {
			t.Errorf("workstream %s = %+v; want %+v", w.workstream.ID, got, w.workstream)
		}
		wd, err := s.Store.Widget(ctx, w.widget)
		if err != nil {
			t.Fatal(err)
		}
		if wd.Workstream != w.workstream.ID || !strings.HasSuffix(wd.Issuer, "/local/customers") || wd.JWKSURL != s.Issuer.JWKSURL() {
			t.Errorf("widget %s = %+v; want workstream %s and the local issuer", w.widget, wd, w.workstream.ID)
		}
	}
	widgets, err := s.Store.Widgets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(widgets) != len(want) {
		t.Errorf("widgets = %+v; want the four of docs/protocol.md section 7", widgets)
	}
	d, err := s.Store.AgentDefaults(ctx)
	if err != nil || d.Capacity != 3 {
		t.Errorf("agent defaults = %+v, %v; want capacity 3", d, err)
	}
	cfg, err := infra.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Widgets) != len(seeded) {
		t.Errorf("seeded = %v; want the widgets of infra/settings.yaml", seeded)
	}
}

// A seeded setting an operator changed is kept when seeding runs again (a
// restart on the same data): seeding only fills what is absent.
func TestSeedKeepsChangedSettings(t *testing.T) {
	s := startStack(t)
	ws := workstreamConfig("support-live", conversation.Live, true, false)
	ws.Units = 2
	if err := s.Store.PutWorkstream(t.Context(), ws, false); err != nil {
		t.Fatal(err)
	}
	if err := seed(t.Context(), s.Store, s.Issuer.CustomerIssuer(), s.Issuer.JWKSURL()); err != nil {
		t.Fatal(err)
	}
	got, err := s.Store.WorkstreamConfigOf(t.Context(), "support-live")
	if err != nil || got.Units != 2 {
		t.Errorf("support-live after seeding again = %+v, %v; want the operator's 2 units", got, err)
	}
}
