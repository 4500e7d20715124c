package stack

import (
	"fmt"
	"sort"

	"github.com/parley-chat/parley/shared/route"
)

// Handlers builds each function's typed handler by its name (its folder
// under functions/; template.HandlerName of its logical id), as that
// function's main does; the stack calls it behind aws-lambda-go's JSON
// boundary, as Lambda does (invoke.NewHandler). The table lives here, not
// in shared/route, so that each function's binary links only its own
// handler.
var Handlers = map[string]func(route.Deps) any{
	"authorizer": func(d route.Deps) any { return route.Authorizer(d) },
	"connect":    func(d route.Deps) any { return route.Connect(d) },
	"disconnect": func(d route.Deps) any { return route.Disconnect(d) },
	"message":    func(d route.Deps) any { return route.Message(d) },
	"park":       func(d route.Deps) any { return route.Park(d) },
	"pickup":     func(d route.Deps) any { return route.Pickup(d) },
	"close":      func(d route.Deps) any { return route.Close(d) },
	"presence":   func(d route.Deps) any { return route.Presence(d) },
	"default":    func(d route.Deps) any { return route.Default(d) },
	"notify":     func(d route.Deps) any { return route.Notify(d) },
	"sweep":      func(d route.Deps) any { return route.Sweep(d) },
}

// handler builds the named function's handler on d.
func handler(name string, d route.Deps) (any, error) {
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
