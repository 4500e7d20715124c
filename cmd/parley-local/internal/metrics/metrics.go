// Package metrics counts the requests the handlers make of the local stack's
// AWS emulations (DynamoDB operations, Management API calls), so that the cost
// of a chat message is counted rather than estimated.
package metrics

import (
	"encoding/json"
	"net/http"
	"sync"
)

// Group names, as GET /local/metrics spells them (PROTOCOL.md section 7).
const (
	DynamoDB      = "dynamodb"
	ManagementAPI = "managementApi"
)

// Counters is a set of named counters in groups; the zero value is not
// usable, call New.
type Counters struct {
	mu sync.Mutex
	m  map[string]map[string]int64
}

// New returns counters whose Management API group already names its three
// operations, so a reader sees 0 rather than a missing key.
func New() *Counters {
	c := &Counters{m: map[string]map[string]int64{
		DynamoDB:      {},
		ManagementAPI: {"PostToConnection": 0, "GetConnection": 0, "DeleteConnection": 0},
	}}
	return c
}

// Add counts one request of name in group.
func (c *Counters) Add(group, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.m[group]
	if g == nil {
		g = map[string]int64{}
		c.m[group] = g
	}
	g[name]++
}

// Snapshot returns a copy of every counter.
func (c *Counters) Snapshot() map[string]map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]map[string]int64, len(c.m))
	for g, names := range c.m {
		cp := make(map[string]int64, len(names))
		for n, v := range names {
			cp[n] = v
		}
		out[g] = cp
	}
	return out
}

// ServeHTTP serves the counters as JSON (GET /local/metrics).
func (c *Counters) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(c.Snapshot())
}
