// Command pickup serves the pickup route: an agent takes a parked conversation back.
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
		log.Fatalf("pickup: %v", err)
	}
	handler, err := route.Handler("pickup", deps)
	if err != nil {
		log.Fatalf("pickup: %v", err)
	}
	lambda.Start(handler)
}
