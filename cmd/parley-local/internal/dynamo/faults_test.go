package dynamo

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// TestFaultsAreThrottling: with FaultRate set, the store throttles that
// share of item requests in DynamoDB's wire shape, and the SDK's standard
// retryer retries them as throttling errors until they succeed.
func TestFaultsAreThrottling(t *testing.T) {
	s := openStore(t, Options{FaultRate: 0.3})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	retrying := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 30
			o.Backoff = noBackoff{}
			o.RateLimiter = ratelimit.None
		})
	})
	once := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.RetryMaxAttempts = 1
	})
	createTable(t, retrying, tableSpec{name: "flaky"}) // table operations are never throttled
	ctx := context.Background()
	for i := range 40 {
		put(t, retrying, "flaky", map[string]types.AttributeValue{"pk": str(fmt.Sprint(i))})
	}
	if s.faults.Load() == 0 {
		t.Fatal("no request was throttled at FaultRate 0.3")
	}
	out, err := retrying.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("flaky")})
	if err != nil || out.Count != 40 {
		t.Fatalf("Scan = %v items, %v; want every retried put written once", out.Count, err)
	}
	codes := map[string]bool{}
	for i := 0; len(codes) < 2 && i < 500; i++ {
		_, err := once.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("flaky"), Key: map[string]types.AttributeValue{"pk": str("1")}})
		var ae smithy.APIError
		if errors.As(err, &ae) {
			codes[ae.ErrorCode()] = true
			if !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
				t.Errorf("injected %s is not a throttling error to the SDK", ae.ErrorCode())
			}
		}
	}
	if !codes["ThrottlingException"] || !codes["ProvisionedThroughputExceededException"] {
		t.Errorf("injected errors = %v; want ThrottlingException and ProvisionedThroughputExceededException", codes)
	}
}
