package chat

import (
	"context"

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
		return Result{Reply: &wire.AgentSession{RequestID: id, User: user, Agent: wire.AgentStateOf(ag),
			Conversations: wire.ConversationsOf(cs)}}, nil
	}

	cust, err := s.store.Customer(ctx, c.Widget, c.ID)
	if err != nil {
		return Result{}, err
	}
	session := &wire.CustomerSession{RequestID: id, User: user, Messages: []wire.Message{}}
	if cust.OpenConversationID == "" {
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
	session.Conversation, session.Messages, session.HasMore = wire.ConversationOf(conv), wire.MessagesOf(msgs), more
	return Result{Reply: session}, nil
}
