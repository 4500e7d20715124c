package route

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
)

// Notify handles the conversations stream: it tells an agent that a parked
// conversation's customer came back, and tells both parties of assignments
// and closes. Stream delivery is at least once, so each transition is
// marked done once pushed and skipped when seen again; a record that fails
// is reported so Lambda retries from it.
func (a *App) Notify(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	log := a.logger(ctx)
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		if err := a.notifyRecord(ctx, log, rec); err != nil {
			log.ErrorContext(ctx, "stream record failed", "sequenceNumber", rec.Change.SequenceNumber, "error", err.Error())
			// Lambda retries from the lowest failed record; later ones come
			// again with it (and are skipped if already done).
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			return resp, nil
		}
	}
	return resp, nil
}

func (a *App) notifyRecord(ctx context.Context, log *slog.Logger, rec events.DynamoDBEventRecord) error {
	if rec.EventName != "MODIFY" || rec.Change.NewImage == nil || rec.Change.OldImage == nil {
		return nil
	}
	before := store.ConversationFromItem(FromStreamImage(rec.Change.OldImage))
	after := store.ConversationFromItem(FromStreamImage(rec.Change.NewImage))
	if before.Status == after.Status || after.ID == "" {
		return nil
	}
	log = log.With("conversationId", after.ID, "from", before.Status, "to", after.Status, "version", after.Version)
	done, err := a.store.Notified(ctx, after.ID, after.Version)
	if err != nil {
		return err
	}
	if done {
		log.InfoContext(ctx, "transition already notified")
		return nil
	}

	conv := reply("conversation", nil, frame{"conversation": toWire(after)})
	var toCustomer, toAgent [][]byte
	agent := after.Agent
	switch {
	case before.Status == conversation.Waiting && after.Status == conversation.Returned:
		toAgent = append(toAgent, conv, reply("notification", nil, frame{"kind": "customer_returned",
			"conversationId": after.ID, "conversation": toWire(after)}))
	case before.Status == conversation.Queued && after.Status == conversation.Active:
		toCustomer, toAgent = [][]byte{conv}, [][]byte{conv}
	case after.Status == conversation.Active:
		toAgent = [][]byte{conv} // picked back up: the agent's other tabs follow
	case after.Status == conversation.Closed:
		toCustomer, toAgent = [][]byte{conv}, [][]byte{conv}
		if agent == nil {
			agent = before.Agent
		}
	case after.Status == conversation.Queued:
		toAgent, agent = [][]byte{conv}, before.Agent // it left its agent
	default:
		return nil
	}

	subject := after.Clone()
	subject.Agent = agent
	cust, ag, err := a.store.Parties(ctx, subject)
	if err != nil {
		return err
	}
	for _, f := range toCustomer {
		if err := a.deliverAll(ctx, log, cust.ConnectionIDs, after.Customer, after.Widget, f); err != nil {
			return err
		}
	}
	if ag != nil {
		for _, f := range toAgent {
			if err := a.deliverAll(ctx, log, ag.ConnectionIDs, *agent, "", f); err != nil {
				return err
			}
		}
	}
	if err := a.store.MarkNotified(ctx, after.ID, after.Version); err != nil {
		return err
	}
	log.InfoContext(ctx, "transition notified", "customerConnections", len(cust.ConnectionIDs))
	return nil
}

// deliverAll is deliver that reports a failed push (other than a gone
// connection) so the stream record is retried.
func (a *App) deliverAll(ctx context.Context, log *slog.Logger, conns []string, who conversation.Participant, widget string, f []byte) error {
	if len(conns) == 0 {
		return nil
	}
	res := a.push.Fanout(ctx, conns, f)
	a.forgetGone(ctx, log, res.Gone, who, widget)
	return res.Err
}

// FromStreamImage converts a stream record image (aws-lambda-go's
// attribute values) into the SDK's, so the store's decoders read both.
func FromStreamImage(img map[string]events.DynamoDBAttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		if av := fromStreamValue(v); av != nil {
			out[k] = av
		}
	}
	return out
}

func fromStreamValue(v events.DynamoDBAttributeValue) types.AttributeValue {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}
	case events.DataTypeMap:
		return &types.AttributeValueMemberM{Value: FromStreamImage(v.Map())}
	case events.DataTypeList:
		var l []types.AttributeValue
		for _, e := range v.List() {
			l = append(l, fromStreamValue(e))
		}
		return &types.AttributeValueMemberL{Value: l}
	default:
		panic(fmt.Sprintf("stream attribute of unknown type %v", v.DataType()))
	}
}
