package stack

import (
	"context"
	"errors"
	"strings"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
)

// seeded is the local configuration of docs/protocol.md section 7: four widgets,
// one workstream each, persistent and live, always and never open.
var seeded = []struct {
	widget     string
	workstream store.WorkstreamConfig
}{
	{"persistent", workstreamConfig("support-persistent", conversation.Persistent, true, true)},
	{"live", workstreamConfig("support-live", conversation.Live, true, false)},
	{"persistent-after-hours", workstreamConfig("after-hours-persistent", conversation.Persistent, false, true)},
	{"live-after-hours", workstreamConfig("after-hours-live", conversation.Live, false, false)},
}

func workstreamConfig(id string, mode conversation.Mode, open, keepSameAgent bool) store.WorkstreamConfig {
	w := store.WorkstreamConfig{ID: id, Mode: string(mode), KeepSameAgent: keepSameAgent, Units: 1}
	w.Hours.TimeZone = "UTC"
	w.Hours.AlwaysOpen = open // never open: no weekly hours at all
	return w
}

// seed writes the seeded configuration where it is absent. A widget seeded
// by an earlier run on another address trusts that address's issuer, so it
// is pointed at this run's.
func seed(ctx context.Context, st *store.Store, customerIssuer, jwksURL string) error {
	if err := st.PutAgentDefaults(ctx, conversation.AgentDefaults{Capacity: 3}, true); err != nil {
		return err
	}
	for _, s := range seeded {
		if err := st.PutWorkstream(ctx, s.workstream, true); err != nil {
			return err
		}
		w := conversation.Widget{ID: s.widget, Workstream: s.workstream.ID, Issuer: customerIssuer, JWKSURL: jwksURL}
		old, err := st.Widget(ctx, s.widget)
		switch {
		case errors.Is(err, conversation.ErrNotFound):
			err = st.PutWidget(ctx, w, true)
		case err == nil && old.Issuer != customerIssuer && strings.HasSuffix(old.Issuer, "/local/customers"):
			old.Issuer, old.JWKSURL = customerIssuer, jwksURL
			err = st.PutWidget(ctx, old, false)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
