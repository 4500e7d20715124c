// Command pickup serves the pickup route: an agent takes a parked conversation back.
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
		log.Fatalf("pickup: %v", err)
	}
	d := route.Environment(cfg)
	d.Management = route.ManagementAPI(cfg)
	lambda.StartHandlerFunc(route.Pickup(d))
}
