// Command sweep is the scheduled housekeeping tick: assignment when hours open, reminders, requeues, auto-close, dead connections.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parley-chat/parley/shared/route"
)

func main() {
	cfg, err := route.AWS(context.Background())
	if err != nil {
		log.Fatalf("sweep: %v", err)
	}
	d := route.Environment(cfg)
	d.Management = route.ManagementAPI(cfg)
	lambda.StartHandlerFunc(route.Sweep(d))
}
