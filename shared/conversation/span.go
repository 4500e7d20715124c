package conversation

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Span is one opening interval of a weekday, in wall-clock time: offsets from
// local midnight as a clock on the wall reads them, so "09:00" stays 09:00 on
// the days daylight saving time starts and ends. End is exclusive and may be
// 24h (open until midnight). A Span whose End is before its Start runs
// overnight: from Start to midnight, then from midnight to End on the next day.
type Span struct {
	Start, End time.Duration
}

// Overnight reports whether s runs past midnight into the next day.
func (s Span) Overnight() bool {
	return s.End < s.Start
}

// Validate reports, wrapping ErrInvalid, a span that cannot be on a clock:
// out of the day, or empty (Start == End would be ambiguous between "never"
// and "all day", so neither is guessed).
func (s Span) Validate() error {
	switch {
	case s.Start < 0 || s.Start >= 24*time.Hour:
		return fmt.Errorf("span %s: start must be in [00:00, 24:00): %w", s, ErrInvalid)
	case s.End <= 0 || s.End > 24*time.Hour:
		return fmt.Errorf("span %s: end must be in (00:00, 24:00]: %w", s, ErrInvalid)
	case s.Start == s.End:
		return fmt.Errorf("span %s: empty: %w", s, ErrInvalid)
	}
	return nil
}

// String renders s as settings write it, "09:00-17:30".
func (s Span) String() string {
	return clockString(s.Start) + "-" + clockString(s.End)
}

// ParseSpan reads "HH:MM-HH:MM" (e.g. "09:00-17:30", "22:00-06:00",
// "00:00-24:00"), so settings can be written the way people say opening hours.
func ParseSpan(text string) (Span, error) {
	from, to, ok := strings.Cut(text, "-")
	if !ok {
		return Span{}, fmt.Errorf("span %q: want HH:MM-HH:MM: %w", text, ErrInvalid)
	}
	start, err := parseClock(from)
	if err != nil {
		return Span{}, fmt.Errorf("span %q: %w", text, err)
	}
	end, err := parseClock(to)
	if err != nil {
		return Span{}, fmt.Errorf("span %q: %w", text, err)
	}
	s := Span{Start: start, End: end}
	if err := s.Validate(); err != nil {
		return Span{}, err
	}
	return s, nil
}

func parseClock(text string) (time.Duration, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(text), ":")
	h, herr := strconv.Atoi(hh)
	m, merr := strconv.Atoi(mm)
	if !ok || herr != nil || merr != nil || len(hh) != 2 || len(mm) != 2 ||
		h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("clock %q: want HH:MM from 00:00 to 24:00: %w", text, ErrInvalid)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

func clockString(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	h, m, s := d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second
	if s != 0 {
		return fmt.Sprintf("%s%02d:%02d:%02d", sign, h, m, s)
	}
	return fmt.Sprintf("%s%02d:%02d", sign, h, m)
}
