package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The write path. A write request is checked whole, then, under writeMu,
// evaluated against the items as they are: conditions, update expressions,
// the new images and their checks. Nothing changes until all of it
// succeeded; then the changed items are appended to the write-ahead log,
// applied to the tables and their indexes together, and streamed, in that
// order, so a stream consumer never sees a change a restart would undo,
// and a transaction or a batch is applied whole or not at all.

// change is one item a write names: its images around the write.
type change struct {
	t        *table
	key      ditem
	id       string
	old, new ditem
	check    bool // a ConditionCheck: looked at, never written
}

// idempotencyWindow is how long DynamoDB remembers a ClientRequestToken.
const idempotencyWindow = 10 * time.Minute

// tokenEntry is what a ClientRequestToken was used for.
type tokenEntry struct {
	digest [32]byte
	at     time.Time
	reply  reply
}

// writeItems runs one item write request; who marks the stream records of
// TTL deletions.
func (s *Store) writeItems(ctx context.Context, op string, body []byte, who *events.DynamoDBUserIdentity) reply {
	switch op {
	case "PutItem":
		return s.putItem(ctx, body, who)
	case "UpdateItem":
		return s.updateItem(ctx, body, who)
	case "DeleteItem":
		return s.deleteItem(ctx, body, who)
	case "BatchWriteItem":
		return s.batchWriteItem(ctx, body, who)
	case "TransactWriteItems":
		return s.transactWriteItems(ctx, body, who)
	}
	return errorReply(http.StatusBadRequest, "UnknownOperationException", "operation "+op+" is not supported by the local DynamoDB")
}

// singleInput is what PutItem, UpdateItem and DeleteItem share, and the
// actions of a transaction.
type singleInput struct {
	TableName                           string
	Item                                map[string]json.RawMessage
	Key                                 map[string]json.RawMessage
	ReturnValues                        string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	ReturnValuesOnConditionCheckFailure string
	exprFields
}

// prepared is one parsed write of an item.
type prepared struct {
	op   string // PutItem, UpdateItem, DeleteItem, ConditionCheck
	in   *singleInput
	t    *table
	item ditem // PutItem's item
	key  ditem
	id   string
	x    *exprs
}

// prepare parses and checks one write without looking at any item.
func (s *Store) prepare(op string, in *singleInput) (*prepared, *apiError) {
	t, err := s.lookup(in.TableName)
	if err != nil {
		return nil, err
	}
	switch in.ReturnValuesOnConditionCheckFailure {
	case "", "NONE", "ALL_OLD":
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", in.ReturnValuesOnConditionCheckFailure)
	}
	p := &prepared{op: op, in: in, t: t}
	if p.x, err = parseExprs(&in.exprFields); err != nil {
		return nil, err
	}
	if op == "PutItem" {
		if p.item, err = decodeItem(in.Item); err != nil {
			return nil, err
		}
		if p.item == nil {
			return nil, validation("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
		}
		p.key = t.data.keyOf(p.item)
	} else {
		if p.key, err = parseKey(t.data, in.Key); err != nil {
			return nil, err
		}
	}
	if op == "UpdateItem" {
		for _, a := range p.x.update {
			for _, k := range t.data.schema.names() {
				if a.path[0].name == k {
					return nil, validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", k)
				}
			}
		}
	}
	return p, nil
}

// checkPut applies the checks of an item to be put; in a transaction its
// key checks are the action's cancellation reason.
func (p *prepared) checkPut() (keys, other *apiError) {
	if err := checkItemKeys(p.t.data, p.item); err != nil {
		return err, nil
	}
	return nil, checkItemSize(p.item)
}

// evaluate computes the change a prepared write makes of the current
// item: failed reports a failed condition; err a write DynamoDB refuses.
func (p *prepared) evaluate() (c *change, failed bool, err *apiError) {
	if p.op == "PutItem" && p.t.data.schema.hash != "" {
		if _, ok := p.item[p.t.data.schema.hash]; !ok {
			return nil, false, validation("One or more parameter values were invalid: Missing the key %s in the item", p.t.data.schema.hash)
		}
	}
	p.id = p.t.data.keyID(p.key)
	old := p.t.data.get(p.id)
	c = &change{t: p.t, key: p.key, id: p.id, old: old, new: old}
	if p.x.cond != nil && !p.x.cond.holds(old) {
		return c, true, nil
	}
	switch p.op {
	case "PutItem":
		c.new = p.item
	case "DeleteItem":
		c.new = nil
	case "ConditionCheck":
		c.check = true
	case "UpdateItem":
		if p.x.hasUpd {
			n, err := applyUpdate(old, p.key, p.x.update)
			if err != nil {
				return nil, false, err
			}
			c.new = n
		} else if old == nil {
			c.new = p.key.clone()
		}
		if err := checkItemSize(c.new); err != nil {
			return nil, false, err
		}
		if err := checkIndexKeys(p.t.data, c.new); err != nil {
			return nil, false, err
		}
	}
	return c, false, nil
}

func (s *Store) putItem(ctx context.Context, body []byte, who *events.DynamoDBUserIdentity) reply {
	return s.single(ctx, "PutItem", body, who, []string{"NONE", "ALL_OLD"})
}

func (s *Store) updateItem(ctx context.Context, body []byte, who *events.DynamoDBUserIdentity) reply {
	return s.single(ctx, "UpdateItem", body, who, []string{"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"})
}

func (s *Store) deleteItem(ctx context.Context, body []byte, who *events.DynamoDBUserIdentity) reply {
	return s.single(ctx, "DeleteItem", body, who, []string{"NONE", "ALL_OLD"})
}

// single serves PutItem, UpdateItem and DeleteItem.
func (s *Store) single(ctx context.Context, op string, body []byte, who *events.DynamoDBUserIdentity, returns []string) reply {
	var in singleInput
	if err := decodeBody(op, body, &in); err != nil {
		return err.reply()
	}
	if err := checkReturn(in.ReturnValues, returns, in.ReturnConsumedCapacity, in.ReturnItemCollectionMetrics); err != nil {
		return err.reply()
	}
	p, err := s.prepare(op, &in)
	if err != nil {
		return err.reply()
	}
	if op == "PutItem" {
		keys, other := p.checkPut()
		if keys != nil {
			return keys.reply()
		}
		if other != nil {
			return other.reply()
		}
	}
	if err := s.writeMu.lock(ctx, s.done); err != nil {
		return gaveUp(err)
	}
	defer s.writeMu.Unlock()
	c, failed, err := p.evaluate()
	if err != nil {
		return err.reply()
	}
	capa := newCapacity(in.ReturnConsumedCapacity)
	capa.write(p.t.data, in.TableName, c.old, c.new, failed, 1)
	if failed {
		rep := conditionFailed(c.old, in.ReturnValuesOnConditionCheckFailure == "ALL_OLD")
		if r := capa.report(); r != nil {
			rep.consumed = &capUnits{CapacityUnits: r.CapacityUnits, ReadCapacityUnits: r.ReadCapacityUnits, WriteCapacityUnits: r.WriteCapacityUnits}
		}
		return rep
	}
	if err := s.commit([]*change{c}, who); err != nil {
		return internalError(fmt.Errorf("%s: %w", op, err))
	}
	out := map[string]any{"ConsumedCapacity": capa.report()}
	switch in.ReturnValues {
	case "ALL_OLD":
		if c.old != nil {
			out["Attributes"] = c.old
		}
	case "ALL_NEW":
		out["Attributes"] = c.new
	case "UPDATED_OLD", "UPDATED_NEW":
		from := c.old
		if in.ReturnValues == "UPDATED_NEW" {
			from = c.new
		}
		picked := ditem{}
		for _, a := range p.x.update {
			if v, ok := from[a.path[0].name]; ok {
				picked[a.path[0].name] = v
			}
		}
		if len(picked) > 0 {
			out["Attributes"] = picked
		}
	}
	return output(out)
}

// conditionFailed is ConditionalCheckFailedException, with the item when
// the request asked for it.
func conditionFailed(old ditem, allOld bool) reply {
	out := map[string]any{"__type": errNamespace + "ConditionalCheckFailedException", "message": "The conditional request failed"}
	if allOld && old != nil {
		out["Item"] = old
	}
	b, err := json.Marshal(out)
	if err != nil {
		return internalError(err)
	}
	return reply{status: http.StatusBadRequest, body: b}
}

const maxBatchWrite = 25

func (s *Store) batchWriteItem(ctx context.Context, body []byte, who *events.DynamoDBUserIdentity) reply {
	var in struct {
		RequestItems map[string][]struct {
			PutRequest    *struct{ Item map[string]json.RawMessage }
			DeleteRequest *struct{ Key map[string]json.RawMessage }
		}
		ReturnConsumedCapacity      string
		ReturnItemCollectionMetrics string
	}
	if err := decodeBody("BatchWriteItem", body, &in); err != nil {
		return err.reply()
	}
	if err := checkCapacityParams(in.ReturnConsumedCapacity, in.ReturnItemCollectionMetrics); err != nil {
		return err.reply()
	}
	if len(in.RequestItems) == 0 {
		return validationError("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	names := make([]string, 0, len(in.RequestItems))
	total := 0
	for name, reqs := range in.RequestItems {
		names = append(names, name)
		if len(reqs) == 0 {
			return validationError("1 validation error detected: Value '{%s=[]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]", name)
		}
		total += len(reqs)
	}
	if total > maxBatchWrite {
		return validationError("Too many items requested for the BatchWriteItem call")
	}
	sort.Strings(names)
	type write struct {
		t    *table
		item ditem // nil: a delete
		key  ditem
	}
	var writes []write
	seen := map[string]bool{}
	for _, name := range names {
		t, err := s.lookup(name)
		if err != nil {
			return err.reply()
		}
		for _, r := range in.RequestItems[name] {
			var w write
			w.t = t
			switch {
			case r.PutRequest != nil && r.DeleteRequest == nil:
				it, err := decodeItem(r.PutRequest.Item)
				if err == nil {
					err = checkItem(t.data, it)
				}
				if err != nil {
					return err.reply()
				}
				w.item, w.key = it, t.data.keyOf(it)
			case r.DeleteRequest != nil && r.PutRequest == nil:
				key, err := parseKey(t.data, r.DeleteRequest.Key)
				if err != nil {
					return err.reply()
				}
				w.key = key
			default:
				return validationError("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
			id := name + "\x00" + t.data.keyID(w.key)
			if seen[id] {
				return validationError("Provided list of item keys contains duplicates")
			}
			seen[id] = true
			writes = append(writes, w)
		}
	}
	if err := s.writeMu.lock(ctx, s.done); err != nil {
		return gaveUp(err)
	}
	defer s.writeMu.Unlock()
	capa := newCapacity(in.ReturnConsumedCapacity)
	changes := make([]*change, 0, len(writes))
	for _, w := range writes {
		id := w.t.data.keyID(w.key)
		c := &change{t: w.t, key: w.key, id: id, old: w.t.data.get(id), new: w.item}
		capa.write(w.t.data, w.t.def.name(), c.old, c.new, false, 1)
		changes = append(changes, c)
	}
	if err := s.commit(changes, who); err != nil {
		return internalError(fmt.Errorf("BatchWriteItem: %w", err))
	}
	return output(map[string]any{"UnprocessedItems": map[string]any{}, "ConsumedCapacity": capa.reports()})
}

const (
	maxTransactItems = 100
	maxTransactBytes = 4 << 20
)

func (s *Store) transactWriteItems(ctx context.Context, body []byte, who *events.DynamoDBUserIdentity) reply {
	var in struct {
		TransactItems []struct {
			Put, Update, Delete, ConditionCheck *singleInput
		}
		ClientRequestToken          *string
		ReturnConsumedCapacity      string
		ReturnItemCollectionMetrics string
	}
	if err := decodeBody("TransactWriteItems", body, &in); err != nil {
		return err.reply()
	}
	if err := checkCapacityParams(in.ReturnConsumedCapacity, in.ReturnItemCollectionMetrics); err != nil {
		return err.reply()
	}
	switch n := len(in.TransactItems); {
	case n == 0:
		return validationError("1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case n > maxTransactItems:
		return validationError("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to %d", maxTransactItems)
	}
	if tok := in.ClientRequestToken; tok != nil && (len(*tok) < 1 || len(*tok) > 36) {
		return validationError("1 validation error detected: Value '%s' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36", *tok)
	}
	var ps []*prepared
	var keyErrs []*apiError
	seen := map[string]bool{}
	for _, a := range in.TransactItems {
		var op string
		var one *singleInput
		n := 0
		for _, x := range []struct {
			op string
			in *singleInput
		}{{"PutItem", a.Put}, {"UpdateItem", a.Update}, {"DeleteItem", a.Delete}, {"ConditionCheck", a.ConditionCheck}} {
			if x.in != nil {
				op, one = x.op, x.in
				n++
			}
		}
		if n != 1 {
			return validationError("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		if op == "ConditionCheck" && one.ConditionExpression == nil {
			return validationError("1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null")
		}
		p, err := s.prepare(op, one)
		if err != nil {
			return err.reply()
		}
		var keyErr *apiError
		if op == "PutItem" {
			k, other := p.checkPut()
			if other != nil {
				return other.reply()
			}
			keyErr = k
		}
		keyErrs = append(keyErrs, keyErr)
		if keyErr == nil {
			id := p.t.def.name() + "\x00" + p.t.data.keyID(p.key)
			if seen[id] {
				return validationError("Transaction request cannot include multiple operations on one item")
			}
			seen[id] = true
		}
		ps = append(ps, p)
	}

	var digest [32]byte
	if in.ClientRequestToken != nil {
		var canon map[string]json.RawMessage
		_ = json.Unmarshal(body, &canon)
		delete(canon, "ClientRequestToken")
		delete(canon, "ReturnConsumedCapacity")
		b, _ := json.Marshal(canon)
		digest = sha256.Sum256(b)
	}

	if err := s.writeMu.lock(ctx, s.done); err != nil {
		return gaveUp(err)
	}
	defer s.writeMu.Unlock()
	if in.ClientRequestToken != nil {
		if prev, ok := s.tokens[*in.ClientRequestToken]; ok && s.opts.Now().Sub(prev.at) < idempotencyWindow {
			if prev.digest != digest {
				return errorReply(http.StatusBadRequest, "IdempotentParameterMismatchException", "The request uses the same client token as a previous, but non-identical request.")
			}
			return prev.reply
		}
	}

	capa := newCapacity(in.ReturnConsumedCapacity)
	changes := make([]*change, len(ps))
	reasons := make([]map[string]any, len(ps))
	cancelled := false
	size := 0
	for i, p := range ps {
		reasons[i] = map[string]any{"Code": "None"}
		if keyErrs[i] != nil {
			reasons[i] = map[string]any{"Code": "ValidationError", "Message": keyErrs[i].msg}
			cancelled = true
			continue
		}
		c, failed, err := p.evaluate()
		if err != nil {
			return err.reply()
		}
		changes[i] = c
		if failed {
			cancelled = true
			r := map[string]any{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
			if p.in.ReturnValuesOnConditionCheckFailure == "ALL_OLD" && c.old != nil {
				r["Item"] = c.old
			}
			reasons[i] = r
		}
		if c.new != nil && !c.check {
			size += c.new.size()
		}
	}
	if size > maxTransactBytes {
		return validationError("Transaction request cannot be larger than 4 MB")
	}
	if cancelled {
		codes := make([]string, len(reasons))
		for i, r := range reasons {
			codes[i] = r["Code"].(string)
		}
		out := map[string]any{"__type": errNamespace + "TransactionCanceledException",
			"message":             "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
			"CancellationReasons": reasons}
		b, err := json.Marshal(out)
		if err != nil {
			return internalError(err)
		}
		return reply{status: http.StatusBadRequest, body: b}
	}
	var writes []*change
	for i, c := range changes {
		if c.check {
			capa.read(ps[i].t.def.name(), nil, sizeOf(c.old), true, 2)
			continue
		}
		capa.write(c.t.data, c.t.def.name(), c.old, c.new, false, 2)
		writes = append(writes, c)
	}
	if err := s.commit(writes, who); err != nil {
		return internalError(fmt.Errorf("TransactWriteItems: %w", err))
	}
	rep := output(map[string]any{"ConsumedCapacity": capa.reports()})
	if in.ClientRequestToken != nil {
		s.rememberToken(*in.ClientRequestToken, tokenEntry{digest: digest, at: s.opts.Now(), reply: output(map[string]any{})})
	}
	return rep
}

func sizeOf(it ditem) int {
	if it == nil {
		return 0
	}
	return it.size()
}

// rememberToken keeps a ClientRequestToken for the idempotency window and
// forgets those past it. The caller holds writeMu.
func (s *Store) rememberToken(tok string, e tokenEntry) {
	if s.tokens == nil {
		s.tokens = map[string]tokenEntry{}
	}
	for k, old := range s.tokens {
		if e.at.Sub(old.at) >= idempotencyWindow {
			delete(s.tokens, k)
		}
	}
	s.tokens[tok] = e
}

// commit makes changed items durable, applies them, and then streams them.
// Only a logged change is applied and streamed, so a consumer never sees a
// change that a restart would undo. The caller holds writeMu.
func (s *Store) commit(changes []*change, who *events.DynamoDBUserIdentity) error {
	var changed []*change
	for _, c := range changes {
		if c.check || (c.old == nil && c.new == nil) || (c.old != nil && c.new != nil && c.old.equal(c.new)) {
			continue
		}
		changed = append(changed, c)
	}
	if len(changed) == 0 {
		return nil
	}
	recs := make([]logRecord, 0, len(changed))
	for _, c := range changed {
		if c.new != nil {
			recs = append(recs, logRecord{Op: opPut, Table: c.t.def.name(), Item: c.new.raw()})
		} else {
			recs = append(recs, logRecord{Op: opDelete, Table: c.t.def.name(), Key: c.key.raw()})
		}
	}
	if err := s.logRecords(recs...); err != nil {
		return err
	}
	for _, c := range changed {
		if c.new != nil {
			c.t.data.put(c.new)
		} else {
			c.t.data.delete(c.id)
		}
	}
	now := s.opts.Now()
	var order []*Stream
	batches := map[*Stream][]events.DynamoDBEventRecord{}
	for _, c := range changed {
		st := c.t.stream
		if st == nil {
			continue
		}
		if batches[st] == nil {
			order = append(order, st)
		}
		s.seq++
		batches[st] = append(batches[st], s.streamRecord(st, c, now, who))
	}
	for _, st := range order {
		st.append(batches[st])
	}
	s.maybeCompact()
	return nil
}

// streamRecord builds the record DynamoDB Streams would carry for one
// changed item, holding the images its view type asks for.
func (s *Store) streamRecord(st *Stream, c *change, now time.Time, who *events.DynamoDBUserIdentity) events.DynamoDBEventRecord {
	name := "MODIFY"
	switch {
	case c.old == nil:
		name = "INSERT"
	case c.new == nil:
		name = "REMOVE"
	}
	view := st.viewType
	change := events.DynamoDBStreamRecord{
		ApproximateCreationDateTime: events.SecondsEpochTime{Time: now},
		Keys:                        eventImage(c.key),
		SequenceNumber:              formatSeq(s.seq),
		StreamViewType:              view,
	}
	size := c.key.size()
	if (view == viewNewImage || view == viewNewAndOldImages) && c.new != nil {
		change.NewImage = eventImage(c.new)
		size += c.new.size()
	}
	if (view == viewOldImage || view == viewNewAndOldImages) && c.old != nil {
		change.OldImage = eventImage(c.old)
		size += c.old.size()
	}
	change.SizeBytes = int64(size)
	rec := events.DynamoDBEventRecord{
		AWSRegion:      s.opts.Region,
		Change:         change,
		EventID:        newID(),
		EventName:      name,
		EventSource:    "aws:dynamodb",
		EventVersion:   "1.1",
		EventSourceArn: st.arn,
	}
	if who != nil {
		u := *who
		rec.UserIdentity = &u
	}
	return rec
}

// eventImage converts an image to the Lambda event's attribute values.
func eventImage(it ditem) map[string]events.DynamoDBAttributeValue {
	out := make(map[string]events.DynamoDBAttributeValue, len(it))
	for name, v := range it {
		var ev events.DynamoDBAttributeValue
		if err := json.Unmarshal(v.appendJSON(nil), &ev); err != nil {
			continue
		}
		out[name] = ev
	}
	return out
}
