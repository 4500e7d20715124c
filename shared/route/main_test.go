package route_test

import (
	"testing"

	"github.com/parley-chat/parley/cmd/parley-local/localtest"
)

// TestMain runs the handler tests on the embedded store, or on Amazon
// DynamoDB Local with PARLEY_BACKEND=dynamodb-local.
func TestMain(m *testing.M) { localtest.Main(m) }
