// Command notify reads the conversations stream and tells agents and customers of returns, assignments and closes.
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
		log.Fatalf("notify: %v", err)
	}
	handler, err := route.Handler("notify", deps)
	if err != nil {
		log.Fatalf("notify: %v", err)
	}
	lambda.Start(handler)
}
