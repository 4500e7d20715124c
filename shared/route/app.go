package route

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-chat/parley/shared/auth"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/push"
	"github.com/parley-chat/parley/shared/store"
)

// App holds what every handler shares within one function instance: the
// store, the push sender, the token checker and a short-lived settings
// cache (settings change rarely; reading them on every message would double
// its cost).
type App struct {
	store    *store.Store
	push     *push.Sender
	auth     *auth.Authenticator
	log      *slog.Logger
	now      func() time.Time
	settings *settingsCache
}

// New builds an App from deps.
func New(d Deps) *App {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	retention := time.Duration(envInt(d.Getenv, "MESSAGE_RETENTION_DAYS", 0)) * 24 * time.Hour
	st := store.New(d.DynamoDB, store.TablesFromEnv(d.Getenv), store.WithClock(now), store.WithRetention(retention))
	a := &App{
		store:    st,
		push:     push.New(d.Management),
		log:      log,
		now:      now,
		settings: &settingsCache{store: st, ttl: 30 * time.Second, now: now},
	}
	a.auth = &auth.Authenticator{
		AgentIssuer:   d.Getenv("AGENT_ISSUER"),
		AgentJWKSURL:  d.Getenv("AGENT_JWKS_URL"),
		AgentAudience: d.Getenv("AGENT_AUDIENCE"),
		Widgets:       widgetTrust{a.settings},
		Keys:          auth.NewKeySets(d.HTTP),
		Now:           now,
	}
	return a
}

// logger returns the logger for one invocation. Lambda's request id is not
// among its attributes: the log handler adds it from ctx
// (lambdacontext.NewLogHandler in AWS, its twin in the local stack), so
// every line carries it once.
func (a *App) logger(_ context.Context, args ...any) *slog.Logger {
	return a.log.With(args...)
}

// settingsCache caches widgets and workstreams for a short while.
type settingsCache struct {
	store *store.Store
	ttl   time.Duration
	now   func() time.Time

	mu          sync.Mutex
	widgets     map[string]cached[conversation.Widget]
	workstreams map[string]cached[conversation.Workstream]
	all         cached[[]conversation.Workstream]
	defaults    cached[conversation.AgentDefaults]
}

type cached[T any] struct {
	v   T
	err error
	at  time.Time
}

func (c *settingsCache) fresh(at time.Time) bool { return !at.IsZero() && c.now().Sub(at) < c.ttl }

func (c *settingsCache) widget(ctx context.Context, id string) (conversation.Widget, error) {
	c.mu.Lock()
	if e, ok := c.widgets[id]; ok && c.fresh(e.at) {
		c.mu.Unlock()
		return e.v, e.err
	}
	c.mu.Unlock()
	w, err := c.store.Widget(ctx, id)
	if err != nil && !errors.Is(err, conversation.ErrNotFound) {
		return w, err // a failed read is not remembered
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.widgets == nil {
		c.widgets = map[string]cached[conversation.Widget]{}
	}
	c.widgets[id] = cached[conversation.Widget]{w, err, c.now()}
	return w, err
}

func (c *settingsCache) workstream(ctx context.Context, id string) (conversation.Workstream, error) {
	c.mu.Lock()
	if e, ok := c.workstreams[id]; ok && c.fresh(e.at) {
		c.mu.Unlock()
		return e.v, e.err
	}
	c.mu.Unlock()
	w, err := c.store.Workstream(ctx, id)
	if err != nil {
		return w, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.workstreams == nil {
		c.workstreams = map[string]cached[conversation.Workstream]{}
	}
	c.workstreams[id] = cached[conversation.Workstream]{w, nil, c.now()}
	return w, nil
}

func (c *settingsCache) allWorkstreams(ctx context.Context) ([]conversation.Workstream, error) {
	c.mu.Lock()
	if c.fresh(c.all.at) {
		defer c.mu.Unlock()
		return c.all.v, nil
	}
	c.mu.Unlock()
	ws, err := c.store.Workstreams(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = cached[[]conversation.Workstream]{ws, nil, c.now()}
	return ws, nil
}

func (c *settingsCache) agentDefaults(ctx context.Context) (conversation.AgentDefaults, error) {
	c.mu.Lock()
	if c.fresh(c.defaults.at) {
		defer c.mu.Unlock()
		return c.defaults.v, nil
	}
	c.mu.Unlock()
	d, err := c.store.AgentDefaults(ctx)
	if err != nil {
		return d, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.defaults = cached[conversation.AgentDefaults]{d, nil, c.now()}
	return d, nil
}

// widgetTrust adapts the settings to what the authorizer needs of a widget.
type widgetTrust struct{ c *settingsCache }

func (w widgetTrust) Widget(ctx context.Context, id string) (auth.Widget, error) {
	wd, err := w.c.widget(ctx, id)
	if errors.Is(err, conversation.ErrNotFound) {
		return auth.Widget{}, errors.Join(auth.ErrUnknownWidget, err)
	}
	if err != nil {
		return auth.Widget{}, err
	}
	return auth.Widget{ID: wd.ID, Issuer: wd.Issuer, JWKSURL: wd.JWKSURL}, nil
}
