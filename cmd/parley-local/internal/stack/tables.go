package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/parley-chat/parley/cmd/parley-local/internal/template"
)

// CreateTables creates the template's tables that do not exist yet and
// turns on their TTL, the way CloudFormation would.
func CreateTables(ctx context.Context, db *dynamodb.Client, tables []*template.Table) error {
	for _, t := range tables {
		in, err := createTableInput(t)
		if err != nil {
			return fmt.Errorf("table %s: %w", t.LogicalID, err)
		}
		_, err = db.CreateTable(ctx, in)
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
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
