package stack

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// handlerLogger is the logger a function's handler gets: the stack's, with
// the function's logical id, adding the Lambda request id of the invocation
// in ctx to every line as lambdacontext.NewLogHandler does in AWS, so the
// handlers never add it themselves and each key appears once.
func handlerLogger(base *slog.Logger, function string) *slog.Logger {
	return slog.New(requestIDHandler{base.Handler()}).With("function", function)
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
