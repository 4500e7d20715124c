package store

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
)

var _ chat.Store = (*Store)(nil)

// ConversationFromStream reads a conversation out of a stream record's
// image (aws-lambda-go's attribute values, as Lambda delivers them), with
// the same decoder as the table's items. An attribute of a type the stream
// does not define is an error, never a panic: the notifier must report the
// record, not crash.
func ConversationFromStream(img map[string]events.DynamoDBAttributeValue) (*conversation.Conversation, error) {
	it, err := fromStreamImage(img)
	if err != nil {
		return nil, err
	}
	return conversationFrom(it), nil
}

func fromStreamImage(img map[string]events.DynamoDBAttributeValue) (item, error) {
	out := make(item, len(img))
	for k, v := range img {
		av, err := fromStreamValue(v)
		if err != nil {
			return nil, fmt.Errorf("stream image attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func fromStreamValue(v events.DynamoDBAttributeValue) (_ types.AttributeValue, err error) {
	// aws-lambda-go's accessors panic on a value that does not hold its
	// type (a zero value reads as Binary and holds nothing).
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("attribute of type %v without a value: %v", v.DataType(), p)
		}
	}()
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeMap:
		m, err := fromStreamImage(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case events.DataTypeList:
		l := make([]types.AttributeValue, 0, len(v.List()))
		for i, e := range v.List() {
			av, err := fromStreamValue(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			l = append(l, av)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	}
	return nil, fmt.Errorf("attribute of unknown type %v", v.DataType())
}
