// Command authorizer is the $connect REQUEST authorizer: it verifies customer and agent JWTs.
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
		log.Fatalf("authorizer: %v", err)
	}
	d := route.Environment(cfg)
	lambda.StartHandlerFunc(route.Authorizer(d))
}
