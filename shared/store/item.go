package store

import (
	"encoding/binary"
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
	if len(c.Recent) > 0 {
		set["recentSends"] = &types.AttributeValueMemberB{Value: encodeRecent(c.Recent)}
	} else {
		remove = append(remove, "recentSends")
	}
	if p := c.LastMessage; p != nil {
		set["lastMessage"] = &types.AttributeValueMemberM{Value: previewAttrs(c, p)}
	} else {
		remove = append(remove, "lastMessage")
	}
	// Sparse index keys: an item is in an index only while the key exists.
	open := c.Status != conversation.Closed
	opt("agentOpen", cond(open && agentID != "", agentID))
	opt("queueKey", cond(c.Status == conversation.Queued, c.Workstream))
	opt("openStatus", cond(open, statusKey(c)))
	return set, remove
}

// statusKey is a conversation's partition on the byStatusKeys index (its
// openStatus, removed on close). Returned conversations, which the sweep
// reminds agents of, are under "returned"; every other open conversation is
// under its mode, "persistent#open" or "live#open". So moving between
// queued, active and waiting (an assignment, a park, a pickup) writes no
// index entry, 4 write units a move in a transaction, and a sweep reads, for
// auto-close, only conversations older than their mode's inactivity limit
// (Store.Expirable): the modes' limits are far apart (30 days and 20
// minutes by default), so persistent conversations are not read every
// minute because live ones expire in minutes. Conversations written before
// this layout are under their plain status (legacyStatusKeys), which the
// readers also query; their next write moves them.
func statusKey(c *conversation.Conversation) string {
	if c.Status == conversation.Returned {
		return string(conversation.Returned)
	}
	return openKey(c.Mode)
}

// openKey is the byStatusKeys partition of mode's open conversations that
// are not returned.
func openKey(m conversation.Mode) string { return string(m) + "#open" }

// legacyStatusKeys are the partitions older releases keyed open
// conversations by, besides "returned", which is the same in both layouts.
var legacyStatusKeys = []conversation.Status{conversation.Queued, conversation.Active, conversation.Waiting}

// previewAttrs is the newest message's preview as stored: its text and
// sender's role, and only what the conversation does not already say. Its
// seq is the conversation's lastSeq, its time lastMessageAt and its sender
// the conversation's party of that role, except after a change of agent,
// when the previous agent's id and name are kept. Written in full the
// preview took about 250 bytes of every send's write; this way about 140.
func previewAttrs(c *conversation.Conversation, p *conversation.Preview) item {
	m := item{"role": str(string(p.Sender.Role)), "text": str(p.Text)}
	if p.Seq != c.LastSeq {
		m["seq"] = num(p.Seq)
	}
	if !p.At.Equal(c.LastMessageAt) {
		m["at"] = str(timeString(p.At))
	}
	if party := partyOf(c, p.Sender.Role); party == nil || party.ID != p.Sender.ID || party.Name != p.Sender.Name {
		m["senderId"], m["senderName"] = str(p.Sender.ID), str(p.Sender.Name)
	}
	return m
}

// previewFrom reads a preview previewAttrs wrote, or one written in full.
func previewFrom(c *conversation.Conversation, m item) *conversation.Preview {
	p := &conversation.Preview{Seq: c.LastSeq, At: c.LastMessageAt, Text: m.s("text"),
		Sender: conversation.Participant{Role: conversation.Role(m.s("role"))}}
	if _, ok := m["seq"]; ok {
		p.Seq = m.n("seq")
	}
	if _, ok := m["at"]; ok {
		p.At = m.t("at")
	}
	if _, ok := m["senderId"]; ok {
		p.Sender.ID, p.Sender.Name = m.s("senderId"), m.s("senderName")
	} else if party := partyOf(c, p.Sender.Role); party != nil {
		p.Sender.ID, p.Sender.Name = party.ID, party.Name
	}
	return p
}

// partyOf is c's participant of role: its customer, or its agent (nil when
// none is assigned).
func partyOf(c *conversation.Conversation, role conversation.Role) *conversation.Participant {
	if role == conversation.Customer {
		return &c.Customer
	}
	return c.Agent
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
	if b, ok := it["recentSends"].(*types.AttributeValueMemberB); ok {
		c.Recent = decodeRecent(b.Value)
	}
	if m, ok := it["lastMessage"].(*types.AttributeValueMemberM); ok {
		c.LastMessage = previewFrom(c, m.Value)
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

// A conversation's recent sends are one binary attribute of 10 bytes a
// send, oldest first: its 48-bit key (conversation.SendKey), then 32 bits
// big-endian holding whether an agent sent it (the top bit) and its seq
// (the other 31). Twenty of them take 200 bytes of the item; as a list of
// numbers they took about twice that. A seq past 31 bits, two billion
// messages into one conversation, is not remembered.
const (
	recentSize  = 10
	recentAgent = 1 << 31
)

func encodeRecent(rs []conversation.RecentSend) []byte {
	b := make([]byte, 0, len(rs)*recentSize)
	for _, r := range rs {
		if r.Seq < 0 || r.Seq >= recentAgent {
			continue
		}
		var e [recentSize]byte
		binary.BigEndian.PutUint64(e[:8], uint64(r.Key)<<16)
		v := uint32(r.Seq)
		if r.Agent {
			v |= recentAgent
		}
		binary.BigEndian.PutUint32(e[6:], v)
		b = append(b, e[:]...)
	}
	return b
}

func decodeRecent(b []byte) []conversation.RecentSend {
	rs := make([]conversation.RecentSend, 0, len(b)/recentSize)
	for ; len(b) >= recentSize; b = b[recentSize:] {
		var k [8]byte
		copy(k[:6], b[:6])
		v := binary.BigEndian.Uint32(b[6:recentSize])
		rs = append(rs, conversation.RecentSend{
			Key:   conversation.SendKey(binary.BigEndian.Uint64(k[:]) >> 16),
			Seq:   int64(v &^ recentAgent),
			Agent: v&recentAgent != 0,
		})
	}
	return rs
}
