// Command connect serves $connect: it records the connection and brings an agent online.
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
		log.Fatalf("connect: %v", err)
	}
	handler, err := route.Handler("connect", deps)
	if err != nil {
		log.Fatalf("connect: %v", err)
	}
	lambda.Start(handler)
}
