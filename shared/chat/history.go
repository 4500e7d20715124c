package chat

import (
	"context"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// History pages through a conversation's messages by seq.
func (s *Service) History(ctx context.Context, c Caller, id wire.RequestID, h *wire.History) (Result, error) {
	conv, err := s.conversationFor(ctx, c, h.ConversationID)
	if err != nil {
		return Result{}, err
	}
	reply := &wire.HistoryPage{RequestID: id, ConversationID: conv.ID, Messages: []wire.Message{}}
	page := conversation.Page{Limit: h.Limit}
	switch {
	case h.HasAfter:
		page.Forward, page.AfterSeq = true, h.AfterSeq
	case h.HasBefore:
		if h.BeforeSeq == 0 {
			return Result{Reply: reply}, nil // nothing comes before the first message
		}
		page.BeforeSeq = h.BeforeSeq
	}
	msgs, more, err := s.store.Messages(ctx, conv.ID, page)
	if err != nil {
		return Result{}, err
	}
	kept, cut := fit(size(reply), wire.MessagesOf(msgs), !page.Forward)
	reply.Messages, reply.HasMore = kept, more || cut
	return Result{Reply: reply}, nil
}
