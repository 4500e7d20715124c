package dynamo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// reopen opens dir again after the previous store closed or crashed.
func reopen(t *testing.T, dir string) (*Store, *dynamodb.Client) {
	t.Helper()
	s := openStore(t, Options{Dir: dir})
	return s, client(t, s)
}

// mustOpen opens a store the test closes or crashes itself.
func mustOpen(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%+v) = %v", opts, err)
	}
	return s
}

func queryIndex(t *testing.T, db *dynamodb.Client, table, index, attr, value string) []string {
	t.Helper()
	out, err := db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String("#a = :v"),
		ExpressionAttributeNames:  map[string]string{"#a": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": str(value)},
	})
	if err != nil {
		t.Fatalf("Query(%s.%s) = %v", table, index, err)
	}
	var pks []string
	for _, item := range out.Items {
		pks = append(pks, sOf(item, "pk"))
	}
	sort.Strings(pks)
	return pks
}

func TestDurableAcrossCloseAndOpen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := mustOpen(t, Options{Dir: dir})
	db := client(t, s)
	createTable(t, db, tableSpec{name: "conversations", gsi: true, stream: types.StreamViewTypeNewAndOldImages})
	createTable(t, db, tableSpec{name: "messages", rng: true, lsi: true})
	createTable(t, db, tableSpec{name: "scratch"})
	enableTTL(t, db, "messages", "expiresAt")
	arn := s.Stream("conversations").ARN()

	put(t, db, "conversations", map[string]types.AttributeValue{"pk": str("c1"), "g": str("w1"), "status": str("queued")})
	put(t, db, "conversations", map[string]types.AttributeValue{"pk": str("c2"), "g": str("w1")})
	put(t, db, "conversations", map[string]types.AttributeValue{"pk": str("c3"), "g": str("w2")})
	put(t, db, "scratch", map[string]types.AttributeValue{"pk": str("x")})
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("conversations"), Key: map[string]types.AttributeValue{"pk": str("c1")},
		UpdateExpression: aws.String("SET #s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str("active")}}); err != nil {
		t.Fatalf("UpdateItem = %v", err)
	}
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("conversations"), Key: map[string]types.AttributeValue{"pk": str("c2")}}); err != nil {
		t.Fatalf("DeleteItem = %v", err)
	}
	if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"messages": {
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("c1"), "sk": str("0001"), "h": str("agent")}}},
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": str("c1"), "sk": str("0002"), "h": str("agent")}}},
	}}}); err != nil {
		t.Fatalf("BatchWriteItem = %v", err)
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("messages"), Item: map[string]types.AttributeValue{"pk": str("c3"), "sk": str("0001"), "h": str("customer")}}},
		{Delete: &types.Delete{TableName: aws.String("conversations"), Key: map[string]types.AttributeValue{"pk": str("c3")}}},
	}}); err != nil {
		t.Fatalf("TransactWriteItems = %v", err)
	}
	// A GSI added later must come back, with the items it indexes.
	if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:            aws.String("messages"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("h"), AttributeType: types.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String("byH"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("h"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}},
	}); err != nil {
		t.Fatalf("UpdateTable(add byH) = %v", err)
	}
	if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("scratch")}); err != nil {
		t.Fatalf("DeleteTable = %v", err)
	}

	check := func(t *testing.T, s *Store, db *dynamodb.Client) {
		t.Helper()
		tables, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
		if err != nil || !reflect.DeepEqual(tables.TableNames, []string{"conversations", "messages"}) {
			t.Errorf("ListTables = %v, %v; want conversations, messages", tables, err)
		}
		if got := sOf(get(t, db, "conversations", "c1"), "status"); got != "active" {
			t.Errorf("c1.status = %q; want active", got)
		}
		for _, gone := range []string{"c2", "c3"} {
			if get(t, db, "conversations", gone) != nil {
				t.Errorf("deleted conversation %s is back", gone)
			}
		}
		if got := queryIndex(t, db, "conversations", "byG", "g", "w1"); !reflect.DeepEqual(got, []string{"c1"}) {
			t.Errorf("byG w1 = %v; want [c1]", got)
		}
		if got := queryIndex(t, db, "messages", "byH", "h", "agent"); !reflect.DeepEqual(got, []string{"c1", "c1"}) {
			t.Errorf("byH agent = %v; want two messages of c1", got)
		}
		if got := queryIndex(t, db, "messages", "byH", "h", "customer"); !reflect.DeepEqual(got, []string{"c3"}) {
			t.Errorf("byH customer = %v; want [c3]", got)
		}
		if got := queryIndex(t, db, "messages", "local", "pk", "c1"); !reflect.DeepEqual(got, []string{"c1", "c1"}) {
			t.Errorf("local index c1 = %v; want two messages", got)
		}
		ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("messages")})
		if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expiresAt" {
			t.Errorf("DescribeTimeToLive(messages) = %+v, %v; want expiresAt enabled", ttl, err)
		}
		desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("conversations")})
		if err != nil || aws.ToString(desc.Table.LatestStreamArn) != arn {
			t.Errorf("LatestStreamArn = %v, %v; want the ARN from before the restart, %s", desc, err, arn)
		}
		if st := s.Stream("conversations"); st == nil || st.ARN() != arn || st.Latest() != "" {
			t.Errorf("Stream after restart = %v; want ARN %s and no records (records are not persisted)", st, arn)
		}
	}

	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	t.Run("after Close", func(t *testing.T) {
		s, db := reopen(t, dir)
		check(t, s, db)
		mustConsistent(t, s)
		// Writes after a restart stream with sequence numbers above any before.
		put(t, db, "conversations", map[string]types.AttributeValue{"pk": str("c9"), "g": str("w9")})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("after crash", func(t *testing.T) {
		s := mustOpen(t, Options{Dir: dir})
		db := client(t, s)
		put(t, db, "conversations", map[string]types.AttributeValue{"pk": str("c10"), "g": str("w9")})
		s.crash() // no snapshot: the reopen replays the log
		s2, db2 := reopen(t, dir)
		check(t, s2, db2)
		mustConsistent(t, s2)
		if got := queryIndex(t, db2, "conversations", "byG", "g", "w9"); !reflect.DeepEqual(got, []string{"c10", "c9"}) {
			t.Errorf("byG w9 = %v; want [c10 c9]", got)
		}
	})
}

func TestCompactionRotatesTheLog(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir})
	s.compactAt = 4 << 10
	db := client(t, s)
	createTable(t, db, tableSpec{name: "many"})
	for i := range 100 {
		put(t, db, "many", map[string]types.AttributeValue{"pk": str(fmt.Sprintf("k%03d", i)), "body": str(strings.Repeat("b", 100))})
	}
	if s.wal.gen == 0 {
		t.Errorf("log generation after 100 writes over a 4 KiB threshold = 0; want compactions")
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "log-*"))
	if len(logs) != 1 || filepath.Base(logs[0]) != fmt.Sprintf("log-%d", s.wal.gen) {
		t.Errorf("logs in the data directory = %v; want only log-%d", logs, s.wal.gen)
	}
	if _, err := os.Stat(filepath.Join(dir, snapshotFile)); err != nil {
		t.Errorf("snapshot: %v", err)
	}
	s.crash()

	s2, db2 := reopen(t, dir)
	mustConsistent(t, s2)
	out, err := db2.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("many")})
	if err != nil || out.Count != 100 {
		t.Errorf("Scan after compactions and a crash = %v items, %v; want 100", out.Count, err)
	}
}

func TestTornLogTail(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(t *testing.T, path string)
		wantLast bool // the last write survives the damage
	}{
		{"truncated last record", func(t *testing.T, path string) {
			st, _ := os.Stat(path)
			if err := os.Truncate(path, st.Size()-3); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"truncated inside the header", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			// Keep the table record, items a and b, and 5 bytes of c's header.
			end := frameEnd(t, b, 3)
			if err := os.WriteFile(path, b[:end+5], 0o644); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"corrupt byte in last record", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			b[len(b)-2] ^= 0xff
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"garbage after the last record", func(t *testing.T, path string) {
			appendFile(t, path, []byte("\x10\x00\x00\x00garbage that is no frame"))
		}, true},
		{"zeros after the last record", func(t *testing.T, path string) {
			appendFile(t, path, make([]byte, 4096))
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, Options{Dir: dir})
			db := client(t, s)
			createTable(t, db, tableSpec{name: "torn"})
			for _, k := range []string{"a", "b", "c"} {
				put(t, db, "torn", map[string]types.AttributeValue{"pk": str(k), "v": str(strings.Repeat(k, 50))})
			}
			path := logPath(dir, s.wal.gen)
			s.crash()
			tt.damage(t, path)

			s2 := mustOpen(t, Options{Dir: dir})
			db2 := client(t, s2)
			for _, k := range []string{"a", "b"} {
				if got := sOf(get(t, db2, "torn", k), "v"); got != strings.Repeat(k, 50) {
					t.Errorf("item %s after reopening = %q; want it whole", k, got)
				}
			}
			if got := get(t, db2, "torn", "c") != nil; got != tt.wantLast {
				t.Errorf("last item present = %v; want %v", got, tt.wantLast)
			}
			// The damage is cut off, so what is written now replays too.
			put(t, db2, "torn", map[string]types.AttributeValue{"pk": str("d")})
			s2.crash()
			s3, db3 := reopen(t, dir)
			mustConsistent(t, s3)
			if get(t, db3, "torn", "d") == nil || get(t, db3, "torn", "a") == nil {
				t.Error("a write after recovering from a torn tail did not survive the next crash")
			}
		})
	}
}

// frameEnd returns the offset just past the n-th frame of a log.
func frameEnd(t *testing.T, b []byte, n int) int {
	t.Helper()
	off := 0
	for range n {
		if off+frameHeader > len(b) {
			t.Fatalf("log has fewer than %d frames", n)
		}
		off += frameHeader + int(uint32(b[off])|uint32(b[off+1])<<8|uint32(b[off+2])<<16|uint32(b[off+3])<<24)
	}
	return off
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedSnapshotFailsOpen(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir})
	db := client(t, s)
	createTable(t, db, tableSpec{name: "snap"})
	put(t, db, "snap", map[string]types.AttributeValue{"pk": str("a")})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, snapshotFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read snapshot written by Close: %v", err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(Options{Dir: dir}); err == nil {
		s.Close()
		t.Error("Open with a damaged snapshot = nil error; want the damage reported, not data silently dropped")
	}
}

func TestDataDirectoryIsLocked(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	dir := t.TempDir()
	openStore(t, Options{Dir: dir})
	if s, err := Open(Options{Dir: dir}); err == nil {
		s.Close()
		t.Error("second Open of one data directory = nil error; want it refused")
	}
}

// killDirEnv tells the test binary, re-executed by TestKill9, to be the
// writer that gets killed.
const killDirEnv = "PARLEY_DYNAMO_KILL_DIR"

// TestKill9Writer is the child of TestKill9: it writes items as fast as it
// can and reports each acknowledged one on stdout until it is killed.
func TestKill9Writer(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("run by TestKill9")
	}
	s, err := Open(Options{Dir: dir, FlushInterval: 50 * time.Millisecond})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	s.compactAt = 256 << 10 // compact often, so the kill may land inside one
	db := client(t, s)
	stop := time.Now().Add(30 * time.Second) // in case the parent is gone
	for i := 0; time.Now().Before(stop); i++ {
		_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("killed"), Item: killItem(i)})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Printf("ack %d\n", i)
	}
	os.Exit(3)
}

func killItem(i int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":      str(fmt.Sprintf("k%06d", i)),
		"n":       num(i),
		"payload": str(strings.Repeat(string(rune('a'+i%26)), 1000)),
	}
}

func TestKill9(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	if os.Getenv(killDirEnv) != "" {
		t.Skip("this process is the writer")
	}
	const flush = 50 * time.Millisecond
	dir := t.TempDir()
	s := mustOpen(t, Options{Dir: dir})
	createTable(t, client(t, s), tableSpec{name: "killed"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Writer$", "-test.count=1")
	cmd.Env = append(os.Environ(), killDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type ack struct {
		i  int
		at time.Time // when the parent saw it, after the child's ack
	}
	acks := make(chan ack, 1<<16)
	failures := make(chan string, 1)
	go func() {
		defer close(acks)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "ack "); ok {
				i, _ := strconv.Atoi(rest)
				acks <- ack{i, time.Now()}
			} else if strings.HasPrefix(line, "error") {
				failures <- line
			}
		}
	}()

	var got []ack
	deadline := time.After(20 * time.Second)
wait:
	for {
		select {
		case a, ok := <-acks:
			if !ok {
				t.Fatalf("writer exited early: %s", stderr.String())
			}
			got = append(got, a)
			// Run long enough that many acks are older than a flush
			// interval, and past several compactions.
			if len(got) >= 600 && time.Since(got[0].at) > 6*flush {
				break wait
			}
		case line := <-failures:
			t.Fatalf("writer: %s", line)
		case <-deadline:
			if len(got) == 0 {
				t.Fatalf("writer acknowledged nothing in 20 s: %s", stderr.String())
			}
			break wait
		}
	}
	killAt := time.Now()
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	for a := range acks {
		got = append(got, a)
	}
	_ = cmd.Wait()

	s2 := openStore(t, Options{Dir: dir})
	mustConsistent(t, s2)
	db := client(t, s2)
	must := 0
	for _, a := range got {
		if a.at.After(killAt.Add(-flush)) {
			continue // inside the last flush interval: allowed to be lost
		}
		must++
		item := get(t, db, "killed", fmt.Sprintf("k%06d", a.i))
		if item == nil {
			t.Errorf("item %d, acknowledged %v before the kill, is lost", a.i, killAt.Sub(a.at))
		}
	}
	if must == 0 {
		t.Fatal("no acknowledgement older than a flush interval; the test proved nothing")
	}
	// Whatever is there is whole: no torn item.
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("killed")})
	if err != nil {
		t.Fatalf("Scan = %v", err)
	}
	for _, item := range out.Items {
		n, _ := strconv.Atoi(item["n"].(*types.AttributeValueMemberN).Value)
		if want := killItem(n); sOf(item, "pk") != sOf(want, "pk") || sOf(item, "payload") != sOf(want, "payload") {
			t.Errorf("item %d is torn: %v", n, item)
		}
	}
	t.Logf("%d acks, %d older than the flush interval, %d items after reopening", len(got), must, out.Count)
}
