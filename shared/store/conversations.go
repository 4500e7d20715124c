package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/conversation"
)

// Conversation reads one conversation, strongly consistent.
func (s *Store) Conversation(ctx context.Context, id string) (*conversation.Conversation, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.t.Conversations, Key: item{"id": str(id)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get conversation %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("get conversation %s: %w", id, conversation.ErrNotFound)
	}
	return conversationFrom(out.Item), nil
}

// Apply writes ch atomically, with one TransactWriteItems. It returns
// conversation.ErrStale when the conversation changed since PrevVersion or
// the customer already has another open conversation, ErrNoCapacity when the
// agent cannot take the units. A resend never reaches it: the conversation
// knows its recent sends (conversation.Conversation.Resent).
func (s *Store) Apply(ctx context.Context, ch conversation.Change) error {
	return s.apply(ctx, ch, false)
}

// apply writes ch; with floor, capacity being freed is set to zero instead
// of taken off (see capacityFloor).
func (s *Store) apply(ctx context.Context, ch conversation.Change, floor bool) error {
	c := ch.Conversation
	var tx []types.TransactWriteItem
	const (
		kConversation = iota
		kMessage
		kCapacity
		kCustomer
	)
	var kinds []int
	add := func(kind int, it types.TransactWriteItem) {
		tx = append(tx, it)
		kinds = append(kinds, kind)
	}

	if ch.Create {
		it := conversationItem(c)
		if r := ch.Read; r != nil {
			it[readAttr(r.Role)] = num(r.Seq)
		}
		add(kConversation, types.TransactWriteItem{Put: &types.Put{
			TableName:           &s.t.Conversations,
			Item:                it,
			ConditionExpression: aws.String("attribute_not_exists(id)"),
		}})
		// One open conversation per (widget, customer): the pointer is the
		// lock two devices' simultaneous first sends race for.
		add(kCustomer, types.TransactWriteItem{Update: &types.Update{
			TableName:                 &s.t.Customers,
			Key:                       item{"id": str(customerKey(c.Widget, c.Customer.ID))},
			UpdateExpression:          aws.String("SET openConversationId = :id, widget = :w, customerId = :c"),
			ConditionExpression:       aws.String("attribute_not_exists(openConversationId)"),
			ExpressionAttributeValues: item{":id": str(c.ID), ":w": str(c.Widget), ":c": str(c.Customer.ID)},
		}})
	} else {
		add(kConversation, types.TransactWriteItem{Update: s.saveConversation(c, ch.PrevVersion, ch.Read)})
		if ch.ClearOpen {
			// The closed conversation stays the customer's last one, which
			// a returning customer with none open still sees.
			add(kCustomer, types.TransactWriteItem{Update: &types.Update{
				TableName:                 &s.t.Customers,
				Key:                       item{"id": str(customerKey(c.Widget, c.Customer.ID))},
				UpdateExpression:          aws.String("REMOVE openConversationId SET lastConversationId = :id"),
				ConditionExpression:       aws.String("openConversationId = :id"),
				ExpressionAttributeValues: item{":id": str(c.ID)},
			}})
		}
	}
	if m := ch.Message; m != nil {
		mi := messageItem(*m)
		if ttl := s.expiry(); ttl != nil {
			mi["expiresAt"] = ttl
		}
		add(kMessage, types.TransactWriteItem{Put: &types.Put{
			TableName: &s.t.Messages, Item: mi, ConditionExpression: aws.String("attribute_not_exists(seq)"),
		}})
		// A resend is known by the conversation's memory of its recent
		// sends (conversation.RecentSends), which the conversation's own
		// write above checks by its version: no marker item per send.
	}
	if cp := ch.Capacity; !cp.None() {
		u := s.capacityUpdate(cp)
		if floor {
			u = s.capacityFloor(cp)
		}
		add(kCapacity, types.TransactWriteItem{Update: u})
	}

	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	if err == nil {
		return nil
	}
	codes := cancelled(err)
	if codes == nil {
		return fmt.Errorf("write conversation %s v%d: %w", c.ID, c.Version, err)
	}
	failed := map[int]bool{}
	for i, code := range codes {
		if code == "ConditionalCheckFailed" && i < len(kinds) {
			failed[kinds[i]] = true
		}
	}
	switch {
	case failed[kConversation], failed[kMessage], transactionConflict(codes):
		return fmt.Errorf("write conversation %s at version %d: %w", c.ID, ch.PrevVersion, conversation.ErrStale)
	case failed[kCustomer]:
		return fmt.Errorf("write conversation %s: customer %s already has an open conversation: %w", c.ID, c.Customer.ID, conversation.ErrStale)
	case failed[kCapacity]:
		if ch.Capacity.Units < 0 && !floor {
			// The agent uses less than this frees: free what is left
			// rather than refuse the park or close, which would then
			// never go through.
			return s.apply(ctx, ch, true)
		}
		return fmt.Errorf("write conversation %s: agent %s: %w", c.ID, ch.Capacity.AgentID, conversation.ErrNoCapacity)
	}
	return fmt.Errorf("write conversation %s v%d: cancelled %v: %w", c.ID, c.Version, codes, err)
}

// Fence moves conversation id from version to version+1 and changes
// nothing else, on condition that it is still at version: a write
// conditioned on version that has not landed yet never can after it.
// conversation.ErrStale when the conversation is no longer at version.
func (s *Store) Fence(ctx context.Context, id string, version int64) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.t.Conversations,
		Key:                       item{"id": str(id)},
		UpdateExpression:          aws.String("SET #version = :next"),
		ConditionExpression:       aws.String("#version = :prev"),
		ExpressionAttributeNames:  map[string]string{"#version": "version"},
		ExpressionAttributeValues: item{":prev": num(version), ":next": num(version + 1)},
	})
	if err != nil {
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
			return fmt.Errorf("fence conversation %s at version %d: %w", id, version, conversation.ErrStale)
		}
		return fmt.Errorf("fence conversation %s at version %d: %w", id, version, err)
	}
	return nil
}

// readAttr is the attribute holding role's read mark.
func readAttr(role conversation.Role) string { return string(role) + "ReadSeq" }

// saveConversation writes c's state at version prev+1, and read's mark when
// given; the other party's read mark is not touched, so a concurrent read
// receipt is never overwritten.
func (s *Store) saveConversation(c *conversation.Conversation, prev int64, read *conversation.ReadMark) *types.Update {
	set, remove := conversationAttrs(c)
	if read != nil {
		set[readAttr(read.Role)] = num(read.Seq)
	}
	names := map[string]string{}
	values := item{":prev": num(prev)}
	var sets []string
	i := 0
	for k, v := range set {
		i++
		n, p := "#a"+strconv.Itoa(i), ":v"+strconv.Itoa(i)
		names[n], values[p] = k, v
		sets = append(sets, n+" = "+p)
	}
	expr := "SET " + strings.Join(sets, ", ")
	if len(remove) > 0 {
		var rs []string
		for _, k := range remove {
			i++
			n := "#a" + strconv.Itoa(i)
			names[n] = k
			rs = append(rs, n)
		}
		expr += " REMOVE " + strings.Join(rs, ", ")
	}
	names["#version"] = "version"
	return &types.Update{
		TableName:                 &s.t.Conversations,
		Key:                       item{"id": str(c.ID)},
		UpdateExpression:          &expr,
		ConditionExpression:       aws.String("#version = :prev"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}

func (s *Store) capacityUpdate(cp conversation.CapacityChange) *types.Update {
	u := &types.Update{
		TableName: &s.t.Agents,
		Key:       item{"id": str(cp.AgentID)},
		ExpressionAttributeNames: map[string]string{
			"#used": "used",
		},
	}
	if cp.Units >= 0 {
		u.UpdateExpression = aws.String("SET #used = #used + :u")
		cond := "#used <= :max"
		u.ExpressionAttributeValues = item{":u": num(int64(cp.Units)), ":max": num(int64(cp.Max))}
		if cp.RequireAvailable {
			cond += " AND #presence = :available AND attribute_exists(connections)"
			u.ExpressionAttributeNames["#presence"] = "presence"
			u.ExpressionAttributeValues[":available"] = str(string(conversation.Available))
		}
		u.ConditionExpression = &cond
		return u
	}
	// Freeing never fails on capacity; the floor keeps a lost race from
	// driving used below zero.
	u.UpdateExpression = aws.String("SET #used = #used - :u")
	u.ConditionExpression = aws.String("#used >= :u")
	u.ExpressionAttributeValues = item{":u": num(int64(-cp.Units))}
	return u
}

// capacityFloor frees capacity when used is below the units freed: it sets
// used to zero, on condition that it still is below them (otherwise the
// decrement would do).
func (s *Store) capacityFloor(cp conversation.CapacityChange) *types.Update {
	return &types.Update{
		TableName:                 &s.t.Agents,
		Key:                       item{"id": str(cp.AgentID)},
		UpdateExpression:          aws.String("SET #used = :zero"),
		ConditionExpression:       aws.String("#used < :u"),
		ExpressionAttributeNames:  map[string]string{"#used": "used"},
		ExpressionAttributeValues: item{":zero": num(0), ":u": num(int64(-cp.Units))},
	}
}

// The conversation indexes hold keys only (template.yaml says why): a
// reader queries one for ids, then reads the items themselves, strongly
// consistent, and keeps those still in the state the index was asked for
// (an index lags its table).
const (
	indexByAgent  = "byAgentKeys"
	indexQueue    = "queueKeys"
	indexByStatus = "byStatusKeys"
)

// AgentConversations lists every non-closed conversation assigned to agentID.
func (s *Store) AgentConversations(ctx context.Context, agentID string) ([]*conversation.Conversation, error) {
	keys, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 &s.t.Conversations,
		IndexName:                 aws.String(indexByAgent),
		KeyConditionExpression:    aws.String("agentOpen = :a"),
		ExpressionAttributeValues: item{":a": str(agentID)},
	})
	if err != nil {
		return nil, fmt.Errorf("list conversations of agent %s: %w", agentID, err)
	}
	cs, err := s.conversationsOf(ctx, keys, func(c *conversation.Conversation) bool {
		return c.Status != conversation.Closed && c.Agent != nil && c.Agent.ID == agentID
	})
	if err != nil {
		return nil, fmt.Errorf("list conversations of agent %s: %w", agentID, err)
	}
	return cs, nil
}

// Queue lists up to limit queued conversations of a workstream, oldest first.
func (s *Store) Queue(ctx context.Context, workstream string, limit int) ([]*conversation.Conversation, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.t.Conversations,
		IndexName:                 aws.String(indexQueue),
		KeyConditionExpression:    aws.String("queueKey = :w"),
		ExpressionAttributeValues: item{":w": str(workstream)},
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("read queue %s: %w", workstream, err)
	}
	keys := make([]item, 0, len(out.Items))
	for _, it := range out.Items {
		keys = append(keys, it)
	}
	cs, err := s.conversationsOf(ctx, keys, func(c *conversation.Conversation) bool {
		return c.Status == conversation.Queued && c.Workstream == workstream
	})
	if err != nil {
		return nil, fmt.Errorf("read queue %s: %w", workstream, err)
	}
	return cs, nil
}

// QueuePosition is c's 1-based place in its workstream's queue.
func (s *Store) QueuePosition(ctx context.Context, c *conversation.Conversation) (int, error) {
	n, err := s.count(ctx, &dynamodb.QueryInput{
		TableName:                 &s.t.Conversations,
		IndexName:                 aws.String(indexQueue),
		KeyConditionExpression:    aws.String("queueKey = :w AND queuedAt <= :t"),
		ExpressionAttributeValues: item{":w": str(c.Workstream), ":t": str(timeString(c.QueuedAt))},
		Select:                    types.SelectCount,
	})
	if err != nil {
		return 0, fmt.Errorf("queue position of %s: %w", c.ID, err)
	}
	return max(n, 1), nil
}

// ByStatus lists the open conversations in status st, oldest first.
// Returned ones are one index partition (the sweep's reminders); the others
// share their mode's (statusKey), so listing them reads every open
// conversation but returned ones: for parleyctl, not a request path.
func (s *Store) ByStatus(ctx context.Context, st conversation.Status) ([]*conversation.Conversation, error) {
	parts := []statusPartition{{key: string(st)}}
	if st != conversation.Returned {
		parts = append(parts, statusPartition{key: openKey(conversation.Persistent)}, statusPartition{key: openKey(conversation.Live)})
	}
	return s.byStatus(ctx, parts, func(c *conversation.Conversation) bool { return c.Status == st })
}

// Expirable lists the open conversations old enough to have run out of
// time: created no later than cutoff[mode] for their mode, a mode without a
// cutoff left out. No conversation expires younger than its inactivity
// limit (conversation.Workstream.InactivityLimit), so with each mode's
// cutoff at now less its shortest limit a sweep reads the conversations
// that may be due, not every open one.
func (s *Store) Expirable(ctx context.Context, cutoff map[conversation.Mode]time.Time) ([]*conversation.Conversation, error) {
	var parts []statusPartition
	var latest time.Time
	for m, t := range cutoff {
		if t.IsZero() {
			continue
		}
		parts = append(parts, statusPartition{openKey(m), t})
		latest = later(latest, t)
	}
	if latest.IsZero() {
		return nil, nil
	}
	// Returned conversations and those keyed before the mode was, of
	// either mode: the latest cutoff reads everything due in them.
	for _, st := range append([]conversation.Status{conversation.Returned}, legacyStatusKeys...) {
		parts = append(parts, statusPartition{string(st), latest})
	}
	return s.byStatus(ctx, parts, func(c *conversation.Conversation) bool {
		t := cutoff[c.Mode]
		return c.Status != conversation.Closed && !t.IsZero() && !c.CreatedAt.After(t)
	})
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// statusPartition is one partition of the byStatusKeys index to read, up
// to a creation time (zero: all of it).
type statusPartition struct {
	key    string
	before time.Time
}

// byStatus reads the conversations in parts of the byStatusKeys index
// that keep accepts, oldest first.
func (s *Store) byStatus(ctx context.Context, parts []statusPartition, keep func(*conversation.Conversation) bool) ([]*conversation.Conversation, error) {
	var keys []item
	for _, p := range parts {
		in := &dynamodb.QueryInput{
			TableName:                 &s.t.Conversations,
			IndexName:                 aws.String(indexByStatus),
			KeyConditionExpression:    aws.String("openStatus = :s"),
			ExpressionAttributeValues: item{":s": str(p.key)},
		}
		if !p.before.IsZero() {
			in.KeyConditionExpression = aws.String("openStatus = :s AND createdAt <= :t")
			in.ExpressionAttributeValues[":t"] = str(timeString(p.before))
		}
		ks, err := s.queryAll(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list open conversations (%s): %w", p.key, err)
		}
		keys = append(keys, ks...)
	}
	cs, err := s.conversationsOf(ctx, keys, keep)
	if err != nil {
		return nil, fmt.Errorf("list open conversations: %w", err)
	}
	slices.SortFunc(cs, func(a, b *conversation.Conversation) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return cs, nil
}

// conversationsOf reads the conversations an index query named, in the
// query's order, with BatchGetItem (100 keys a call, its limit), keeping
// those keep accepts; one deleted since is skipped.
func (s *Store) conversationsOf(ctx context.Context, keys []item, keep func(*conversation.Conversation) bool) ([]*conversation.Conversation, error) {
	byID := make(map[string]*conversation.Conversation, len(keys))
	for start := 0; start < len(keys); start += 100 {
		batch := keys[start:min(start+100, len(keys))]
		ks := make([]map[string]types.AttributeValue, 0, len(batch))
		for _, k := range batch {
			ks = append(ks, item{"id": k["id"]})
		}
		req := map[string]types.KeysAndAttributes{s.t.Conversations: {Keys: ks, ConsistentRead: aws.Bool(true)}}
		err := s.batchGet(ctx, req, func(_ string, items []map[string]types.AttributeValue) error {
			for _, it := range items {
				c := conversationFrom(it)
				byID[c.ID] = c
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read conversations: %w", err)
		}
	}
	out := make([]*conversation.Conversation, 0, len(keys))
	for _, k := range keys {
		if c, ok := byID[item(k).s("id")]; ok && keep(c) {
			out = append(out, c)
			delete(byID, c.ID) // an index lists an id once; be sure of it
		}
	}
	return out, nil
}

// MarkReminded records that the agent was reminded of a returned
// conversation at the given time, returning false when another sweep did it
// since `since` (so two overlapping ticks remind once).
func (s *Store) MarkReminded(ctx context.Context, id string, at, since string) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.t.Conversations,
		Key:                       item{"id": str(id)},
		UpdateExpression:          aws.String("SET remindedAt = :at"),
		ConditionExpression:       aws.String("attribute_exists(id) AND (attribute_not_exists(remindedAt) OR remindedAt <= :since)"),
		ExpressionAttributeValues: item{":at": str(at), ":since": str(since)},
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark %s reminded: %w", id, err)
	}
	return true, nil
}

// Reminded returns when the agent was last reminded of conversation id.
func (s *Store) Reminded(ctx context.Context, id string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.t.Conversations, Key: item{"id": str(id)},
		ProjectionExpression: aws.String("remindedAt"),
	})
	if err != nil {
		return "", fmt.Errorf("read reminder of %s: %w", id, err)
	}
	return item(out.Item).s("remindedAt"), nil
}

func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput) ([]item, error) {
	var all []item
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			all = append(all, it)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return all, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func (s *Store) count(ctx context.Context, in *dynamodb.QueryInput) (int, error) {
	n := 0
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, err
		}
		n += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// notifiedKey is where the stream notifier marks a conversation version as
// told to its parties: beside the conversation's messages, under a key no
// message uses, so marking does not itself change the conversation (and
// re-trigger the stream).
func notifiedKey(id string) string { return "notified#" + id }

// Notified reports whether version of conversation id was already notified.
func (s *Store) Notified(ctx context.Context, id string, version int64) (bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.t.Messages,
		Key: item{"conversationId": str(notifiedKey(id)), "seq": num(version)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fmt.Errorf("read notified mark of %s v%d: %w", id, version, err)
	}
	return out.Item != nil, nil
}

// MarkNotified records that version of conversation id was notified; marks
// expire after a day, long past any stream redelivery.
func (s *Store) MarkNotified(ctx context.Context, id string, version int64) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.t.Messages, Item: item{
		"conversationId": str(notifiedKey(id)), "seq": num(version), "expiresAt": num(s.now().Add(24 * time.Hour).Unix())}})
	if err != nil {
		return fmt.Errorf("mark %s v%d notified: %w", id, version, err)
	}
	return nil
}
