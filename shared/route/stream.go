package route

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
)

// StreamHandler is the handler of the conversations-stream function.
type StreamHandler = func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Notify handles the conversations stream: each transition is told to the
// parties (chat.Service.Notify), and every change that may let a queued
// conversation be assigned (conversation.AssignmentPossible: a new or
// requeued conversation, freed capacity) has its workstream's queue
// assigned once per batch (chat.Service.AssignQueue). A record that fails
// is reported as the batch's failure, so Lambda retries from it; later
// ones come again with it and are skipped if already done, and assigning a
// queue again is harmless. So no such change is lost to a request's
// deadline.
func Notify(d Deps) StreamHandler {
	svc, log := service(d), d.log()
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		ctx = chat.WithLog(ctx, log)
		var resp events.DynamoDBEventResponse
		fail := func(rec events.DynamoDBEventRecord, err error) (events.DynamoDBEventResponse, error) {
			log.ErrorContext(ctx, "stream record failed", "sequenceNumber", rec.Change.SequenceNumber, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			return resp, nil
		}
		// Each workstream to assign, with the first record that asked for
		// it (retried from there if assigning fails) and the conversations
		// that just entered its queue.
		type pending struct {
			first  events.DynamoDBEventRecord
			queued []*conversation.Conversation
		}
		assign := map[string]*pending{}
		var order []string
		for _, rec := range ev.Records {
			before, after, err := images(rec)
			if err != nil {
				return fail(rec, err)
			}
			if after == nil {
				continue
			}
			if before != nil {
				res, err := svc.Notify(ctx, before, after)
				if err == nil {
					err = svc.Deliver(ctx, "", res)
				}
				if err != nil {
					return fail(rec, err)
				}
			}
			if conversation.AssignmentPossible(before, after) {
				p := assign[after.Workstream]
				if p == nil {
					p = &pending{first: rec}
					assign[after.Workstream] = p
					order = append(order, after.Workstream)
				}
				if after.Status == conversation.Queued {
					p.queued = append(p.queued, after)
				}
			}
		}
		for _, ws := range order {
			p := assign[ws]
			res, err := svc.AssignQueue(ctx, ws, p.queued)
			if err == nil {
				err = svc.Deliver(ctx, "", res)
			}
			if err != nil {
				return fail(p.first, fmt.Errorf("assign %s: %w", ws, err))
			}
		}
		return resp, nil
	}
}

// images decodes a record's conversation before and after it: both for a
// MODIFY, only after for an INSERT, nothing for the rest.
func images(rec events.DynamoDBEventRecord) (before, after *conversation.Conversation, err error) {
	switch rec.EventName {
	case "INSERT":
		if rec.Change.NewImage == nil {
			return nil, nil, nil
		}
	case "MODIFY":
		if rec.Change.NewImage == nil || rec.Change.OldImage == nil {
			return nil, nil, nil
		}
		if before, err = store.ConversationFromStream(rec.Change.OldImage); err != nil {
			return nil, nil, fmt.Errorf("old image: %w", err)
		}
	default:
		return nil, nil, nil
	}
	if after, err = store.ConversationFromStream(rec.Change.NewImage); err != nil {
		return nil, nil, fmt.Errorf("new image: %w", err)
	}
	if after.ID == "" {
		return nil, nil, nil
	}
	return before, after, nil
}

// ScheduleHandler is the handler of the scheduled sweep function.
type ScheduleHandler = func(context.Context, events.CloudWatchEvent) (chat.SweepReport, error)

// Sweep is the scheduled housekeeping tick (chat.Service.Sweep); it
// returns what it did.
func Sweep(d Deps) ScheduleHandler {
	svc, log, now := service(d), d.log(), d.now()
	return func(ctx context.Context, ev events.CloudWatchEvent) (chat.SweepReport, error) {
		ctx = chat.WithLog(ctx, log)
		start := now()
		rep, res, err := svc.Sweep(ctx)
		err = errors.Join(err, svc.Deliver(ctx, "", res))
		log.InfoContext(ctx, "sweep done", "durationMs", now().Sub(start).Milliseconds(), "assigned", rep.Assigned,
			"reminded", rep.Reminded, "requeued", rep.Requeued, "closed", rep.Closed, "disconnects", rep.Disconnects)
		return rep, err
	}
}
