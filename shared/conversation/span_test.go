package conversation

import (
	"testing"
	"time"
)

func TestParseSpan(t *testing.T) {
	tests := []struct {
		in        string
		want      Span
		overnight bool
		err       error
	}{
		{in: "09:00-17:30", want: Span{9 * h, 17*h + 30*m}},
		{in: "00:00-24:00", want: Span{0, 24 * h}},
		{in: "18:00-24:00", want: Span{18 * h, 24 * h}},
		{in: "22:00-06:00", want: Span{22 * h, 6 * h}, overnight: true},
		{in: " 08:15 - 12:45 ", want: Span{8*h + 15*m, 12*h + 45*m}},
		{in: "09:00-09:00", err: ErrInvalid},
		{in: "24:00-06:00", err: ErrInvalid},
		{in: "09:00-00:00", err: ErrInvalid}, // an end of 00:00 is written 24:00
		{in: "09:00-24:30", err: ErrInvalid},
		{in: "9:00-17:00", err: ErrInvalid},
		{in: "09:60-17:00", err: ErrInvalid},
		{in: "09:00", err: ErrInvalid},
		{in: "", err: ErrInvalid},
		{in: "nine-five", err: ErrInvalid},
	}
	for _, tt := range tests {
		call := "ParseSpan(" + tt.in + ")"
		got, err := ParseSpan(tt.in)
		if !checkErr(t, call, err, tt.err) || err != nil {
			continue
		}
		if got != tt.want || got.Overnight() != tt.overnight {
			t.Errorf("%s = %v (overnight %t); want %v (overnight %t)", call, got, got.Overnight(), tt.want, tt.overnight)
		}
		if back, err := ParseSpan(got.String()); err != nil || back != got {
			t.Errorf("ParseSpan(%v.String() = %q) = %v, %v; want it back", got, got.String(), back, err)
		}
	}
}

func TestSpanValidate(t *testing.T) {
	tests := []struct {
		span Span
		want error
	}{
		{Span{9 * h, 17 * h}, nil},
		{Span{0, 24 * h}, nil},
		{Span{23 * h, h}, nil},
		{Span{9*h + 30*time.Second, 10 * h}, nil},
		{Span{-h, 2 * h}, ErrInvalid},
		{Span{24 * h, 2 * h}, ErrInvalid},
		{Span{h, 0}, ErrInvalid},
		{Span{h, 25 * h}, ErrInvalid},
		{Span{h, h}, ErrInvalid},
	}
	for _, tt := range tests {
		checkErr(t, "Span{"+tt.span.String()+"}.Validate()", tt.span.Validate(), tt.want)
	}
	if got := (Span{9*h + 30*time.Second, 10 * h}).String(); got != "09:00:30-10:00" {
		t.Errorf("Span.String() with seconds = %q; want %q", got, "09:00:30-10:00")
	}
}
