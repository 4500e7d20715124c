package chat_test

import (
	"testing"

	"github.com/parley-chat/parley/cmd/parley-local/localtest"
)

// TestMain runs the service's tests on the embedded DynamoDB-compatible
// server, or on Amazon DynamoDB Local with PARLEY_BACKEND=dynamodb-local.
func TestMain(m *testing.M) { localtest.Main(m) }
