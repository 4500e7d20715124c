// Command park serves the park route: an agent sets an active conversation aside.
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
		log.Fatalf("park: %v", err)
	}
	handler, err := route.Handler("park", deps)
	if err != nil {
		log.Fatalf("park: %v", err)
	}
	lambda.Start(handler)
}
