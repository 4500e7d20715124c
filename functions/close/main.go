// Command close serves the close route: a conversation ends.
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
		log.Fatalf("close: %v", err)
	}
	handler, err := route.Handler("close", deps)
	if err != nil {
		log.Fatalf("close: %v", err)
	}
	lambda.Start(handler)
}
