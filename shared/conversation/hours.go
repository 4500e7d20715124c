package conversation

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Hours are a workstream's operating hours: when queued conversations are
// assigned and when live chats may start. Spans are wall-clock times in
// TimeZone, so they follow daylight saving time as the team's clocks do.
type Hours struct {
	TimeZone   string                  // IANA name, e.g. "Europe/Paris"; "" = UTC
	Weekly     map[time.Weekday][]Span // nil map and AlwaysOpen false = never open
	Holidays   []string                // local dates closed all day, "2026-12-25"
	AlwaysOpen bool                    // open every moment except Holidays
}

// holidayLayout is how Holidays spell dates: local calendar dates, no zone.
const holidayLayout = "2006-01-02"

// Validate reports, wrapping ErrInvalid, the first setting of h that Open
// could not evaluate: an unknown time zone, a weekday out of range, a bad span
// or a malformed holiday.
func (h Hours) Validate() error {
	_, err := h.compile()
	return err
}

// Open reports whether the workstream is open at t. A span that runs
// overnight belongs to the day it starts on, and a holiday closes its whole
// date, including the morning part of the previous evening's span.
func (h Hours) Open(t time.Time) (bool, error) {
	s, err := h.compile()
	if err != nil {
		return false, err
	}
	return s.open(t), nil
}

// NextOpen returns the first instant at or after t when h is open, looking up
// to one year ahead; ok is false when h does not open in that year (never-open
// hours, or a year of holidays). Sweep uses it to know when queued
// conversations can next be assigned.
func (h Hours) NextOpen(t time.Time) (next time.Time, ok bool, err error) {
	s, err := h.compile()
	if err != nil {
		return time.Time{}, false, err
	}
	if s.open(t) {
		return t, true, nil
	}
	if !s.always && len(s.weekly) == 0 {
		return time.Time{}, false, nil
	}
	limit := t.AddDate(1, 0, 0)
	var best time.Time
	consider := func(c time.Time) {
		if c.Before(t) || c.After(limit) || (!best.IsZero() && !c.Before(best)) {
			return
		}
		if s.open(c) {
			best = c
		}
	}
	// Openness changes only where the wall clock reaches a span start or
	// midnight, or where it jumps at a zone transition (a span starting inside
	// a spring-forward gap opens at the jump). Those instants are the only
	// candidates, so the search is exact without stepping through the year.
	y, m, d := t.In(s.loc).Date()
	foundOn := -1
	for i := 0; i <= 367; i++ {
		if foundOn >= 0 && i > foundOn+1 {
			break // a later date cannot hold an earlier instant, DST overlaps aside
		}
		day := time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC)
		dy, dm, dd := day.Date()
		walls := []time.Duration{0}
		for _, sp := range s.weekly[day.Weekday()] {
			walls = append(walls, sp.Start)
		}
		for _, w := range walls {
			for _, c := range s.instants(dy, dm, dd, w) {
				consider(c)
			}
		}
		if !best.IsZero() && foundOn < 0 {
			foundOn = i
		}
	}
	for x := t; ; {
		_, end := x.In(s.loc).ZoneBounds()
		if end.IsZero() || end.After(limit) || (!best.IsZero() && end.After(best)) {
			break
		}
		consider(end)
		x = end
	}
	if best.IsZero() {
		return time.Time{}, false, nil
	}
	return best.In(t.Location()), true, nil
}

// date is a local calendar date, the unit holidays are counted in.
type date struct {
	year  int
	month time.Month
	day   int
}

// schedule is Hours checked and indexed once per call.
type schedule struct {
	loc      *time.Location
	weekly   map[time.Weekday][]Span
	holidays map[date]bool
	always   bool
}

func (h Hours) compile() (*schedule, error) {
	loc, err := location(h.TimeZone)
	if err != nil {
		return nil, err
	}
	s := &schedule{loc: loc, always: h.AlwaysOpen, weekly: make(map[time.Weekday][]Span, len(h.Weekly))}
	for wd, spans := range h.Weekly {
		if wd < time.Sunday || wd > time.Saturday {
			return nil, fmt.Errorf("hours: weekday %d out of range: %w", int(wd), ErrInvalid)
		}
		for _, sp := range spans {
			if err := sp.Validate(); err != nil {
				return nil, fmt.Errorf("hours: %s: %w", wd, err)
			}
		}
		if len(spans) > 0 {
			s.weekly[wd] = spans
		}
	}
	if len(h.Holidays) > 0 {
		s.holidays = make(map[date]bool, len(h.Holidays))
	}
	for _, text := range h.Holidays {
		day, err := time.Parse(holidayLayout, text)
		if err != nil {
			return nil, fmt.Errorf("hours: holiday %q: want YYYY-MM-DD: %w", text, ErrInvalid)
		}
		y, m, d := day.Date()
		s.holidays[date{y, m, d}] = true
	}
	return s, nil
}

func (s *schedule) open(t time.Time) bool {
	lt := t.In(s.loc)
	y, m, d := lt.Date()
	if s.holidays[date{y, m, d}] {
		return false
	}
	if s.always {
		return true
	}
	now := clock(lt)
	for _, sp := range s.weekly[lt.Weekday()] {
		if now >= sp.Start && (sp.Overnight() || now < sp.End) {
			return true
		}
	}
	// The morning part of an overnight span started yesterday, unless
	// yesterday was a holiday and the span never started.
	prev := time.Date(y, m, d-1, 0, 0, 0, 0, time.UTC)
	py, pm, pd := prev.Date()
	if s.holidays[date{py, pm, pd}] {
		return false
	}
	for _, sp := range s.weekly[prev.Weekday()] {
		if sp.Overnight() && now < sp.End {
			return true
		}
	}
	return false
}

// instants returns every instant at which the wall clock in s.loc reads w on
// the given date: none inside a spring-forward gap, two inside a fall-back
// overlap, one otherwise.
func (s *schedule) instants(y int, m time.Month, d int, w time.Duration) []time.Time {
	wall := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(w)
	var out []time.Time
	// The offsets in force a day and a half either side cover any transition
	// near the date; zones do not change offset twice in three days.
	for _, probe := range [...]time.Duration{-36 * time.Hour, 0, 36 * time.Hour} {
		_, offset := wall.Add(probe).In(s.loc).Zone()
		c := wall.Add(-time.Duration(offset) * time.Second)
		lt := c.In(s.loc)
		if cy, cm, cd := lt.Date(); cy != y || cm != m || cd != d || clock(lt) != w {
			continue
		}
		if !slices.ContainsFunc(out, c.Equal) {
			out = append(out, c)
		}
	}
	return out
}

// clock is the wall-clock time of lt as an offset from its midnight.
func clock(lt time.Time) time.Duration {
	h, m, s := lt.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(lt.Nanosecond())
}

// zones caches loaded locations: sweep evaluates hours for every workstream
// on every run, and parsing the embedded database each time is wasted work.
var zones sync.Map // name → *time.Location

func location(name string) (*time.Location, error) {
	switch name {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		// Local is whatever the machine says; Lambda and a laptop disagree.
		return nil, fmt.Errorf("hours: time zone %q depends on the machine; name an IANA zone: %w", name, ErrInvalid)
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := loadZone(name) // zones.go: the embedded database when the system has none
	if err != nil {
		return nil, fmt.Errorf("hours: time zone %q: %v: %w", name, err, ErrInvalid)
	}
	zones.Store(name, loc)
	return loc, nil
}
