// Command presence serves the presence route: an agent goes available or away.
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
		log.Fatalf("presence: %v", err)
	}
	d := route.Environment(cfg)
	d.Management = route.ManagementAPI(cfg)
	lambda.StartHandlerFunc(route.Presence(d))
}
