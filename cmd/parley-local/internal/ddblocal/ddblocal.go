// Package ddblocal installs and runs Amazon DynamoDB Local, AWS's own
// DynamoDB emulator, as Parley's second local backend and the referee for
// the embedded one. DynamoDB Local ships in the npm package
// amplify-dynamodb-simulator (published by AWS Amplify); Install fetches
// that package once into a cache folder with `npm pack` and unpacks its
// emulator, and Start runs it with the machine's Java (17 or later).
package ddblocal

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Package is the npm package and version that carries DynamoDB Local 1.25.x.
const Package = "amplify-dynamodb-simulator@2.9.30"

// CacheDir is where Install keeps the emulator: $PARLEY_CACHE when set,
// else the user's cache folder.
func CacheDir() string {
	if d := os.Getenv("PARLEY_CACHE"); d != "" {
		return filepath.Join(d, "dynamodb-local", version())
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "parley", "dynamodb-local", version())
}

func version() string {
	_, v, _ := strings.Cut(Package, "@")
	return v
}

// Install makes sure the emulator is unpacked under dir and returns the
// folder holding DynamoDBLocal.jar. The first call downloads the package
// with npm; later calls find it there.
func Install(ctx context.Context, dir string) (string, error) {
	emulator := filepath.Join(dir, "emulator")
	if _, err := os.Stat(filepath.Join(emulator, "DynamoDBLocal.jar")); err == nil {
		return emulator, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("install DynamoDB Local: npm is needed to fetch %s (install Node.js and npm): %w", Package, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("install DynamoDB Local: %w", err)
	}
	// Everything lands under a temporary name and is renamed into place, so
	// test binaries installing at the same time never see half a jar, and
	// an interrupted install never looks done.
	work, err := os.MkdirTemp(dir, "install-")
	if err != nil {
		return "", fmt.Errorf("install DynamoDB Local: %w", err)
	}
	defer os.RemoveAll(work)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, npm, "pack", Package, "--silent")
	cmd.Dir, cmd.Stdout, cmd.Stderr = work, &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("install DynamoDB Local: npm pack %s: %w: %s", Package, err, strings.TrimSpace(out.String()))
	}
	tgzs, _ := filepath.Glob(filepath.Join(work, "*.tgz"))
	if len(tgzs) != 1 {
		return "", fmt.Errorf("install DynamoDB Local: npm pack left %d .tgz files: %s", len(tgzs), strings.TrimSpace(out.String()))
	}
	if err := untar(tgzs[0], work, "package/emulator/"); err != nil {
		return "", fmt.Errorf("install DynamoDB Local: unpack %s: %w", tgzs[0], err)
	}
	if err := os.Rename(filepath.Join(work, "package", "emulator"), emulator); err != nil {
		if _, serr := os.Stat(filepath.Join(emulator, "DynamoDBLocal.jar")); serr != nil {
			return "", fmt.Errorf("install DynamoDB Local into %s: %w", emulator, err)
		} // another process installed it first
	}
	return emulator, nil
}

// untar extracts the entries of a .tgz under prefix into dir.
func untar(path, dir, prefix string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !strings.HasPrefix(h.Name, prefix) || strings.Contains(h.Name, "..") {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, tr); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
		}
	}
}

// Options configure a DynamoDB Local process.
type Options struct {
	Emulator string // folder with DynamoDBLocal.jar (Install's result)
	Data     string // folder for its database; "" keeps everything in memory
	Port     int    // 0 picks a free loopback port
	Log      *slog.Logger
}

// Server is a running DynamoDB Local.
type Server struct {
	Endpoint string // http://127.0.0.1:port
	cmd      *exec.Cmd
	done     chan error
	output   *tail
	workDir  string
}

// Start runs DynamoDB Local and returns once it answers requests.
func Start(ctx context.Context, opts Options) (*Server, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: Java 17 or later is needed (Debian: apt-get install openjdk-17-jre-headless): %w", err)
	}
	port := opts.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, fmt.Errorf("start DynamoDB Local: %w", err)
		}
	}
	// -sharedDb: one database whatever the credentials and region, so the
	// handlers, the admin client and the AWS CLI all see the same tables.
	args := []string{"-Djava.library.path=" + filepath.Join(opts.Emulator, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(opts.Emulator, "DynamoDBLocal.jar"), "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port)}
	if opts.Data == "" {
		args = append(args, "-inMemory")
	} else {
		if err := os.MkdirAll(opts.Data, 0o755); err != nil {
			return nil, fmt.Errorf("start DynamoDB Local: %w", err)
		}
		args = append(args, "-dbPath", opts.Data)
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan error, 1), output: &tail{}}
	// It writes dynamodb-local-metadata.json into its working directory,
	// -disableTelemetry or not: keep that out of the shared cache.
	workDir, err := os.MkdirTemp("", "dynamodb-local-")
	if err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	s.workDir = workDir
	s.cmd = exec.Command(java, args...)
	s.cmd.Dir = workDir
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the stack
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		if ready(s.Endpoint) {
			if opts.Log != nil {
				opts.Log.Info("DynamoDB Local ready", "endpoint", s.Endpoint, "data", opts.Data)
			}
			return s, nil
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("start DynamoDB Local: it exited (%v): %s", err, s.output.String())
		case <-ctx.Done():
			s.Close()
			return nil, fmt.Errorf("start DynamoDB Local: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Close()
			return nil, fmt.Errorf("start DynamoDB Local: no answer on %s within 60s: %s", s.Endpoint, s.output.String())
		}
	}
}

// Close stops DynamoDB Local (which flushes its database on SIGTERM).
func (s *Server) Close() error {
	if s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return os.RemoveAll(s.workDir)
}

func ready(endpoint string) bool {
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := (&http.Client{Timeout: time.Second}).Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail keeps the last few KiB a process wrote, for error messages.
type tail struct{ buf []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(p), nil
}

func (t *tail) String() string { return strings.TrimSpace(string(t.buf)) }

// Launch installs DynamoDB Local into CacheDir when needed and starts it;
// opts.Emulator is filled in.
func Launch(ctx context.Context, opts Options) (*Server, error) {
	emulator, err := Install(ctx, CacheDir())
	if err != nil {
		return nil, err
	}
	opts.Emulator = emulator
	return Start(ctx, opts)
}
