package chat

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// Typing tells the other party that the caller is (or stopped) typing.
func (s *Service) Typing(ctx context.Context, c Caller, id wire.RequestID, t *wire.Typing) (Result, error) {
	conv, err := s.conversationFor(ctx, c, t.ConversationID)
	if err != nil {
		return Result{}, err
	}
	if conv.Status == conversation.Closed {
		return Result{}, wire.Public("conversation is closed", conversation.ErrConflict)
	}
	out := Result{Reply: &wire.Ack{RequestID: id}}
	out.Out = s.toOtherParty(ctx, c, conv, &wire.TypingEvent{ConversationID: conv.ID, From: wire.PartyOf(c.Participant), Typing: t.Typing})
	return out, nil
}

// Read records how far the caller has read and tells the other party.
func (s *Service) Read(ctx context.Context, c Caller, id wire.RequestID, r *wire.Read) (Result, error) {
	conv, err := s.conversationFor(ctx, c, r.ConversationID)
	if err != nil {
		return Result{}, err
	}
	if r.Seq > conv.LastSeq {
		return Result{}, wire.BadField(fmt.Sprintf("seq must be between 0 and %d", conv.LastSeq))
	}
	if err := s.store.MarkRead(ctx, conv.ID, c.Role, r.Seq); err != nil {
		return Result{}, err
	}
	out := Result{Reply: &wire.Ack{RequestID: id}}
	out.Out = s.toOtherParty(ctx, c, conv, &wire.ReadEvent{ConversationID: conv.ID, By: wire.PartyOf(c.Participant), Seq: r.Seq})
	return out, nil
}

// toOtherParty addresses f to the party of conv that is not the caller.
func (s *Service) toOtherParty(ctx context.Context, c Caller, conv *conversation.Conversation, f wire.Frame) []Delivery {
	cust, agent, err := s.store.Parties(ctx, conv)
	if err != nil {
		s.logger(ctx).WarnContext(ctx, "read parties", "error", err.Error())
		return nil
	}
	if c.Role == conversation.Customer {
		if agent == nil || conv.Agent == nil {
			return nil
		}
		return []Delivery{toAgent(*conv.Agent, agent.ConnectionIDs, "", f)}
	}
	return []Delivery{toCustomer(conv, cust.ConnectionIDs, "", f)}
}
