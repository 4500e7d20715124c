package stack

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/parley-chat/parley/cmd/parley-local/localtest/wsclient"
)

// Environment of the re-executed test binary that is the stack killed by
// TestKilledStackLeavesNoGhosts.
const (
	ghostDirEnv      = "PARLEY_GHOST_DATA"
	ghostEndpointEnv = "PARLEY_GHOST_ENDPOINT"
	ghostStackEnv    = "PARLEY_GHOST_STACK"
)

// TestGhostStack is the child of TestKilledStackLeavesNoGhosts: a stack on
// the parent's data folder, which prints its URL and waits to be killed.
func TestGhostStack(t *testing.T) {
	dir := os.Getenv(ghostDirEnv)
	if dir == "" {
		t.Skip("run by TestKilledStackLeavesNoGhosts")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	s, err := Start(ctx, Options{Addr: "127.0.0.1:0", Template: templatePath(t), Data: dir,
		DynamoDBEndpoint: os.Getenv(ghostEndpointEnv), StackName: os.Getenv(ghostStackEnv), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("url", s.URL)
	time.Sleep(time.Minute) // killed long before; bounded in case the parent is gone
	os.Exit(3)
}

// TestKilledStackLeavesNoGhosts is issue 10's ghost agent: the stack was
// killed with an agent connected, the agent's connection never got
// $disconnect, and after the restart the next customer's conversation was
// assigned to the dead agent. A restarted stack must end every connection
// the previous run left recorded before it serves anyone.
func TestKilledStackLeavesNoGhosts(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	if os.Getenv(ghostDirEnv) != "" {
		t.Skip("this process is the stack that gets killed")
	}
	dir := t.TempDir()
	name := ""
	if backend.endpoint != "" {
		name = stackName(t)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGhostStack$", "-test.count=1")
	cmd.Env = append(os.Environ(), ghostDirEnv+"="+dir, ghostEndpointEnv+"="+backend.endpoint, ghostStackEnv+"="+name, "PARLEY_BACKEND=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var url string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "url "); ok {
			url = rest
			break
		}
		if strings.HasPrefix(line, "error") {
			t.Fatalf("stack: %s", line)
		}
	}
	if url == "" {
		t.Fatalf("the stack did not start: %s", stderr.String())
	}

	// Agent bob comes online on the first run; then the process is killed.
	ws := "ws" + strings.TrimPrefix(url, "http") + "/ws?token="
	bob := wsclient.Dial(t, ws+wsclient.Token(t, url, map[string]any{"role": "agent", "sub": "bob", "name": "Bob"}), "bob")
	bob.OK("hello", nil)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no $disconnect, no flush beyond the log
		t.Fatal(err)
	}
	_ = cmd.Wait()
	<-bob.Closed()

	// The restart, on the same data.
	s := startStack(t, func(o *Options) { o.Data = dir })
	tables, err := s.tables()
	if err != nil {
		t.Fatal(err)
	}
	out, err := dynamoClient(s.dbCfg, s.DynamoDBEndpoint(), nil).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(tables.Connections)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Count != 0 {
		t.Errorf("connections recorded after the restart = %d; want none (no connection survives a restart)", out.Count)
	}
	alice := s.dial(t, "alice", s.customerToken(t, "persistent", "alice"))
	conv := obj(alice.OK("send", map[string]any{"clientMessageId": "a1", "text": "anyone?"})["conversation"])
	if conv["status"] != "queued" || conv["agent"] != nil {
		t.Fatalf("new customer's conversation after the restart = %v; want it queued, not given to the dead agent", conv)
	}
	// The first agent it goes to is a live one, not the dead bob.
	carol := s.dial(t, "carol", s.agentToken(t, "carol"))
	carol.OK("hello", nil)
	ev := alice.ConversationEvent(conv["id"].(string), "active")
	if agent := obj(ev["agent"]); agent["id"] != "carol" {
		t.Errorf("conversation assigned to %v; want carol, the agent who is online", agent)
	}
}
