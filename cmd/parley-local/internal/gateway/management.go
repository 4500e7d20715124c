package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"

	"github.com/parley-chat/parley/cmd/parley-local/internal/invoke"
	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

// connectionTimeLayout is how GetConnection spells connectedAt and
// lastActiveAt: ISO 8601, UTC, milliseconds.
const connectionTimeLayout = "2006-01-02T15:04:05.000Z"

// serveManagement is the Management API: POST, GET and DELETE on
// [/{stage}]/@connections/{id}. Requests are not SigV4-verified; locally
// the SDK's dummy credentials sign them and nothing checks the signature.
func (g *Gateway) serveManagement(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", invoke.RequestID())
	id, ok := g.connectionPath(r.URL)
	if !ok {
		// API Gateway's answer to a path it has no resource for.
		managementError(w, http.StatusForbidden, "ForbiddenException", "Forbidden")
		return
	}
	var op string
	switch r.Method {
	case http.MethodPost:
		op = "PostToConnection"
	case http.MethodGet:
		op = "GetConnection"
	case http.MethodDelete:
		op = "DeleteConnection"
	default:
		managementError(w, http.StatusForbidden, "ForbiddenException", "Forbidden")
		return
	}
	if g.cfg.Metrics != nil {
		g.cfg.Metrics.Add(metrics.ManagementAPI, op)
	}

	// Read the body before looking the connection up, so that an
	// oversized post is 413 whether or not the connection is still there.
	var body []byte
	if op == "PostToConnection" {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, int64(g.limits.MessageBytes)+1))
		if err != nil {
			managementError(w, http.StatusBadRequest, "BadRequestException", "could not read the request body")
			return
		}
		if len(body) > g.limits.MessageBytes {
			managementError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeException", "Request Too Long")
			return
		}
	}

	c := g.lookup(id)
	if g.fault(w, c) {
		return
	}
	if c == nil {
		gone(w)
		return
	}
	switch op {
	case "PostToConnection":
		if err := c.send(body); err != nil {
			if !errors.Is(err, errGone) {
				g.log.Warn("PostToConnection failed", "connectionId", id, "error", err)
			}
			gone(w)
			return
		}
		w.WriteHeader(http.StatusOK)
	case "GetConnection":
		info := struct {
			ConnectedAt string `json:"connectedAt"`
			Identity    struct {
				SourceIP  string `json:"sourceIp"`
				UserAgent string `json:"userAgent"`
			} `json:"identity"`
			LastActiveAt string `json:"lastActiveAt"`
		}{
			ConnectedAt:  c.connectedAt.UTC().Format(connectionTimeLayout),
			LastActiveAt: c.lastActiveAt().UTC().Format(connectionTimeLayout),
		}
		info.Identity.SourceIP, info.Identity.UserAgent = c.sourceIP, c.userAgent
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(info)
	case "DeleteConnection":
		// DeleteConnection takes no close code; $disconnect reports 1000.
		c.closeWith(closeNormal, "", closeNormal, reasonNormal)
		w.WriteHeader(http.StatusNoContent)
	}
}

// fault fails the request, for the fraction Config.FaultRate of them,
// before anything is delivered: with a 500, which the SDK retries, or with
// a 410, and then the connection drops for real (the client sees its
// socket end, $disconnect runs with 1006), since a 410 tells the handler
// the connection is gone and it forgets it.
func (g *Gateway) fault(w http.ResponseWriter, c *conn) bool {
	if g.cfg.FaultRate <= 0 || rand.Float64() >= g.cfg.FaultRate {
		return false
	}
	if rand.IntN(2) == 0 {
		managementError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error")
		return true
	}
	if c != nil {
		g.log.Info("fault injected: connection dropped", "connectionId", c.id)
		c.drop()
	}
	gone(w)
	return true
}

// connectionPath extracts and percent-decodes {id} from
// [/{stage}]/@connections/{id}. The SDK sends "=" as %3D, so the id is
// taken from the escaped path and decoded once.
func (g *Gateway) connectionPath(u *url.URL) (id string, ok bool) {
	p := u.EscapedPath()
	const marker = "/@connections/"
	i := strings.LastIndex(p, marker)
	if i < 0 {
		return "", false
	}
	if stage := p[:i]; stage != "" && stage != "/"+url.PathEscape(g.cfg.Stage) {
		return "", false // another stage of the API: nothing of ours lives there
	}
	raw := p[i+len(marker):]
	if raw == "" || strings.Contains(raw, "/") {
		return "", false
	}
	id, err := url.PathUnescape(raw)
	if err != nil {
		return "", false
	}
	return id, true
}

// gone is 410 GoneException: the connection is unknown, closed, or not yet
// open (its $connect has not returned).
func gone(w http.ResponseWriter) {
	managementError(w, http.StatusGone, "GoneException", "Gone")
}

// managementError writes an error the AWS SDK maps to its typed exception:
// the name in X-Amzn-ErrorType, the text in a JSON message field.
func managementError(w http.ResponseWriter, status int, errorType, message string) {
	w.Header().Set("X-Amzn-ErrorType", errorType)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}
