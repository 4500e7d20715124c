package store

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/conversation"
)

// item is a DynamoDB item under construction or being read.
type item map[string]types.AttributeValue

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func strSet(v ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: v} }

func (it item) s(k string) string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func (it item) n(k string) int64 {
	if v, ok := it[k].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func (it item) f(k string) float64 {
	if v, ok := it[k].(*types.AttributeValueMemberN); ok {
		f, _ := strconv.ParseFloat(v.Value, 64)
		return f
	}
	return 0
}

func (it item) ss(k string) []string {
	if v, ok := it[k].(*types.AttributeValueMemberSS); ok {
		return v.Value
	}
	return nil
}

func (it item) t(k string) time.Time {
	if s := it.s(k); s != "" {
		return parseTime(s)
	}
	return time.Time{}
}

// conversationFields are the attributes a conversation's state is written
// to; each save sets the present ones and removes the absent ones, so the
// other attributes of the item (read markers, reminders) are left alone.
var conversationTimes = []struct {
	attr string
	get  func(*conversation.Conversation) time.Time
}{
	{"createdAt", func(c *conversation.Conversation) time.Time { return c.CreatedAt }},
	{"updatedAt", func(c *conversation.Conversation) time.Time { return c.UpdatedAt }},
	{"queuedAt", func(c *conversation.Conversation) time.Time { return c.QueuedAt }},
	{"assignedAt", func(c *conversation.Conversation) time.Time { return c.AssignedAt }},
	{"parkedAt", func(c *conversation.Conversation) time.Time { return c.ParkedAt }},
	{"returnedAt", func(c *conversation.Conversation) time.Time { return c.ReturnedAt }},
	{"lastMessageAt", func(c *conversation.Conversation) time.Time { return c.LastMessageAt }},
	{"lastCustomerMessageAt", func(c *conversation.Conversation) time.Time { return c.LastCustomerMessageAt }},
	{"closedAt", func(c *conversation.Conversation) time.Time { return c.ClosedAt }},
}

// conversationAttrs returns the attributes to set and the optional ones to
// remove for c's current state.
func conversationAttrs(c *conversation.Conversation) (set item, remove []string) {
	set = item{
		"mode":         str(string(c.Mode)),
		"workstream":   str(c.Workstream),
		"widget":       str(c.Widget),
		"status":       str(string(c.Status)),
		"customerId":   str(c.Customer.ID),
		"customerName": str(c.Customer.Name),
		"units":        num(int64(c.Units)),
		"lastSeq":      num(c.LastSeq),
		"version":      num(c.Version),
	}
	opt := func(k, v string) {
		if v != "" {
			set[k] = str(v)
		} else {
			remove = append(remove, k)
		}
	}
	for _, f := range conversationTimes {
		if t := f.get(c); !t.IsZero() {
			set[f.attr] = str(timeString(t))
		} else {
			remove = append(remove, f.attr)
		}
	}
	agentID, agentName := "", ""
	if c.Agent != nil {
		agentID, agentName = c.Agent.ID, c.Agent.Name
	}
	opt("agentId", agentID)
	opt("agentName", agentName)
	opt("closedBy", string(c.ClosedBy))
	// The send budget: a few bytes on an item every send writes anyway.
	// Its time is kept to the microsecond (not rounded to the millisecond,
	// or every read would refill a little of what the last send took; not
	// in nanoseconds, 19 digits, which a store holding numbers as float64
	// would round).
	if !c.Sends.At.IsZero() {
		set["sendTokens"] = &types.AttributeValueMemberN{Value: strconv.FormatFloat(c.Sends.Tokens, 'f', -1, 64)}
		set["sendTokensAt"] = num(c.Sends.At.UnixMicro())
	}
	if p := c.LastMessage; p != nil {
		set["lastMessage"] = &types.AttributeValueMemberM{Value: item{
			"seq": num(p.Seq), "role": str(string(p.Sender.Role)), "senderId": str(p.Sender.ID),
			"senderName": str(p.Sender.Name), "text": str(p.Text), "at": str(timeString(p.At)),
		}}
	} else {
		remove = append(remove, "lastMessage")
	}
	// Sparse index keys: an item is in an index only while the key exists.
	open := c.Status != conversation.Closed
	opt("agentOpen", cond(open && agentID != "", agentID))
	opt("queueKey", cond(c.Status == conversation.Queued, c.Workstream))
	opt("openStatus", cond(open, string(c.Status)))
	return set, remove
}

func cond(ok bool, v string) string {
	if ok {
		return v
	}
	return ""
}

func conversationItem(c *conversation.Conversation) item {
	set, _ := conversationAttrs(c)
	set["id"] = str(c.ID)
	return set
}

func conversationFrom(it item) *conversation.Conversation {
	c := &conversation.Conversation{
		ID:         it.s("id"),
		Workstream: it.s("workstream"),
		Widget:     it.s("widget"),
		Mode:       conversation.Mode(it.s("mode")),
		Status:     conversation.Status(it.s("status")),
		Customer:   conversation.Participant{Role: conversation.Customer, ID: it.s("customerId"), Name: it.s("customerName")},
		Units:      int(it.n("units")),
		LastSeq:    it.n("lastSeq"),
		ClosedBy:   conversation.Role(it.s("closedBy")),
		Version:    it.n("version"),

		CustomerReadSeq: it.n("customerReadSeq"),
		AgentReadSeq:    it.n("agentReadSeq"),
	}
	if id := it.s("agentId"); id != "" {
		c.Agent = &conversation.Participant{Role: conversation.AgentRole, ID: id, Name: it.s("agentName")}
	}
	c.CreatedAt = it.t("createdAt")
	c.UpdatedAt = it.t("updatedAt")
	c.QueuedAt = it.t("queuedAt")
	c.AssignedAt = it.t("assignedAt")
	c.ParkedAt = it.t("parkedAt")
	c.ReturnedAt = it.t("returnedAt")
	c.LastMessageAt = it.t("lastMessageAt")
	c.LastCustomerMessageAt = it.t("lastCustomerMessageAt")
	c.ClosedAt = it.t("closedAt")
	if at := it.n("sendTokensAt"); at != 0 {
		c.Sends = conversation.Bucket{Tokens: it.f("sendTokens"), At: time.UnixMicro(at).UTC()}
	}
	if m, ok := it["lastMessage"].(*types.AttributeValueMemberM); ok {
		p := item(m.Value)
		c.LastMessage = &conversation.Preview{Seq: p.n("seq"), Text: p.s("text"), At: p.t("at"),
			Sender: conversation.Participant{Role: conversation.Role(p.s("role")), ID: p.s("senderId"), Name: p.s("senderName")}}
	}
	return c
}

func messageItem(m conversation.Message) item {
	return item{
		"conversationId":  str(m.ConversationID),
		"seq":             num(m.Seq),
		"id":              str(m.ID),
		"clientMessageId": str(m.ClientMessageID),
		"senderRole":      str(string(m.Sender.Role)),
		"senderId":        str(m.Sender.ID),
		"senderName":      str(m.Sender.Name),
		"text":            str(m.Text),
		"at":              str(timeString(m.At)),
	}
}

func messageFrom(it item) conversation.Message {
	return conversation.Message{
		ID:              it.s("id"),
		ConversationID:  it.s("conversationId"),
		Seq:             it.n("seq"),
		ClientMessageID: it.s("clientMessageId"),
		Sender:          conversation.Participant{Role: conversation.Role(it.s("senderRole")), ID: it.s("senderId"), Name: it.s("senderName")},
		Text:            it.s("text"),
		At:              it.t("at"),
	}
}
