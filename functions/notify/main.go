// Command notify reads the conversations stream and tells agents and customers of returns, assignments and closes.
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
		log.Fatalf("notify: %v", err)
	}
	d := route.Environment(cfg)
	d.Management = route.ManagementAPI(cfg)
	lambda.StartHandlerFunc(route.Notify(d))
}
