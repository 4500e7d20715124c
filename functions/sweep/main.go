// Command sweep is the scheduled housekeeping tick: assignment when hours open, reminders, requeues, auto-close, dead connections.
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
		log.Fatalf("sweep: %v", err)
	}
	handler, err := route.Handler("sweep", deps)
	if err != nil {
		log.Fatalf("sweep: %v", err)
	}
	lambda.Start(handler)
}
