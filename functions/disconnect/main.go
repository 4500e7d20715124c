// Command disconnect serves $disconnect: it forgets the connection.
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
		log.Fatalf("disconnect: %v", err)
	}
	handler, err := route.Handler("disconnect", deps)
	if err != nil {
		log.Fatalf("disconnect: %v", err)
	}
	lambda.Start(handler)
}
