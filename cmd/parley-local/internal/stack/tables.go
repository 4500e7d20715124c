package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/parley-chat/parley/cmd/parley-local/internal/template"
)

// CreateTables creates the template's tables that do not exist yet, brings
// the global indexes of those that do to the template's, and turns on their
// TTL, the way CloudFormation would.
func CreateTables(ctx context.Context, db *dynamodb.Client, tables []*template.Table) error {
	for _, t := range tables {
		in, err := createTableInput(t)
		if err != nil {
			return fmt.Errorf("table %s: %w", t.LogicalID, err)
		}
		_, err = db.CreateTable(ctx, in)
		var inUse *types.ResourceInUseException
		if errors.As(err, &inUse) {
			err = updateIndexes(ctx, db, in)
		}
		if err != nil {
			return fmt.Errorf("create table %s: %w", t.Name, err)
		}
		if attr := t.TTLAttribute(); attr != "" {
			_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(t.Name),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
			})
			// Enabling TTL that is already on is a ValidationException in
			// DynamoDB ("TimeToLive is already enabled"): fine on a restart.
			var ae smithy.APIError
			if err != nil && !(errors.As(err, &ae) && ae.ErrorCode() == "ValidationException") {
				return fmt.Errorf("enable TTL on %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

// createTableInput maps an AWS::DynamoDB::Table's properties onto
// CreateTable. CloudFormation uses the API's own names for these, so the
// SDK's types decode them directly.
func createTableInput(t *template.Table) (*dynamodb.CreateTableInput, error) {
	props := map[string]any{"TableName": t.Name}
	for _, k := range []string{"AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode", "ProvisionedThroughput"} {
		if v, ok := t.Properties[k]; ok {
			props[k] = v
		}
	}
	if _, ok := props["BillingMode"]; !ok {
		props["BillingMode"] = "PROVISIONED"
	}
	if vt := t.StreamViewType(); vt != "" {
		props["StreamSpecification"] = map[string]any{"StreamEnabled": true, "StreamViewType": vt}
	}
	if props["BillingMode"] == "PROVISIONED" {
		if _, ok := props["ProvisionedThroughput"]; !ok {
			props["ProvisionedThroughput"] = map[string]any{"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
		}
	}
	b, err := json.Marshal(props)
	if err != nil {
		return nil, err
	}
	var in dynamodb.CreateTableInput
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("decode table properties: %w", err)
	}
	return &in, nil
}

// updateIndexes makes an existing table's global indexes the ones in: an
// index the table lacks is created (and backfilled), one in lacks is
// deleted, one whose keys or projection differ is replaced. DynamoDB takes
// one index change per UpdateTable and only while the table is ACTIVE, so
// they go one at a time, each waited for. A data directory written before
// the indexes changed (template.yaml, the conversations table) is brought
// up to date this way on the next start.
func updateIndexes(ctx context.Context, db *dynamodb.Client, in *dynamodb.CreateTableInput) error {
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	have := map[string]types.GlobalSecondaryIndexDescription{}
	for _, ix := range desc.Table.GlobalSecondaryIndexes {
		have[aws.ToString(ix.IndexName)] = ix
	}
	want := map[string]types.GlobalSecondaryIndex{}
	for _, ix := range in.GlobalSecondaryIndexes {
		want[aws.ToString(ix.IndexName)] = ix
	}
	var updates []types.GlobalSecondaryIndexUpdate
	for name, ix := range have {
		if w, ok := want[name]; !ok || !sameIndex(ix, w) {
			updates = append(updates, types.GlobalSecondaryIndexUpdate{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String(name)}})
		}
	}
	for _, ix := range in.GlobalSecondaryIndexes {
		if h, ok := have[aws.ToString(ix.IndexName)]; !ok || !sameIndex(h, ix) {
			updates = append(updates, types.GlobalSecondaryIndexUpdate{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: ix.IndexName, KeySchema: ix.KeySchema, Projection: ix.Projection, ProvisionedThroughput: ix.ProvisionedThroughput,
			}})
		}
	}
	for _, u := range updates {
		up := &dynamodb.UpdateTableInput{TableName: in.TableName, GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{u}}
		if u.Create != nil {
			// The definitions of the attributes the new index's keys use:
			// DynamoDB refuses definitions no key uses.
			up.AttributeDefinitions = definitionsOf(in.AttributeDefinitions, u.Create.KeySchema)
		}
		if _, err := db.UpdateTable(ctx, up); err != nil {
			return fmt.Errorf("update indexes: %w", err)
		}
		if err := waitIndexes(ctx, db, in.TableName); err != nil {
			return err
		}
	}
	return nil
}

func definitionsOf(defs []types.AttributeDefinition, keys []types.KeySchemaElement) []types.AttributeDefinition {
	var out []types.AttributeDefinition
	for _, d := range defs {
		if slices.ContainsFunc(keys, func(k types.KeySchemaElement) bool {
			return aws.ToString(k.AttributeName) == aws.ToString(d.AttributeName)
		}) {
			out = append(out, d)
		}
	}
	return out
}

// sameIndex reports whether an existing index has the keys and projection
// of a wanted one.
func sameIndex(have types.GlobalSecondaryIndexDescription, want types.GlobalSecondaryIndex) bool {
	if len(have.KeySchema) != len(want.KeySchema) || have.Projection == nil || want.Projection == nil ||
		have.Projection.ProjectionType != want.Projection.ProjectionType {
		return false
	}
	for i, k := range have.KeySchema {
		if aws.ToString(k.AttributeName) != aws.ToString(want.KeySchema[i].AttributeName) || k.KeyType != want.KeySchema[i].KeyType {
			return false
		}
	}
	h, w := slices.Clone(have.Projection.NonKeyAttributes), slices.Clone(want.Projection.NonKeyAttributes)
	slices.Sort(h)
	slices.Sort(w)
	return slices.Equal(h, w)
}

// waitIndexes waits until the table and every index on it are ACTIVE (an
// index deleted is gone from the description).
func waitIndexes(ctx context.Context, db *dynamodb.Client, table *string) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: table})
		if err != nil {
			return fmt.Errorf("describe: %w", err)
		}
		ready := desc.Table.TableStatus == types.TableStatusActive
		for _, ix := range desc.Table.GlobalSecondaryIndexes {
			ready = ready && ix.IndexStatus == types.IndexStatusActive
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the indexes of %s: %w", aws.ToString(table), ctx.Err())
		case <-tick.C:
		}
	}
}
