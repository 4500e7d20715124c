package conversation

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	l := Limit{Burst: 3, Rate: 2}
	var b Bucket
	now := t0
	for i := range 3 {
		if ok, _ := b.Take(l, now); !ok {
			t.Fatalf("take %d of a burst of 3 refused", i+1)
		}
	}
	before := b
	ok, wait := b.Take(l, now)
	if ok || wait != 500*time.Millisecond || b != before {
		t.Fatalf("take 4 = %v, wait %s, bucket %+v; want refused, wait 500ms, bucket unchanged", ok, wait, b)
	}
	if ok, _ := b.Take(l, now.Add(wait)); !ok {
		t.Errorf("after waiting %s: refused; want served", wait)
	}
	// A long rest refills only up to the burst.
	later := now.Add(time.Hour)
	for i := range 4 {
		ok, _ := b.Take(l, later)
		if ok != (i < 3) {
			t.Errorf("after an hour, take %d = %v; want %v", i+1, ok, i < 3)
		}
	}
}
