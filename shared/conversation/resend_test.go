package conversation

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// A resend among its sender's side's last RecentSends sends gets the first
// send's seq and changes nothing; older ones are forgotten.
func TestSendKnowsAResend(t *testing.T) {
	c := fixture(Live, Active)
	ws := workstream(Live, false)
	first, err := c.Send(alice, "k-1", ws, t0)
	if err != nil {
		t.Fatal(err)
	}
	before := *c.Clone()
	_, err = c.Send(alice, "k-1", ws, t0.Add(time.Second))
	var resent *ResentError
	if !errors.As(err, &resent) || resent.Seq != first.Seq || !errors.Is(err, ErrDuplicate) {
		t.Fatalf("Send(resend k-1) = %v; want a ResentError naming seq %d", err, first.Seq)
	}
	if c.LastSeq != before.LastSeq || c.Version != before.Version || len(c.Recent) != len(before.Recent) {
		t.Errorf("a resend changed the conversation: seq %d, version %d; want %d, %d", c.LastSeq, c.Version, before.LastSeq, before.Version)
	}
	// The same clientMessageId from the other party, or another customer's,
	// is a different send.
	if _, err := c.Send(bob, "k-1", ws, t0.Add(2*time.Second)); err != nil {
		t.Errorf("Send(bob's k-1) = %v; want a new message", err)
	}
	if _, ok := c.Resent(Participant{Role: Customer, ID: "alice2"}, "k-1"); ok {
		t.Error("Resent(another customer's k-1) = true")
	}

	// Each side remembers its own last RecentSends: alice's newer sends
	// push out her k-1, never bob's.
	for i := range RecentSends {
		if _, err := c.Send(alice, fmt.Sprintf("n-%d", i), ws, t0.Add(time.Duration(3+i)*time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Resent(alice, "k-1"); ok != (i < RecentSends-1) {
			t.Fatalf("after %d more of alice's sends, Resent(k-1) = %v", i+1, ok)
		}
	}
	if len(c.Recent) != RecentSends+1 {
		t.Fatalf("remembers %d sends; want %d of alice's and bob's one", len(c.Recent), RecentSends+1)
	}
	if seq, ok := c.Resent(bob, "k-1"); !ok || seq != first.Seq+1 {
		t.Errorf("Resent(bob's k-1, after %d of alice's) = %d, %v; want %d, true", RecentSends, seq, ok, first.Seq+1)
	}
	// Clone keeps its own memory.
	d := c.Clone()
	d.Recent[0].Seq = -1
	if c.Recent[0].Seq == -1 {
		t.Error("Clone shares Recent with the original")
	}
}

func TestPreviewOf(t *testing.T) {
	cases := []struct {
		name, text string
		runes      int // characters kept before the ellipsis, -1: whole text
	}{
		{"short", "Hello there", -1},
		{"latin at the limit", strings.Repeat("a", PreviewRunes), -1},
		{"latin over it", strings.Repeat("a", 300), PreviewRunes - 1},
		{"two-byte letters", strings.Repeat("é", 300), (PreviewBytes - 3) / 2},
		{"chinese", strings.Repeat("中", 300), (PreviewBytes - 3) / 3},
		{"emoji", strings.Repeat("😀", 300), (PreviewBytes - 3) / 4},
		{"short but wide", strings.Repeat("😀", 50), (PreviewBytes - 3) / 4},
	}
	for _, tc := range cases {
		got := PreviewOf(Message{Seq: 3, Sender: alice, Text: tc.text, At: t0})
		if got.Seq != 3 || got.Sender != alice || !got.At.Equal(t0) {
			t.Errorf("%s: preview %+v; want seq, sender and time of the message", tc.name, got)
		}
		if n := utf8.RuneCountInString(got.Text); n > PreviewRunes || len(got.Text) > PreviewBytes {
			t.Errorf("%s: preview of %d characters, %d bytes; want at most %d and %d", tc.name, n, len(got.Text), PreviewRunes, PreviewBytes)
		}
		want := tc.text
		if tc.runes >= 0 {
			want = string([]rune(tc.text)[:tc.runes]) + "…"
		}
		if got.Text != want {
			t.Errorf("%s: preview %q; want %q", tc.name, got.Text, want)
		}
	}
}
