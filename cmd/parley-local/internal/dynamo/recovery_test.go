package dynamo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// mustConsistent fails the test when an index of s does not hold exactly
// what its table projects into it. Every recovery test runs it on the
// reopened store.
func mustConsistent(t *testing.T, s *Store) {
	t.Helper()
	if err := s.CheckIndexes(); err != nil {
		t.Errorf("indexes differ from their tables:\n%v", err)
	}
}

// createQueueTable creates a table shaped like Parley's conversations
// table: a sparse "queue" index whose key attributes a conversation has
// only while it waits for an agent.
func createQueueTable(t *testing.T, db *dynamodb.Client) {
	t.Helper()
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:   aws.String("conversations"),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("queueKey"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("queuedAt"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String("queue"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("queueKey"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("queuedAt"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatalf("CreateTable(conversations) = %v", err)
	}
}

// queued lists the ids the queue index holds for a workstream, oldest first.
func queued(t *testing.T, db *dynamodb.Client, workstream string) []string {
	t.Helper()
	out, err := db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String("conversations"),
		IndexName:                 aws.String("queue"),
		KeyConditionExpression:    aws.String("queueKey = :w"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":w": str(workstream)},
	})
	if err != nil {
		t.Fatalf("Query(queue %s) = %v", workstream, err)
	}
	ids := []string{}
	for _, item := range out.Items {
		ids = append(ids, sOf(item, "id"))
	}
	return ids
}

// queueLife is what the handlers do to conversations: three are queued in
// one workstream, the oldest is assigned (its queue attributes removed).
func queueLife(t *testing.T, db *dynamodb.Client) {
	t.Helper()
	ctx := context.Background()
	for i, id := range []string{"c1", "c2", "c3"} {
		put(t, db, "conversations", map[string]types.AttributeValue{"id": str(id), "status": str("queued"),
			"queueKey": str("support"), "queuedAt": str(fmt.Sprintf("2026-07-01T12:00:0%dZ", i))})
	}
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String("conversations"),
		Key:                       map[string]types.AttributeValue{"id": str("c1")},
		UpdateExpression:          aws.String("SET #s = :a, agentId = :b REMOVE queueKey, queuedAt"),
		ConditionExpression:       aws.String("#s = :q"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": str("active"), ":b": str("bob"), ":q": str("queued")},
	}); err != nil {
		t.Fatalf("assign c1: %v", err)
	}
}

// queueDirEnv tells the test binary, re-executed by
// TestKill9AfterAssignmentKeepsTheQueue, to be the process that is killed.
const queueDirEnv = "PARLEY_DYNAMO_QUEUE_DIR"

// TestKill9QueueWriter is the child of TestKill9AfterAssignmentKeepsTheQueue:
// it queues three conversations, assigns the first, says so, and waits to
// be killed.
func TestKill9QueueWriter(t *testing.T) {
	dir := os.Getenv(queueDirEnv)
	if dir == "" {
		t.Skip("run by TestKill9AfterAssignmentKeepsTheQueue")
	}
	s, err := Open(Options{Dir: dir})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	queueLife(t, client(t, s))
	fmt.Println("ready")
	time.Sleep(30 * time.Second) // the parent kills this process long before; bounded in case it is gone
	os.Exit(3)
}

// TestKill9AfterAssignmentKeepsTheQueue is issue 10's crash: after a kill
// -9 and a replay of the log, the queue index held the assigned
// conversation still, and the first write to it emptied the whole
// workstream's queue.
func TestKill9AfterAssignmentKeepsTheQueue(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	if os.Getenv(queueDirEnv) != "" {
		t.Skip("this process is the writer")
	}
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir})
	createQueueTable(t, client(t, s))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9QueueWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), queueDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	ready := false
	for sc.Scan() {
		if line := sc.Text(); line == "ready" {
			ready = true
			break
		} else if strings.HasPrefix(line, "error") {
			t.Fatalf("writer: %s", line)
		}
	}
	if !ready {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("writer ended before it was ready: %s", stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no snapshot, the log is replayed
		t.Fatal(err)
	}
	_ = cmd.Wait()

	s2, db := reopen(t, dir)
	mustConsistent(t, s2)
	if got := queued(t, db, "support"); !reflect.DeepEqual(got, []string{"c2", "c3"}) {
		t.Errorf("queue after the replay = %v; want [c2 c3]", got)
	}
	// The customer of c1 sends: the conversation is written again.
	if _, err := db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:                 aws.String("conversations"),
		Key:                       map[string]types.AttributeValue{"id": str("c1")},
		UpdateExpression:          aws.String("SET lastSeq = :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(2)},
	}); err != nil {
		t.Fatalf("send into c1: %v", err)
	}
	if got := queued(t, db, "support"); !reflect.DeepEqual(got, []string{"c2", "c3"}) {
		t.Errorf("queue after a send into the assigned conversation = %v; want [c2 c3]", got)
	}
	mustConsistent(t, s2)
}

// TestCrashReplayKeepsIndexes runs the same life in-process with every kind
// of write an index sees (puts over indexed items, updates that add and
// drop index keys, deletes, batches, transactions), crashes, and checks the
// replayed indexes; then closes cleanly and checks the snapshot's.
func TestCrashReplayKeepsIndexes(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := mustOpen(t, Options{Dir: dir})
	db := client(t, s)
	createQueueTable(t, db)
	queueLife(t, db)
	// c2 is put over without its queue key, c3 requeued under another
	// workstream, c4 created by an update straight into the queue, c5 put
	// and deleted, c6 written by a batch over an item that had the key.
	put(t, db, "conversations", map[string]types.AttributeValue{"id": str("c2"), "status": str("closed")})
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("conversations"), Key: map[string]types.AttributeValue{"id": str("c3")},
		UpdateExpression: aws.String("SET queueKey = :w"), ExpressionAttributeValues: map[string]types.AttributeValue{":w": str("sales")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("conversations"), Key: map[string]types.AttributeValue{"id": str("c4")},
		UpdateExpression:          aws.String("SET queueKey = :w, queuedAt = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":w": str("support"), ":t": str("2026-07-01T12:01:00Z")}}); err != nil {
		t.Fatal(err)
	}
	put(t, db, "conversations", map[string]types.AttributeValue{"id": str("c5"), "queueKey": str("support"), "queuedAt": str("2026-07-01T12:02:00Z")})
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("conversations"), Key: map[string]types.AttributeValue{"id": str("c5")}}); err != nil {
		t.Fatal(err)
	}
	put(t, db, "conversations", map[string]types.AttributeValue{"id": str("c6"), "queueKey": str("support"), "queuedAt": str("2026-07-01T12:03:00Z")})
	if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"conversations": {
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": str("c6"), "status": str("active")}}},
	}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("conversations"), Item: map[string]types.AttributeValue{"id": str("c4"), "status": str("active")}}},
		{Put: &types.Put{TableName: aws.String("conversations"), Item: map[string]types.AttributeValue{"id": str("c7"), "queueKey": str("support"), "queuedAt": str("2026-07-01T12:04:00Z")}}},
	}}); err != nil {
		t.Fatal(err)
	}
	mustConsistent(t, s) // the live indexes first
	want := []string{"c7"}
	if got := queued(t, db, "support"); !reflect.DeepEqual(got, want) {
		t.Fatalf("live queue = %v; want %v", got, want)
	}
	s.crash()

	s2, db2 := reopen(t, dir)
	mustConsistent(t, s2)
	if got := queued(t, db2, "support"); !reflect.DeepEqual(got, want) {
		t.Errorf("queue after the replay = %v; want %v", got, want)
	}
	if got := queued(t, db2, "sales"); !reflect.DeepEqual(got, []string{"c3"}) {
		t.Errorf("sales queue = %v; want [c3]", got)
	}
	for _, id := range []string{"c1", "c2", "c6"} {
		if _, err := db2.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("conversations"), Key: map[string]types.AttributeValue{"id": str(id)},
			UpdateExpression: aws.String("SET touched = :t"), ExpressionAttributeValues: map[string]types.AttributeValue{":t": num(1)}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := queued(t, db2, "support"); !reflect.DeepEqual(got, want) {
		t.Errorf("queue after writes to assigned conversations = %v; want %v", got, want)
	}
	mustConsistent(t, s2)
}
