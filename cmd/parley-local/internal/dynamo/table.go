package dynamo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// Stream view types, as CreateTable's StreamSpecification spells them.
const (
	viewKeysOnly        = "KEYS_ONLY"
	viewNewImage        = "NEW_IMAGE"
	viewOldImage        = "OLD_IMAGE"
	viewNewAndOldImages = "NEW_AND_OLD_IMAGES"
)

type keyElement struct {
	AttributeName string
	KeyType       string
}

type attributeDefinition struct {
	AttributeName string
	AttributeType string
}

type indexDef struct {
	IndexName             string
	KeySchema             []keyElement
	Projection            json.RawMessage `json:",omitempty"`
	ProvisionedThroughput json.RawMessage `json:",omitempty"`
}

type streamSpec struct {
	StreamEnabled  bool
	StreamViewType string `json:",omitempty"`
}

// createTableInput is the part of CreateTable's input the store keeps:
// everything minidyn uses, so replaying it rebuilds the same table, plus the
// stream specification minidyn ignores.
type createTableInput struct {
	TableName              string
	AttributeDefinitions   []attributeDefinition
	KeySchema              []keyElement
	GlobalSecondaryIndexes []indexDef      `json:",omitempty"`
	LocalSecondaryIndexes  []indexDef      `json:",omitempty"`
	BillingMode            string          `json:",omitempty"`
	ProvisionedThroughput  json.RawMessage `json:",omitempty"`
	StreamSpecification    *streamSpec     `json:",omitempty"`
}

type ttlSpec struct {
	AttributeName string
	Enabled       bool
}

// tableDef is what the store persists about a table besides its items.
// UpdateTable changes are folded into Create, so Create always rebuilds the
// table as it is now.
type tableDef struct {
	Create      createTableInput `json:"create"`
	Created     time.Time        `json:"created"`
	StreamLabel string           `json:"streamLabel,omitempty"` // kept so the stream ARN survives a restart
	TTL         *ttlSpec         `json:"ttl,omitempty"`
}

func (d tableDef) name() string { return d.Create.TableName }

func (d tableDef) streamEnabled() bool {
	return d.Create.StreamSpecification != nil && d.Create.StreamSpecification.StreamEnabled
}

// key picks the primary key attributes out of an item; ok is false when one
// is missing.
func (d tableDef) key(item attrs) (attrs, bool) {
	key := attrs{}
	for _, k := range d.Create.KeySchema {
		v, ok := item[k.AttributeName]
		if !ok {
			return nil, false
		}
		key[k.AttributeName] = v
	}
	return key, len(key) > 0
}

// keyID names an item uniquely across tables, whatever whitespace the
// client put into its key.
func (d tableDef) keyID(key attrs) string {
	var b strings.Builder
	b.WriteString(d.name())
	for _, k := range d.Create.KeySchema {
		b.WriteByte(0)
		b.WriteString(compactJSON(key[k.AttributeName]))
	}
	return b.String()
}

func (s *Store) tableARN(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", s.opts.Region, s.opts.AccountID, name)
}

func (s *Store) streamARN(d tableDef) string {
	return s.tableARN(d.name()) + "/stream/" + d.StreamLabel
}

// streamLabel is DynamoDB's label format: the time the stream was enabled.
func streamLabel(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000")
}

// validTableName applies DynamoDB's rule for table names, which minidyn
// does not check: 3 to 255 characters of [a-zA-Z0-9_.-].
func validTableName(name string) reply {
	if len(name) < 3 || len(name) > 255 {
		return validationError("1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must have length between 3 and 255", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return validationError("1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name)
		}
	}
	return reply{status: http.StatusOK}
}

// validKeySchemas applies the rules for key schemas that minidyn does not
// check: a HASH key first, then at most a RANGE key, and no attribute
// definition that no key of the table or its indexes uses.
func validKeySchemas(in createTableInput) reply {
	used := map[string]bool{}
	check := func(where string, ks []keyElement) reply {
		if len(ks) == 0 {
			return reply{status: http.StatusOK} // minidyn refuses a missing schema itself
		}
		if ks[0].KeyType != "HASH" {
			return validationError("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
		}
		if len(ks) > 1 && ks[1].KeyType != "RANGE" {
			return validationError("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		}
		if len(ks) > 2 {
			return validationError("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 2", where)
		}
		if len(ks) == 2 && ks[0].AttributeName == ks[1].AttributeName {
			return validationError("Both the Hash Key and the Range Key element in the KeySchema have the same name")
		}
		for _, k := range ks {
			used[k.AttributeName] = true
		}
		return reply{status: http.StatusOK}
	}
	if rep := check("keySchema", in.KeySchema); !rep.ok() {
		return rep
	}
	for _, ix := range append(slices.Clone(in.GlobalSecondaryIndexes), in.LocalSecondaryIndexes...) {
		if rep := check("indexKeySchema", ix.KeySchema); !rep.ok() {
			return rep
		}
	}
	var defined, unused []string
	for _, a := range in.AttributeDefinitions {
		defined = append(defined, a.AttributeName)
		if !used[a.AttributeName] {
			unused = append(unused, a.AttributeName)
		}
	}
	if len(unused) > 0 {
		keys := make([]string, 0, len(used))
		for k := range used {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return validationError("One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [%s], keys used: [%s]",
			strings.Join(defined, ", "), strings.Join(keys, ", "))
	}
	return reply{status: http.StatusOK}
}

func validStreamSpec(spec *streamSpec) reply {
	if spec == nil || !spec.StreamEnabled {
		return reply{status: http.StatusOK}
	}
	switch spec.StreamViewType {
	case viewKeysOnly, viewNewImage, viewOldImage, viewNewAndOldImages:
		return reply{status: http.StatusOK}
	case "":
		return validationError("StreamViewType is required when StreamEnabled is true")
	}
	return validationError("1 validation error detected: Value '%s' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]", spec.StreamViewType)
}

// createTable forwards CreateTable to minidyn after the checks it lacks and
// then records the definition, starts the stream and logs the table.
// The caller holds ddlMu exclusively.
func (s *Store) createTable(body []byte) reply {
	var in createTableInput
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "decode CreateTable input: "+err.Error())
	}
	if rep := validTableName(in.TableName); !rep.ok() {
		return rep
	}
	if rep := validStreamSpec(in.StreamSpecification); !rep.ok() {
		return rep
	}
	if rep := validKeySchemas(in); !rep.ok() {
		return rep
	}
	if in.StreamSpecification != nil && !in.StreamSpecification.StreamEnabled {
		in.StreamSpecification = nil // a disabled spec is the same as none, and DescribeTable omits it
	}
	rep := qualify(s.call("CreateTable", body))
	if !rep.ok() {
		return rep
	}
	now := s.opts.Now()
	def := tableDef{Create: in, Created: now}
	if def.streamEnabled() {
		def.StreamLabel = streamLabel(now)
	}
	if err := s.logRecords(logRecord{Op: opTable, Table: in.TableName, Def: &def}); err != nil {
		_ = s.callJSON("DeleteTable", map[string]string{"TableName": in.TableName}, nil)
		return internalError(err)
	}
	s.setTable(def)
	s.maybeCompact()
	return s.patchDescription(rep, "TableDescription", def, "ACTIVE")
}

// setTable records def and keeps the table's stream in step with it: a new
// stream when one is enabled, the old one ended when disabled.
func (s *Store) setTable(def tableDef) {
	s.ensureScratch(def)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[def.name()]
	if t == nil {
		t = &table{}
		s.tables[def.name()] = t
	}
	t.def = def
	switch {
	case !def.streamEnabled() && t.stream != nil:
		t.stream.close()
		t.stream = nil
	case def.streamEnabled() && (t.stream == nil || t.stream.arn != s.streamARN(def)):
		if t.stream != nil {
			t.stream.close()
		}
		t.stream = newStream(s.streamARN(def), def.Create.StreamSpecification.StreamViewType, s.opts.Now, s.streamCap, s.streamRetention)
	}
}

func (s *Store) dropTable(name string) {
	s.dropScratch(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tables[name]; t != nil && t.stream != nil {
		t.stream.close()
	}
	delete(s.tables, name)
}

type updateTableInput struct {
	TableName                   string
	AttributeDefinitions        []attributeDefinition
	BillingMode                 string          `json:",omitempty"`
	ProvisionedThroughput       json.RawMessage `json:",omitempty"`
	StreamSpecification         *streamSpec
	GlobalSecondaryIndexUpdates []struct {
		Create *indexDef
		Delete *struct{ IndexName string }
		Update *struct {
			IndexName             string
			ProvisionedThroughput json.RawMessage
		}
	}
}

// updateTable forwards UpdateTable and applies what minidyn ignores: stream
// enabling and disabling. The caller holds ddlMu exclusively.
func (s *Store) updateTable(body []byte) reply {
	var in updateTableInput
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "decode UpdateTable input: "+err.Error())
	}
	def, _, ok := s.table(in.TableName)
	if !ok {
		return notFoundError(in.TableName)
	}
	// DynamoDB allows one index change per call; holding to that also means
	// minidyn cannot fail halfway through a list and leave a state the log
	// does not describe.
	if len(in.GlobalSecondaryIndexUpdates) > 1 {
		return validationError("Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
	}
	if spec := in.StreamSpecification; spec != nil {
		if rep := validStreamSpec(spec); !rep.ok() {
			return rep
		}
		if spec.StreamEnabled && def.streamEnabled() {
			return validationError("Table already has an enabled stream: %s", s.streamARN(def))
		}
		if !spec.StreamEnabled && !def.streamEnabled() {
			return validationError("Stream is already disabled for table %s", in.TableName)
		}
	}
	rep := qualify(s.call("UpdateTable", body))
	if !rep.ok() {
		return rep
	}

	old := def
	def.Create = foldUpdate(def.Create, in)
	if spec := in.StreamSpecification; spec != nil {
		if spec.StreamEnabled {
			def.Create.StreamSpecification = &streamSpec{StreamEnabled: true, StreamViewType: spec.StreamViewType}
			def.StreamLabel = streamLabel(s.opts.Now())
		} else {
			def.Create.StreamSpecification, def.StreamLabel = nil, ""
		}
	}
	if err := s.logRecords(logRecord{Op: opTable, Table: in.TableName, Def: &def, Update: body}); err != nil {
		// The engine has the change but the disk does not: say so rather
		// than pretend, and keep serving the old definition.
		s.log.Error("log UpdateTable", "table", in.TableName, "err", err)
		s.setTable(old)
		return internalError(err)
	}
	s.setTable(def)
	s.maybeCompact()
	return s.patchDescription(rep, "TableDescription", def, "ACTIVE")
}

// foldUpdate applies an UpdateTable input to the create input that rebuilds
// the table, as minidyn applies it to the table.
func foldUpdate(c createTableInput, in updateTableInput) createTableInput {
	c.AttributeDefinitions = slices.Clone(c.AttributeDefinitions)
	for _, ad := range in.AttributeDefinitions {
		i := slices.IndexFunc(c.AttributeDefinitions, func(x attributeDefinition) bool { return x.AttributeName == ad.AttributeName })
		if i >= 0 {
			c.AttributeDefinitions[i] = ad
		} else {
			c.AttributeDefinitions = append(c.AttributeDefinitions, ad)
		}
	}
	if in.BillingMode != "" {
		c.BillingMode = in.BillingMode
	}
	if len(in.ProvisionedThroughput) > 0 {
		c.ProvisionedThroughput = in.ProvisionedThroughput
	}
	c.GlobalSecondaryIndexes = slices.Clone(c.GlobalSecondaryIndexes)
	for _, u := range in.GlobalSecondaryIndexUpdates {
		switch {
		case u.Create != nil:
			c.GlobalSecondaryIndexes = append(c.GlobalSecondaryIndexes, *u.Create)
		case u.Delete != nil:
			c.GlobalSecondaryIndexes = slices.DeleteFunc(c.GlobalSecondaryIndexes, func(x indexDef) bool { return x.IndexName == u.Delete.IndexName })
		case u.Update != nil:
			for i := range c.GlobalSecondaryIndexes {
				if c.GlobalSecondaryIndexes[i].IndexName == u.Update.IndexName {
					c.GlobalSecondaryIndexes[i].ProvisionedThroughput = u.Update.ProvisionedThroughput
				}
			}
		}
	}
	return c
}

// deleteTable forwards DeleteTable and forgets the table, ending its stream.
// The caller holds ddlMu exclusively.
func (s *Store) deleteTable(body []byte) reply {
	var in struct{ TableName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "decode DeleteTable input: "+err.Error())
	}
	def, _, known := s.table(in.TableName)
	rep := qualify(s.call("DeleteTable", body))
	if !rep.ok() || !known {
		return rep
	}
	if err := s.logRecords(logRecord{Op: opDropTable, Table: in.TableName}); err != nil {
		// The table is gone from memory already; after a restart it would
		// come back. Report it so the caller can retry.
		s.log.Error("log DeleteTable", "table", in.TableName, "err", err)
		s.dropTable(in.TableName)
		return internalError(err)
	}
	s.dropTable(in.TableName)
	s.maybeCompact()
	return s.patchDescription(rep, "TableDescription", def, "DELETING")
}

// describeTable serves DescribeTable. minidyn counts items without its own
// lock, so the count is taken under writeMu.
func (s *Store) describeTable(ctx context.Context, body []byte) reply {
	var in struct{ TableName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "decode DescribeTable input: "+err.Error())
	}
	def, _, ok := s.table(in.TableName)
	if !ok {
		return notFoundError(in.TableName)
	}
	if err := s.writeMu.lock(ctx, s.done); err != nil {
		return gaveUp(err)
	}
	rep := qualify(s.call("DescribeTable", body))
	s.writeMu.Unlock()
	if !rep.ok() {
		return rep
	}
	return s.patchDescription(rep, "Table", def, "ACTIVE")
}

// patchDescription completes minidyn's table description: it leaves out
// AttributeDefinitions, status, ARN, creation time and everything about
// streams, and writes every absent field as null.
func (s *Store) patchDescription(rep reply, field string, def tableDef, status string) reply {
	var out map[string]json.RawMessage
	if err := json.Unmarshal(rep.body, &out); err != nil {
		return internalError(fmt.Errorf("decode minidyn table description: %w", err))
	}
	dec := json.NewDecoder(bytes.NewReader(out[field]))
	dec.UseNumber()
	var desc map[string]any
	if err := dec.Decode(&desc); err != nil || desc == nil {
		return internalError(fmt.Errorf("decode minidyn table description: %v", err))
	}
	prune(desc)

	created := json.Number(fmt.Sprintf("%.3f", float64(def.Created.UnixMilli())/1000))
	desc["TableName"] = def.name()
	desc["TableStatus"] = status
	desc["TableArn"] = s.tableARN(def.name())
	desc["CreationDateTime"] = created
	desc["AttributeDefinitions"] = def.Create.AttributeDefinitions
	desc["KeySchema"] = def.Create.KeySchema
	if def.Create.BillingMode == "PAY_PER_REQUEST" {
		desc["BillingModeSummary"] = map[string]any{"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": created}
	}
	pt := map[string]any{"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
	if len(def.Create.ProvisionedThroughput) > 0 {
		var given map[string]any
		if json.Unmarshal(def.Create.ProvisionedThroughput, &given) == nil {
			for k, v := range given {
				pt[k] = v
			}
		}
	}
	desc["ProvisionedThroughput"] = pt
	if def.streamEnabled() {
		desc["StreamSpecification"] = def.Create.StreamSpecification
		desc["LatestStreamArn"] = s.streamARN(def)
		desc["LatestStreamLabel"] = def.StreamLabel
	}
	out[field], _ = json.Marshal(desc)
	return okReply(out)
}

// prune removes null and empty-string members recursively: minidyn encodes
// the SDK's output structs as they are, so every unset field arrives as null
// and every unset enum as "".
func prune(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil || e == "" {
				delete(v, k)
				continue
			}
			prune(e)
		}
	case []any:
		for _, e := range v {
			prune(e)
		}
	}
}

// listTables serves ListTables, which minidyn lacks, from the store's own
// table list, in name order as DynamoDB pages them.
func (s *Store) listTables(body []byte) reply {
	var in struct {
		ExclusiveStartTableName string
		Limit                   *int
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "decode ListTables input: "+err.Error())
	}
	limit := 100
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 100 {
			return validationError("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit)
		}
		limit = *in.Limit
	}
	s.mu.Lock()
	names := make([]string, 0, len(s.tables))
	for name := range s.tables {
		if name > in.ExclusiveStartTableName {
			names = append(names, name)
		}
	}
	s.mu.Unlock()
	sort.Strings(names)
	out := struct {
		TableNames             []string
		LastEvaluatedTableName string `json:",omitempty"`
	}{TableNames: names}
	if len(names) > limit {
		out.TableNames = names[:limit]
		out.LastEvaluatedTableName = names[limit-1]
	}
	return okReply(out)
}
