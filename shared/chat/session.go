package chat

import (
	"context"
	"errors"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// sessionPage is how many messages a customer's session carries at most.
const sessionPage = conversation.DefaultHistoryLimit

// Hello opens a session: the customer's open conversation with the messages
// it missed, or the agent's state and every conversation assigned to it.
func (s *Service) Hello(ctx context.Context, c Caller, id wire.RequestID, h *wire.Hello) (Result, error) {
	user := wire.Person{ID: c.ID, Name: c.Name}
	if c.Role == conversation.AgentRole {
		ag, err := s.store.Agent(ctx, c.ID)
		if err != nil {
			return Result{}, err
		}
		cs, err := s.store.AgentConversations(ctx, c.ID)
		if err != nil {
			return Result{}, err
		}
		conversation.SortQueue(cs)
		session := &wire.AgentSession{RequestID: id, User: user, Agent: wire.AgentStateOf(ag), Conversations: []*wire.Conversation{}}
		// However many conversations an agent holds, the session is one
		// frame: the oldest first, then hasMore.
		session.Conversations, session.HasMore = fit(size(session), wire.ConversationsOf(cs), false)
		return Result{Reply: session}, nil
	}

	cust, err := s.store.Customer(ctx, c.Widget, c.ID)
	if err != nil {
		return Result{}, err
	}
	session := &wire.CustomerSession{RequestID: id, User: user, Messages: []wire.Message{}}
	if cust.OpenConversationID == "" {
		// A returning customer still sees the conversation an agent ended,
		// above an invitation to write again (its transcript via history).
		if cust.LastConversationID != "" {
			prev, err := s.store.Conversation(ctx, cust.LastConversationID)
			if err != nil && !errors.Is(err, conversation.ErrNotFound) {
				return Result{}, err
			}
			if err == nil && prev.Widget == c.Widget && prev.Customer.Is(c.Participant) {
				session.PreviousConversation = wire.ConversationOf(prev)
			}
		}
		return Result{Reply: session}, nil
	}
	conv, err := s.store.Conversation(ctx, cust.OpenConversationID)
	if err != nil {
		return Result{}, err
	}
	page := conversation.Page{Limit: sessionPage}
	// A lastSeq past the conversation's end belongs to an earlier
	// conversation of this customer: show the newest messages instead.
	if h.HasLastSeq && h.LastSeq <= conv.LastSeq {
		page.Forward, page.AfterSeq = true, h.LastSeq
	}
	msgs, more, err := s.store.Messages(ctx, conv.ID, page)
	if err != nil {
		return Result{}, err
	}
	session.Conversation = wire.ConversationOf(conv)
	kept, cut := fit(size(session), wire.MessagesOf(msgs), !page.Forward)
	session.Messages, session.HasMore = kept, more || cut
	return Result{Reply: session}, nil
}
