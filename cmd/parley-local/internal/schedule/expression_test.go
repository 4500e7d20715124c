package schedule

import (
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRate(t *testing.T) {
	tests := []struct {
		expr string
		want time.Duration
	}{
		{"rate(1 minute)", time.Minute},
		{"rate(5 minutes)", 5 * time.Minute},
		{"rate(1 hour)", time.Hour},
		{"rate(12 hours)", 12 * time.Hour},
		{"rate(1 day)", 24 * time.Hour},
		{"rate(7 days)", 7 * 24 * time.Hour},
		{" rate( 2 minutes ) ", 2 * time.Minute},
	}
	after := utc("2024-01-20 11:54:57")
	for _, tt := range tests {
		next, err := ParseExpression(tt.expr)
		if err != nil {
			t.Errorf("ParseExpression(%q) = %v", tt.expr, err)
			continue
		}
		if got := next(after); !got.Equal(after.Add(tt.want)) {
			t.Errorf("ParseExpression(%q) next(%v) = %v; want %v", tt.expr, after, got, after.Add(tt.want))
		}
	}
}

func TestCron(t *testing.T) {
	tests := []struct {
		expr  string
		after string
		want  []string // the next runs in order; "" for none
	}{
		{"cron(0/5 * * * ? *)", "2024-01-20 10:02:30", []string{"2024-01-20 10:05:00", "2024-01-20 10:10:00"}},
		{"cron(0/5 * * * ? *)", "2024-01-20 10:05:00", []string{"2024-01-20 10:10:00"}},
		{"cron(*/15 * * * ? *)", "2024-01-20 23:50:00", []string{"2024-01-21 00:00:00", "2024-01-21 00:15:00"}},
		{"cron(1/10 * * * ? *)", "2024-01-20 10:00:00", []string{"2024-01-20 10:01:00", "2024-01-20 10:11:00"}},
		{"cron(* * * * ? *)", "2024-01-20 10:00:59", []string{"2024-01-20 10:01:00", "2024-01-20 10:02:00"}},
		{"cron(0 10 * * ? *)", "2024-01-20 11:00:00", []string{"2024-01-21 10:00:00", "2024-01-22 10:00:00"}},
		{"cron(15 12 * * ? *)", "2024-01-20 12:14:00", []string{"2024-01-20 12:15:00"}},
		{"cron(0 18 ? * MON-FRI *)", "2024-01-19 18:00:00", []string{"2024-01-22 18:00:00", "2024-01-23 18:00:00"}},
		{"cron(0 18 ? * mon-fri *)", "2024-01-19 18:00:00", []string{"2024-01-22 18:00:00"}},
		{"cron(0 18 ? * 2-6 *)", "2024-01-19 18:00:00", []string{"2024-01-22 18:00:00"}},
		{"cron(0 22 ? * FRI-MON *)", "2024-01-22 23:00:00", []string{"2024-01-26 22:00:00", "2024-01-27 22:00:00", "2024-01-28 22:00:00", "2024-01-29 22:00:00", "2024-02-02 22:00:00"}},
		{"cron(0 8 1 * ? *)", "2024-01-20 00:00:00", []string{"2024-02-01 08:00:00", "2024-03-01 08:00:00"}},
		{"cron(0,30 9-17/4 * JAN,JUL ? 2024-2025)", "2024-01-31 17:30:00", []string{"2024-07-01 09:00:00", "2024-07-01 09:30:00", "2024-07-01 13:00:00"}},
		{"cron(0 0 L * ? *)", "2024-02-01 00:00:00", []string{"2024-02-29 00:00:00", "2024-03-31 00:00:00"}},
		{"cron(0 0 L * ? *)", "2023-02-01 00:00:00", []string{"2023-02-28 00:00:00"}},
		{"cron(0 9 LW * ? *)", "2024-03-01 00:00:00", []string{"2024-03-29 09:00:00"}},
		{"cron(0 9 15W * ? *)", "2024-06-01 00:00:00", []string{"2024-06-14 09:00:00", "2024-07-15 09:00:00"}},
		{"cron(0 9 1W * ? *)", "2024-05-31 00:00:00", []string{"2024-06-03 09:00:00"}},
		{"cron(0 9 30W * ? *)", "2024-06-01 00:00:00", []string{"2024-06-28 09:00:00"}},
		{"cron(0 9 ? * 2#1 *)", "2024-01-20 00:00:00", []string{"2024-02-05 09:00:00", "2024-03-04 09:00:00"}},
		{"cron(0 9 ? * MON#5 *)", "2024-01-01 00:00:00", []string{"2024-01-29 09:00:00", "2024-04-29 09:00:00"}},
		{"cron(0 9 ? * 6L *)", "2024-01-01 00:00:00", []string{"2024-01-26 09:00:00", "2024-02-23 09:00:00"}},
		{"cron(0 12 ? * L *)", "2024-01-20 12:00:00", []string{"2024-01-27 12:00:00"}},
		{"cron(0 0 1 1 ? 2025)", "2024-06-01 00:00:00", []string{"2025-01-01 00:00:00", ""}},
		{"cron(0 0 30 2 ? *)", "2024-01-01 00:00:00", []string{""}},
		{"cron(0 0 1 1 ? *)", "1960-06-01 00:00:00", []string{"1970-01-01 00:00:00"}},
	}
	for _, tt := range tests {
		next, err := ParseExpression(tt.expr)
		if err != nil {
			t.Errorf("ParseExpression(%q) = %v", tt.expr, err)
			continue
		}
		at := utc(tt.after)
		for i, w := range tt.want {
			got := next(at)
			var want time.Time
			if w != "" {
				want = utc(w)
			}
			if !got.Equal(want) {
				t.Errorf("ParseExpression(%q) run %d after %s = %v; want %v", tt.expr, i+1, tt.after, got, want)
				break
			}
			at = got
		}
	}
}

func TestParseExpressionInvalid(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{"", "want rate"},
		{"every 5 minutes", "want rate"},
		{"rate(5)", "positive integer and a unit"},
		{"rate(0 minutes)", "positive integer"},
		{"rate(-1 minutes)", "positive integer and a unit"},
		{"rate(1.5 hours)", "positive integer and a unit"},
		{"rate(1 minutes)", "singular"},
		{"rate(5 minute)", "plural"},
		{"rate(5 seconds)", "minute(s), hour(s) or day(s)"},
		{"rate(2 weeks)", "minute(s), hour(s) or day(s)"},
		{"rate(5 Minutes)", "positive integer and a unit"},
		{"at(2024-01-20T10:00:00)", "not supported"},
		{"cron(0 10 * * ?)", "6 fields"},
		{"cron(0 10 * * ? * *)", "6 fields"},
		{"cron(0 10 * * * *)", "exactly one of day-of-month and day-of-week"},
		{"cron(0 10 ? * ? *)", "exactly one of day-of-month and day-of-week"},
		{"cron(60 10 * * ? *)", "outside minutes"},
		{"cron(0 24 * * ? *)", "outside hours"},
		{"cron(0 10 0 * ? *)", "outside day-of-month"},
		{"cron(0 10 32 * ? *)", "outside day-of-month"},
		{"cron(0 10 * 13 ? *)", "outside month"},
		{"cron(0 10 * FOO ? *)", "not a month value"},
		{"cron(0 10 ? * 8 *)", "outside day-of-week"},
		{"cron(0 10 ? * FUN *)", "not a day-of-week value"},
		{"cron(0 10 * * ? 1969)", "outside year"},
		{"cron(0 10 * * ? 2200)", "outside year"},
		{"cron(0 10 * * ? 2025-2024)", "backwards"},
		{"cron(0/0 10 * * ? *)", "step"},
		{"cron(0/x 10 * * ? *)", "step"},
		{"cron(0,,5 10 * * ? *)", "empty list item"},
		{"cron(? 10 * * ? *)", "? is only allowed"},
		{"cron(0 10 L-3 * ? *)", "L-n offsets are not supported"},
		{"cron(0 10 ? * 2#1,3#2 *)", "only one expression"},
		{"cron(0 10 ? * 2#6 *)", "1..5"},
		{"cron(0 10 ? * 9#1 *)", "outside day-of-week"},
		{"cron(0 10 40W * ? *)", "outside day-of-month"},
	}
	for _, tt := range tests {
		_, err := ParseExpression(tt.expr)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseExpression(%q) = %v; want an error containing %q", tt.expr, err, tt.want)
		}
	}
}
