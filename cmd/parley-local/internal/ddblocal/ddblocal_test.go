package ddblocal

import (
	"context"
	"testing"
	"time"
)

// Install and Start give a DynamoDB Local that answers; with no Java or npm
// they fail with a message that says what is missing (never a quiet skip).
func TestInstallAndStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	emu, err := Install(ctx, CacheDir())
	if err != nil {
		t.Fatal(err)
	}
	again, err := Install(ctx, CacheDir())
	if err != nil || again != emu {
		t.Fatalf("second Install = %q, %v; want %q from the cache", again, err, emu)
	}
	s, err := Start(ctx, Options{Emulator: emu})
	if err != nil {
		t.Fatal(err)
	}
	if !ready(s.Endpoint) {
		t.Fatalf("%s does not answer", s.Endpoint)
	}
	s.Close()
	if ready(s.Endpoint) {
		t.Fatalf("%s still answers after Close", s.Endpoint)
	}
}
