// Command message serves the chat routes: hello, send, history, typing, read and ping.
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
		log.Fatalf("message: %v", err)
	}
	d := route.Environment(cfg)
	d.Management = route.ManagementAPI(cfg)
	lambda.StartHandlerFunc(route.Message(d))
}
