package route

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/wire"
)

// callerOf reads who is on the connection from the authorizer context API
// Gateway attaches to every event of it; never from the frame.
func callerOf(rc events.APIGatewayWebsocketProxyRequestContext) (chat.Caller, error) {
	m, _ := rc.Authorizer.(map[string]any)
	s := func(k string) string { v, _ := m[k].(string); return v }
	c := chat.Caller{Participant: conversation.Participant{ID: s("userId"), Name: s("name")}, Widget: s("widget"), ConnectionID: rc.ConnectionID}
	switch s("role") {
	case string(conversation.Customer):
		c.Role = conversation.Customer
	case string(conversation.AgentRole):
		c.Role = conversation.AgentRole
	default:
		return c, fmt.Errorf("connection %s has no authorizer identity: %w", rc.ConnectionID, wire.ErrUnauthorized)
	}
	if c.ID == "" || (c.Role == conversation.Customer && c.Widget == "") {
		return c, fmt.Errorf("connection %s: incomplete authorizer identity: %w", rc.ConnectionID, wire.ErrUnauthorized)
	}
	return c, nil
}
