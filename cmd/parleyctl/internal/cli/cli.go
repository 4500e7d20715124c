// Package cli is parleyctl: its flags, subcommands and output. The item
// layout stays in shared/store, whose admin operations every subcommand
// calls; this package only parses, validates and prints.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/parley-chat/parley/shared/conversation"
	"github.com/parley-chat/parley/shared/store"
)

const usage = `parleyctl administers a Parley deployment's settings and data.

Usage: parleyctl [global flags] <command> [flags]

Commands:
  apply -f FILE                 store the workstreams, widgets and agent defaults of a file (infra/settings.yaml)
  widgets list|get|put|delete   the widgets: workstream, customer-token issuer, JWKS URL, allowed origins
  workstreams list|get|put      the workstreams: mode, hours, keep same agent, units, requeue, texts
  agents list|set-capacity      the agents and their capacity
  conversations list --status S [--workstream W]
  export --conversation ID [--format json|text]   a conversation's transcript
  erase --customer ID --widget W [--dry-run]      remove everything stored about one customer

Global flags (before or after the command):
  --stack NAME        the stack whose tables to use (default parley, or $PARLEY_STACK); tables are <stack>-conversations, ...
  --region REGION     the AWS region (default: the AWS configuration's)
  --profile NAME      an AWS shared-config profile
  --endpoint URL      a DynamoDB endpoint other than AWS's, e.g. a local stack's http://127.0.0.1:8080/local/dynamodb
  --table KIND=NAME   a table's name, overriding the stack's (KIND: conversations, messages, connections, customers, agents, settings); repeatable
  --output json|table how results are printed (default table)

Run parleyctl <command> --help for a command's flags.
`

// errUsage marks a command line parleyctl cannot run; Main exits 2 for it.
var errUsage = errors.New("usage")

// usageError is a bad command line, with what to tell the user.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errUsage)
}

// globals are the flags every command takes.
type globals struct {
	stack, region, profile, endpoint, output string
	tables                                   tableFlags
}

type tableFlags map[string]string

func (t tableFlags) String() string { return "" }
func (t tableFlags) Set(v string) error {
	k, name, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want KIND=NAME, got %q", v)
	}
	switch k {
	case "conversations", "messages", "connections", "customers", "agents", "settings":
		t[k] = name
		return nil
	}
	return fmt.Errorf("table kind %q: one of conversations, messages, connections, customers, agents, settings", k)
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.stack, "stack", g.stack, "the stack whose tables to use")
	fs.StringVar(&g.region, "region", g.region, "the AWS region")
	fs.StringVar(&g.profile, "profile", g.profile, "an AWS shared-config profile")
	fs.StringVar(&g.endpoint, "endpoint", g.endpoint, "a DynamoDB endpoint other than AWS's")
	fs.StringVar(&g.output, "output", g.output, "json or table")
	fs.Var(g.tables, "table", "KIND=NAME: a table's name (repeatable)")
}

// Tables names the stack's tables as template.yaml does (<stack>-<kind>),
// with the overrides.
func (g *globals) Tables() store.Tables {
	name := func(kind string) string {
		if n := g.tables[kind]; n != "" {
			return n
		}
		return g.stack + "-" + kind
	}
	return store.Tables{Conversations: name("conversations"), Messages: name("messages"), Connections: name("connections"),
		Customers: name("customers"), Agents: name("agents"), Settings: name("settings")}
}

// env is what one run works with.
type env struct {
	ctx      context.Context
	g        *globals
	out, err io.Writer
	st       *store.Store // made on first use
}

func (e *env) store() (*store.Store, error) {
	if e.st != nil {
		return e.st, nil
	}
	var opts []func(*config.LoadOptions) error
	if e.g.region != "" {
		opts = append(opts, config.WithRegion(e.g.region))
	}
	if e.g.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(e.g.profile))
	}
	if e.g.endpoint != "" {
		// A local endpoint takes any credentials (DynamoDB Local wants
		// letters and digits); AWS's own keys are never needed for it.
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" && e.g.profile == "" {
			opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("parleylocal", "parleylocal", "")))
		}
		if e.g.region == "" {
			opts = append(opts, config.WithRegion("us-east-1"))
		}
	}
	cfg, err := config.LoadDefaultConfig(e.ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, usageError("no AWS region: pass --region or set AWS_REGION (the stack's Region output)")
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if e.g.endpoint != "" {
			o.BaseEndpoint = aws.String(e.g.endpoint)
		}
	})
	e.st = store.New(db, e.g.Tables())
	return e.st, nil
}

// Main runs parleyctl with args and returns its exit status: 0, 1 when the
// command failed, 2 for a bad command line.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stack: "parley", output: "table", tables: tableFlags{}}
	if s := os.Getenv("PARLEY_STACK"); s != "" {
		g.stack = s
	}
	fs := flag.NewFlagSet("parleyctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "parleyctl: %v\n\n%s", err, usage)
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(rest) == 0 {
			return 2
		}
		return 0
	}
	e := &env{ctx: ctx, g: g, out: stdout, err: stderr}
	err := run(e, rest[0], rest[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "parleyctl: %s\n", strings.TrimSuffix(err.Error(), ": "+errUsage.Error()))
		return 2
	default:
		fmt.Fprintf(stderr, "parleyctl: %s\n", explain(err))
		return 1
	}
}

// explain adds what to do to the errors an operator meets most.
func explain(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "ResourceNotFoundException"):
		return msg + "\n(a table is missing: check --stack and --region, or name the tables with --table)"
	case strings.Contains(msg, "no EC2 IMDS role found"), strings.Contains(msg, "failed to refresh cached credentials"),
		strings.Contains(msg, "NoCredentialProviders"):
		return msg + "\n(no AWS credentials: configure the AWS CLI or pass --profile)"
	}
	return msg
}

func run(e *env, cmd string, args []string) error {
	switch cmd {
	case "apply":
		return applyCmd(e, args)
	case "widgets":
		return group(e, "widgets", args, map[string]func(*env, []string) error{
			"list": widgets.listCmd, "get": widgets.getCmd, "put": widgetsPut, "delete": widgets.deleteCmd})
	case "workstreams":
		return group(e, "workstreams", args, map[string]func(*env, []string) error{
			"list": workstreams.listCmd, "get": workstreams.getCmd, "put": workstreamsPut})
	case "agents":
		return group(e, "agents", args, map[string]func(*env, []string) error{
			"list": agentsList, "set-capacity": agentsSetCapacity})
	case "conversations":
		return group(e, "conversations", args, map[string]func(*env, []string) error{"list": conversationsList})
	case "export":
		return exportCmd(e, args)
	case "erase":
		return eraseCmd(e, args)
	}
	return usageError("unknown command %q (parleyctl --help lists them)", cmd)
}

func group(e *env, name string, args []string, subs map[string]func(*env, []string) error) error {
	var names []string
	for k := range subs {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintf(e.out, "Usage: parleyctl %s %s [flags]\n", name, strings.Join(names, "|"))
		if len(args) == 0 {
			return usageError("%s needs a subcommand: %s", name, strings.Join(names, ", "))
		}
		return flag.ErrHelp
	}
	f, ok := subs[args[0]]
	if !ok {
		return usageError("%s has no subcommand %q (one of %s)", name, args[0], strings.Join(names, ", "))
	}
	return f(e, args[1:])
}

// flags makes a command's flag set, which takes the global flags too; its
// --help prints the command's usage line and flags.
func (e *env) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.out)
	fs.Usage = func() {
		fmt.Fprintf(e.out, "Usage: parleyctl %s\n\nFlags (the global flags of parleyctl --help work here too):\n", synopsis)
		tw := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
		fs.VisitAll(func(f *flag.Flag) {
			switch f.Name {
			case "stack", "region", "profile", "endpoint", "output", "table":
				return
			}
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			fmt.Fprintf(tw, "  %s%s\t%s\n", dash, f.Name, f.Usage)
		})
		_ = tw.Flush()
	}
	e.g.register(fs)
	return fs
}

// parse parses a command's flags and checks the global ones; args left over
// are returned (positional ids).
func (e *env) parse(fs *flag.FlagSet, args []string, maxPositional int) ([]string, error) {
	// Go's flag package stops at the first positional argument; let an id
	// come before the flags too (widgets get persistent --output json).
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) > maxPositional {
		return nil, usageError("%s: unexpected argument %q", fs.Name(), pos[maxPositional])
	}
	if e.g.output != "json" && e.g.output != "table" {
		return nil, usageError("--output %q: json or table", e.g.output)
	}
	if e.g.stack == "" && len(e.g.tables) < 6 {
		return nil, usageError("--stack is empty: name the stack, or every table with --table")
	}
	return pos, nil
}

// print writes v as JSON, or the rows as a table under header.
func (e *env) print(v any, header []string, rows [][]string) error {
	if e.g.output == "json" {
		enc := json.NewEncoder(e.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// notFound turns the store's ErrNotFound into a plain sentence.
func notFound(err error, what string) error {
	if errors.Is(err, conversation.ErrNotFound) {
		return fmt.Errorf("%s not found", what)
	}
	return err
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
