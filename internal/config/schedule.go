package config

import (
	"fmt"
	"strconv"
	"strings"
)

// A job's schedule is a cron expression: five fields (minute, hour, day of month, month, day of
// week) with lists, ranges, steps and names, or a macro (@hourly, @daily, @weekly, @monthly,
// @yearly), always in UTC. Cron's own rule that a day matches when either of two restricted day
// fields matches (crontab(5): "If both fields are restricted (i.e., don't start with *), the
// command will be run when either field matches the current time") is kept: systemd has no OR
// inside one OnCalendar expression, so such a schedule becomes two.

// cronField is one field's range and names.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] is the value min+i
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	// 7 is Sunday too, as in Vixie cron.
	{name: "day of week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

var cronMacros = map[string]string{
	"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
	"@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
}

// systemd's weekday names, Monday first as it prints them.
var systemdDays = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// Calendar turns a cron schedule into the systemd OnCalendar expressions whose union fires at
// the same minutes (systemd.time(7), "Calendar Events"), in UTC.
func Calendar(schedule string) ([]string, error) {
	s := strings.TrimSpace(schedule)
	if m, ok := cronMacros[strings.ToLower(s)]; ok {
		s = m
	} else if strings.HasPrefix(s, "@") {
		return nil, fmt.Errorf("%q is not a macro this program knows (@hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually; @reboot has no place on an immutable fleet)", schedule)
	}
	parts := strings.Fields(s)
	if len(parts) != len(cronFields) {
		return nil, fmt.Errorf("%q has %d fields; a cron schedule has 5 (minute hour day-of-month month day-of-week, UTC) or is a macro like @daily", schedule, len(parts))
	}
	sets := make([][]bool, len(parts))
	for i, p := range parts {
		set, err := cronFields[i].parse(p)
		if err != nil {
			return nil, fmt.Errorf("%q: %s field %q: %w", schedule, cronFields[i].name, p, err)
		}
		sets[i] = set
	}
	if sets[4][7] { // Sunday as 7
		sets[4][0] = true
	}
	minute, hour := listOf(sets[0], 0, 59), listOf(sets[1], 0, 23)
	month := listOf(sets[3], 1, 12)
	dom, dow := listOf(sets[2], 1, 31), weekdays(sets[4])
	event := func(days, dayOfMonth string) string {
		e := fmt.Sprintf("*-%s-%s %s:%s:00 UTC", month, dayOfMonth, hour, minute)
		if days != "" {
			e = days + " " + e
		}
		return e
	}
	// Vixie cron decides by the first character: a day field starting with * is unrestricted
	// for this rule even with a step (*/2), so the two fields must both match.
	either := !strings.HasPrefix(parts[2], "*") && !strings.HasPrefix(parts[4], "*")
	switch {
	case either && possible(sets[2], sets[3]):
		return []string{event("", dom), event(dow, "*")}, nil
	case either:
		return []string{event(dow, "*")}, nil
	case dom != "*" && !possible(sets[2], sets[3]):
		return nil, fmt.Errorf("%q never fires: no month in it has those days", schedule)
	}
	return []string{event(dow, dom)}, nil
}

// parse reads one field into the set of values it matches.
func (f cronField) parse(text string) ([]bool, error) {
	set := make([]bool, f.max+1)
	for _, item := range strings.Split(text, ",") {
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || n > f.max {
				return nil, fmt.Errorf("step %q must be a number 1..%d", stepText, f.max)
			}
			step = n
		}
		lo, hi := f.min, f.max
		switch {
		case rng == "*":
			if f.max == 7 {
				hi = 6 // * of the weekdays is Sunday..Saturday once
			}
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return nil, err
			}
			if hi, err = f.value(b); err != nil {
				return nil, err
			}
			if lo > hi {
				return nil, fmt.Errorf("range %q runs backwards", rng)
			}
		default:
			v, err := f.value(rng)
			if err != nil {
				return nil, err
			}
			lo = v
			if !hasStep {
				hi = v
			}
		}
		for v := lo; v <= hi; v += step {
			set[v] = true
		}
	}
	return set, nil
}

// value reads one number or name of the field.
func (f cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < f.min || v > f.max || s != strconv.Itoa(v) {
		return 0, fmt.Errorf("%q is not a value %d..%d%s", s, f.min, f.max, map[bool]string{true: " or a name", false: ""}[len(f.names) > 0])
	}
	return v, nil
}

// listOf writes a set as systemd's comma list, or * when it holds every value.
func listOf(set []bool, lo, hi int) string {
	var out []string
	for v := lo; v <= hi; v++ {
		if set[v] {
			out = append(out, fmt.Sprintf("%02d", v))
		}
	}
	if len(out) == hi-lo+1 {
		return "*"
	}
	return strings.Join(out, ",")
}

// weekdays writes the days of the week as systemd names; "" when every day is in.
func weekdays(set []bool) string {
	var out []string
	for _, d := range []int{1, 2, 3, 4, 5, 6, 0} {
		if set[d] {
			out = append(out, systemdDays[d])
		}
	}
	if len(out) == 7 {
		return ""
	}
	return strings.Join(out, ",")
}

// daysIn is the most days each month has (February in a leap year).
var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// possible reports whether some month of the schedule has one of its days of the month.
func possible(days, months []bool) bool {
	for m := 1; m <= 12; m++ {
		for d := 1; months[m] && d <= daysIn[m]; d++ {
			if days[d] {
				return true
			}
		}
	}
	return false
}
