// Command parley-local runs Parley's whole serverless stack on one address,
// read from template.yaml: API Gateway's WebSocket and Management APIs, the
// Lambda handlers (in-process, the very ones deployed), an embedded
// DynamoDB-compatible store with streams and TTL, schedules, and a local
// token issuer. SAM CLI cannot serve WebSocket APIs; this can.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/parley-chat/parley/cmd/parley-local/internal/ddblocal"
	"github.com/parley-chat/parley/cmd/parley-local/internal/gateway"
	"github.com/parley-chat/parley/cmd/parley-local/internal/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "parley-local:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		opts          stack.Options
		logLevel      string
		dynamoDBLocal bool
	)
	flag.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "listen address")
	flag.StringVar(&opts.Data, "data", ".parley", `folder where local data survives restarts; "" keeps everything in memory`)
	flag.StringVar(&opts.DynamoDBEndpoint, "dynamodb-endpoint", "", "use this DynamoDB-compatible endpoint instead of the embedded one")
	flag.DurationVar(&opts.ScheduleInterval, "schedule-interval", 0, "run scheduled functions this often (default: as in template.yaml)")
	flag.BoolVar(&dynamoDBLocal, "dynamodb-local", false, "run Amazon DynamoDB Local (installed on first use; needs Java and npm) and use it instead of the embedded store")
	flag.StringVar(&opts.Template, "template", "template.yaml", "SAM template to run")
	flag.StringVar(&opts.Web, "web", "web", "folder of the built web apps (agent/dist, widget/dist, demo)")
	flag.IntVar(&opts.Limits.FrameBytes, "frame-limit", gateway.DefaultFrameBytes, "largest WebSocket frame in bytes")
	flag.IntVar(&opts.Limits.MessageBytes, "message-limit", gateway.DefaultMessageBytes, "largest WebSocket message in bytes")
	flag.DurationVar(&opts.Limits.IdleTimeout, "idle-timeout", gateway.DefaultIdleTimeout, "close connections idle this long")
	flag.DurationVar(&opts.Limits.MaxDuration, "max-connection-duration", gateway.DefaultMaxDuration, "close connections older than this")
	flag.IntVar(&opts.Limits.Inflight, "inflight-limit", gateway.DefaultInflight, "invocations one connection may have running at once; frames over it get API Gateway's error frame")
	flag.Float64Var(&opts.FaultRate, "fault-rate", 0, "fraction of requests (0-1) the embedded store throttles and the Management API fails, to test retries")
	flag.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: %w", logLevel, err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	opts.Log = log
	if opts.FaultRate < 0 || opts.FaultRate > 1 {
		return fmt.Errorf("--fault-rate %v: want a fraction from 0 to 1", opts.FaultRate)
	}
	if opts.FaultRate > 0 {
		log.Warn("fault injection on: requests fail on purpose", "faultRate", opts.FaultRate)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	if dynamoDBLocal {
		if opts.DynamoDBEndpoint != "" {
			return fmt.Errorf("--dynamodb-local and --dynamodb-endpoint both name the store: choose one")
		}
		dir := ""
		if opts.Data != "" {
			dir = filepath.Join(opts.Data, "dynamodb-local")
		}
		ddb, err := ddblocal.Launch(ctx, ddblocal.Options{Data: dir, Log: log})
		if err != nil {
			return err
		}
		defer ddb.Close()
		opts.DynamoDBEndpoint = ddb.Endpoint
	}
	s, err := stack.Start(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Print(s.Banner())
	fmt.Printf("\nReady in %s. Ctrl-C stops (connections get $disconnect, data is flushed).\n", time.Since(began).Round(time.Millisecond))
	log.Info("local stack ready", "url", s.URL, "startupMs", time.Since(began).Milliseconds(), "data", opts.Data)

	<-ctx.Done()
	stop()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(sctx); err != nil && !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "closed") {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
