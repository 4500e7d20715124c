// Package push delivers frames to WebSocket connections through the API
// Gateway Management API (PostToConnection). A connection API Gateway no
// longer has (410 Gone) is reported as ErrGone so the caller removes it
// rather than retrying.
package push

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
)

// ErrGone reports a connection that is closed or unknown to API Gateway.
var ErrGone = errors.New("push: connection gone")

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
	return fmt.Errorf("post to %s: %w", connectionID, err)
}

// Result is the outcome of a Fanout.
type Result struct {
	Delivered int
	Gone      []string // connections to forget
	Err       error    // the first other failure, if any
}

// Fanout delivers frame to every connection concurrently: one slow or dead
// connection does not hold up the others.
func (s *Sender) Fanout(ctx context.Context, connectionIDs []string, frame []byte) Result {
	var (
		mu  sync.Mutex
		res Result
		wg  sync.WaitGroup
	)
	for _, id := range connectionIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Post(ctx, id, frame)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				res.Delivered++
			case errors.Is(err, ErrGone):
				res.Gone = append(res.Gone, id)
			case res.Err == nil:
				res.Err = err
			}
		}()
	}
	wg.Wait()
	return res
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
