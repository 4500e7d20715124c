package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// ttlService is who DynamoDB names as the author of a TTL deletion, so that
// stream consumers can tell expiry from a client's delete.
var ttlService = &events.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}

// updateTimeToLive serves UpdateTimeToLive. It takes
// writeMu so the change is ordered with item writes in the log.
func (s *Store) updateTimeToLive(body []byte) reply {
	var in struct {
		TableName               string
		TimeToLiveSpecification *struct {
			AttributeName string
			Enabled       *bool
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "decode UpdateTimeToLive input: "+err.Error())
	}
	spec := in.TimeToLiveSpecification
	switch {
	case spec == nil:
		return validationError("1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
	case spec.Enabled == nil:
		return validationError("1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null")
	case spec.AttributeName == "" || len(spec.AttributeName) > 255:
		return validationError("1 validation error detected: Value '%s' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length between 1 and 255", spec.AttributeName)
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	def, _, ok := s.table(in.TableName)
	if !ok {
		return notFoundError(in.TableName)
	}
	enabled := def.TTL != nil && def.TTL.Enabled
	switch {
	case *spec.Enabled && enabled:
		return validationError("TimeToLive is already enabled")
	case !*spec.Enabled && !enabled:
		return validationError("TimeToLive is already disabled")
	case !*spec.Enabled && def.TTL.AttributeName != spec.AttributeName:
		return validationError("TimeToLive is active on a different AttributeName: current AttributeName is %s", def.TTL.AttributeName)
	}
	def.TTL = &ttlSpec{AttributeName: spec.AttributeName, Enabled: *spec.Enabled}
	if err := s.logRecords(logRecord{Op: opTable, Table: in.TableName, Def: &def}); err != nil {
		return internalError(err)
	}
	s.setTable(def)
	s.maybeCompact()
	return okReply(map[string]any{"TimeToLiveSpecification": map[string]any{
		"AttributeName": spec.AttributeName,
		"Enabled":       *spec.Enabled,
	}})
}

// describeTimeToLive serves DescribeTimeToLive.
func (s *Store) describeTimeToLive(body []byte) reply {
	var in struct{ TableName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "decode DescribeTimeToLive input: "+err.Error())
	}
	def, _, ok := s.table(in.TableName)
	if !ok {
		return notFoundError(in.TableName)
	}
	desc := map[string]string{"TimeToLiveStatus": "DISABLED"}
	if def.TTL != nil && def.TTL.Enabled {
		desc = map[string]string{"TimeToLiveStatus": "ENABLED", "AttributeName": def.TTL.AttributeName}
	}
	return okReply(map[string]any{"TimeToLiveDescription": desc})
}

// ttlLoop deletes expired items every TTLInterval. DynamoDB does this in
// the background too, within days; items stay readable until then.
func (s *Store) ttlLoop() {
	tick := time.NewTicker(s.opts.TTLInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
			if _, err := s.sweepTTL(); err != nil {
				s.log.Error("delete expired items", "err", err)
			}
		}
	}
}

// sweepTTL deletes, once, every item whose TTL attribute (a number of epoch
// seconds) is in the past, in every table with TTL enabled, and returns how
// many it deleted. The deletes take the ordinary write path, so they are
// logged and streamed, as REMOVE records from the DynamoDB service.
func (s *Store) sweepTTL() (int, error) {
	s.ddlMu.RLock()
	defer s.ddlMu.RUnlock()
	if s.closed {
		return 0, nil
	}
	s.mu.Lock()
	var defs []tableDef
	for _, t := range s.tables {
		if t.def.TTL != nil && t.def.TTL.Enabled {
			defs = append(defs, t.def)
		}
	}
	s.mu.Unlock()
	sort.Slice(defs, func(i, j int) bool { return defs[i].name() < defs[j].name() })

	total := 0
	var errs []error
	for _, def := range defs {
		n, err := s.sweepTable(def)
		total += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

func (s *Store) sweepTable(def tableDef) (int, error) {
	if err := s.writeMu.rlock(context.Background(), s.done); err != nil {
		return 0, fmt.Errorf("expire items of %s: %w", def.name(), err)
	}
	items := s.items(def.name())
	s.writeMu.RUnlock()
	attr := def.TTL.AttributeName
	now, _ := parseDecimal(strconv.FormatInt(s.opts.Now().Unix(), 10))
	deleted := 0
	for _, item := range items {
		v, ok := item[attr]
		if !ok || v.k != kindN {
			continue // DynamoDB ignores a TTL attribute that is not a number
		}
		expires, _ := parseDecimal(v.s)
		if cmpDecimal(expires, now) >= 0 {
			continue
		}
		key := ditem{}
		for _, k := range def.Create.KeySchema {
			key[k.AttributeName] = item[k.AttributeName]
		}
		// The condition keeps a write that extended the TTL since the scan.
		body, err := json.Marshal(map[string]any{
			"TableName":                 def.name(),
			"Key":                       key,
			"ConditionExpression":       "#ttl = :ttl",
			"ExpressionAttributeNames":  map[string]string{"#ttl": attr},
			"ExpressionAttributeValues": map[string]dvalue{":ttl": v},
		})
		if err != nil {
			return deleted, fmt.Errorf("expire item of %s: %w", def.name(), err)
		}
		rep := s.writeItems(context.Background(), "DeleteItem", body, ttlService)
		switch {
		case rep.ok():
			deleted++
		case rep.errorType() != "ConditionalCheckFailedException":
			return deleted, fmt.Errorf("expire item of %s: %s", def.name(), rep.errorMessage())
		}
	}
	return deleted, nil
}
