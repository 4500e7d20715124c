package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"

	"github.com/parley-chat/parley/shared/conversation"
)

// Config is a deployment's configuration as an operator writes it
// (infra/settings.yaml): the workstreams, the widgets that route into
// them, and the defaults for new agents. Its field names are those of the
// stored settings, so a file and the settings table read alike.
type Config struct {
	AgentDefaults *conversation.AgentDefaults `json:"agentDefaults,omitempty"`
	Workstreams   []WorkstreamConfig          `json:"workstreams,omitempty"`
	Widgets       []conversation.Widget       `json:"widgets,omitempty"`
}

var settingID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidateWidget checks what the authorizer and the send path need of a
// widget: an id a token's aud can name, a workstream, an issuer and the
// URL of its keys, and origins of the form scheme://host[:port]. It wraps
// conversation.ErrInvalid.
func ValidateWidget(w conversation.Widget) error {
	if !settingID.MatchString(w.ID) {
		return fmt.Errorf("widget id %q: 1-64 letters, digits, '.', '_' or '-': %w", w.ID, conversation.ErrInvalid)
	}
	if w.Workstream == "" {
		return fmt.Errorf("widget %s: no workstream: %w", w.ID, conversation.ErrInvalid)
	}
	if w.Issuer == "" {
		return fmt.Errorf("widget %s: no issuer (the iss of its customer tokens): %w", w.ID, conversation.ErrInvalid)
	}
	if err := checkURL(w.JWKSURL); err != nil {
		return fmt.Errorf("widget %s: jwksUrl: %w", w.ID, err)
	}
	for _, o := range w.AllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return fmt.Errorf("widget %s: allowed origin %q is not scheme://host[:port]: %w", w.ID, o, conversation.ErrInvalid)
		}
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL: %w", s, conversation.ErrInvalid)
	}
	return nil
}

// ValidateWorkstream checks a workstream with the domain's own rules
// (WorkstreamConfig.Workstream: mode, hours with their IANA zone, spans and
// holidays) and its id.
func ValidateWorkstream(w WorkstreamConfig) error {
	if !settingID.MatchString(w.ID) {
		return fmt.Errorf("workstream id %q: 1-64 letters, digits, '.', '_' or '-': %w", w.ID, conversation.ErrInvalid)
	}
	if _, err := w.Workstream(); err != nil {
		return err
	}
	return nil
}

// Validate checks every entry of c and that each widget's workstream is in
// c or among known (the workstreams already stored).
func (c Config) Validate(known ...string) error {
	var errs []error
	ws := map[string]bool{}
	for _, id := range known {
		ws[id] = true
	}
	inFile := map[string]bool{}
	for _, w := range c.Workstreams {
		if inFile[w.ID] {
			errs = append(errs, fmt.Errorf("workstream %s appears twice: %w", w.ID, conversation.ErrInvalid))
		}
		inFile[w.ID], ws[w.ID] = true, true
		if err := ValidateWorkstream(w); err != nil {
			errs = append(errs, err)
		}
	}
	seen := map[string]bool{}
	for _, w := range c.Widgets {
		if seen[w.ID] {
			errs = append(errs, fmt.Errorf("widget %s appears twice: %w", w.ID, conversation.ErrInvalid))
		}
		seen[w.ID] = true
		if err := ValidateWidget(w); err != nil {
			errs = append(errs, err)
			continue
		}
		if !ws[w.Workstream] {
			errs = append(errs, fmt.Errorf("widget %s: workstream %q is neither in the file nor stored: %w", w.ID, w.Workstream, conversation.ErrInvalid))
		}
	}
	if d := c.AgentDefaults; d != nil && d.Capacity < 1 {
		errs = append(errs, fmt.Errorf("agentDefaults.capacity %d: at least 1: %w", d.Capacity, conversation.ErrInvalid))
	}
	return errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Applied says what ApplyConfig wrote ("written") or, with ifAbsent, left
// alone because it existed ("kept"), by kind and id.
type Applied struct {
	Kind   string `json:"kind"` // "agentDefaults", "workstream" or "widget"
	ID     string `json:"id"`
	Result string `json:"result"` // "written" or "kept"
}

// ApplyConfig validates c against the stored workstreams, then writes its
// workstreams first (a widget never names one that is not there yet), its
// widgets, and its agent defaults. With ifAbsent, settings that already
// exist are kept as they are (the local stack's seeding); otherwise c's
// version replaces them. Settings not named in c are never touched.
func (s *Store) ApplyConfig(ctx context.Context, c Config, ifAbsent bool) ([]Applied, error) {
	stored, err := s.Workstreams(ctx)
	if err != nil {
		return nil, err
	}
	var known []string
	for _, w := range stored {
		known = append(known, w.ID)
	}
	if err := c.Validate(known...); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	var out []Applied
	result := func(existed bool) string {
		if ifAbsent && existed {
			return "kept"
		}
		return "written"
	}
	for _, w := range c.Workstreams {
		existed := contains(known, w.ID)
		if err := s.PutWorkstream(ctx, w, ifAbsent); err != nil {
			return out, err
		}
		out = append(out, Applied{"workstream", w.ID, result(existed)})
	}
	for _, w := range c.Widgets {
		_, gerr := s.Widget(ctx, w.ID)
		if gerr != nil && !errors.Is(gerr, conversation.ErrNotFound) {
			return out, gerr
		}
		if err := s.PutWidget(ctx, w, ifAbsent); err != nil {
			return out, err
		}
		out = append(out, Applied{"widget", w.ID, result(gerr == nil)})
	}
	if d := c.AgentDefaults; d != nil {
		ok, err := s.getDoc(ctx, agentDefaultsKey, &conversation.AgentDefaults{})
		if err != nil {
			return out, err
		}
		if err := s.PutAgentDefaults(ctx, *d, ifAbsent); err != nil {
			return out, err
		}
		out = append(out, Applied{"agentDefaults", "agents", result(ok)})
	}
	return out, nil
}

// WorkstreamConfigOf reads a workstream in its stored form (what an
// operator edits), ErrNotFound when there is none.
func (s *Store) WorkstreamConfigOf(ctx context.Context, id string) (WorkstreamConfig, error) {
	var w WorkstreamConfig
	ok, err := s.getDoc(ctx, workstreamPrefix+id, &w)
	if err != nil {
		return w, err
	}
	if !ok {
		return w, fmt.Errorf("workstream %q: %w", id, conversation.ErrNotFound)
	}
	return w, nil
}

// WorkstreamConfigs lists every workstream in its stored form, by id.
func (s *Store) WorkstreamConfigs(ctx context.Context) ([]WorkstreamConfig, error) {
	wss, err := s.Workstreams(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]WorkstreamConfig, 0, len(wss))
	for _, ws := range wss {
		w, err := s.WorkstreamConfigOf(ctx, ws.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}
