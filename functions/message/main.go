// Command message serves the chat routes: hello, send, history, typing, read and ping.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parley-chat/parley/shared/route"
)

func main() {
	deps, err := route.FromEnvironment(context.Background())
	if err != nil {
		log.Fatalf("message: %v", err)
	}
	handler, err := route.Handler("message", deps)
	if err != nil {
		log.Fatalf("message: %v", err)
	}
	lambda.Start(handler)
}
