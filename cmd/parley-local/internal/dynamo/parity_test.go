package dynamo

// Parity tests: each case is one function that makes the same SDK calls
// against the embedded store and against Amazon DynamoDB Local, the
// referee, and writes down what each call answered (success or error code,
// items as decoded values, counts, whether a page has a LastEvaluatedKey,
// cancellation reasons). The two transcripts must be equal. A difference the
// embedded store cannot remove is marked as known on its case, and listed in
// doc.go; the case then logs the difference instead of failing, and fails
// once the difference is gone so the mark does not outlive it.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"github.com/parley-chat/parley/cmd/parley-local/internal/ddblocal"
)

// The one DynamoDB Local of this test binary, started by the first parity
// test and stopped by TestMain.
var (
	refereeOnce sync.Once
	referee     *ddblocal.Server
	refereeErr  error
	caseSeq     atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if referee != nil {
		_ = referee.Close()
	}
	os.Exit(code)
}

// dynamoDBLocal returns the shared DynamoDB Local, starting it on first use.
// A parity test cannot mean anything without it, so it fails rather than
// skips when DynamoDB Local does not start.
func dynamoDBLocal(t *testing.T) *ddblocal.Server {
	t.Helper()
	refereeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		referee, refereeErr = ddblocal.Launch(ctx, ddblocal.Options{})
	})
	if refereeErr != nil {
		t.Fatalf("parity tests need Amazon DynamoDB Local as referee (Java 17+ and npm; see package ddblocal), and it did not start: %v", refereeErr)
	}
	return referee
}

func sdkConfig() aws.Config {
	// DynamoDB Local accepts only letters and digits in access keys.
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("parleylocal", "parleylocal", "")}
}

// side is one server under test and the transcript of what it answered.
type side struct {
	t        *testing.T
	name     string
	prefix   string // table names of this case start with it, the same on both sides
	db       *dynamodb.Client
	streams  *dynamodbstreams.Client
	endpoint string // for requests the SDK cannot make or whose raw shape matters (side.raw)
	lines    []string
}

func embeddedSide(t *testing.T, prefix string) *side {
	s := openStore(t, Options{})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &side{t: t, name: "embedded", prefix: prefix, db: client(t, s), endpoint: srv.URL,
		streams: dynamodbstreams.NewFromConfig(sdkConfig(), func(o *dynamodbstreams.Options) {
			o.BaseEndpoint = aws.String(srv.URL)
			o.Retryer = firstAnswer()
		})}
}

func localSide(t *testing.T, prefix string) *side {
	endpoint := dynamoDBLocal(t).Endpoint
	return &side{t: t, name: "DynamoDB Local", prefix: prefix, endpoint: endpoint,
		db: dynamodb.NewFromConfig(sdkConfig(), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(endpoint)
			o.Retryer = firstAnswer()
		}),
		streams: dynamodbstreams.NewFromConfig(sdkConfig(), func(o *dynamodbstreams.Options) {
			o.BaseEndpoint = aws.String(endpoint)
			o.Retryer = firstAnswer()
		})}
}

// parityCase is one scenario run on both servers.
type parityCase struct {
	name  string
	known string // a documented difference (doc.go) this case shows; "" demands equal transcripts
	run   func(ctx context.Context, s *side)
}

// runParity runs every case on both servers and compares the transcripts.
func runParity(t *testing.T, cases []parityCase) {
	t.Helper()
	dynamoDBLocal(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prefix := fmt.Sprintf("parity%d.", caseSeq.Add(1))
			ctx := t.Context()
			emb, loc := embeddedSide(t, prefix), localSide(t, prefix)
			tc.run(ctx, emb)
			tc.run(ctx, loc)
			diff := transcriptDiff(emb.lines, loc.lines)
			switch {
			case diff != "" && tc.known != "":
				t.Logf("known difference (see doc.go): %s\n%s", tc.known, diff)
			case diff != "":
				t.Errorf("the embedded store and DynamoDB Local disagree:\n%s", diff)
			case tc.known != "":
				t.Errorf("marked as a known difference (%s), but both servers answered alike; remove the mark and its doc.go entry:\n%s", tc.known, strings.Join(emb.lines, "\n"))
			}
		})
	}
}

func transcriptDiff(emb, loc []string) string {
	if slices.Equal(emb, loc) {
		return ""
	}
	var b strings.Builder
	for i := range max(len(emb), len(loc)) {
		e, l := "(nothing)", "(nothing)"
		if i < len(emb) {
			e = emb[i]
		}
		if i < len(loc) {
			l = loc[i]
		}
		mark := "  "
		if e != l {
			mark = "≠ "
		}
		fmt.Fprintf(&b, "%sstep %d\n    embedded:       %s\n    DynamoDB Local: %s\n", mark, i+1, e, l)
	}
	return b.String()
}

// table is the name a case's table has on both servers.
func (s *side) table(base string) string { return s.prefix + base }

// note writes one line of the transcript.
func (s *side) note(format string, args ...any) {
	s.lines = append(s.lines, fmt.Sprintf(format, args...))
}

// must stops the case when a setup step fails on one side: the rest of the
// transcript would compare nothing.
func (s *side) must(what string, err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("%s: %s: %v", s.name, what, err)
	}
}

// keySpec is "name:T" for a key attribute of type T (S, N or B).
func keySpec(spec string) (string, types.ScalarAttributeType) {
	name, typ, _ := strings.Cut(spec, ":")
	return name, types.ScalarAttributeType(typ)
}

// gsiSpec is a secondary index, projecting everything unless proj says
// otherwise (include lists INCLUDE's attributes).
type gsiSpec struct {
	name, hash, rng string
	proj            types.ProjectionType
	include         []string
}

func (g gsiSpec) projection() *types.Projection {
	if g.proj == "" {
		return &types.Projection{ProjectionType: types.ProjectionTypeAll}
	}
	p := &types.Projection{ProjectionType: g.proj}
	if len(g.include) > 0 {
		p.NonKeyAttributes = g.include
	}
	return p
}

// tableDefinition is a table for a case: hash and optional range key as
// keySpec strings, indexes and stream.
type tableDefinition struct {
	hash, rng string
	gsis      []gsiSpec
	lsis      []gsiSpec // local indexes: hash is the table's
	stream    types.StreamViewType
}

func (d tableDefinition) input(name string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	defined := map[string]bool{}
	attr := func(spec string, kt types.KeyType) []types.KeySchemaElement {
		if spec == "" {
			return nil
		}
		n, typ := keySpec(spec)
		if !defined[n] {
			defined[n] = true
			in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: typ})
		}
		return []types.KeySchemaElement{{AttributeName: aws.String(n), KeyType: kt}}
	}
	in.KeySchema = append(attr(d.hash, types.KeyTypeHash), attr(d.rng, types.KeyTypeRange)...)
	for _, g := range d.gsis {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.name),
			KeySchema:  append(attr(g.hash, types.KeyTypeHash), attr(g.rng, types.KeyTypeRange)...),
			Projection: g.projection(),
		})
	}
	for _, l := range d.lsis {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(l.name),
			KeySchema:  append(attr(d.hash, types.KeyTypeHash), attr(l.rng, types.KeyTypeRange)...),
			Projection: l.projection(),
		})
	}
	if d.stream != "" {
		in.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: d.stream}
	}
	return in
}

// create makes a table for the case and returns its name.
func (s *side) create(ctx context.Context, base string, d tableDefinition) string {
	s.t.Helper()
	name := s.table(base)
	_, err := s.db.CreateTable(ctx, d.input(name))
	s.must("CreateTable "+name, err)
	return name
}

// seed puts items without writing them into the transcript.
func (s *side) seed(ctx context.Context, table string, items ...map[string]types.AttributeValue) {
	s.t.Helper()
	for _, it := range items {
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it})
		s.must("seed "+table+" "+render(it), err)
	}
}

// show writes the item with the given key into the transcript, as a
// strongly consistent read sees it.
func (s *side) show(ctx context.Context, table string, key map[string]types.AttributeValue) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	s.record("GetItem "+render(key), out, err)
}

// record writes what one call answered: the error's code and what the
// error carries, or the output's data.
func (s *side) record(what string, out any, err error) {
	if err != nil {
		s.note("%s: %s", what, renderError(err))
		return
	}
	s.note("%s: ok %s", what, renderOutput(out))
}

func renderError(err error) string {
	var b strings.Builder
	var api smithy.APIError
	if !errors.As(err, &api) {
		return "not an API error: " + err.Error()
	}
	b.WriteString(api.ErrorCode())
	if e, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok && e.Item != nil {
		b.WriteString(" item=" + render(e.Item))
	}
	if e, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
		b.WriteString(" reasons=[")
		for i, r := range e.CancellationReasons {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(aws.ToString(r.Code))
			if r.Item != nil {
				b.WriteString(" item=" + render(r.Item))
			}
		}
		b.WriteString("]")
	}
	return b.String()
}

func renderOutput(out any) string {
	switch o := out.(type) {
	case *dynamodb.PutItemOutput:
		return "attributes=" + render(o.Attributes)
	case *dynamodb.UpdateItemOutput:
		return "attributes=" + render(o.Attributes)
	case *dynamodb.DeleteItemOutput:
		return "attributes=" + render(o.Attributes)
	case *dynamodb.GetItemOutput:
		return "item=" + render(o.Item)
	case *dynamodb.QueryOutput:
		return fmt.Sprintf("count=%d scanned=%d items=%s last=%s", o.Count, o.ScannedCount, renderItems(o.Items, false), render(o.LastEvaluatedKey))
	case *dynamodb.ScanOutput:
		// Scan order is each server's own hash order: compare as sets.
		return fmt.Sprintf("count=%d scanned=%d items=%s last=%t", o.Count, o.ScannedCount, renderItems(o.Items, true), o.LastEvaluatedKey != nil)
	case *dynamodb.BatchGetItemOutput:
		var parts []string
		for table, items := range o.Responses {
			parts = append(parts, table+":"+renderItems(items, true))
		}
		sort.Strings(parts)
		unprocessed := 0
		for _, ka := range o.UnprocessedKeys {
			unprocessed += len(ka.Keys)
		}
		return fmt.Sprintf("responses=%v unprocessed=%d", parts, unprocessed)
	case *dynamodb.BatchWriteItemOutput:
		unprocessed := 0
		for _, reqs := range o.UnprocessedItems {
			unprocessed += len(reqs)
		}
		return fmt.Sprintf("unprocessed=%d", unprocessed)
	case *dynamodb.TransactGetItemsOutput:
		var parts []string
		for _, r := range o.Responses {
			parts = append(parts, render(r.Item))
		}
		return fmt.Sprintf("items=%v", parts)
	case *dynamodb.CreateTableOutput:
		d := o.TableDescription
		var keys []string
		for _, k := range d.KeySchema {
			keys = append(keys, aws.ToString(k.AttributeName)+"/"+string(k.KeyType))
		}
		return fmt.Sprintf("keys=%v", keys)
	}
	return ""
}

// renderItems writes a list of items in order, or sorted when the order is
// the server's own.
func renderItems(items []map[string]types.AttributeValue, sorted bool) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = render(it)
	}
	if sorted {
		sort.Strings(parts)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// render writes an item (or key) with its attributes in name order and set
// members sorted, so equal items read alike; nil is "-".
func render(item map[string]types.AttributeValue) string {
	if item == nil {
		return "-"
	}
	names := make([]string, 0, len(item))
	for n := range item {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + renderValue(item[n])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func renderValue(v types.AttributeValue) string {
	sorted := func(xs []string) string {
		xs = slices.Clone(xs)
		sort.Strings(xs)
		return strings.Join(xs, ",")
	}
	switch v := v.(type) {
	case nil:
		return "<nil>"
	case *types.AttributeValueMemberS:
		return fmt.Sprintf("S%q", v.Value)
	case *types.AttributeValueMemberN:
		return "N(" + v.Value + ")"
	case *types.AttributeValueMemberB:
		return "B(" + base64.StdEncoding.EncodeToString(v.Value) + ")"
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprintf("BOOL(%t)", v.Value)
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberSS:
		return "SS(" + sorted(v.Value) + ")"
	case *types.AttributeValueMemberNS:
		return "NS(" + sorted(v.Value) + ")"
	case *types.AttributeValueMemberBS:
		xs := make([]string, len(v.Value))
		for i, b := range v.Value {
			xs[i] = base64.StdEncoding.EncodeToString(b)
		}
		return "BS(" + sorted(xs) + ")"
	case *types.AttributeValueMemberL:
		xs := make([]string, len(v.Value))
		for i, e := range v.Value {
			xs[i] = renderValue(e)
		}
		return "L[" + strings.Join(xs, ",") + "]"
	case *types.AttributeValueMemberM:
		return "M" + render(v.Value)
	}
	return fmt.Sprintf("%T", v)
}

// renderStreamImage is render for the Streams API's attribute values.
func renderStreamImage(item map[string]streamtypes.AttributeValue) string {
	if item == nil {
		return "-"
	}
	conv := make(map[string]types.AttributeValue, len(item))
	for n, v := range item {
		conv[n] = fromStream(v)
	}
	return render(conv)
}

func fromStream(v streamtypes.AttributeValue) types.AttributeValue {
	switch v := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: v.Value}
	case *streamtypes.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: v.Value}
	case *streamtypes.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: v.Value}
	case *streamtypes.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: v.Value}
	case *streamtypes.AttributeValueMemberNULL:
		return &types.AttributeValueMemberNULL{Value: v.Value}
	case *streamtypes.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: v.Value}
	case *streamtypes.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: v.Value}
	case *streamtypes.AttributeValueMemberBS:
		return &types.AttributeValueMemberBS{Value: v.Value}
	case *streamtypes.AttributeValueMemberL:
		out := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			out[i] = fromStream(e)
		}
		return &types.AttributeValueMemberL{Value: out}
	case *streamtypes.AttributeValueMemberM:
		out := make(map[string]types.AttributeValue, len(v.Value))
		for n, e := range v.Value {
			out[n] = fromStream(e)
		}
		return &types.AttributeValueMemberM{Value: out}
	}
	return nil
}

// item builds an item from name, value pairs: a string value is S, an int
// is N, an AttributeValue is itself.
func item(kv ...any) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = av(kv[i+1])
	}
	return out
}

func av(v any) types.AttributeValue {
	switch v := v.(type) {
	case string:
		return str(v)
	case int:
		return num(v)
	case bool:
		return &types.AttributeValueMemberBOOL{Value: v}
	case types.AttributeValue:
		return v
	}
	panic(fmt.Sprintf("av(%T)", v))
}

func strSet(xs ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: xs} }

func numSet(xs ...int) types.AttributeValue {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprint(x)
	}
	return &types.AttributeValueMemberNS{Value: out}
}

func list(xs ...any) types.AttributeValue {
	out := make([]types.AttributeValue, len(xs))
	for i, x := range xs {
		out[i] = av(x)
	}
	return &types.AttributeValueMemberL{Value: out}
}

func mapOf(kv ...any) types.AttributeValue { return &types.AttributeValueMemberM{Value: item(kv...)} }

func null() types.AttributeValue { return &types.AttributeValueMemberNULL{Value: true} }

// names is ExpressionAttributeNames from "#n", "name" pairs.
func names(kv ...string) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
