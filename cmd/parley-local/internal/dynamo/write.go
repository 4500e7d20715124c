package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

const errItemTooLarge = "Item size has exceeded the maximum allowed size"

// target is one item a write request names, with its images around the
// write.
type target struct {
	def    tableDef
	stream *Stream
	key    attrs
	id     string
	put    attrs // the item a Put writes, for the size check before the write
	allOld bool  // ReturnValuesOnConditionCheckFailure is ALL_OLD

	known    bool  // the old image was read, so the item can be compared after the write
	old, new attrs // nil when the item does not exist
}

// itemInput is the part of PutItem, UpdateItem, DeleteItem, and of a
// transaction's actions, that says which item is written.
type itemInput struct {
	TableName                           string
	Item                                attrs
	Key                                 attrs
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	UpdateExpression                    string
	ExpressionAttributeNames            map[string]string
}

// newTarget resolves the item a write names; nil when the table or the key
// is unknown, in which case minidyn's own answer stands.
func (s *Store) newTarget(in *itemInput) *target {
	if in == nil {
		return nil
	}
	def, st, ok := s.table(in.TableName)
	if !ok {
		return nil
	}
	from := in.Key
	if from == nil {
		from = in.Item
	}
	key, ok := def.key(from)
	if !ok {
		return nil
	}
	return &target{
		def:    def,
		stream: st,
		key:    key,
		id:     def.keyID(key),
		put:    in.Item,
		allOld: in.ReturnValuesOnConditionCheckFailure == "ALL_OLD",
	}
}

// targets parses a write request into the items it touches, in request
// order; for TransactWriteItems the slice lines up with TransactItems. It
// also makes the checks minidyn lacks that need nothing but the request.
func (s *Store) targets(op string, body []byte) ([]*target, *itemInput, reply) {
	bad := func(err error) ([]*target, *itemInput, reply) {
		return nil, nil, errorReply(http.StatusBadRequest, "SerializationException", fmt.Sprintf("decode %s input: %v", op, err))
	}
	var ts []*target
	var single *itemInput
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem":
		single = &itemInput{}
		if err := json.Unmarshal(body, single); err != nil {
			return bad(err)
		}
		if op != "PutItem" {
			single.Item = nil
		}
		ts = []*target{s.newTarget(single)}
	case "BatchWriteItem":
		var in struct {
			RequestItems map[string][]struct {
				PutRequest    *struct{ Item attrs }
				DeleteRequest *struct{ Key attrs }
			}
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return bad(err)
		}
		names := make([]string, 0, len(in.RequestItems))
		for name := range in.RequestItems {
			names = append(names, name)
		}
		sort.Strings(names)
		seen := map[string]bool{}
		for _, name := range names {
			// minidyn applies a batch request by request and stops at the
			// first bad one; DynamoDB checks the whole batch first.
			if _, _, ok := s.table(name); !ok {
				return nil, nil, notFoundError(name)
			}
			for _, req := range in.RequestItems[name] {
				var t *target
				switch {
				case req.PutRequest != nil && req.DeleteRequest == nil:
					t = s.newTarget(&itemInput{TableName: name, Item: req.PutRequest.Item})
				case req.DeleteRequest != nil && req.PutRequest == nil:
					t = s.newTarget(&itemInput{TableName: name, Key: req.DeleteRequest.Key})
				default:
					continue // minidyn rejects it before writing anything
				}
				if t == nil {
					return nil, nil, validationError("The provided key element does not match the schema")
				}
				if seen[t.id] {
					return nil, nil, validationError("Provided list of item keys contains duplicates")
				}
				seen[t.id] = true
				ts = append(ts, t)
			}
		}
	case "TransactWriteItems":
		var in struct {
			TransactItems []struct {
				Put, Update, Delete, ConditionCheck *itemInput
			}
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return bad(err)
		}
		for _, a := range in.TransactItems {
			var t *target
			switch {
			case a.Put != nil:
				t = s.newTarget(a.Put)
			case a.Update != nil:
				a.Update.Item = nil
				t = s.newTarget(a.Update)
			case a.Delete != nil:
				a.Delete.Item = nil
				t = s.newTarget(a.Delete)
			case a.ConditionCheck != nil:
				a.ConditionCheck.Item = nil
				t = s.newTarget(a.ConditionCheck)
			}
			ts = append(ts, t)
		}
	}
	if single != nil && op != "UpdateItem" {
		switch single.ReturnValues {
		case "", "NONE", "ALL_OLD":
		default:
			return nil, nil, validationError("Return values set to invalid value")
		}
	}
	for _, t := range ts {
		if t == nil {
			continue
		}
		if rep := validKeyValues(t.key); !rep.ok() {
			return nil, nil, rep
		}
		if t.put == nil {
			continue
		}
		if rep := t.def.validIndexKeys(t.put); !rep.ok() {
			return nil, nil, rep
		}
		if itemSize(t.put) > maxItemSize {
			return nil, nil, validationError(errItemTooLarge)
		}
	}
	return ts, single, reply{status: http.StatusOK}
}

// writeItems runs one item write (PutItem, UpdateItem, DeleteItem,
// BatchWriteItem, TransactWriteItems) through minidyn, under writeMu: it
// reads the images of every item named before and after, and turns the
// items that changed into log records and stream records. who marks the
// stream records of TTL deletions.
func (s *Store) writeItems(ctx context.Context, op string, body []byte, who *events.DynamoDBUserIdentity) reply {
	ts, single, rep := s.targets(op, body)
	if !rep.ok() {
		return rep
	}

	if err := s.writeMu.lock(ctx, s.done); err != nil {
		return gaveUp(err)
	}
	defer s.writeMu.Unlock()
	for _, t := range ts {
		if t == nil {
			continue
		}
		old, err := s.image(t.def, t.key)
		t.old, t.known = old, err == nil
	}

	rep = s.applyWrite(op, body, ts)

	// minidyn's single-item writes and transactions change nothing when they
	// fail; its batches may have applied a prefix, so look at those anyway.
	if rep.ok() || op == "BatchWriteItem" {
		for _, t := range ts {
			if t == nil || !t.known {
				continue
			}
			cur, err := s.image(t.def, t.key)
			if err != nil {
				s.log.Error("read item after write", "op", op, "table", t.def.name(), "err", err)
				t.known = false
				continue
			}
			t.new = cur
		}
	} else {
		for _, t := range ts {
			if t != nil {
				t.new = t.old
			}
		}
	}

	var changed []*target
	seen := map[string]bool{}
	for _, t := range ts {
		if t != nil && !t.known && rep.ok() {
			// minidyn took a write on an item it would not show us: it cannot
			// be logged or streamed. Say so loudly rather than lose it quietly.
			s.log.Error("write applied but not logged", "op", op, "table", t.def.name(), "key", t.id)
		}
		if t == nil || !t.known || seen[t.id] || sameItem(t.old, t.new) {
			continue
		}
		seen[t.id] = true
		changed = append(changed, t)
	}
	for _, c := range changed {
		// Updates can only be measured once applied; undo the whole request
		// so that, as in DynamoDB, none of it happened.
		if c.new != nil && itemSize(c.new) > maxItemSize {
			s.revert(changed)
			return validationError(errItemTooLarge)
		}
		if c.new != nil {
			// An update may set an index key to a value the index refuses.
			if rep := c.def.validIndexKeys(c.new); !rep.ok() {
				s.revert(changed)
				return rep
			}
		}
	}
	if err := s.commit(changed, who); err != nil {
		s.revert(changed)
		return internalError(fmt.Errorf("%s: %w", op, err))
	}
	s.maybeCompact()

	if !rep.ok() {
		if rep.errorType() == "TransactionCanceledException" {
			rep = s.completeReasons(body, rep, ts)
		}
		return s.fillAllOld(op, rep, ts)
	}
	if op == "UpdateItem" && len(ts) == 1 && ts[0] != nil && ts[0].known {
		out := map[string]attrs{}
		if a := updateReturnValues(single.ReturnValues, ts[0].old, ts[0].new, updateActions(single.UpdateExpression, single.ExpressionAttributeNames)); a != nil {
			out["Attributes"] = a
		}
		return okReply(out)
	}
	if op == "DeleteItem" && len(ts) == 1 && ts[0] != nil {
		// minidyn never returns the deleted item.
		out := map[string]attrs{}
		if single.ReturnValues == "ALL_OLD" && ts[0].old != nil {
			out["Attributes"] = ts[0].old
		}
		return okReply(out)
	}
	if op == "PutItem" && len(ts) == 1 && ts[0] != nil {
		// minidyn answers every PutItem with the new item; DynamoDB returns
		// nothing, or the old item for ReturnValues ALL_OLD.
		out := map[string]attrs{}
		if single.ReturnValues == "ALL_OLD" && ts[0].old != nil {
			out["Attributes"] = ts[0].old
		}
		return okReply(out)
	}
	return rep
}

// image reads an item's current state from minidyn; nil when absent.
func (s *Store) image(def tableDef, key attrs) (attrs, error) {
	var out struct{ Item attrs }
	in := map[string]any{"TableName": def.name(), "Key": key, "ConsistentRead": true}
	if err := s.callJSON("GetItem", in, &out); err != nil {
		return nil, err
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

// revert puts the old images of changed items back, directly in minidyn.
func (s *Store) revert(changed []*target) {
	for _, c := range changed {
		var err error
		if c.old == nil {
			err = s.callJSON("DeleteItem", map[string]any{"TableName": c.def.name(), "Key": c.key}, nil)
		} else {
			err = s.putOver(c.def, c.key, c.old)
		}
		if err != nil {
			s.log.Error("revert rejected write", "table", c.def.name(), "err", err)
		}
	}
}

// commit makes changed items durable and then visible on their streams.
// Only a logged change is streamed, so a consumer never sees a change that
// a restart would undo.
func (s *Store) commit(changed []*target, who *events.DynamoDBUserIdentity) error {
	if len(changed) == 0 {
		return nil
	}
	recs := make([]logRecord, 0, len(changed))
	for _, c := range changed {
		if c.new != nil {
			recs = append(recs, logRecord{Op: opPut, Table: c.def.name(), Item: c.new})
		} else {
			recs = append(recs, logRecord{Op: opDelete, Table: c.def.name(), Key: c.key})
		}
	}
	if err := s.logRecords(recs...); err != nil {
		return err
	}
	now := s.opts.Now()
	var order []*Stream
	batches := map[*Stream][]events.DynamoDBEventRecord{}
	for _, c := range changed {
		if c.stream == nil {
			continue
		}
		if batches[c.stream] == nil {
			order = append(order, c.stream)
		}
		s.seq++
		batches[c.stream] = append(batches[c.stream], s.streamRecord(c, now, who))
	}
	for _, st := range order {
		st.append(batches[st])
	}
	return nil
}

// streamRecord builds the record DynamoDB Streams would carry for one
// changed item, holding the images its view type asks for.
func (s *Store) streamRecord(c *target, now time.Time, who *events.DynamoDBUserIdentity) events.DynamoDBEventRecord {
	name := "MODIFY"
	switch {
	case c.old == nil:
		name = "INSERT"
	case c.new == nil:
		name = "REMOVE"
	}
	view := c.stream.viewType
	change := events.DynamoDBStreamRecord{
		ApproximateCreationDateTime: events.SecondsEpochTime{Time: now},
		Keys:                        eventImage(c.key),
		SequenceNumber:              formatSeq(s.seq),
		StreamViewType:              view,
	}
	size := itemSize(c.key)
	if (view == viewNewImage || view == viewNewAndOldImages) && c.new != nil {
		change.NewImage = eventImage(c.new)
		size += itemSize(c.new)
	}
	if (view == viewOldImage || view == viewNewAndOldImages) && c.old != nil {
		change.OldImage = eventImage(c.old)
		size += itemSize(c.old)
	}
	change.SizeBytes = int64(size)
	rec := events.DynamoDBEventRecord{
		AWSRegion:      s.opts.Region,
		Change:         change,
		EventID:        newID(),
		EventName:      name,
		EventSource:    "aws:dynamodb",
		EventVersion:   "1.1",
		EventSourceArn: c.stream.arn,
	}
	if who != nil {
		u := *who
		rec.UserIdentity = &u
	}
	return rec
}

// eventImage converts an image to the Lambda event's attribute values.
func eventImage(a attrs) map[string]events.DynamoDBAttributeValue {
	out := make(map[string]events.DynamoDBAttributeValue, len(a))
	for name, raw := range a {
		var v events.DynamoDBAttributeValue
		if err := json.Unmarshal(raw, &v); err != nil {
			continue // minidyn writes an empty list or map as {}, which has no type to convert
		}
		out[name] = v
	}
	return out
}

// fillAllOld adds the item to a failed condition's error when the request
// asked for it with ReturnValuesOnConditionCheckFailure ALL_OLD; minidyn
// does it for UpdateItem only.
func (s *Store) fillAllOld(op string, rep reply, ts []*target) reply {
	var body map[string]json.RawMessage
	if json.Unmarshal(rep.body, &body) != nil {
		return rep
	}
	switch rep.errorType() {
	case "ConditionalCheckFailedException":
		if op == "TransactWriteItems" || len(ts) != 1 || ts[0] == nil || !ts[0].allOld || ts[0].old == nil || body["Item"] != nil {
			return rep
		}
		body["Item"], _ = json.Marshal(ts[0].old)
	case "TransactionCanceledException":
		var reasons []map[string]json.RawMessage
		if json.Unmarshal(body["CancellationReasons"], &reasons) != nil {
			return rep
		}
		for i, r := range reasons {
			var code string
			_ = json.Unmarshal(r["Code"], &code)
			if code != "ConditionalCheckFailed" || r["Item"] != nil || i >= len(ts) || ts[i] == nil || !ts[i].allOld || ts[i].old == nil {
				continue
			}
			r["Item"], _ = json.Marshal(ts[i].old)
		}
		body["CancellationReasons"], _ = json.Marshal(reasons)
	default:
		return rep
	}
	b, err := json.Marshal(body)
	if err != nil {
		return rep
	}
	return reply{status: rep.status, body: b}
}

// completeReasons fills in the cancellation reasons minidyn leaves at None:
// it stops at the first failed condition, while DynamoDB checks every
// action and reports each one that failed. Each remaining condition is
// checked alone, as a ConditionCheck on the same item, which writes
// nothing.
func (s *Store) completeReasons(body []byte, rep reply, ts []*target) reply {
	var in struct {
		TransactItems []map[string]map[string]json.RawMessage
	}
	var out map[string]json.RawMessage
	var reasons []map[string]json.RawMessage
	if json.Unmarshal(body, &in) != nil || json.Unmarshal(rep.body, &out) != nil || json.Unmarshal(out["CancellationReasons"], &reasons) != nil ||
		len(reasons) != len(in.TransactItems) || len(ts) != len(in.TransactItems) {
		return rep
	}
	for i, action := range in.TransactItems {
		var code string
		_ = json.Unmarshal(reasons[i]["Code"], &code)
		if code != "None" || ts[i] == nil {
			continue
		}
		for _, a := range action {
			if a["ConditionExpression"] == nil {
				continue
			}
			check := map[string]json.RawMessage{"ConditionExpression": a["ConditionExpression"]}
			check["TableName"], _ = json.Marshal(ts[i].def.name())
			check["Key"], _ = json.Marshal(ts[i].key)
			for _, k := range []string{"ExpressionAttributeNames", "ExpressionAttributeValues"} {
				if a[k] != nil {
					check[k] = a[k]
				}
			}
			b, _ := json.Marshal(map[string]any{"TransactItems": []any{map[string]any{"ConditionCheck": check}}})
			if r := qualify(s.call("TransactWriteItems", b)); r.errorType() == "TransactionCanceledException" {
				reasons[i] = map[string]json.RawMessage{"Code": json.RawMessage(`"ConditionalCheckFailed"`), "Message": json.RawMessage(`"The conditional request failed"`)}
			}
		}
	}
	out["CancellationReasons"], _ = json.Marshal(reasons)
	b, err := json.Marshal(out)
	if err != nil {
		return rep
	}
	return reply{status: rep.status, body: b}
}
