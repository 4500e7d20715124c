package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/conversation"
)

// Messages returns a page of messages in ascending seq and whether more
// exist beyond the page (after the last one when paging forward, before the
// first otherwise).
func (s *Store) Messages(ctx context.Context, conversationID string, p conversation.Page) ([]conversation.Message, bool, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.t.Messages,
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("conversationId = :c"),
		ExpressionAttributeValues: item{":c": str(conversationID)},
		Limit:                     aws.Int32(int32(p.Limit + 1)), // one more says whether there is more
	}
	forward := p.Forward
	switch {
	case forward:
		in.KeyConditionExpression = aws.String("conversationId = :c AND seq > :s")
		in.ExpressionAttributeValues[":s"] = num(p.AfterSeq)
	case p.BeforeSeq > 0:
		in.KeyConditionExpression = aws.String("conversationId = :c AND seq < :s")
		in.ExpressionAttributeValues[":s"] = num(p.BeforeSeq)
		in.ScanIndexForward = aws.Bool(false)
	default:
		in.ScanIndexForward = aws.Bool(false)
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, false, fmt.Errorf("read messages of %s: %w", conversationID, err)
	}
	items := out.Items
	more := len(items) > p.Limit
	if more {
		items = items[:p.Limit]
	}
	msgs := make([]conversation.Message, 0, len(items))
	for _, it := range items {
		msgs = append(msgs, messageFrom(it))
	}
	if !forward {
		slices.Reverse(msgs)
	}
	return msgs, more, nil
}

// Message reads message seq of conversation id, strongly consistent: what
// a resend is answered with. conversation.ErrNotFound when it is gone (its
// retention ran out).
func (s *Store) Message(ctx context.Context, id string, seq int64) (conversation.Message, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.t.Messages, Key: item{"conversationId": str(id), "seq": num(seq)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return conversation.Message{}, fmt.Errorf("read message %d of %s: %w", seq, id, err)
	}
	if out.Item == nil {
		return conversation.Message{}, fmt.Errorf("read message %d of %s: %w", seq, id, conversation.ErrNotFound)
	}
	return messageFrom(out.Item), nil
}

func (s *Store) expiry() types.AttributeValue {
	if s.retain <= 0 {
		return nil
	}
	return num(s.now().Add(s.retain).Unix())
}

// MarkRead records that role has read conversation id up to seq; a lower
// seq than the one recorded changes nothing (reads arrive out of order).
func (s *Store) MarkRead(ctx context.Context, id string, role conversation.Role, seq int64) error {
	attr := readAttr(role)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.t.Conversations,
		Key:                       item{"id": str(id)},
		UpdateExpression:          aws.String("SET #r = :s"),
		ConditionExpression:       aws.String("attribute_exists(id) AND (attribute_not_exists(#r) OR #r < :s)"),
		ExpressionAttributeNames:  map[string]string{"#r": attr},
		ExpressionAttributeValues: item{":s": num(seq)},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("mark %s read by %s up to %d: %w", id, role, seq, err)
	}
	return nil
}
