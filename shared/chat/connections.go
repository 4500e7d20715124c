package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

// Connect records a new connection; an agent coming online may be handed
// queued conversations at once (its follow-up).
func (s *Service) Connect(ctx context.Context, conn conversation.Connection) (Result, error) {
	if conn.ConnectedAt.IsZero() {
		conn.ConnectedAt = s.now()
	}
	defaults, err := s.defaults.get(ctx, struct{}{})
	if err != nil {
		return Result{}, err
	}
	if err := s.roomFor(ctx, conn); err != nil {
		return Result{}, err
	}
	if err := s.store.AddConnection(ctx, conn, defaults.Capacity); err != nil {
		return Result{}, err
	}
	s.logger(ctx).InfoContext(ctx, "connected", "role", conn.Role, "userId", conn.UserID)
	if conn.Role != conversation.AgentRole {
		return Result{}, nil
	}
	return Result{Then: s.thenAssignAll}, nil
}

// Disconnect forgets a connection. who is what the authorizer said of it,
// when the event carries that; otherwise what $connect recorded is used.
func (s *Service) Disconnect(ctx context.Context, id string, who *conversation.Connection, code int64, reason string) error {
	var conn conversation.Connection
	if who != nil {
		conn = *who
		conn.ID = id
	} else {
		var err error
		if conn, err = s.store.Connection(ctx, id); err != nil {
			if errors.Is(err, conversation.ErrNotFound) {
				return nil // never recorded, or already forgotten
			}
			return err
		}
	}
	if err := s.store.RemoveConnection(ctx, conn, s.now()); err != nil {
		return err
	}
	s.logger(ctx).InfoContext(ctx, "disconnected", "role", conn.Role, "userId", conn.UserID, "code", code, "reason", strings.TrimSpace(reason))
	return nil
}

// roomFor refuses a connection of a user who already has
// conversation.MaxConnectionsPerUser open: a client that keeps opening
// them must not exhaust the gateway. It reads the user's record (one read a
// connection, never a message); two connections racing past the cap at
// once may both get in, which a cap allows.
func (s *Service) roomFor(ctx context.Context, conn conversation.Connection) error {
	var open []string
	switch conn.Role {
	case conversation.Customer:
		cust, err := s.store.Customer(ctx, conn.Widget, conn.UserID)
		if err != nil {
			return err
		}
		open = cust.ConnectionIDs
	case conversation.AgentRole:
		ag, err := s.store.Agent(ctx, conn.UserID)
		if err != nil && !errors.Is(err, conversation.ErrNotFound) {
			return err
		}
		open = ag.ConnectionIDs
	}
	if len(open) >= conversation.MaxConnectionsPerUser {
		return fmt.Errorf("connect %s: %w", conn.ID, &conversation.RateLimitError{
			What: fmt.Sprintf("%s %s has %d connections", conn.Role, conn.UserID, len(open)), RetryAfter: time.Minute})
	}
	return nil
}
