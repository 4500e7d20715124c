package dynamo

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
)

// Throttling errors as DynamoDB spells them on the wire. The SDKs retry
// both, with backoff, as throttling errors.
var (
	throttlingBody = mustJSON(map[string]string{
		"__type":  "com.amazon.coral.availability#ThrottlingException",
		"message": "Rate of requests exceeds the allowed throughput.",
	})
	provisionedBody = mustJSON(map[string]string{
		"__type":  errNamespace + "ProvisionedThroughputExceededException",
		"message": "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
	})
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// faultable lists the operations Options.FaultRate throttles: the item
// and query operations, which DynamoDB throttles under load. Table
// operations and the Streams API are left alone, so a stack still starts
// and its stream mappings still read.
var faultable = map[string]bool{
	"GetItem": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true,
	"BatchGetItem": true, "BatchWriteItem": true, "TransactGetItems": true, "TransactWriteItems": true,
	"Query": true, "Scan": true,
}

// fault decides whether this request is one of the Options.FaultRate that
// fail, and if so answers it as DynamoDB does when it throttles: 400 with
// ThrottlingException or ProvisionedThroughputExceededException, before
// anything is read or written.
func (s *Store) fault(op string) (reply, bool) {
	if s.opts.FaultRate <= 0 || !faultable[op] || rand.Float64() >= s.opts.FaultRate {
		return reply{}, false
	}
	s.faults.Add(1)
	if rand.IntN(2) == 0 {
		return reply{status: http.StatusBadRequest, body: throttlingBody}, true
	}
	return reply{status: http.StatusBadRequest, body: provisionedBody}, true
}

// Faults counts the requests answered with an injected throttling error.
func (s *Store) Faults() int64 { return s.faults.Load() }
