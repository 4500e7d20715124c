package dynamo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// errNamespace prefixes error types on the wire the way DynamoDB does; the
// SDK strips it before matching its typed errors.
const errNamespace = "com.amazonaws.dynamodb.v20120810#"

// reply is one response of the DynamoDB JSON 1.0 protocol, ready to write.
type reply struct {
	status int
	body   []byte
	// consumed is what a refused write consumed, which DynamoDB charges
	// but its error carries no ConsumedCapacity for; ServeHTTP sends it in
	// the ConsumedCapacityHeader when the request asked for capacity.
	consumed *capUnits
}

// ConsumedCapacityHeader carries, on a write refused by its condition,
// the capacity DynamoDB charges for it ("read=0,write=1"), when the request
// asked for ReturnConsumedCapacity: the embedded store's own addition, so
// the local stack can count what such a write costs.
const ConsumedCapacityHeader = "X-Parley-Consumed-Capacity"

func (r reply) ok() bool { return r.status == http.StatusOK }

// errorReply builds an error in DynamoDB's wire shape.
func errorReply(status int, typ, msg string) reply {
	b, _ := json.Marshal(map[string]string{"__type": errNamespace + typ, "message": msg})
	return reply{status: status, body: b}
}

func validationError(format string, args ...any) reply {
	return errorReply(http.StatusBadRequest, "ValidationException", fmt.Sprintf(format, args...))
}

func notFoundError(table string) reply {
	return errorReply(http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Table: "+table+" not found")
}

func internalError(err error) reply {
	return errorReply(http.StatusInternalServerError, "InternalServerError", err.Error())
}

// okReply encodes a successful response.
func okReply(v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		return internalError(fmt.Errorf("encode response: %w", err))
	}
	return reply{status: http.StatusOK, body: b}
}

// errorType is the unqualified error type of a failed reply ("" on success),
// e.g. "ConditionalCheckFailedException".
func (r reply) errorType() string {
	if r.ok() {
		return ""
	}
	var e struct {
		Type string `json:"__type"`
	}
	if json.Unmarshal(r.body, &e) != nil {
		return ""
	}
	return e.Type[strings.LastIndex(e.Type, "#")+1:]
}

// errorMessage is a failed reply's message, for wrapping it into a Go error.
func (r reply) errorMessage() string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(r.body, &e) != nil || e.Message == "" {
		return strings.TrimSpace(string(r.body))
	}
	return e.Message
}
