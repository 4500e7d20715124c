package stack

import (
	"context"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/infra"
	"github.com/parley-chat/parley/shared/store"
)

// seed writes the default configuration of infra/settings.yaml (the one
// `parleyctl apply -f infra/settings.yaml` stores in AWS; docs/protocol.md
// section 7) where it is absent, with every widget trusting the local
// issuer. A widget seeded by an earlier run on another address trusts that
// address's issuer, so it is pointed at this run's.
func seed(ctx context.Context, st *store.Store, customerIssuer, jwksURL string) error {
	cfg, err := infra.Defaults()
	if err != nil {
		return err
	}
	for i := range cfg.Widgets {
		cfg.Widgets[i].Issuer, cfg.Widgets[i].JWKSURL = customerIssuer, jwksURL
	}
	if _, err := st.ApplyConfig(ctx, cfg, true); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	for _, w := range cfg.Widgets {
		old, err := st.Widget(ctx, w.ID)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if old.Issuer != customerIssuer && strings.HasSuffix(old.Issuer, "/local/customers") {
			old.Issuer, old.JWKSURL = customerIssuer, jwksURL
			if err := st.PutWidget(ctx, old, false); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
	}
	return nil
}

// seeded names the seeded widgets (the demo site mints tokens for these
// only). infra/settings.yaml is embedded, so it parses here or in no build;
// TestSeedIsInfraSettings checks it.
var seeded = func() []struct{ widget string } {
	cfg, err := infra.Defaults()
	if err != nil {
		panic(err)
	}
	out := make([]struct{ widget string }, 0, len(cfg.Widgets))
	for _, w := range cfg.Widgets {
		out = append(out, struct{ widget string }{w.ID})
	}
	return out
}()
