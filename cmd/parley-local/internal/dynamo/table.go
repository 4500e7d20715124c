package dynamo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
// everything that defines the table, so replaying it rebuilds the same
// table, its indexes and its stream.
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

// validTableName applies DynamoDB's rule for table names: 3 to 255
// characters of [a-zA-Z0-9_.-].
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

// validKeySchemas applies the rules for key schemas: a HASH key first, then at most a RANGE key, and no attribute
// definition that no key of the table or its indexes uses.
func validKeySchemas(in createTableInput) reply {
	used := map[string]bool{}
	check := func(where string, ks []keyElement) reply {
		if len(ks) == 0 {
			return reply{status: http.StatusOK} // validDefinition refuses a missing schema
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

// createTable serves CreateTable: the checks DynamoDB makes, then the
// definition logged, the table and its stream created. The caller holds
// ddlMu exclusively.
func (s *Store) createTable(body []byte) reply {
	var in createTableInput
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "decode CreateTable input: "+err.Error())
	}
	if rep := validTableName(in.TableName); !rep.ok() {
		return rep
	}
	if _, _, exists := s.table(in.TableName); exists {
		return errorReply(http.StatusBadRequest, "ResourceInUseException", "Table already exists: "+in.TableName)
	}
	if rep := validStreamSpec(in.StreamSpecification); !rep.ok() {
		return rep
	}
	if err := validDefinition(in); err != nil {
		return err.reply()
	}
	if rep := validKeySchemas(in); !rep.ok() {
		return rep
	}
	if in.StreamSpecification != nil && !in.StreamSpecification.StreamEnabled {
		in.StreamSpecification = nil // a disabled spec is the same as none, and DescribeTable omits it
	}
	if in.BillingMode == "" {
		in.BillingMode = "PROVISIONED"
	}
	now := s.opts.Now()
	def := tableDef{Create: in, Created: now}
	if def.streamEnabled() {
		def.StreamLabel = streamLabel(now)
	}
	if err := s.logRecords(logRecord{Op: opTable, Table: in.TableName, Def: &def}); err != nil {
		return internalError(err)
	}
	s.setTable(def)
	s.maybeCompact()
	return s.descriptionReply("TableDescription", in.TableName, "ACTIVE")
}

// validDefinition makes the checks of a table definition beyond its key
// schemas: key attributes defined with a key type, billing and throughput
// that agree, indexes that DynamoDB would create.
func validDefinition(in createTableInput) *apiError {
	if len(in.KeySchema) == 0 {
		return validation("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null")
	}
	types := map[string]string{}
	var defined []string
	for _, a := range in.AttributeDefinitions {
		if len(a.AttributeName) == 0 || len(a.AttributeName) > 255 {
			return validation("1 validation error detected: Value '%s' at 'attributeDefinitions.1.member.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255", a.AttributeName)
		}
		switch a.AttributeType {
		case "S", "N", "B":
		default:
			return validation("1 validation error detected: Value '%s' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", a.AttributeType)
		}
		types[a.AttributeName] = a.AttributeType
		defined = append(defined, a.AttributeName)
	}
	undefined := func(ks []keyElement) *apiError {
		var keys []string
		missing := false
		for _, k := range ks {
			if len(k.AttributeName) == 0 || len(k.AttributeName) > 255 {
				return validation("1 validation error detected: Value '%s' at 'keySchema.1.member.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255", k.AttributeName)
			}
			keys = append(keys, k.AttributeName)
			if types[k.AttributeName] == "" {
				missing = true
			}
			if k.KeyType != "HASH" && k.KeyType != "RANGE" {
				return validation("1 validation error detected: Value '%s' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]", k.KeyType)
			}
		}
		if missing {
			return validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", strings.Join(keys, ", "), strings.Join(defined, ", "))
		}
		return nil
	}
	for _, ks := range append([][]keyElement{in.KeySchema}, indexSchemas(in)...) {
		for _, k := range ks {
			if len(k.AttributeName) == 0 || len(k.AttributeName) > 255 {
				return validation("1 validation error detected: Value '%s' at 'keySchema.1.member.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255", k.AttributeName)
			}
		}
	}
	if err := undefined(in.KeySchema); err != nil {
		return err
	}
	switch in.BillingMode {
	case "PAY_PER_REQUEST":
		if len(in.ProvisionedThroughput) > 0 {
			return validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
	case "", "PROVISIONED":
		if len(in.ProvisionedThroughput) == 0 {
			return validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
	default:
		return validation("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", in.BillingMode)
	}
	names := map[string]bool{}
	checkIndex := func(ix indexDef, local bool) *apiError {
		if len(ix.IndexName) < 3 || len(ix.IndexName) > 255 {
			return validation("Invalid table/index name.  Table/index names must be between 3 and 255 characters long, and may contain only the characters a-z, A-Z, 0-9, '_', '-', and '.'")
		}
		if names[ix.IndexName] {
			return validation("One or more parameter values were invalid: Duplicate index name: %s", ix.IndexName)
		}
		names[ix.IndexName] = true
		if len(ix.KeySchema) == 0 {
			return validation("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null")
		}
		if err := undefined(ix.KeySchema); err != nil {
			return err
		}
		var p projection
		if len(ix.Projection) == 0 || json.Unmarshal(ix.Projection, &p) != nil || p.ProjectionType == "" {
			return validation("One or more parameter values were invalid: Unknown ProjectionType: null")
		}
		switch p.ProjectionType {
		case "ALL", "KEYS_ONLY":
			if len(p.NonKeyAttributes) > 0 {
				return validation("One or more parameter values were invalid: ProjectionType is %s, but NonKeyAttributes is specified", p.ProjectionType)
			}
		case "INCLUDE":
			if len(p.NonKeyAttributes) == 0 {
				return validation("One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
			}
		default:
			return validation("One or more parameter values were invalid: Unknown ProjectionType: %s", p.ProjectionType)
		}
		if local {
			if len(in.KeySchema) < 2 {
				return validation("One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
			}
			if ix.KeySchema[0].AttributeName != in.KeySchema[0].AttributeName {
				return validation("One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: %s. index hash key: %s, table hash key: %s",
					ix.IndexName, ix.KeySchema[0].AttributeName, in.KeySchema[0].AttributeName)
			}
			if len(ix.KeySchema) < 2 {
				return validation("One or more parameter values were invalid: Index KeySchema must have a range key for index: %s", ix.IndexName)
			}
		} else {
			if in.BillingMode == "PAY_PER_REQUEST" && len(ix.ProvisionedThroughput) > 0 {
				return validation("One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: %s when BillingMode is PAY_PER_REQUEST", ix.IndexName)
			}
			if in.BillingMode != "PAY_PER_REQUEST" && len(ix.ProvisionedThroughput) == 0 {
				return validation("One or more parameter values were invalid: ProvisionedThroughput is not specified for index: %s", ix.IndexName)
			}
		}
		return nil
	}
	if len(in.GlobalSecondaryIndexes) > 20 {
		return validation("One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20")
	}
	if len(in.LocalSecondaryIndexes) > 5 {
		return validation("One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5")
	}
	for _, ix := range in.GlobalSecondaryIndexes {
		if err := checkIndex(ix, false); err != nil {
			return err
		}
	}
	for _, ix := range in.LocalSecondaryIndexes {
		if err := checkIndex(ix, true); err != nil {
			return err
		}
	}
	return nil
}

// indexSchemas are the key schemas of a definition's indexes.
func indexSchemas(in createTableInput) [][]keyElement {
	var out [][]keyElement
	for _, ix := range append(slices.Clone(in.GlobalSecondaryIndexes), in.LocalSecondaryIndexes...) {
		out = append(out, ix.KeySchema)
	}
	return out
}

// setTable records def and keeps the table's data and stream in step with
// it: new data for a new table, indexes rebuilt when they changed, a new
// stream when one is enabled, the old one ended when disabled. The caller
// holds ddlMu exclusively (or is Open, alone).
func (s *Store) setTable(def tableDef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[def.name()]
	if t == nil {
		t = &table{data: newTableData(def)}
		s.tables[def.name()] = t
	} else if !sameIndexes(t.def, def) {
		t.data = t.data.reindex(def)
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

func sameIndexes(a, b tableDef) bool {
	x, _ := json.Marshal([]any{a.Create.GlobalSecondaryIndexes, a.Create.LocalSecondaryIndexes})
	y, _ := json.Marshal([]any{b.Create.GlobalSecondaryIndexes, b.Create.LocalSecondaryIndexes})
	return bytes.Equal(x, y)
}

func (s *Store) dropTable(name string) {
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

// updateTable serves UpdateTable: billing, throughput, streams and one
// global index created or deleted. The caller holds ddlMu exclusively, so
// no request sees the table between its old and new definitions.
func (s *Store) updateTable(body []byte) reply {
	var in updateTableInput
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "decode UpdateTable input: "+err.Error())
	}
	def, _, ok := s.table(in.TableName)
	if !ok {
		return notFoundError(in.TableName)
	}
	if in.BillingMode == "" && len(in.ProvisionedThroughput) == 0 && in.StreamSpecification == nil && len(in.GlobalSecondaryIndexUpdates) == 0 {
		return validationError("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
	}
	for _, ad := range in.AttributeDefinitions {
		for _, have := range def.Create.AttributeDefinitions {
			if have.AttributeName == ad.AttributeName && have.AttributeType != ad.AttributeType {
				return validationError("One or more parameter values were invalid: Attributes cannot be redefined. Please check that your attribute has the same type as previously defined. Attribute: %s", ad.AttributeName)
			}
		}
	}
	// DynamoDB allows one index change per call.
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
			return validationError("Table %s has no stream to disable: the stream is already disabled", in.TableName)
		}
	}
	for _, u := range in.GlobalSecondaryIndexUpdates {
		switch {
		case u.Create != nil:
			for _, ix := range append(append([]indexDef(nil), def.Create.GlobalSecondaryIndexes...), def.Create.LocalSecondaryIndexes...) {
				if ix.IndexName == u.Create.IndexName {
					return validationError("One or more parameter values were invalid: Index with name %s already exists", ix.IndexName)
				}
			}
		case u.Delete != nil, u.Update != nil:
			name := ""
			if u.Delete != nil {
				name = u.Delete.IndexName
			} else {
				name = u.Update.IndexName
			}
			found := false
			for _, ix := range def.Create.GlobalSecondaryIndexes {
				found = found || ix.IndexName == name
			}
			if !found {
				return errorReply(http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Index: "+name+" not found")
			}
		}
	}

	old := def
	def.Create = foldUpdate(def.Create, in)
	if err := validDefinition(def.Create); err != nil {
		return err.reply()
	}
	if rep := validKeySchemas(def.Create); !rep.ok() {
		return rep
	}
	if spec := in.StreamSpecification; spec != nil {
		if spec.StreamEnabled {
			def.Create.StreamSpecification = &streamSpec{StreamEnabled: true, StreamViewType: spec.StreamViewType}
			def.StreamLabel = streamLabel(s.opts.Now())
		} else {
			def.Create.StreamSpecification, def.StreamLabel = nil, ""
		}
	}
	if err := s.logRecords(logRecord{Op: opTable, Table: in.TableName, Def: &def, Update: body}); err != nil {
		s.log.Error("log UpdateTable", "table", in.TableName, "err", err)
		s.setTable(old)
		return internalError(err)
	}
	s.setTable(def)
	s.maybeCompact()
	return s.descriptionReply("TableDescription", in.TableName, "ACTIVE")
}

// foldUpdate applies an UpdateTable input to the create input that rebuilds
// the table.
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
		if in.BillingMode == "PAY_PER_REQUEST" {
			c.ProvisionedThroughput = nil
		}
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
	// Attribute definitions no key uses any more go, as in DynamoDB.
	used := map[string]bool{}
	for _, k := range c.KeySchema {
		used[k.AttributeName] = true
	}
	for _, ix := range append(slices.Clone(c.GlobalSecondaryIndexes), c.LocalSecondaryIndexes...) {
		for _, k := range ix.KeySchema {
			used[k.AttributeName] = true
		}
	}
	c.AttributeDefinitions = slices.DeleteFunc(c.AttributeDefinitions, func(a attributeDefinition) bool { return !used[a.AttributeName] })
	return c
}

// deleteTable serves DeleteTable and forgets the table, ending its stream.
// The caller holds ddlMu exclusively.
func (s *Store) deleteTable(body []byte) reply {
	var in struct{ TableName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "decode DeleteTable input: "+err.Error())
	}
	if _, err := s.lookup(in.TableName); err != nil {
		return err.reply()
	}
	rep := s.descriptionReply("TableDescription", in.TableName, "DELETING")
	if err := s.logRecords(logRecord{Op: opDropTable, Table: in.TableName}); err != nil {
		// The table is gone from memory already; after a restart it would
		// come back. Report it so the caller can retry.
		s.log.Error("log DeleteTable", "table", in.TableName, "err", err)
		s.dropTable(in.TableName)
		return internalError(err)
	}
	s.dropTable(in.TableName)
	s.maybeCompact()
	return rep
}

// describeTable serves DescribeTable. Item counts and sizes are read
// under writeMu.
func (s *Store) describeTable(ctx context.Context, body []byte) reply {
	var in struct{ TableName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "SerializationException", "decode DescribeTable input: "+err.Error())
	}
	if _, err := s.lookup(in.TableName); err != nil {
		return err.reply()
	}
	if err := s.writeMu.rlock(ctx, s.done); err != nil {
		return gaveUp(err)
	}
	defer s.writeMu.RUnlock()
	return s.descriptionReply("Table", in.TableName, "ACTIVE")
}

// descriptionReply answers with the table's description in member field.
func (s *Store) descriptionReply(field, name, status string) reply {
	s.mu.Lock()
	t := s.tables[name]
	s.mu.Unlock()
	if t == nil {
		return notFoundError(name)
	}
	return okReply(map[string]any{field: s.describe(t, status)})
}

// describe is a table's TableDescription.
func (s *Store) describe(t *table, status string) map[string]any {
	def := t.def
	created := json.Number(fmt.Sprintf("%.3f", float64(def.Created.UnixMilli())/1000))
	throughput := func(raw json.RawMessage) map[string]any {
		pt := map[string]any{"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
		var given map[string]any
		if len(raw) > 0 && json.Unmarshal(raw, &given) == nil {
			for k, v := range given {
				pt[k] = v
			}
		}
		return pt
	}
	arn := s.tableARN(def.name())
	desc := map[string]any{
		"TableName":                 def.name(),
		"TableStatus":               status,
		"TableArn":                  arn,
		"TableId":                   tableID(arn, def.Created),
		"CreationDateTime":          created,
		"AttributeDefinitions":      def.Create.AttributeDefinitions,
		"KeySchema":                 def.Create.KeySchema,
		"ProvisionedThroughput":     throughput(def.Create.ProvisionedThroughput),
		"ItemCount":                 t.data.main.count,
		"TableSizeBytes":            t.data.main.bytes,
		"DeletionProtectionEnabled": false,
	}
	if def.Create.BillingMode == "PAY_PER_REQUEST" {
		desc["BillingModeSummary"] = map[string]any{"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": created}
	}
	index := func(ix indexDef, global bool) map[string]any {
		info := t.data.indexes[ix.IndexName]
		d := map[string]any{"IndexName": ix.IndexName, "KeySchema": ix.KeySchema, "Projection": ix.Projection,
			"IndexSizeBytes": info.data.bytes, "ItemCount": info.data.count, "IndexArn": arn + "/index/" + ix.IndexName}
		if global {
			d["IndexStatus"] = "ACTIVE"
			d["ProvisionedThroughput"] = throughput(ix.ProvisionedThroughput)
		}
		return d
	}
	var gsis, lsis []map[string]any
	for _, ix := range def.Create.GlobalSecondaryIndexes {
		gsis = append(gsis, index(ix, true))
	}
	for _, ix := range def.Create.LocalSecondaryIndexes {
		lsis = append(lsis, index(ix, false))
	}
	if gsis != nil {
		desc["GlobalSecondaryIndexes"] = gsis
	}
	if lsis != nil {
		desc["LocalSecondaryIndexes"] = lsis
	}
	if def.streamEnabled() {
		desc["StreamSpecification"] = def.Create.StreamSpecification
		desc["LatestStreamArn"] = s.streamARN(def)
		desc["LatestStreamLabel"] = def.StreamLabel
	}
	return desc
}

// tableID is a table's TableId: a UUID that names this table, not another
// of the same name created later.
func tableID(arn string, created time.Time) string {
	h := sha256.Sum256([]byte(arn + "\x00" + created.UTC().Format(time.RFC3339Nano)))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// listTables serves ListTables from the store's table list, in name order
// as DynamoDB pages them.
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
