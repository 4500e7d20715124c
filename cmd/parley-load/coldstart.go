package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// functions are the Lambda functions, functions/<name>.
var functions = []string{"authorizer", "connect", "disconnect", "message", "park", "pickup", "close", "presence", "default", "notify", "sweep"}

// coldStart is one function's binary sizes and init time.
type coldStart struct {
	Function    string    `json:"function"`
	ARM64Bytes  int64     `json:"arm64_bytes"`
	AMD64Bytes  int64     `json:"amd64_bytes"`
	InitMedian  float64   `json:"init_median_ms"`
	InitSamples []float64 `json:"init_samples_ms"`
}

type coldStartReport struct {
	Functions []coldStart `json:"functions"`
	Runs      int         `json:"runs"`
	// Packages is the amd64 message binary's symbol sizes summed by
	// package (go tool nm -size of an unstripped build), largest first.
	Packages []pkgSize `json:"message_binary_packages"`
	Note     string    `json:"note"`
}

type pkgSize struct {
	Package string `json:"package"`
	Bytes   int64  `json:"bytes"`
}

// lambdaTags are the Makefile's LAMBDA_FLAGS build tags.
const lambdaTags = "lambda.norpc,nethttpomithttp2"

// buildFunction builds functions/name as the Makefile's LAMBDA_FLAGS do.
func buildFunction(ctx context.Context, name, goarch, out string, strip bool) error {
	args := []string{"build", "-trimpath", "-tags", lambdaTags}
	if strip {
		args = append(args, "-ldflags", "-s -w")
	}
	args = append(args, "-o", out, "./functions/"+name)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build functions/%s for %s: %w: %s", name, goarch, err, b)
	}
	return nil
}

// measureColdStart builds every function for linux/arm64 and linux/amd64
// and times the amd64 binary's init runs times: from exec to its first
// GET /2018-06-01/runtime/invocation/next on a Lambda Runtime API stand-in.
func measureColdStart(ctx context.Context, runs int) (coldStartReport, error) {
	rep := coldStartReport{Runs: runs}
	dir, err := os.MkdirTemp("", "parley-coldstart-")
	if err != nil {
		return rep, fmt.Errorf("make a build folder: %w", err)
	}
	defer os.RemoveAll(dir)

	api, err := newRuntimeAPI()
	if err != nil {
		return rep, err
	}
	defer api.close()

	for _, fn := range functions {
		cs := coldStart{Function: fn}
		for _, arch := range []string{"arm64", "amd64"} {
			out := filepath.Join(dir, fn+"-"+arch)
			if err := buildFunction(ctx, fn, arch, out, true); err != nil {
				return rep, err
			}
			st, err := os.Stat(out)
			if err != nil {
				return rep, fmt.Errorf("stat %s: %w", out, err)
			}
			if arch == "arm64" {
				cs.ARM64Bytes = st.Size()
			} else {
				cs.AMD64Bytes = st.Size()
			}
		}
		bin := filepath.Join(dir, fn+"-amd64")
		for range runs {
			d, err := api.initTime(ctx, bin)
			if err != nil {
				return rep, fmt.Errorf("init of %s: %w", fn, err)
			}
			cs.InitSamples = append(cs.InitSamples, float64(d.Microseconds())/1000)
		}
		s := slices.Clone(cs.InitSamples)
		slices.Sort(s)
		cs.InitMedian = (s[(len(s)-1)/2] + s[len(s)/2]) / 2
		rep.Functions = append(rep.Functions, cs)
	}

	// Where the bytes go: an unstripped build of the message function.
	full := filepath.Join(dir, "message-full")
	if err := buildFunction(ctx, "message", "amd64", full, false); err != nil {
		return rep, err
	}
	rep.Packages, err = packageSizes(ctx, full)
	if err != nil {
		return rep, err
	}
	rep.Note = "init: exec of the amd64 binary to its first GET /2018-06-01/runtime/invocation/next, on this machine (the stand-in never answers; the process is killed)"
	return rep, nil
}

// runtimeAPI is a minimal Lambda Runtime API: it notes when a process
// first asks for an invocation.
type runtimeAPI struct {
	addr  string
	srv   *http.Server
	asked chan time.Time
}

func newRuntimeAPI() (*runtimeAPI, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the runtime API stand-in: %w", err)
	}
	a := &runtimeAPI{addr: l.Addr().String(), asked: make(chan time.Time, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case a.asked <- time.Now():
		default:
		}
		// Hold the request as Lambda does between invocations, until
		// the process is killed.
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	})
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = a.srv.Serve(l) }()
	return a, nil
}

func (a *runtimeAPI) close() { _ = a.srv.Close() }

// functionEnv is what template.yaml's Globals give every function, and what
// Lambda itself sets, with local values.
func (a *runtimeAPI) functionEnv() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_RUNTIME_API=" + a.addr,
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_SESSION_TOKEN=bench",
		"AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"CONVERSATIONS_TABLE=parley-conversations", "MESSAGES_TABLE=parley-messages", "CONNECTIONS_TABLE=parley-connections",
		"CUSTOMERS_TABLE=parley-customers", "AGENTS_TABLE=parley-agents", "SETTINGS_TABLE=parley-settings",
		"MANAGEMENT_ENDPOINT=https://abc123.execute-api.us-east-1.amazonaws.com/prod",
		"AGENT_ISSUER=https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench",
		"AGENT_JWKS_URL=https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench/.well-known/jwks.json",
		"AGENT_AUDIENCE=bench", "MESSAGE_RETENTION_DAYS=365",
	}
}

func (a *runtimeAPI) initTime(ctx context.Context, bin string) (time.Duration, error) {
	// Drain a late report of an earlier process.
	for len(a.asked) > 0 {
		<-a.asked
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = a.functionEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("exec %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	select {
	case at := <-a.asked:
		return at.Sub(t0), nil
	case err := <-exited:
		exited <- err
		return 0, fmt.Errorf("%s exited before asking for an invocation: %v: %s", bin, err, out.String())
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("%s asked for no invocation within 10 s: %s", bin, out.String())
	}
}

// packageSizes sums go tool nm -size by the package each symbol belongs to.
func packageSizes(ctx context.Context, bin string) ([]pkgSize, error) {
	out, err := exec.CommandContext(ctx, "go", "tool", "nm", "-size", "-sort", "size", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("go tool nm %s: %w", bin, err)
	}
	st, err := os.Stat(bin)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", bin, err)
	}
	by := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		// address size type name
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		// Code (T), read-only data (R) and data (D) are in the file;
		// BSS (B) and undefined symbols (U) are not.
		if t := strings.ToUpper(f[2]); t != "T" && t != "R" && t != "D" {
			continue
		}
		// A zero-filled buffer nm lists as data (the FIPS DRBG's 32 MB
		// crypto/internal/fips140/drbg.memory) takes no room in the file.
		if size > st.Size() {
			continue
		}
		by[packageOf(strings.Join(f[3:], " "))] += size
	}
	var list []pkgSize
	for p, n := range by {
		list = append(list, pkgSize{p, n})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Bytes > list[j].Bytes })
	return list[:min(len(list), 15)], nil
}

// packageOf groups a symbol: the AWS SDK's services and Parley's own
// packages by name, the standard library and the rest by their first path
// elements.
func packageOf(sym string) string {
	sym = strings.TrimPrefix(sym, "type:")
	sym = strings.TrimPrefix(sym, "go:itab.")
	sym = strings.TrimPrefix(sym, "*")
	// The package path ends at the first dot after the last slash.
	slash := strings.LastIndexByte(sym, '/')
	if i := strings.IndexByte(sym[slash+1:], '.'); i >= 0 {
		sym = sym[:slash+1+i]
	}
	parts := strings.Split(sym, "/")
	switch {
	case strings.HasPrefix(sym, "github.com/aws/aws-sdk-go-v2/service/"):
		return strings.Join(parts[:min(len(parts), 5)], "/")
	case strings.HasPrefix(sym, "github.com/aws/"):
		return strings.Join(parts[:min(len(parts), 3)], "/")
	case strings.HasPrefix(sym, "github.com/parley-chat/parley/"):
		return strings.Join(parts[:min(len(parts), 5)], "/")
	case strings.Contains(parts[0], "."):
		return strings.Join(parts[:min(len(parts), 3)], "/")
	}
	return parts[0] // the standard library, by its top package

}
