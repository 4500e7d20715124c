package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/cmd/parley-local/localtest"
	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
	"github.com/parley-chat/parley/shared/wire"
)

// pusher records every frame the service pushes, by connection: the one
// fake here, since a push has no behaviour to emulate beyond arriving,
// except the gateway's answers it can give: gone, too large, and failed.
type pusher struct {
	mu     sync.Mutex
	frames map[string][]map[string]any
	gone   map[string]bool
	closed []string
	// failing is how many of the next posts to a connection fail as the
	// push client fails when the gateway kept answering 500.
	failing map[string]int
}

func newPusher() *pusher {
	return &pusher{frames: map[string][]map[string]any{}, gone: map[string]bool{}, failing: map[string]int{}}
}

func (p *pusher) Post(ctx context.Context, id string, frame []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone[id] {
		return fmt.Errorf("post to %s: %w", id, chat.ErrGone)
	}
	if p.failing[id] > 0 {
		p.failing[id]--
		return fmt.Errorf("post to %s: exceeded maximum number of attempts, 3: StatusCode: 500, InternalServerErrorException: Internal server error", id)
	}
	if len(frame) > wire.MaxFrameBytes {
		return fmt.Errorf("post %d bytes to %s: %w", len(frame), id, conversation.ErrTooLarge)
	}
	var f map[string]any
	if err := json.Unmarshal(frame, &f); err != nil {
		return fmt.Errorf("frame %s is not JSON: %w", frame, err)
	}
	p.frames[id] = append(p.frames[id], f)
	return nil
}

func (p *pusher) Disconnect(ctx context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = append(p.closed, id)
	return nil
}

// to returns the frames pushed to a connection so far.
func (p *pusher) to(id string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.frames[id])
}

// of returns the frames of one type pushed to a connection.
func (p *pusher) of(id, typ string) []map[string]any {
	var out []map[string]any
	for _, f := range p.to(id) {
		if f["type"] == typ {
			out = append(out, f)
		}
	}
	return out
}

// counting is the real store, counting the calls the service makes of it.
type counting struct {
	*store.Store
	calls atomic.Int64
}

// world is a service over the real store on a real DynamoDB-compatible
// server, seeded as the local stack seeds it. Its conversations stream is
// the one thing run in-process: every change the service writes is handed,
// in order, to what route.Notify hands a stream record to (Notify, then
// AssignQueue where an assignment may have become possible); the real
// stream and its runner are the local stack's, tested there.
type world struct {
	t        *testing.T
	ctx      context.Context
	st       *store.Store
	stream   *streamed
	push     *pusher
	svc      *chat.Service
	clock    *clock
	conns    atomic.Int64
	requests atomic.Int64 // requestIds do gives frames without one
	manual   bool         // settle only when the test says so
}

// streamed is the real store, noting each conversation change it commits
// with the state before it, as the stream's records do.
type streamed struct {
	*store.Store
	mu      sync.Mutex
	changes [][2]*conversation.Conversation // before (nil for a new one), after
	// late, when set, is how the next write that carries a message is
	// answered after it landed: the answer DynamoDB gave too late, or
	// never (the write did happen).
	late func(ctx context.Context) error
	// hold, when set, keeps the next write that carries a message from the
	// store until its caller has given up on it; held is that write, which
	// the test then lets land (DynamoDB applies a request whose caller
	// stopped waiting).
	hold bool
	held func() error
}

func (s *streamed) Apply(ctx context.Context, ch conversation.Change) error {
	s.mu.Lock()
	hold := s.hold && ch.Message != nil
	if hold {
		s.hold = false
		s.held = func() error { return s.Apply(context.Background(), ch) }
	}
	s.mu.Unlock()
	if hold {
		<-ctx.Done()
		return ctx.Err()
	}
	var before *conversation.Conversation
	if !ch.Create {
		var err error
		if before, err = s.Store.Conversation(ctx, ch.Conversation.ID); err != nil {
			return err
		}
	}
	if err := s.Store.Apply(ctx, ch); err != nil {
		return err
	}
	s.mu.Lock()
	s.changes = append(s.changes, [2]*conversation.Conversation{before, ch.Conversation.Clone()})
	late := s.late
	if ch.Message != nil {
		s.late = nil
	} else {
		late = nil
	}
	s.mu.Unlock()
	if late != nil {
		return late(ctx)
	}
	return nil
}

// holdNext keeps the next write of a message until its caller gives up.
func (s *streamed) holdNext() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = true
}

// release lets the held write reach the store, and returns its outcome.
func (s *streamed) release() error {
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	return held()
}

// answerLate makes the next write of a message land and then answer with
// late's error.
func (s *streamed) answerLate(late func(ctx context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.late = late
}

func (s *streamed) take() [][2]*conversation.Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.changes
	s.changes = nil
	return out
}

// settle runs the stream over every change written so far, and over what
// that writes in turn, until nothing is left.
func (w *world) settle() {
	w.t.Helper()
	for range 100 {
		changes := w.stream.take()
		if len(changes) == 0 {
			return
		}
		var order []string
		queued := map[string][]*conversation.Conversation{}
		for _, ch := range changes {
			before, after := ch[0], ch[1]
			if before != nil {
				res, err := w.svc.Notify(w.ctx, before, after)
				if err != nil {
					w.t.Fatalf("Notify(%s → %s) = %v", before.Status, after.Status, err)
				}
				if err := w.svc.Deliver(w.ctx, "", res); err != nil {
					w.t.Fatalf("deliver the notification of %s → %s: %v", before.Status, after.Status, err)
				}
			}
			if conversation.AssignmentPossible(before, after) {
				if _, ok := queued[after.Workstream]; !ok {
					order = append(order, after.Workstream)
					queued[after.Workstream] = nil
				}
				if after.Status == conversation.Queued {
					queued[after.Workstream] = append(queued[after.Workstream], after)
				}
			}
		}
		for _, ws := range order {
			res, err := w.svc.AssignQueue(w.ctx, ws, queued[ws])
			if err != nil {
				w.t.Fatalf("AssignQueue(%s) = %v", ws, err)
			}
			if err := w.svc.Deliver(w.ctx, "", res); err != nil {
				w.t.Fatal(err)
			}
		}
	}
	w.t.Fatal("the stream never settled")
}

type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.at }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.at = c.at.Add(d) }

func newWorld(t *testing.T) *world {
	db, tables := localtest.DynamoDB(t)
	w := &world{t: t, ctx: t.Context(), push: newPusher(), clock: &clock{at: time.Now()}}
	w.st = store.New(db, tables, store.WithClock(w.clock.now))
	w.stream = &streamed{Store: w.st}
	w.svc = chat.New(w.stream, w.push, chat.Options{Now: w.clock.now, Log: slog.New(slog.DiscardHandler)})
	if err := w.st.PutAgentDefaults(w.ctx, conversation.AgentDefaults{Capacity: 3}, true); err != nil {
		t.Fatal(err)
	}
	for _, ws := range []struct {
		widget, id string
		mode       conversation.Mode
		open, keep bool
	}{
		{"persistent", "support-persistent", conversation.Persistent, true, true},
		{"live", "support-live", conversation.Live, true, false},
		{"persistent-after-hours", "after-hours-persistent", conversation.Persistent, false, true},
	} {
		cfg := store.WorkstreamConfig{ID: ws.id, Mode: string(ws.mode), KeepSameAgent: ws.keep, Units: 1}
		cfg.Hours.TimeZone, cfg.Hours.AlwaysOpen = "UTC", ws.open
		if err := w.st.PutWorkstream(w.ctx, cfg, true); err != nil {
			t.Fatal(err)
		}
		if err := w.st.PutWidget(w.ctx, conversation.Widget{ID: ws.widget, Workstream: ws.id}, true); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// connect opens a connection for a customer of widget (or an agent when
// widget is ""), as $connect does, and delivers what that started.
func (w *world) connect(id, widget string) chat.Caller {
	w.t.Helper()
	role := conversation.AgentRole
	if widget != "" {
		role = conversation.Customer
	}
	c := chat.Caller{Participant: conversation.Participant{Role: role, ID: id, Name: id}, Widget: widget,
		ConnectionID: fmt.Sprintf("k%d=", w.conns.Add(1))}
	res, err := w.svc.Connect(w.ctx, conversation.Connection{ID: c.ConnectionID, Role: role, UserID: id, Name: id, Widget: widget, ConnectedAt: w.clock.now()})
	if err != nil {
		w.t.Fatalf("Connect(%s) = %v", id, err)
	}
	if err := w.svc.Deliver(w.ctx, "", res); err != nil {
		w.t.Fatal(err)
	}
	if !w.manual {
		w.settle()
	}
	return c
}

// do serves one frame of c, delivers its result, and returns the reply c
// got (an error frame for a refusal). A frame without a requestId gets one,
// so the reply is told from the events other requests push to the same
// connection meanwhile (two devices' sends racing deliver to each other).
func (w *world) do(c chat.Caller, frame string) map[string]any {
	w.t.Helper()
	frame, rid := w.withRequestID(frame)
	req, err := wire.Decode([]byte(frame))
	var res chat.Result
	if err == nil {
		res, err = w.svc.Serve(w.ctx, c, req)
	}
	if err != nil {
		res = chat.Result{Reply: wire.ErrorFrame(req.ID, err)}
	}
	before := len(w.push.to(c.ConnectionID))
	if err := w.svc.Deliver(w.ctx, c.ConnectionID, res); err != nil {
		w.t.Fatalf("Deliver(%s) = %v", frame, err)
	}
	if !w.manual {
		w.settle()
	}
	for _, f := range w.push.to(c.ConnectionID)[before:] {
		if rid == "" || f["requestId"] == rid {
			return f
		}
	}
	w.t.Fatalf("%s: no reply to %s", c.ID, frame)
	return nil
}

// withRequestID gives an object frame without a "requestId" a fresh one,
// by editing the text (re-encoding would change the numbers and the order
// of what a test sends), and returns the frame and the requestId its reply
// carries; "" when it cannot tell (a frame not an object, or an id not a
// string), and then the reply is the first frame pushed after it.
func (w *world) withRequestID(frame string) (string, string) {
	var m map[string]any
	if json.Unmarshal([]byte(frame), &m) != nil {
		return frame, ""
	}
	if v, ok := m["requestId"]; ok {
		id, _ := v.(string)
		return frame, id
	}
	id := fmt.Sprintf("h%d", w.requests.Add(1))
	body := strings.TrimPrefix(strings.TrimSpace(frame), "{")
	if strings.TrimSpace(body) == "}" {
		return `{"requestId":"` + id + `"}`, id
	}
	return `{"requestId":"` + id + `",` + body, id
}

// ok is do that fails the test on an error reply.
func (w *world) ok(c chat.Caller, frame string) map[string]any {
	w.t.Helper()
	r := w.do(c, frame)
	if r["type"] == "error" {
		w.t.Fatalf("%s: %s = %v", c.ID, frame, r)
	}
	return r
}

func (w *world) conversation(id string) *conversation.Conversation {
	w.t.Helper()
	c, err := w.st.Conversation(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) agent(id string) conversation.Agent {
	w.t.Helper()
	a, err := w.st.Agent(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

func idOf(ack map[string]any) string { return obj(ack["conversation"])["id"].(string) }
