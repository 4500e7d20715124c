package route

import (
	"context"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/shared/conversation"
)

// helloPage is how many messages a session carries at most.
const helloPage = 50

// hello opens a session: the customer's open conversation with the messages
// it missed, or the agent's state and every conversation assigned to it.
func (a *App) hello(ctx context.Context, r *request) ([]byte, error) {
	user := frame{"id": r.who.ID, "name": r.who.Name}
	if r.who.Role == conversation.AgentRole {
		ag, err := a.store.Agent(ctx, r.who.ID)
		if err != nil {
			return nil, err
		}
		cs, err := a.store.AgentConversations(ctx, r.who.ID)
		if err != nil {
			return nil, err
		}
		conversation.SortQueue(cs)
		return reply("session", r.requestID, frame{"role": "agent", "user": user,
			"agent": toWireAgent(ag), "conversations": toWireConversations(cs)}), nil
	}

	lastSeq, hasLast, err := r.int("lastSeq", false)
	if err != nil {
		return nil, err
	}
	if lastSeq < 0 {
		return nil, badField("lastSeq must be 0 or more")
	}
	cust, err := a.store.Customer(ctx, r.widget, r.who.ID)
	if err != nil {
		return nil, err
	}
	var c *conversation.Conversation
	msgs := []conversation.Message{}
	more := false
	if cust.OpenConversationID != "" {
		if c, err = a.store.Conversation(ctx, cust.OpenConversationID); err != nil {
			return nil, err
		}
		page := conversation.Page{Limit: helloPage}
		// A lastSeq past the conversation's end belongs to an earlier
		// conversation of this customer: show the newest messages instead.
		if hasLast && lastSeq <= c.LastSeq {
			page.Forward, page.AfterSeq = true, lastSeq
		}
		if msgs, more, err = a.store.Messages(ctx, c.ID, page); err != nil {
			return nil, err
		}
	}
	return reply("session", r.requestID, frame{"role": "customer", "user": user,
		"conversation": toWire(c), "messages": toWireMessages(msgs), "hasMore": more}), nil
}

// send stores a message (creating the customer's conversation on the first
// one) and delivers it to every other connection of both parties.
func (a *App) send(ctx context.Context, r *request) ([]byte, error) {
	convID, err := r.str("conversationId", r.who.Role == conversation.AgentRole)
	if err != nil {
		return nil, err
	}
	cmid, err := r.str("clientMessageId", true)
	if err != nil {
		return nil, err
	}
	if err := conversation.ValidateClientMessageID(cmid); err != nil {
		return nil, badField("clientMessageId must be 1-64 characters")
	}
	text, err := r.str("text", true)
	if err != nil {
		return nil, err
	}
	if err := conversation.ValidateText(text); err != nil {
		return nil, badField("text must be 1-4000 characters and not blank")
	}

	var res sent
	for attempt := 1; ; attempt++ {
		res, err = a.trySend(ctx, r, convID, cmid, text)
		if err == nil || !retryable(err) || attempt == maxAttempts {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	c, m := res.c, res.m
	log := r.log.With("conversationId", c.ID)
	a.respond(ctx, r, reply("ack", r.requestID, frame{"message": toWireMessage(m), "conversation": toWire(c)}))
	if res.duplicate {
		log.InfoContext(ctx, "duplicate send answered", "seq", m.Seq, "clientMessageId", cmid)
		return nil, nil
	}
	log.InfoContext(ctx, "message stored", "seq", m.Seq, "created", res.created)

	cust, agent, err := a.store.Parties(ctx, c)
	if err != nil {
		log.ErrorContext(ctx, "message stored but not delivered", "error", err.Error())
		return nil, nil
	}
	event := reply("message", nil, frame{"message": toWireMessage(m)})
	a.deliver(ctx, log, without(cust.ConnectionIDs, r.conn), c.Customer, c.Widget, event)
	if agent != nil {
		a.deliver(ctx, log, without(agent.ConnectionIDs, r.conn), *c.Agent, "", event)
	}
	if res.created || res.effect.Requeued {
		// r.log: assignment names each conversation it assigns itself.
		a.assignAndInform(ctx, r.log, res.ws, c, cust.ConnectionIDs)
	}
	return nil, nil
}

type sent struct {
	c         *conversation.Conversation
	m         conversation.Message
	ws        conversation.Workstream
	effect    conversation.SendEffect
	created   bool
	duplicate bool
}

func (a *App) trySend(ctx context.Context, r *request, convID, cmid, text string) (sent, error) {
	var res sent
	var c *conversation.Conversation
	var err error
	if convID != "" {
		if c, err = a.conversationFor(ctx, r, convID); err != nil {
			return res, err
		}
		// A customer writing into a conversation an agent ended starts a new
		// one (docs/protocol.md 4); agents get conflict from the domain.
		if c.Status == conversation.Closed && r.who.Role == conversation.Customer {
			c = nil
		}
	}
	if c == nil && r.who.Role == conversation.Customer {
		cust, err := a.store.Customer(ctx, r.widget, r.who.ID)
		if err != nil {
			return res, err
		}
		if cust.OpenConversationID != "" {
			if c, err = a.store.Conversation(ctx, cust.OpenConversationID); err != nil {
				return res, err
			}
		}
	}
	now := a.now()
	if c == nil {
		w, err := a.settings.widget(ctx, r.widget)
		if err != nil {
			return res, fmt.Errorf("widget %s: %w", r.widget, err)
		}
		if res.ws, err = a.settings.workstream(ctx, w.Workstream); err != nil {
			return res, err
		}
		if c, err = conversation.Start(conversation.NewConversationID(), res.ws, r.widget, r.who, now); err != nil {
			if errors.Is(err, conversation.ErrOutsideHours) {
				return res, public("we are closed right now; please come back during opening hours", err)
			}
			return res, err
		}
		res.created = true
	} else if res.ws, err = a.settings.workstream(ctx, c.Workstream); err != nil {
		return res, err
	}

	prev := c.Version
	if res.effect, err = c.Send(r.who, res.ws, now); err != nil {
		if errors.Is(err, conversation.ErrConflict) && r.who.Role == conversation.AgentRole {
			return res, public(fmt.Sprintf("conversation is %s; pick it up first", c.Status), err)
		}
		return res, err
	}
	res.m = conversation.Message{ID: conversation.NewMessageID(), ConversationID: c.ID, Seq: res.effect.Seq,
		ClientMessageID: cmid, Sender: r.who, Text: text, At: now}
	err = a.store.Apply(ctx, conversation.Change{Conversation: c, PrevVersion: prev, Create: res.created, Message: &res.m})
	var dup *conversation.DuplicateError
	if errors.As(err, &dup) {
		res.m, res.duplicate, res.created = dup.Message, true, false
		res.c, err = a.store.Conversation(ctx, dup.Message.ConversationID)
		return res, err
	}
	if err != nil {
		return res, err
	}
	res.c = c
	return res, nil
}

// history pages through a conversation's messages by seq.
func (a *App) history(ctx context.Context, r *request) ([]byte, error) {
	id, err := r.str("conversationId", true)
	if err != nil {
		return nil, err
	}
	before, hasBefore, err := r.int("beforeSeq", false)
	if err != nil {
		return nil, err
	}
	after, hasAfter, err := r.int("afterSeq", false)
	if err != nil {
		return nil, err
	}
	if hasBefore && hasAfter {
		return nil, badField("give beforeSeq or afterSeq, not both")
	}
	if before < 0 || after < 0 {
		return nil, badField("beforeSeq and afterSeq must be 0 or more")
	}
	limit, _, err := r.int("limit", false)
	if err != nil {
		return nil, err
	}
	n, err := conversation.ValidateLimit(int(limit))
	if err != nil || limit < 0 || limit > 200 {
		return nil, badField("limit must be 1-200")
	}
	c, err := a.conversationFor(ctx, r, id)
	if err != nil {
		return nil, err
	}
	page := conversation.Page{Limit: n}
	switch {
	case hasAfter:
		page.Forward, page.AfterSeq = true, after
	case hasBefore:
		if before == 0 {
			return reply("history", r.requestID, frame{"conversationId": c.ID, "messages": []wireMessage{}, "hasMore": false}), nil
		}
		page.BeforeSeq = before
	}
	msgs, more, err := a.store.Messages(ctx, c.ID, page)
	if err != nil {
		return nil, err
	}
	return reply("history", r.requestID, frame{"conversationId": c.ID, "messages": toWireMessages(msgs), "hasMore": more}), nil
}

// typing tells the other party that the caller is (or stopped) typing.
func (a *App) typing(ctx context.Context, r *request) ([]byte, error) {
	id, err := r.str("conversationId", true)
	if err != nil {
		return nil, err
	}
	on, err := r.bool("typing")
	if err != nil {
		return nil, err
	}
	c, err := a.conversationFor(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if c.Status == conversation.Closed {
		return nil, public("conversation is closed", conversation.ErrConflict)
	}
	a.respond(ctx, r, reply("ack", r.requestID, nil))
	a.toOtherParty(ctx, r, c, reply("typing", nil, frame{"conversationId": c.ID,
		"from": wireParty{Role: string(r.who.Role), ID: r.who.ID}, "typing": on}))
	return nil, nil
}

// read records how far the caller has read and tells the other party.
func (a *App) read(ctx context.Context, r *request) ([]byte, error) {
	id, err := r.str("conversationId", true)
	if err != nil {
		return nil, err
	}
	seq, _, err := r.int("seq", true)
	if err != nil {
		return nil, err
	}
	c, err := a.conversationFor(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if seq < 0 || seq > c.LastSeq {
		return nil, badField(fmt.Sprintf("seq must be between 0 and %d", c.LastSeq))
	}
	if err := a.store.MarkRead(ctx, c.ID, r.who.Role, seq); err != nil {
		return nil, err
	}
	a.respond(ctx, r, reply("ack", r.requestID, nil))
	a.toOtherParty(ctx, r, c, reply("read", nil, frame{"conversationId": c.ID,
		"by": wireParty{Role: string(r.who.Role), ID: r.who.ID}, "seq": seq}))
	return nil, nil
}

func (a *App) toOtherParty(ctx context.Context, r *request, c *conversation.Conversation, event []byte) {
	cust, agent, err := a.store.Parties(ctx, c)
	if err != nil {
		r.log.WarnContext(ctx, "read parties", "error", err.Error())
		return
	}
	if r.who.Role == conversation.Customer {
		if agent != nil {
			a.deliver(ctx, r.log, agent.ConnectionIDs, *c.Agent, "", event)
		}
		return
	}
	a.deliver(ctx, r.log, cust.ConnectionIDs, c.Customer, c.Widget, event)
}

func (a *App) ping(ctx context.Context, r *request) ([]byte, error) {
	return reply("pong", r.requestID, nil), nil
}
