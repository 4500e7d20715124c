// Command presence serves the presence route: an agent goes available or away.
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
		log.Fatalf("presence: %v", err)
	}
	handler, err := route.Handler("presence", deps)
	if err != nil {
		log.Fatalf("presence: %v", err)
	}
	lambda.Start(handler)
}
