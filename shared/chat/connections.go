package chat

import (
	"context"
	"errors"
	"strings"

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
