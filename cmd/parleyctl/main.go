// Command parleyctl administers a Parley deployment: widgets, workstreams,
// agents' capacity, conversations, transcripts and data-protection erasure,
// against the stack's DynamoDB tables in AWS (the default credential chain)
// or a local stack (--endpoint http://127.0.0.1:8080/local/dynamodb). Run
// parleyctl --help.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/parley-chat/parley/cmd/parleyctl/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
