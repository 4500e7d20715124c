package chat

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// Admit spends one request of c's connection's and c's user's budgets, or
// refuses it (rate_limited, with when to retry) before anything else is
// done: the first thing asked of every frame, good or bad.
func (s *Service) Admit(c Caller) error { return s.limits.admit(c, s.now()) }

// Serve answers one decoded client request of c, admitted. An action the
// caller's role may never take is forbidden before anything is looked up.
func (s *Service) Serve(ctx context.Context, c Caller, req wire.Request) (Result, error) {
	if req.Action.AgentOnly() && c.Role != conversation.AgentRole {
		return Result{}, wire.Public(fmt.Sprintf("only agents may %s", req.Action), conversation.ErrNotAllowed)
	}
	id := req.ID
	switch b := req.Body.(type) {
	case *wire.Hello:
		return s.Hello(ctx, c, id, b)
	case *wire.Send:
		return s.Send(ctx, c, id, b)
	case *wire.History:
		return s.History(ctx, c, id, b)
	case *wire.Typing:
		return s.Typing(ctx, c, id, b)
	case *wire.Read:
		return s.Read(ctx, c, id, b)
	case *wire.Park:
		return s.Park(ctx, c, id, b)
	case *wire.Pickup:
		return s.Pickup(ctx, c, id, b)
	case *wire.Close:
		return s.Close(ctx, c, id, b)
	case *wire.Presence:
		return s.Presence(ctx, c, id, b)
	case *wire.Ping:
		return Result{Reply: &wire.Pong{RequestID: id}}, nil
	}
	return Result{}, fmt.Errorf("action %q has no use case: %w", req.Action, wire.ErrUnknownAction)
}

// conversationFor reads a conversation the caller may act on; anything
// else is not_found, revealing nothing about other people's conversations.
func (s *Service) conversationFor(ctx context.Context, c Caller, id string) (*conversation.Conversation, error) {
	if !conversation.ValidConversationID(id) {
		return nil, fmt.Errorf("conversation %q: %w", clip(id), conversation.ErrNotFound)
	}
	conv, err := s.store.Conversation(ctx, id)
	if err != nil {
		return nil, err
	}
	// Customer ids are the embedding website's; the same id on another
	// widget is another person.
	if !conv.Visible(c.Participant) || (c.Role == conversation.Customer && conv.Widget != c.Widget) {
		return nil, fmt.Errorf("conversation %s is not %s %s's: %w", id, c.Role, c.ID, conversation.ErrNotFound)
	}
	return conv, nil
}

func clip(s string) string {
	if len(s) > conversation.MaxIDBytes {
		return s[:conversation.MaxIDBytes] + "…"
	}
	return s
}
