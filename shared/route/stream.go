package route

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/store"
)

// StreamHandler is the handler of the conversations-stream function.
type StreamHandler = func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Notify handles the conversations stream: each MODIFY record's transition
// is told to the parties (chat.Service.Notify). A record that fails is
// reported as the batch's failure, so Lambda retries from it; later ones
// come again with it and are skipped if already done.
func Notify(d Deps) StreamHandler {
	svc, log := service(d), d.log()
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		ctx = chat.WithLog(ctx, log)
		var resp events.DynamoDBEventResponse
		for _, rec := range ev.Records {
			if err := notify(ctx, svc, rec); err != nil {
				log.ErrorContext(ctx, "stream record failed", "sequenceNumber", rec.Change.SequenceNumber, "error", err.Error())
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
				return resp, nil
			}
		}
		return resp, nil
	}
}

func notify(ctx context.Context, svc *chat.Service, rec events.DynamoDBEventRecord) error {
	if rec.EventName != "MODIFY" || rec.Change.NewImage == nil || rec.Change.OldImage == nil {
		return nil
	}
	before, err := store.ConversationFromStream(rec.Change.OldImage)
	if err != nil {
		return fmt.Errorf("old image: %w", err)
	}
	after, err := store.ConversationFromStream(rec.Change.NewImage)
	if err != nil {
		return fmt.Errorf("new image: %w", err)
	}
	res, err := svc.Notify(ctx, before, after)
	if err != nil {
		return err
	}
	return svc.Deliver(ctx, "", res)
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
