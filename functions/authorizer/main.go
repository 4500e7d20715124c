// Command authorizer is the $connect REQUEST authorizer: it verifies customer and agent JWTs.
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
		log.Fatalf("authorizer: %v", err)
	}
	handler, err := route.Handler("authorizer", deps)
	if err != nil {
		log.Fatalf("authorizer: %v", err)
	}
	lambda.Start(handler)
}
