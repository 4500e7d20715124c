package stack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/parley-chat/parley/cmd/parley-local/internal/dynamo"
	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

// awsConfig is what the handlers' SDK clients get locally: a region, dummy
// static credentials (requests are still SigV4-signed, as in AWS) and an
// HTTP client that does not outlive a stuck local server.
func awsConfig(region string) aws.Config {
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider("parleylocal", "parleylocal", ""),
		HTTPClient:  &http.Client{Timeout: 30 * time.Second, Transport: localTransport()},
		// Local servers answer at once; the SDK's default retries (with
		// backoff) would only hide faults under test.
		RetryMaxAttempts: 3,
	}
}

// adminAttempts is how often the stack's own client tries a request: at a
// tenth of requests throttled (Options.FaultRate 0.1) ten attempts all
// fail once in 10^10, where the handlers' three failed once in a thousand
// and a start's hundred-odd requests failed one start in twenty.
const adminAttempts = 10

// Connection pool of the handlers' clients. Every push and every store
// request of every invocation goes to the stack's own address, so the pool
// must keep as many idle connections as run at once: net/http's default
// keeps 2 per host, and a flood of pushes opened (and closed) one loopback
// connection each, 20,000 descriptors' worth. MaxConnsPerHost bounds what
// a flood can open at all; a request over it waits for a connection, or
// for its context to end.
const (
	maxConnsPerHost = 256
	idleConnTimeout = 90 * time.Second // below the server's IdleTimeout (server.go)
)

func localTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = maxConnsPerHost
	t.MaxIdleConnsPerHost = maxConnsPerHost
	t.MaxConnsPerHost = maxConnsPerHost
	t.IdleConnTimeout = idleConnTimeout
	return t
}

// dynamoClient returns a DynamoDB client aimed at endpoint. With counters it
// counts every operation the client performs (once per call, whatever the
// retries), and credits it to the invocation whose ctx made it: the cost of
// a chat message, counted rather than estimated.
func dynamoClient(cfg aws.Config, endpoint string, counters *metrics.Counters) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		if counters != nil {
			o.APIOptions = append(o.APIOptions, countOperations(counters, metrics.DynamoDB, true), countRefusedCapacity(counters))
		}
	})
}

// managementClient returns a Management API client aimed at endpoint. With
// counters it credits each call to the invocation that made it; the
// gateway, which serves the calls, keeps the global count.
func managementClient(cfg aws.Config, endpoint string, counters *metrics.Counters) *apigatewaymanagementapi.Client {
	return apigatewaymanagementapi.NewFromConfig(cfg, func(o *apigatewaymanagementapi.Options) {
		o.BaseEndpoint = aws.String(endpoint) // the SDK appends /@connections/{id}
		if counters != nil {
			o.APIOptions = append(o.APIOptions, countOperations(counters, metrics.ManagementAPI, false))
		}
	})
}

// countOperations credits every operation to the invocation in its ctx
// and, when global is set, counts it in the global counters too. A DynamoDB
// operation is also made to report the capacity it consumed (when the
// handler did not ask itself), which is credited to the invocation too.
func countOperations(counters *metrics.Counters, group string, global bool) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("ParleyCountOperation",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				op := awsmiddleware.GetOperationName(ctx)
				if global {
					counters.Add(group, op)
				}
				counters.Credit(ctx, group, op)
				if group != metrics.DynamoDB {
					return next.HandleInitialize(ctx, in)
				}
				for _, a := range accesses(in.Parameters) {
					counters.Credit(ctx, metrics.Access, a)
				}
				in.Parameters = askCapacity(in.Parameters)
				out, md, err := next.HandleInitialize(ctx, in)
				if err == nil {
					counters.CreditCapacity(ctx, consumed(op, out.Result))
				}
				return out, md, err
			}), middleware.After)
	}
}

// countRefusedCapacity credits the capacity of a write its condition
// refused, which DynamoDB charges but reports nowhere: the embedded store
// sends it in a header (dynamo.ConsumedCapacityHeader). Other servers do
// not, and such a write then counts nothing.
func countRefusedCapacity(counters *metrics.Counters) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("ParleyCountRefusedCapacity",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				// This runs inside the operation's deserializer, on the raw
				// response: the header is only ever on a refused write.
				out, md, err := next.HandleDeserialize(ctx, in)
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.StatusCode != 200 {
					var used metrics.Capacity
					if h := resp.Header.Get(dynamo.ConsumedCapacityHeader); h != "" {
						if _, scanErr := fmt.Sscanf(h, "read=%g,write=%g", &used.Read, &used.Write); scanErr == nil {
							counters.CreditCapacity(ctx, used)
						}
					}
				}
				return out, md, err
			}), middleware.After)
	}
}

// askCapacity returns a DynamoDB input that asks for ReturnConsumedCapacity
// TOTAL: the handler's own when it asked (TOTAL or INDEXES) or the
// operation takes none, otherwise a copy with TOTAL set, so the handler's
// struct is never changed under it. Its output then carries a
// ConsumedCapacity it did not ask for, and nothing else changes.
func askCapacity(params any) any {
	v := reflect.ValueOf(params)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return params
	}
	f := v.Elem().FieldByName("ReturnConsumedCapacity")
	if !f.IsValid() || f.Type() != reflect.TypeFor[types.ReturnConsumedCapacity]() {
		return params
	}
	if asked := types.ReturnConsumedCapacity(f.String()); asked != "" && asked != types.ReturnConsumedCapacityNone {
		return params
	}
	cp := reflect.New(v.Elem().Type())
	cp.Elem().Set(v.Elem())
	cp.Elem().FieldByName("ReturnConsumedCapacity").SetString(string(types.ReturnConsumedCapacityTotal))
	return cp.Interface()
}

// writeOperations are the DynamoDB operations whose ConsumedCapacity is
// write units when the server does not split it (DynamoDB Local reports
// CapacityUnits only).
var writeOperations = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true}

// consumed is the capacity a DynamoDB output reports, read and write units
// over all its tables and indexes.
func consumed(op string, result any) metrics.Capacity {
	var used metrics.Capacity
	v := reflect.ValueOf(result)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return used
	}
	f := v.Elem().FieldByName("ConsumedCapacity")
	if !f.IsValid() {
		return used
	}
	var all []types.ConsumedCapacity
	switch x := f.Interface().(type) {
	case *types.ConsumedCapacity:
		if x != nil {
			all = append(all, *x)
		}
	case []types.ConsumedCapacity:
		all = x
	}
	for _, c := range all {
		read, write := aws.ToFloat64(c.ReadCapacityUnits), aws.ToFloat64(c.WriteCapacityUnits)
		if read == 0 && write == 0 {
			if writeOperations[op] {
				write = aws.ToFloat64(c.CapacityUnits)
			} else {
				read = aws.ToFloat64(c.CapacityUnits)
			}
		}
		used.Read += read
		used.Write += write
	}
	return used
}

// awsDynamoDBHost matches AWS's own DynamoDB endpoints.
var awsDynamoDBHost = regexp.MustCompile(`^dynamodb\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// dynamoConfig is the configuration for the store's clients. Local
// endpoints (the embedded store, DynamoDB Local) take dummy credentials; an
// AWS endpoint (--dynamodb-endpoint https://dynamodb.eu-west-1.amazonaws.com)
// takes the machine's real ones, its region read from the host.
func dynamoConfig(ctx context.Context, endpoint string) (aws.Config, string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return aws.Config{}, "", fmt.Errorf("DynamoDB endpoint %q: %w", endpoint, err)
	}
	m := awsDynamoDBHost.FindStringSubmatch(u.Hostname())
	if m == nil {
		return awsConfig(Region), Region, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(m[1]))
	if err != nil {
		return aws.Config{}, "", fmt.Errorf("AWS configuration for %s: %w", endpoint, err)
	}
	return cfg, m[1], nil
}

// streamsEndpoint is where the DynamoDB Streams API of a DynamoDB endpoint
// answers: the same place locally, streams.dynamodb.{region}... on AWS.
func streamsEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || !awsDynamoDBHost.MatchString(u.Hostname()) {
		return endpoint
	}
	u.Host = "streams." + u.Host
	return u.String()
}
