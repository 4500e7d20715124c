package schedule

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ParseExpression parses an EventBridge schedule expression and returns the
// function giving the first run strictly after a given time (the zero time
// when there is none, e.g. past the last year a cron allows).
//
//   - rate(value unit): value a positive integer, unit minute, hour or day,
//     singular when value is 1 and plural otherwise, as EventBridge
//     requires ("rate(1 minutes)" is rejected). Runs are value units apart.
//   - cron(minutes hours day-of-month month day-of-week year): six fields,
//     evaluated in UTC, with the wildcards , - * / in every field, ? in
//     day-of-month or day-of-week (exactly one of them must be ?), names
//     JAN-DEC and SUN-SAT (SUN is 1), years 1970-2199, and the Quartz
//     forms EventBridge documents: L (last day of the month; in
//     day-of-week alone, Saturday), nL (last weekday n of the month), nW
//     (weekday nearest day n), LW (last weekday of the month) and n#k
//     (k-th weekday n of the month, the only expression of its field).
//     L-n offsets are not supported.
func ParseExpression(expr string) (next func(after time.Time) time.Time, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("schedule expression %q: %w", expr, err)
		}
	}()
	expr = strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		d, err := parseRate(expr[len("rate(") : len(expr)-1])
		if err != nil {
			return nil, err
		}
		return func(after time.Time) time.Time { return after.Add(d) }, nil
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		c, err := parseCron(expr[len("cron(") : len(expr)-1])
		if err != nil {
			return nil, err
		}
		return c.next, nil
	case strings.HasPrefix(expr, "at("):
		return nil, errors.New("one-time at() schedules are not supported by parley-local")
	}
	return nil, errors.New("want rate(value unit) or cron(minutes hours day-of-month month day-of-week year)")
}

var rateSyntax = regexp.MustCompile(`^\s*([0-9]+)\s+([a-z]+)\s*$`)

func parseRate(s string) (time.Duration, error) {
	m := rateSyntax.FindStringSubmatch(s)
	if m == nil {
		return 0, errors.New("rate takes a positive integer and a unit, e.g. rate(5 minutes)")
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("rate value %s must be a positive integer", m[1])
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := m[2]
	singular := strings.TrimSuffix(unit, "s")
	d, ok := units[singular]
	if !ok {
		return 0, fmt.Errorf("rate unit %q must be minute(s), hour(s) or day(s)", unit)
	}
	if n == 1 && unit != singular {
		return 0, fmt.Errorf("rate(1 %s) must use the singular unit %q", unit, singular)
	}
	if n > 1 && unit == singular {
		return 0, fmt.Errorf("rate(%d %s) must use the plural unit %q", n, unit, singular+"s")
	}
	if time.Duration(n) > (1<<63-1)/d {
		return 0, fmt.Errorf("rate value %d is too large", n)
	}
	return time.Duration(n) * d, nil
}

const (
	firstYear = 1970
	lastYear  = 2199
)

// cron is a parsed six-field expression: a set of allowed values per field,
// plus the Quartz day rules.
type cron struct {
	minutes [60]bool
	hours   [24]bool
	months  [13]bool // 1..12
	years   [lastYear - firstYear + 1]bool

	domAny       bool     // day-of-month is ?
	dom          [32]bool // 1..31
	domLast      bool     // L
	domLastWeek  bool     // LW
	domNearestWD []int    // nW

	dowAny  bool    // day-of-week is ?
	dow     [8]bool // 1..7, SUN = 1
	dowLast [8]bool // nL: the last weekday n of the month
	dowNth  [2]int  // n#k: weekday n, k-th of the month; zero when unused
}

type field struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i
}

var (
	minutesField = field{name: "minutes", min: 0, max: 59}
	hoursField   = field{name: "hours", min: 0, max: 23}
	domField     = field{name: "day-of-month", min: 1, max: 31}
	monthField   = field{name: "month", min: 1, max: 12,
		names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	dowField  = field{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
	yearField = field{name: "year", min: firstYear, max: lastYear}
)

func parseCron(s string) (*cron, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron needs 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(f))
	}
	c := &cron{}
	if err := minutesField.parse(f[0], c.minutes[:]); err != nil {
		return nil, err
	}
	if err := hoursField.parse(f[1], c.hours[:]); err != nil {
		return nil, err
	}
	if err := c.parseDOM(f[2]); err != nil {
		return nil, err
	}
	if err := monthField.parse(f[3], c.months[:]); err != nil {
		return nil, err
	}
	if err := c.parseDOW(f[4]); err != nil {
		return nil, err
	}
	years := make([]bool, lastYear+1)
	if err := yearField.parse(f[5], years); err != nil {
		return nil, err
	}
	copy(c.years[:], years[firstYear:])
	if c.domAny == c.dowAny {
		return nil, errors.New("exactly one of day-of-month and day-of-week must be ?")
	}
	return c, nil
}

func (c *cron) parseDOM(s string) error {
	if s == "?" {
		c.domAny = true
		return nil
	}
	var plain []string
	for _, item := range strings.Split(s, ",") {
		switch {
		case item == "L":
			c.domLast = true
		case item == "LW":
			c.domLastWeek = true
		case strings.HasSuffix(item, "W"):
			n, err := domField.value(strings.TrimSuffix(item, "W"))
			if err != nil {
				return fmt.Errorf("day-of-month %q: %w", item, err)
			}
			c.domNearestWD = append(c.domNearestWD, n)
		case strings.HasPrefix(item, "L-"):
			return fmt.Errorf("day-of-month %q: L-n offsets are not supported by parley-local", item)
		default:
			plain = append(plain, item)
		}
	}
	if len(plain) == 0 {
		return nil
	}
	return domField.parse(strings.Join(plain, ","), c.dom[:])
}

func (c *cron) parseDOW(s string) error {
	if s == "?" {
		c.dowAny = true
		return nil
	}
	if strings.Contains(s, "#") {
		// EventBridge: "If you use the '#' character, you can define only
		// one expression in the day-of-week field".
		wd, k, ok := strings.Cut(s, "#")
		if strings.Contains(s, ",") || !ok {
			return fmt.Errorf("day-of-week %q: # allows only one expression in the field", s)
		}
		n, err := dowField.value(wd)
		if err != nil {
			return fmt.Errorf("day-of-week %q: %w", s, err)
		}
		nth, err := strconv.Atoi(k)
		if err != nil || nth < 1 || nth > 5 {
			return fmt.Errorf("day-of-week %q: the instance after # must be 1..5", s)
		}
		c.dowNth = [2]int{n, nth}
		return nil
	}
	var plain []string
	for _, item := range strings.Split(s, ",") {
		switch {
		case item == "L":
			c.dow[7] = true // L alone is the last day of the week, Saturday
		case len(item) > 1 && strings.HasSuffix(item, "L"):
			n, err := dowField.value(strings.TrimSuffix(item, "L"))
			if err != nil {
				return fmt.Errorf("day-of-week %q: %w", item, err)
			}
			c.dowLast[n] = true
		default:
			plain = append(plain, item)
		}
	}
	if len(plain) == 0 {
		return nil
	}
	return dowField.parse(strings.Join(plain, ","), c.dow[:])
}

// parse sets set[v] for every value the comma-separated list allows.
func (f field) parse(s string, set []bool) error {
	if s == "" {
		return fmt.Errorf("%s is empty", f.name)
	}
	for _, item := range strings.Split(s, ",") {
		if err := f.item(item, set); err != nil {
			return fmt.Errorf("%s %q: %w", f.name, item, err)
		}
	}
	return nil
}

// item handles *, v, a-b, and each of those followed by /step. A range
// whose start is above its end wraps around (FRI-MON), except for years.
func (f field) item(item string, set []bool) error {
	switch item {
	case "?":
		return errors.New("? is only allowed alone in day-of-month or day-of-week")
	case "":
		return errors.New("empty list item")
	}
	base, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 {
			return fmt.Errorf("step %q must be a positive integer", stepText)
		}
		step = n
	}
	lo, hi := f.min, f.max
	switch {
	case base == "*":
	case strings.Contains(base, "-"):
		a, b, _ := strings.Cut(base, "-")
		var err error
		if lo, err = f.value(a); err != nil {
			return err
		}
		if hi, err = f.value(b); err != nil {
			return err
		}
		if lo > hi && f.name == yearField.name {
			return fmt.Errorf("range %d-%d runs backwards", lo, hi)
		}
	default:
		v, err := f.value(base)
		if err != nil {
			return err
		}
		lo = v
		if !hasStep {
			hi = v // a single value; with a step, "a/s" runs from a to the maximum
		}
	}
	span := f.max - f.min + 1
	count := (hi-lo+span)%span + 1 // values from lo to hi, wrapping
	for i := 0; i < count; i += step {
		set[f.min+(lo-f.min+i)%span] = true
	}
	return nil
}

// value parses one number or name of the field.
func (f field) value(s string) (int, error) {
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a %s value", s, f.name)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is outside %s %d-%d", n, f.name, f.min, f.max)
	}
	return n, nil
}

// next returns the first minute strictly after `after` that the expression
// allows, in UTC, or the zero time when none remains before 2200. It walks
// day by day, skipping whole years and months, so even a rare schedule
// costs at most a few thousand steps.
func (c *cron) next(after time.Time) time.Time {
	t := after.UTC().Truncate(time.Minute).Add(time.Minute)
	for t.Year() <= lastYear {
		y, mo, d := t.Date()
		switch {
		case y < firstYear:
			t = time.Date(firstYear, 1, 1, 0, 0, 0, 0, time.UTC)
			continue
		case !c.years[y-firstYear]:
			t = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
			continue
		case !c.months[mo]:
			t = time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		case !c.day(y, mo, d):
			t = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		for h := t.Hour(); h < 24; h++ {
			if !c.hours[h] {
				continue
			}
			m0 := 0
			if h == t.Hour() {
				m0 = t.Minute()
			}
			for m := m0; m < 60; m++ {
				if c.minutes[m] {
					return time.Date(y, mo, d, h, m, 0, 0, time.UTC)
				}
			}
		}
		t = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
	}
	return time.Time{}
}

// day reports whether the date passes the day-of-month or day-of-week rule
// (whichever is not ?).
func (c *cron) day(y int, mo time.Month, d int) bool {
	last := daysIn(y, mo)
	if c.dowAny {
		switch {
		case c.dom[d], c.domLast && d == last:
			return true
		case c.domLastWeek && d == nearestWeekday(y, mo, last):
			return true
		}
		for _, n := range c.domNearestWD {
			if n <= last && d == nearestWeekday(y, mo, n) {
				return true
			}
		}
		return false
	}
	wd := int(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Weekday()) + 1 // SUN = 1
	switch {
	case c.dow[wd]:
		return true
	case c.dowLast[wd] && d+7 > last:
		return true
	case c.dowNth[0] == wd && (d-1)/7+1 == c.dowNth[1]:
		return true
	}
	return false
}

// nearestWeekday is the Monday-to-Friday day closest to day n, never
// leaving the month (Quartz's W).
func nearestWeekday(y int, mo time.Month, n int) int {
	last := daysIn(y, mo)
	switch time.Date(y, mo, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3 // the Monday after
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2 // the Friday before
		}
		return n + 1
	}
	return n
}

func daysIn(y int, mo time.Month) int {
	return time.Date(y, mo+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
