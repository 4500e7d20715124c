package stack

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// endStaleConnections runs before the stack serves WebSockets: every
// connection the connections table (CONNECTIONS_TABLE in the functions'
// environment) still records is one the previous run lost when it was
// killed, since no connection survives a restart of the local stack; each
// gets the template's $disconnect with a DISCONNECT event, so the handlers
// update its agent or customer as for any dropped socket (gateway.EndStale).
// On an AWS endpoint the table may belong to a deployed API whose
// connections are alive, so it is left alone.
func (s *Stack) endStaleConnections(ctx context.Context, db *dynamodb.Client) error {
	endpoint := s.DynamoDBEndpoint()
	if u, err := url.Parse(endpoint); err == nil && awsDynamoDBHost.MatchString(u.Hostname()) {
		s.log.Info("connections table on AWS: not ending connections left recorded", "endpoint", endpoint)
		return nil
	}
	tables, err := s.tables()
	if err != nil {
		return err
	}
	keyAttr := "connectionId"
	for _, t := range s.spec.Tables {
		if t.Name == tables.Connections {
			if k := hashKey(t.Properties["KeySchema"]); k != "" {
				keyAttr = k
			}
		}
	}
	domain := strings.TrimPrefix(s.URL, "http://")
	var start map[string]types.AttributeValue
	ended := 0
	for {
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(tables.Connections), ExclusiveStartKey: start})
		if err != nil {
			return fmt.Errorf("read the connections left by the previous run from %s: %w", tables.Connections, err)
		}
		for _, item := range out.Items {
			id, ok := item[keyAttr].(*types.AttributeValueMemberS)
			if !ok {
				continue
			}
			var connectedAt time.Time
			if v, ok := item["connectedAt"].(*types.AttributeValueMemberS); ok {
				connectedAt, _ = time.Parse(time.RFC3339Nano, v.Value)
			}
			if err := s.gw.EndStale(ctx, id.Value, domain, connectedAt); err != nil {
				// Logged by the gateway; the sweeper reaps it in the end.
				continue
			}
			ended++
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	if ended > 0 {
		s.log.Warn("ended the connections the previous run left open (it was killed, not stopped)", "connections", ended)
	}
	return nil
}

// hashKey finds the HASH key's attribute name in a template KeySchema.
func hashKey(schema any) string {
	list, _ := schema.([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m["KeyType"] == "HASH" {
			name, _ := m["AttributeName"].(string)
			return name
		}
	}
	return ""
}
