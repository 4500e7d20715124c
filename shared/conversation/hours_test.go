package conversation

import (
	"fmt"
	"testing"
	"time"
)

const (
	h = time.Hour
	m = time.Minute
)

// utc builds an instant in UTC, so every expectation below says plainly which
// moment it means; comments give the local wall clock.
func utc(year int, month time.Month, day, hour, min int) time.Time {
	return time.Date(year, month, day, hour, min, 0, 0, time.UTC)
}

func weekdays(spans ...Span) map[time.Weekday][]Span {
	w := make(map[time.Weekday][]Span)
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = spans
	}
	return w
}

var (
	parisOffice = Hours{TimeZone: "Europe/Paris", Weekly: weekdays(Span{9 * h, 17 * h})}
	nyOffice    = Hours{TimeZone: "America/New_York", Weekly: weekdays(Span{9 * h, 17 * h})}
	utcOffice   = Hours{Weekly: weekdays(Span{9 * h, 17 * h})} // "" = UTC
	lunchBreak  = Hours{Weekly: map[time.Weekday][]Span{time.Monday: {{9 * h, 12 * h}, {13 * h, 17 * h}}}}
	// Friday night shift, 22:00 to Saturday 06:00.
	nightShift = Hours{Weekly: map[time.Weekday][]Span{time.Friday: {{22 * h, 6 * h}}}}
	lateShift  = Hours{Weekly: map[time.Weekday][]Span{time.Monday: {{18 * h, 24 * h}}}}
	// Sunday 01:00-04:00 in Paris, straddling both 2026 transitions.
	parisSundayNight = Hours{TimeZone: "Europe/Paris", Weekly: map[time.Weekday][]Span{time.Sunday: {{h, 4 * h}}}}
	// Saturday 22:00 to Sunday 06:00 in Paris, over the spring-forward night.
	parisWeekendShift = Hours{TimeZone: "Europe/Paris", Weekly: map[time.Weekday][]Span{time.Saturday: {{22 * h, 6 * h}}}}
	always            = Hours{AlwaysOpen: true}
	never             = Hours{}
	neverEmptyWeek    = Hours{Weekly: map[time.Weekday][]Span{}}
	neverEmptyDays    = Hours{TimeZone: "Europe/Paris", Weekly: map[time.Weekday][]Span{time.Monday: nil}}
)

func withHolidays(hours Hours, holidays ...string) Hours {
	hours.Holidays = holidays
	return hours
}

func TestHoursOpen(t *testing.T) {
	tests := []struct {
		name  string
		hours Hours
		at    time.Time
		want  bool
	}{
		// Paris office across the spring change (Sunday 2026-03-29): 09:00 is
		// 08:00 UTC the Friday before and 07:00 UTC the Monday after.
		{"Paris Fri 08:59 CET", parisOffice, utc(2026, 3, 27, 7, 59), false},
		{"Paris Fri 09:00 CET", parisOffice, utc(2026, 3, 27, 8, 0), true},
		{"Paris Fri 16:59 CET", parisOffice, utc(2026, 3, 27, 15, 59), true},
		{"Paris Fri 17:00 CET", parisOffice, utc(2026, 3, 27, 16, 0), false},
		{"Paris Sat 11:00 CET", parisOffice, utc(2026, 3, 28, 10, 0), false},
		{"Paris Mon 08:59 CEST", parisOffice, utc(2026, 3, 30, 6, 59), false},
		{"Paris Mon 09:00 CEST", parisOffice, utc(2026, 3, 30, 7, 0), true},
		{"Paris Mon 16:59 CEST", parisOffice, utc(2026, 3, 30, 14, 59), true},
		{"Paris Mon 17:00 CEST", parisOffice, utc(2026, 3, 30, 15, 0), false},
		// ...and the autumn change (Sunday 2026-10-25).
		{"Paris Fri 09:00 CEST", parisOffice, utc(2026, 10, 23, 7, 0), true},
		{"Paris Mon 08:00 CET", parisOffice, utc(2026, 10, 26, 7, 0), false},
		{"Paris Mon 09:00 CET", parisOffice, utc(2026, 10, 26, 8, 0), true},
		// New York changes on other dates (2026-03-08 and 2026-11-01).
		{"NY Fri 08:30 EST", nyOffice, utc(2026, 3, 6, 13, 30), false},
		{"NY Fri 09:00 EST", nyOffice, utc(2026, 3, 6, 14, 0), true},
		{"NY Mon 08:59 EDT", nyOffice, utc(2026, 3, 9, 12, 59), false},
		{"NY Mon 09:00 EDT", nyOffice, utc(2026, 3, 9, 13, 0), true},
		{"NY Mon 16:59 EDT", nyOffice, utc(2026, 3, 9, 20, 59), true},
		{"NY Mon 17:00 EDT", nyOffice, utc(2026, 3, 9, 21, 0), false},
		{"NY Fri 09:00 EDT", nyOffice, utc(2026, 10, 30, 13, 0), true},
		{"NY Mon 08:30 EST", nyOffice, utc(2026, 11, 2, 13, 30), false},
		{"NY Mon 09:00 EST", nyOffice, utc(2026, 11, 2, 14, 0), true},
		// Paris, in Paris on Monday but still Sunday in New York.
		{"NY Sun 21:00 EDT = Paris Mon 03:00", nyOffice, utc(2026, 6, 1, 1, 0), false},
		{"Paris Mon 09:00 CEST = NY 03:00", parisOffice, utc(2026, 6, 1, 7, 0), true},
		// On the transition days themselves, spans are wall-clock time.
		{"Paris spring Sun 01:30 CET", parisSundayNight, utc(2026, 3, 29, 0, 30), true},
		{"Paris spring Sun 03:00 CEST, the jump", parisSundayNight, utc(2026, 3, 29, 1, 0), true},
		{"Paris spring Sun 03:59 CEST", parisSundayNight, utc(2026, 3, 29, 1, 59), true},
		{"Paris spring Sun 04:00 CEST", parisSundayNight, utc(2026, 3, 29, 2, 0), false},
		{"Paris autumn Sun 00:59 CEST", parisSundayNight, utc(2026, 10, 24, 22, 59), false},
		{"Paris autumn Sun 01:00 CEST", parisSundayNight, utc(2026, 10, 24, 23, 0), true},
		{"Paris autumn Sun 02:30 CEST, first time", parisSundayNight, utc(2026, 10, 25, 0, 30), true},
		{"Paris autumn Sun 02:30 CET, second time", parisSundayNight, utc(2026, 10, 25, 1, 30), true},
		{"Paris autumn Sun 03:59 CET", parisSundayNight, utc(2026, 10, 25, 2, 59), true},
		{"Paris autumn Sun 04:00 CET", parisSundayNight, utc(2026, 10, 25, 3, 0), false},
		{"Paris shift Sat 22:00 CET", parisWeekendShift, utc(2026, 3, 28, 21, 0), true},
		{"Paris shift Sun 05:59 CEST", parisWeekendShift, utc(2026, 3, 29, 3, 59), true},
		{"Paris shift Sun 06:00 CEST", parisWeekendShift, utc(2026, 3, 29, 4, 0), false},
		// Overnight spans: Friday 22:00 to Saturday 06:00 (2026-11-27 is a Friday).
		{"night Fri 21:59", nightShift, utc(2026, 11, 27, 21, 59), false},
		{"night Fri 22:00", nightShift, utc(2026, 11, 27, 22, 0), true},
		{"night Fri 23:59", nightShift, utc(2026, 11, 27, 23, 59), true},
		{"night Sat 00:00", nightShift, utc(2026, 11, 28, 0, 0), true},
		{"night Sat 05:59:59", nightShift, utc(2026, 11, 28, 5, 59).Add(59 * time.Second), true},
		{"night Sat 06:00", nightShift, utc(2026, 11, 28, 6, 0), false},
		{"night Sat 23:00", nightShift, utc(2026, 11, 28, 23, 0), false},
		{"night Thu 23:00", nightShift, utc(2026, 11, 26, 23, 0), false},
		{"night Sat 03:00, Saturday a holiday", withHolidays(nightShift, "2026-11-28"), utc(2026, 11, 28, 3, 0), false},
		{"night Fri 23:00, Saturday a holiday", withHolidays(nightShift, "2026-11-28"), utc(2026, 11, 27, 23, 0), true},
		{"night Fri 23:00, Friday a holiday", withHolidays(nightShift, "2026-11-27"), utc(2026, 11, 27, 23, 0), false},
		{"night Sat 03:00, Friday a holiday: the shift never started", withHolidays(nightShift, "2026-11-27"), utc(2026, 11, 28, 3, 0), false},
		// A span may end at 24:00.
		{"late Mon 23:59:59.999", lateShift, utc(2026, 11, 23, 23, 59).Add(59999 * time.Millisecond), true},
		{"late Tue 00:00", lateShift, utc(2026, 11, 24, 0, 0), false},
		{"late Mon 17:59", lateShift, utc(2026, 11, 23, 17, 59), false},
		// Several spans a day.
		{"lunch Mon 11:59", lunchBreak, utc(2026, 11, 23, 11, 59), true},
		{"lunch Mon 12:30", lunchBreak, utc(2026, 11, 23, 12, 30), false},
		{"lunch Mon 13:00", lunchBreak, utc(2026, 11, 23, 13, 0), true},
		// Holidays are local dates.
		{"Paris Thu 24 Dec 11:00", withHolidays(parisOffice, "2026-12-25"), utc(2026, 12, 24, 10, 0), true},
		{"Paris Fri 25 Dec 11:00 holiday", withHolidays(parisOffice, "2026-12-25"), utc(2026, 12, 25, 10, 0), false},
		{"Paris Fri 25 Dec 11:00 without the holiday", parisOffice, utc(2026, 12, 25, 10, 0), true},
		{"always, 24 Dec 23:59 Paris", withHolidays(Hours{TimeZone: "Europe/Paris", AlwaysOpen: true}, "2026-12-25"), utc(2026, 12, 24, 22, 59), true},
		{"always, 25 Dec 00:00 Paris (still the 24th in UTC)", withHolidays(Hours{TimeZone: "Europe/Paris", AlwaysOpen: true}, "2026-12-25"), utc(2026, 12, 24, 23, 0), false},
		{"always, 25 Dec 23:59 Paris", withHolidays(Hours{TimeZone: "Europe/Paris", AlwaysOpen: true}, "2026-12-25"), utc(2026, 12, 25, 22, 59), false},
		{"always, 26 Dec 00:00 Paris", withHolidays(Hours{TimeZone: "Europe/Paris", AlwaysOpen: true}, "2026-12-25"), utc(2026, 12, 25, 23, 0), true},
		// Always and never.
		{"always", always, t0, true},
		{"always, in 2100", always, utc(2100, 1, 1, 3, 0), true},
		{"never (zero Hours)", never, t0, false},
		{"never (empty week)", neverEmptyWeek, t0, false},
		{"never (days without spans)", neverEmptyDays, utc(2026, 11, 23, 10, 0), false},
		{"UTC office Tue 10:00", utcOffice, t0, true},
		{"UTC office Tue 10:00 given in New York time", utcOffice, t0.In(mustLocation(t, "America/New_York")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.hours.Open(tt.at)
			if err != nil || got != tt.want {
				t.Errorf("Open(%s, %v) = %t, %v; want %t", tt.name, tt.at, got, err, tt.want)
			}
		})
	}
}

func TestHoursNextOpen(t *testing.T) {
	parisSpringGap := Hours{TimeZone: "Europe/Paris", Weekly: map[time.Weekday][]Span{time.Sunday: {{2*h + 30*m, 5 * h}}}}
	parisWhollyInGap := Hours{TimeZone: "Europe/Paris", Weekly: map[time.Weekday][]Span{time.Sunday: {{2 * h, 2*h + 30*m}}}}
	parisRepeated := Hours{TimeZone: "Europe/Paris", Weekly: map[time.Weekday][]Span{time.Sunday: {{2*h + 15*m, 2*h + 30*m}}}}
	mondays := Hours{Weekly: map[time.Weekday][]Span{time.Monday: {{9 * h, 10 * h}}}}
	var yearOfMondays, yearOfMondaysButLast []string
	for d := utc(2026, 1, 5, 0, 0); !d.After(utc(2027, 1, 4, 0, 0)); d = d.AddDate(0, 0, 7) {
		yearOfMondays = append(yearOfMondays, d.Format("2006-01-02"))
	}
	yearOfMondaysButLast = yearOfMondays[:len(yearOfMondays)-1]
	tests := []struct {
		name   string
		hours  Hours
		from   time.Time
		want   time.Time
		wantOK bool
	}{
		{"already open", parisOffice, utc(2026, 3, 27, 10, 0), utc(2026, 3, 27, 10, 0), true},
		{"Paris Thu 07:00 CET to 09:00", parisOffice, utc(2026, 3, 26, 6, 0), utc(2026, 3, 26, 8, 0), true},
		{"Paris Fri 17:00 CET to Mon 09:00 CEST, over the change", parisOffice, utc(2026, 3, 27, 16, 0), utc(2026, 3, 30, 7, 0), true},
		{"Paris Fri 17:00 CEST to Mon 09:00 CET, over the change", parisOffice, utc(2026, 10, 23, 15, 0), utc(2026, 10, 26, 8, 0), true},
		{"Paris, Monday a holiday", withHolidays(parisOffice, "2026-03-30"), utc(2026, 3, 27, 16, 0), utc(2026, 3, 31, 7, 0), true},
		{"NY Sat to Mon 09:00 EDT", nyOffice, utc(2026, 3, 7, 12, 0), utc(2026, 3, 9, 13, 0), true},
		{"NY Fri evening to Mon 09:00 EST", nyOffice, utc(2026, 10, 30, 22, 0), utc(2026, 11, 2, 14, 0), true},
		{"a span starting in the spring gap opens at the jump", parisSpringGap, utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0), true},
		{"a span wholly in the spring gap waits a week", parisWhollyInGap, utc(2026, 3, 29, 0, 0), utc(2026, 4, 5, 0, 0), true},
		{"a span repeated in the autumn overlap opens again", parisRepeated, utc(2026, 10, 25, 0, 40), utc(2026, 10, 25, 1, 15), true},
		{"before the first of the repeated span", parisRepeated, utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 15), true},
		{"night shift from Friday noon", nightShift, utc(2026, 11, 27, 12, 0), utc(2026, 11, 27, 22, 0), true},
		{"night shift from Saturday 06:00", nightShift, utc(2026, 11, 28, 6, 0), utc(2026, 12, 4, 22, 0), true},
		{"night shift, Friday a holiday", withHolidays(nightShift, "2026-11-27"), utc(2026, 11, 27, 12, 0), utc(2026, 12, 4, 22, 0), true},
		{"always, during a holiday: the next local midnight", withHolidays(Hours{TimeZone: "Europe/Paris", AlwaysOpen: true}, "2026-12-25"), utc(2026, 12, 25, 10, 0), utc(2026, 12, 25, 23, 0), true},
		{"always", always, t0, t0, true},
		{"never", never, t0, time.Time{}, false},
		{"never (empty week)", neverEmptyWeek, t0, time.Time{}, false},
		{"never (days without spans)", neverEmptyDays, t0, time.Time{}, false},
		{"a year of holidays", withHolidays(mondays, yearOfMondays...), utc(2026, 1, 5, 12, 0), time.Time{}, false},
		{"a year of holidays but the last day of it", withHolidays(mondays, yearOfMondaysButLast...), utc(2026, 1, 5, 9, 30).Add(time.Second), utc(2027, 1, 4, 9, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := tt.hours.NextOpen(tt.from)
			if err != nil || ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("NextOpen(%s, %v) = %v, %t, %v; want %v, %t", tt.name, tt.from, got, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}

func TestHoursNextOpenKeepsCallersZone(t *testing.T) {
	ny := mustLocation(t, "America/New_York")
	from := utc(2026, 3, 27, 16, 0).In(ny)
	got, ok, err := parisOffice.NextOpen(from)
	if err != nil || !ok || got.Location() != ny || !got.Equal(utc(2026, 3, 30, 7, 0)) {
		t.Errorf("NextOpen(Paris office, %v) = %v, %t, %v; want 2026-03-30 07:00 UTC in %v", from, got, ok, err, ny)
	}
}

// TestHoursNextOpenExhaustive checks NextOpen against a minute-by-minute walk
// around each 2026 transition: nothing open is skipped, and what it returns is
// open.
func TestHoursNextOpenExhaustive(t *testing.T) {
	if testing.Short() {
		t.Skip("walks minute by minute")
	}
	schedules := map[string]Hours{
		"Paris office":       parisOffice,
		"NY office":          nyOffice,
		"Paris Sunday night": parisSundayNight,
		"Paris weekend":      parisWeekendShift,
		"Paris overnight with holiday": {TimeZone: "Europe/Paris", Holidays: []string{"2026-03-29"},
			Weekly: map[time.Weekday][]Span{time.Saturday: {{23*h + 30*m, 2*h + 30*m}}, time.Sunday: {{2*h + 10*m, 3*h + 10*m}, {20 * h, 3 * h}}}},
		"NY early birds": {TimeZone: "America/New_York",
			Weekly: map[time.Weekday][]Span{time.Sunday: {{h + 30*m, 2*h + 30*m}, {3 * h, 3*h + 5*m}}, time.Saturday: {{23 * h, 2*h + 15*m}}}},
	}
	starts := []time.Time{
		utc(2026, 3, 27, 20, 0), utc(2026, 3, 28, 23, 45), utc(2026, 3, 29, 0, 59),
		utc(2026, 10, 24, 21, 1), utc(2026, 10, 25, 0, 35), utc(2026, 10, 25, 1, 5),
		utc(2026, 3, 7, 4, 0), utc(2026, 3, 8, 6, 30), utc(2026, 10, 31, 23, 0), utc(2026, 11, 1, 5, 30),
	}
	const horizon = 8 * 24 * time.Hour
	for name, hours := range schedules {
		for _, from := range starts {
			from = from.Add(17 * time.Second) // off the minute, as real calls are
			got, ok, err := hours.NextOpen(from)
			if err != nil {
				t.Fatalf("NextOpen(%s, %v) = %v", name, from, err)
			}
			walked, walkOK := time.Time{}, false
			for x := from; x.Sub(from) < horizon; x = x.Add(time.Minute) {
				if open, _ := hours.Open(x); open {
					walked, walkOK = x, true
					break
				}
			}
			call := fmt.Sprintf("NextOpen(%s, %v)", name, from.UTC())
			if !ok || (walkOK && walked.Before(got)) || (!walkOK && got.Sub(from) < horizon) {
				t.Errorf("%s = %v, %t; a minute walk finds %v, %t", call, got.UTC(), ok, walked.UTC(), walkOK)
				continue
			}
			if open, _ := hours.Open(got); !open {
				t.Errorf("%s = %v, which is closed", call, got.UTC())
			}
			if got.After(from) {
				if open, _ := hours.Open(got.Add(-time.Nanosecond)); open {
					t.Errorf("%s = %v, but it was already open a nanosecond before", call, got.UTC())
				}
			}
		}
	}
}

func TestHoursValidate(t *testing.T) {
	tests := []struct {
		name  string
		hours Hours
		want  error
	}{
		{"zero (never open)", Hours{}, nil},
		{"always", always, nil},
		{"Paris office", parisOffice, nil},
		{"overnight", nightShift, nil},
		{"holidays", withHolidays(parisOffice, "2026-12-25", "2027-01-01"), nil},
		{"explicit UTC", Hours{TimeZone: "UTC", AlwaysOpen: true}, nil},
		{"unknown zone", Hours{TimeZone: "Europe/Atlantis"}, ErrInvalid},
		{"machine-local zone", Hours{TimeZone: "Local"}, ErrInvalid},
		{"weekday 7", Hours{Weekly: map[time.Weekday][]Span{7: {{9 * h, 17 * h}}}}, ErrInvalid},
		{"weekday -1", Hours{Weekly: map[time.Weekday][]Span{-1: {{9 * h, 17 * h}}}}, ErrInvalid},
		{"empty span", Hours{Weekly: map[time.Weekday][]Span{time.Monday: {{9 * h, 9 * h}}}}, ErrInvalid},
		{"span past midnight", Hours{Weekly: map[time.Weekday][]Span{time.Monday: {{9 * h, 25 * h}}}}, ErrInvalid},
		{"holiday 30 February", withHolidays(never, "2026-02-30"), ErrInvalid},
		{"holiday in another layout", withHolidays(never, "25/12/2026"), ErrInvalid},
		{"holiday with a time", withHolidays(never, "2026-12-25T00:00:00Z"), ErrInvalid},
	}
	for _, tt := range tests {
		err := tt.hours.Validate()
		checkErr(t, "Validate("+tt.name+")", err, tt.want)
		if tt.want == nil {
			continue
		}
		// Invalid hours are reported, never read as closed.
		if _, err := tt.hours.Open(t0); !checkErr(t, "Open("+tt.name+")", err, tt.want) {
			continue
		}
		_, _, err = tt.hours.NextOpen(t0)
		checkErr(t, "NextOpen("+tt.name+")", err, tt.want)
	}
}

func mustLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := location(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
