// Package invoke runs a template's Lambda functions in-process the way the
// Lambda service runs them: JSON event in, JSON result out, a deadline from
// the function's Timeout, a lambdacontext in ctx, and a handler panic turned
// into a function error instead of a crash of the whole stack.
package invoke

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/parley-chat/parley/cmd/parley-local/internal/metrics"
)

// Function is one AWS::Serverless::Function of the template, runnable here.
type Function struct {
	Name    string        // logical id in the template, e.g. MessageFunction
	ARN     string        // arn:aws:lambda:{region}:{account}:function:{Name}
	Timeout time.Duration // the template's Timeout (Lambda's default is 3 s)
	Handler lambda.Handler
	Log     *slog.Logger
	// Label names the function as its folder under functions/ does
	// (message, notify); Metrics, when set, credits the requests each
	// invocation makes to it under that name.
	Label   string
	Metrics *metrics.Counters
}

// NewHandler is lambda.NewHandler for a function that runs many
// invocations at once, as Lambda runs many execution environments. The
// handler lambda.NewHandler returns is one environment's: the bytes its
// Invoke returns live in a pooled buffer that the next invocation
// overwrites, which in Lambda comes only after the runtime has sent them.
// Here invocations overlap, and one invocation's result (an authorizer's
// principal, say) was read while another's was written over it. So each
// invocation gets a handler, and a buffer pool, of its own; the function's
// state (its clients, built once in its main) is shared as in Lambda.
func NewHandler(handler any) lambda.Handler { return perInvocation{handler} }

type perInvocation struct{ handler any }

func (p perInvocation) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return lambda.NewHandler(p.handler).Invoke(ctx, payload)
}

// Error is what the Lambda service reports when a function fails: the
// handler returned an error, panicked, or ran past its deadline.
type Error struct {
	Function  string
	RequestID string
	Type      string // errorType as Lambda reports it: the Go error's type, "Runtime.Panic" or "Sandbox.Timedout"
	Message   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("function %s request %s: %s: %s", e.Function, e.RequestID, e.Type, e.Message)
}

// RequestID returns a fresh Lambda-style request id (a UUID).
func RequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Invoke runs the function on payload and returns its JSON result. The
// returned request id is the one the handler saw in its lambdacontext.
// A handler that ignores its deadline keeps running in the background, as
// nothing in-process can kill it, but its caller gets Sandbox.Timedout at
// the deadline, as with Lambda.
func (f *Function) Invoke(ctx context.Context, payload []byte) (result []byte, requestID string, err error) {
	requestID = RequestID()
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       requestID,
		InvokedFunctionArn: f.ARN,
	})
	ctx, inv := f.Metrics.Begin(ctx, f.Label, requestID)

	type outcome struct {
		out []byte
		err error
	}
	done := make(chan outcome, 1)
	start := time.Now()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{err: &Error{Function: f.Name, RequestID: requestID, Type: "Runtime.Panic",
					Message: fmt.Sprintf("%v\n%s", p, debug.Stack())}}
			}
		}()
		out, err := f.Handler.Invoke(ctx, payload)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				err = &Error{Function: f.Name, RequestID: requestID, Type: errorType(err), Message: err.Error()}
			}
		}
		done <- outcome{out, err}
	}()

	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		o.err = &Error{Function: f.Name, RequestID: requestID, Type: "Sandbox.Timedout",
			Message: fmt.Sprintf("Task timed out after %.2f seconds", timeout.Seconds())}
	}
	failure := ""
	if o.err != nil {
		failure = o.err.Error()
	}
	inv.End(failure)
	log := f.log().With("function", f.Name, "requestId", requestID, "durationMs", time.Since(start).Milliseconds())
	if o.err != nil {
		// Debug: every caller (the gateway, stream mappings, schedules)
		// logs a failure at the level it deserves, once.
		log.DebugContext(ctx, "invocation failed", "error", o.err.Error())
	} else {
		log.DebugContext(ctx, "invocation done")
	}
	return o.out, requestID, o.err
}

func (f *Function) log() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.Default()
}

func errorType(err error) string {
	t := fmt.Sprintf("%T", err)
	if len(t) > 0 && t[0] == '*' {
		t = t[1:]
	}
	return t
}
