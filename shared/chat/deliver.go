package chat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// Deliver pushes r: its reply to the caller's connection replyTo, then
// every delivery (each party's connections at once), then its follow-up,
// whose Result it delivers in turn. A reply that cannot be delivered for its
// size becomes an error too_large, so the request still gets exactly one
// answer. Gone connections are forgotten. It returns the failures of
// strict Results (and of follow-ups); other push failures are logged.
func (s *Service) Deliver(ctx context.Context, replyTo string, r Result) error {
	for {
		if r.Reply != nil && replyTo != "" {
			s.reply(ctx, replyTo, r.Reply)
		}
		var failed []error
		var unreachable []func(context.Context) (Result, error)
		for _, d := range r.Out {
			gone, err := s.deliver(ctx, d)
			if err != nil {
				failed = append(failed, err)
			}
			if d.Unreachable != nil && len(d.ConnectionIDs) > 0 && gone == len(d.ConnectionIDs) {
				unreachable = append(unreachable, d.Unreachable)
			}
		}
		for _, f := range unreachable {
			r = r.then(f)
		}
		for _, id := range r.Disconnect {
			if err := s.push.Disconnect(ctx, id); err != nil {
				s.logger(ctx).WarnContext(ctx, "close connection", "closedConnectionId", id, "error", err.Error())
			}
		}
		if err := errors.Join(failed...); err != nil {
			if r.Strict {
				return err
			}
			s.logger(ctx).WarnContext(ctx, "push failed", "error", err.Error())
		}
		if r.Then == nil {
			return nil
		}
		next, err := r.Then(ctx)
		if err != nil {
			return err
		}
		r, replyTo = next, ""
	}
}

// reply pushes f to the requesting connection; one too large for the
// gateway is answered with too_large instead.
func (s *Service) reply(ctx context.Context, conn string, f wire.Reply) {
	b, err := wire.Encode(f)
	if err == nil && len(b) > wire.MaxFrameBytes {
		err = fmt.Errorf("reply of %d bytes: %w", len(b), conversation.ErrTooLarge)
	}
	if err == nil {
		err = s.postReply(ctx, conn, b)
	}
	if errors.Is(err, conversation.ErrTooLarge) {
		s.logger(ctx).WarnContext(ctx, "reply too large", "error", err.Error())
		b, _ = wire.Encode(wire.ErrorFrame(f.ReplyTo(), err))
		err = s.postReply(ctx, conn, b)
	}
	if err != nil {
		s.logger(ctx).WarnContext(ctx, "reply not delivered", "error", err.Error())
	}
}

// Tries of a reply after the push client's own attempts failed, and the
// first pause between them (doubling, at most replyMaxPause).
const (
	replyTries     = 6
	replyPause     = 100 * time.Millisecond
	replyMaxPause  = time.Second
	replyLastPause = 50 * time.Millisecond // left of the deadline after the last try
)

// postReply pushes a reply. A reply is the one frame the protocol promises
// every request, so a failure the gateway may recover from (a 5xx or a
// throttle that outlasted the push client's own few quick attempts) is
// tried again, with growing pauses, while the invocation has time: about
// 3 s more in all. A gone connection or a frame too large is final.
func (s *Service) postReply(ctx context.Context, conn string, b []byte) error {
	err := s.push.Post(ctx, conn, b)
	pause := replyPause
	for try := 0; try < replyTries && err != nil; try++ {
		if errors.Is(err, ErrGone) || errors.Is(err, conversation.ErrTooLarge) || ctx.Err() != nil {
			return err
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < pause+replyLastPause {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		s.logger(ctx).InfoContext(ctx, "reply tried again", "try", try+2, "error", err.Error())
		err = s.push.Post(ctx, conn, b)
		pause = min(2*pause, replyMaxPause)
	}
	return err
}

// deliver pushes one frame to a party's connections concurrently, so one
// slow or dead connection holds up none of the others, and forgets the
// ones the gateway no longer has. It returns how many were gone (and
// forgotten) and the first other failure.
func (s *Service) deliver(ctx context.Context, d Delivery) (int, error) {
	if len(d.ConnectionIDs) == 0 {
		return 0, nil
	}
	b, err := wire.Encode(d.Frame)
	if err != nil {
		return 0, err
	}
	var (
		mu    sync.Mutex
		gone  []string
		first error
		wg    sync.WaitGroup
	)
	for _, id := range d.ConnectionIDs {
		wg.Go(func() {
			err := s.push.Post(ctx, id, b)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrGone):
				gone = append(gone, id)
			case err != nil && first == nil:
				first = err
			}
		})
	}
	wg.Wait()
	return s.forgetGone(ctx, gone, d.To, d.Widget), first
}

// connectGrace is how long after it was recorded a connection may answer
// 410 without being gone: API Gateway answers 410 to pushes until $connect
// has returned, and $connect records the connection first (then, for an
// agent, assigns queued conversations, whose notifications race the 101).
const connectGrace = 30 * time.Second

// forgetGone removes connections API Gateway no longer has, rather than
// pushing to them again; one still in its $connect is left alone. It
// returns how many it forgot.
func (s *Service) forgetGone(ctx context.Context, gone []string, who conversation.Participant, widget string) int {
	log := s.logger(ctx)
	forgot := 0
	for _, id := range gone {
		if c, err := s.store.Connection(ctx, id); err == nil && s.now().Sub(c.ConnectedAt) < connectGrace {
			log.InfoContext(ctx, "push to a connection still opening", "goneConnectionId", id)
			continue
		}
		conn := conversation.Connection{ID: id, Role: who.Role, UserID: who.ID, Widget: widget}
		if err := s.store.RemoveConnection(ctx, conn, s.now()); err != nil {
			log.WarnContext(ctx, "forget gone connection", "goneConnectionId", id, "error", err.Error())
			continue
		}
		forgot++
	}
	return forgot
}
