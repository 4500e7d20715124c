package chat

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley/shared/conversation"
)

// Store is the persistence the service needs; shared/store implements it
// on DynamoDB. Reads are strongly consistent where a decision follows.
type Store interface {
	// Conversations.
	Conversation(ctx context.Context, id string) (*conversation.Conversation, error)
	// Apply writes a change atomically: conversation.ErrStale when it lost
	// a race, ErrNoCapacity when the agent cannot take the units.
	Apply(ctx context.Context, ch conversation.Change) error
	// Fence bumps a conversation's version from version, changing nothing
	// else, so that a write conditioned on version can no longer land;
	// conversation.ErrStale when it is no longer at version.
	Fence(ctx context.Context, id string, version int64) error
	AgentConversations(ctx context.Context, agentID string) ([]*conversation.Conversation, error)
	Queue(ctx context.Context, workstream string, limit int) ([]*conversation.Conversation, error)
	QueuePosition(ctx context.Context, c *conversation.Conversation) (int, error)
	ByStatus(ctx context.Context, st conversation.Status) ([]*conversation.Conversation, error)
	// Expirable lists the open conversations created no later than
	// cutoff[mode] for their mode; a mode without a cutoff is left out.
	Expirable(ctx context.Context, cutoff map[conversation.Mode]time.Time) ([]*conversation.Conversation, error)
	MarkReminded(ctx context.Context, id string, at, since string) (bool, error)
	Reminded(ctx context.Context, id string) (string, error)
	Notified(ctx context.Context, id string, version int64) (bool, error)
	MarkNotified(ctx context.Context, id string, version int64) error

	// Messages.
	Messages(ctx context.Context, conversationID string, p conversation.Page) ([]conversation.Message, bool, error)
	Message(ctx context.Context, conversationID string, seq int64) (conversation.Message, error)
	MarkRead(ctx context.Context, id string, role conversation.Role, seq int64) error

	// People and their connections.
	AddConnection(ctx context.Context, c conversation.Connection, defaultCapacity int) error
	Connection(ctx context.Context, id string) (conversation.Connection, error)
	RemoveConnection(ctx context.Context, c conversation.Connection, now time.Time) error
	StaleConnections(ctx context.Context, cutoff time.Time) ([]conversation.Connection, error)
	Customer(ctx context.Context, widget, id string) (conversation.CustomerState, error)
	Agent(ctx context.Context, id string) (conversation.Agent, error)
	Parties(ctx context.Context, c *conversation.Conversation) (conversation.CustomerState, *conversation.Agent, error)
	OnlineAgents(ctx context.Context) ([]conversation.Agent, error)
	SetPresence(ctx context.Context, id string, p conversation.Presence) (conversation.Agent, error)

	// Settings and statistics.
	Widget(ctx context.Context, id string) (conversation.Widget, error)
	Workstream(ctx context.Context, id string) (conversation.Workstream, error)
	Workstreams(ctx context.Context) ([]conversation.Workstream, error)
	AgentDefaults(ctx context.Context) (conversation.AgentDefaults, error)
	RecordWait(ctx context.Context, workstream string, wait time.Duration) error
	AverageWait(ctx context.Context, workstream string) (time.Duration, error)
}

// Pusher delivers frames to WebSocket connections; shared/push implements
// it on API Gateway's Management API.
type Pusher interface {
	// Post delivers one frame to one connection: ErrGone when the gateway
	// no longer has the connection, an error wrapping
	// conversation.ErrTooLarge when the frame is over its size limit.
	Post(ctx context.Context, connectionID string, frame []byte) error
	// Disconnect closes a connection; one already gone is not an error.
	Disconnect(ctx context.Context, connectionID string) error
}

// ErrGone reports a connection the gateway no longer has (410): forget it,
// never retry it.
var ErrGone = errors.New("connection gone")
