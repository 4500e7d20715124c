package chat

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

// Service serves the chat use cases over a Store and a Pusher. One Service
// lives as long as a function instance: it caches settings briefly, so a
// message does not pay for reading them every time.
type Service struct {
	store  Store
	push   Pusher
	now    func() time.Time
	log    *slog.Logger
	limits *limiter

	widgets     *cache[string, conversation.Widget]
	workstreams *cache[string, conversation.Workstream]
	all         *cache[struct{}, []conversation.Workstream]
	defaults    *cache[struct{}, conversation.AgentDefaults]
}

// Options tune a Service; the zero value is the defaults.
type Options struct {
	Now         func() time.Time // the clock; nil is time.Now
	Log         *slog.Logger     // nil is slog.Default()
	SettingsTTL time.Duration    // how long settings are cached; 0 is 30 s
	// ConnectionLimit and UserLimit replace the default request budgets
	// (zero: ConnectionLimit, UserLimit).
	ConnectionLimit, UserLimit conversation.Limit
}

// New returns a Service over st and p.
func New(st Store, p Pusher, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.SettingsTTL <= 0 {
		o.SettingsTTL = 30 * time.Second
	}
	if o.ConnectionLimit.Rate <= 0 {
		o.ConnectionLimit = ConnectionLimit
	}
	if o.UserLimit.Rate <= 0 {
		o.UserLimit = UserLimit
	}
	s := &Service{store: st, push: p, now: o.Now, log: o.Log, limits: newLimiter(o.ConnectionLimit, o.UserLimit)}
	// An unknown widget is remembered too: a flood of tokens for one must
	// not become a flood of reads. A failed read is never remembered.
	s.widgets = newCache(o.SettingsTTL, o.Now, st.Widget, notFound)
	s.workstreams = newCache(o.SettingsTTL, o.Now, st.Workstream, nil)
	s.all = newCache(o.SettingsTTL, o.Now, func(ctx context.Context, _ struct{}) ([]conversation.Workstream, error) {
		return st.Workstreams(ctx)
	}, nil)
	s.defaults = newCache(o.SettingsTTL, o.Now, func(ctx context.Context, _ struct{}) (conversation.AgentDefaults, error) {
		return st.AgentDefaults(ctx)
	}, nil)
	return s
}

// Widget reads a widget's configuration (cached briefly).
func (s *Service) Widget(ctx context.Context, id string) (conversation.Widget, error) {
	return s.widgets.get(ctx, id)
}

type logKey struct{}

// WithLog returns ctx carrying the logger of one invocation (its ids
// already attached), which the service logs to.
func WithLog(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, logKey{}, l)
}

func (s *Service) logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok {
		return l
	}
	return s.log
}
