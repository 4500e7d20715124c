package stack

import (
	"fmt"
	"sort"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/parley-chat/parley/shared/route"
)

// Handlers builds each function's handler by its name (its folder under
// functions/; template.HandlerName of its logical id), as that function's
// main does, behind aws-lambda-go's JSON boundary as Lambda calls it. The
// table lives here, not in shared/route, so that each function's binary
// links only its own handler.
var Handlers = map[string]func(route.Deps) lambda.Handler{
	"authorizer": func(d route.Deps) lambda.Handler { return lambda.NewHandler(route.Authorizer(d)) },
	"connect":    func(d route.Deps) lambda.Handler { return lambda.NewHandler(route.Connect(d)) },
	"disconnect": func(d route.Deps) lambda.Handler { return lambda.NewHandler(route.Disconnect(d)) },
	"message":    func(d route.Deps) lambda.Handler { return lambda.NewHandler(route.Message(d)) },
	"park":       func(d route.Deps) lambda.Handler { return lambda.NewHandler(route.Park(d)) },
	"pickup":     func(d route.Deps) lambda.Handler { return lambda.NewHandler(route.Pickup(d)) },
	"close":      func(d route.Deps) lambda.Handler { return lambda.NewHandler(route.Close(d)) },
	"presence":   func(d route.Deps) lambda.Handler { return lambda.NewHandler(route.Presence(d)) },
	"default":    func(d route.Deps) lambda.Handler { return lambda.NewHandler(route.Default(d)) },
	"notify":     func(d route.Deps) lambda.Handler { return lambda.NewHandler(route.Notify(d)) },
	"sweep":      func(d route.Deps) lambda.Handler { return lambda.NewHandler(route.Sweep(d)) },
}

// handler builds the named function's handler on d.
func handler(name string, d route.Deps) (lambda.Handler, error) {
	build, ok := Handlers[name]
	if !ok {
		names := make([]string, 0, len(Handlers))
		for n := range Handlers {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("no handler for function %q (have %v)", name, names)
	}
	return build(d), nil
}
