// Package push delivers frames to WebSocket connections through the API
// Gateway Management API (PostToConnection): the chat service's Pusher. A
// connection API Gateway no longer has (410 Gone) is reported as ErrGone so
// the caller removes it rather than retrying; a frame over the gateway's
// size limit (413) as conversation.ErrTooLarge.
package push

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"

	"github.com/parley-chat/parley/shared/chat"
	"github.com/parley-chat/parley/shared/conversation"
)

// ErrGone reports a connection that is closed or unknown to API Gateway;
// it is the chat service's own.
var ErrGone = chat.ErrGone

var _ chat.Pusher = (*Sender)(nil)

// API is the part of the Management API client push uses;
// *apigatewaymanagementapi.Client satisfies it.
type API interface {
	PostToConnection(ctx context.Context, in *apigatewaymanagementapi.PostToConnectionInput, opts ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error)
	DeleteConnection(ctx context.Context, in *apigatewaymanagementapi.DeleteConnectionInput, opts ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.DeleteConnectionOutput, error)
}

var _ API = (*apigatewaymanagementapi.Client)(nil)

// Sender posts frames to connections.
type Sender struct {
	api API
}

// New returns a Sender over a Management API client.
func New(api API) *Sender { return &Sender{api: api} }

// Post delivers one frame to one connection.
func (s *Sender) Post(ctx context.Context, connectionID string, frame []byte) error {
	_, err := s.api.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{
		ConnectionId: aws.String(connectionID), Data: frame,
	})
	if err == nil {
		return nil
	}
	var gone *types.GoneException
	if errors.As(err, &gone) {
		return fmt.Errorf("post to %s: %w", connectionID, ErrGone)
	}
	var tooLarge *types.PayloadTooLargeException
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("post %d bytes to %s: %w", len(frame), connectionID, conversation.ErrTooLarge)
	}
	return fmt.Errorf("post to %s: %w", connectionID, err)
}

// Disconnect asks API Gateway to close a connection; one already gone is
// not an error.
func (s *Sender) Disconnect(ctx context.Context, connectionID string) error {
	_, err := s.api.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(connectionID)})
	var gone *types.GoneException
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("delete connection %s: %w", connectionID, err)
	}
	return nil
}
