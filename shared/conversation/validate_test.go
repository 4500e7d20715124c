package conversation

import (
	"fmt"
	"strings"
	"testing"
)

func TestValidateText(t *testing.T) {
	tests := []struct {
		what string
		text string
		want error
	}{
		{what: "one letter", text: "a"},
		{what: "padded", text: "  hi  "},
		{what: "4000 ASCII", text: strings.Repeat("a", 4000)},
		{what: "4001 ASCII", text: strings.Repeat("a", 4001), want: ErrInvalid},
		{what: "4000 three-byte runes (12000 bytes)", text: strings.Repeat("€", 4000)},
		{what: "4001 three-byte runes", text: strings.Repeat("€", 4001), want: ErrInvalid},
		{what: "4000 four-byte emoji", text: strings.Repeat("😀", 4000)},
		{what: "4001 four-byte emoji", text: strings.Repeat("😀", 4001), want: ErrInvalid},
		{what: "emoji joined by ZWJ", text: "👩\u200d💻"},
		{what: "empty", text: "", want: ErrInvalid},
		{what: "spaces", text: "   ", want: ErrInvalid},
		{what: "tabs and newlines", text: "\t\r\n \n", want: ErrInvalid},
		{what: "no-break and ideographic spaces", text: "\u00a0\u3000", want: ErrInvalid},
		{what: "zero-width space and BOM", text: "\u200b\ufeff", want: ErrInvalid},
		{what: "invalid UTF-8", text: "ok\xff", want: ErrInvalid},
		{what: "4000 spaces", text: strings.Repeat(" ", 4000), want: ErrInvalid},
	}
	for _, tt := range tests {
		checkErr(t, "ValidateText("+tt.what+")", ValidateText(tt.text), tt.want)
	}
}

func TestValidateClientMessageID(t *testing.T) {
	tests := []struct {
		what string
		id   string
		want error
	}{
		{what: "k-123", id: "k-123"},
		{what: "1 char", id: "k"},
		{what: "64 chars", id: strings.Repeat("k", 64)},
		{what: "65 chars", id: strings.Repeat("k", 65), want: ErrInvalid},
		{what: "64 two-byte runes", id: strings.Repeat("é", 64)},
		{what: "65 two-byte runes", id: strings.Repeat("é", 65), want: ErrInvalid},
		{what: "empty", id: "", want: ErrInvalid},
		{what: "invalid UTF-8", id: "\xc3", want: ErrInvalid},
	}
	for _, tt := range tests {
		checkErr(t, "ValidateClientMessageID("+tt.what+")", ValidateClientMessageID(tt.id), tt.want)
	}
}

func TestValidateLimit(t *testing.T) {
	tests := []struct {
		n, want int
		err     error
	}{
		{0, 50, nil},
		{1, 1, nil},
		{50, 50, nil},
		{200, 200, nil},
		{201, 0, ErrInvalid},
		{-1, 0, ErrInvalid},
	}
	for _, tt := range tests {
		got, err := ValidateLimit(tt.n)
		call := fmt.Sprintf("ValidateLimit(%d)", tt.n)
		if checkErr(t, call, err, tt.err) && got != tt.want {
			t.Errorf("%s = %d; want %d", call, got, tt.want)
		}
	}
}
