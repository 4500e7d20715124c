package conversation

import (
	"testing"
	"time"
)

// The embedded database (what Lambda's runtime, which has none, uses) tells
// the same times as the system's, across daylight saving changes.
func TestEmbeddedZonesAgreeWithTheSystem(t *testing.T) {
	for _, name := range []string{"Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/Oslo"} {
		emb, err := embeddedZone(name)
		if err != nil {
			t.Fatalf("embeddedZone(%s) = %v", name, err)
		}
		sys, err := time.LoadLocation(name)
		if err != nil {
			t.Skipf("the system has no %s to compare with: %v", name, err)
		}
		for at := time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC); at.Year() == 2026; at = at.Add(97 * time.Minute) {
			_, e := at.In(emb).Zone()
			_, s := at.In(sys).Zone()
			if e != s {
				t.Fatalf("%s at %s: embedded offset %d, system %d", name, at.Format(time.RFC3339), e, s)
			}
		}
	}
	if _, err := embeddedZone("Mars/Olympus_Mons"); err == nil {
		t.Error("embeddedZone(Mars/Olympus_Mons) = <nil>; want an error")
	}
	if _, err := loadZone("Mars/Olympus_Mons"); err == nil {
		t.Error("loadZone(Mars/Olympus_Mons) = <nil>; want an error")
	}
}
