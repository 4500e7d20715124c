package streams

import "github.com/parley-chat/parley/cmd/parley-local/internal/dynamo"

// The embedded store's stream is what parley-local hands to New.
var _ Source = (*dynamo.Stream)(nil)
