// Command default serves $default: unknown actions and frames that are not JSON.
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
		log.Fatalf("default: %v", err)
	}
	handler, err := route.Handler("default", deps)
	if err != nil {
		log.Fatalf("default: %v", err)
	}
	lambda.Start(handler)
}
