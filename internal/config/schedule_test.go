package config_test

import (
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// TestCalendarFiresWhenCronDoes checks each schedule's OnCalendar expressions with systemd's own
// calendar parser against an independent cron implementation (robfig/cron, which keeps Vixie
// cron's either-day rule): the next firings from a fixed base must be the same minutes.
func TestCalendarFiresWhenCronDoes(t *testing.T) {
	analyze := testtools.Need(t, "systemd-analyze")
	parser := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	base := time.Date(2027, 2, 26, 23, 58, 0, 0, time.UTC) // across a month end, a non-leap February and a year end
	const n = 12
	for _, schedule := range []string{
		"* * * * *", "*/15 * * * *", "5 4 * * *", "0 */6 * * *", "30 9 * * 1-5", "0 0 * * 0",
		"0 12 1 * *", "0 12 31 * *", "0 3 29 2 *", "15 10 1,15 * mon", "0 8-18/2 * jan-mar,dec sat,sun",
		"10-50/20 1 * * *", "0 0 1-7 * 5", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "7 * * 2 *",
	} {
		t.Run(schedule, func(t *testing.T) {
			events, err := config.Calendar(schedule)
			require.NoError(t, err)
			sched, err := parser.Parse(schedule)
			require.NoError(t, err)
			var want []string
			for at := base; len(want) < n; {
				at = sched.Next(at)
				want = append(want, at.UTC().Format(time.DateTime))
			}
			require.Equal(t, want, firings(t, analyze, events, base, n), "OnCalendar %q", events)
		})
	}
	// Vixie cron's 7 is Sunday too; robfig/cron knows only 0.
	sunday, err := config.Calendar("0 0 * * 0")
	require.NoError(t, err)
	seven, err := config.Calendar("0 0 * * 7")
	require.NoError(t, err)
	require.Equal(t, sunday, seven)
	// Where robfig/cron parts from Vixie cron: a day field like */2 starts with *, so Vixie cron
	// (and this program) requires both day fields to match, while robfig counts a step as a
	// restriction (parser.go, "extra = 0" for step > 1) and takes either. Midnight on the odd days
	// that are Mondays:
	events, err := config.Calendar("0 0 */2 * 1")
	require.NoError(t, err)
	require.Equal(t, []string{"2027-03-01 00:00:00", "2027-03-15 00:00:00", "2027-03-29 00:00:00", "2027-04-05 00:00:00"},
		firings(t, analyze, events, base, 4))
}

// firings merges the next n firings of every expression after base.
func firings(t *testing.T, analyze string, events []string, base time.Time, n int) []string {
	var got []string
	for _, e := range events {
		for _, at := range elapses(t, analyze, e, base, n) {
			got = append(got, at.Format(time.DateTime))
		}
	}
	slices.Sort(got)
	return slices.Compact(got)[:n]
}

var elapseRE = regexp.MustCompile(`(?m)^\s+(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$`)

// elapses asks systemd-analyze for an expression's next n firings after base.
func elapses(t *testing.T, analyze, event string, base time.Time, n int) []time.Time {
	t.Helper()
	cmd := exec.Command(analyze, "calendar", "--iterations", strconv.Itoa(n), "--base-time", base.Format("2006-01-02 15:04:05")+" UTC", event)
	cmd.Env = []string{"TZ=UTC", "SYSTEMD_COLORS=0"}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "Normalized form:", "%s", out)
	var at []time.Time
	for _, m := range elapseRE.FindAllStringSubmatch(string(out), -1) {
		v, err := time.Parse("2006-01-02 15:04:05", m[1])
		require.NoError(t, err)
		at = append(at, v)
	}
	require.Len(t, at, n, "%s", out)
	return at
}

func TestCalendarRefusesWhatDoesNotParse(t *testing.T) {
	for schedule, want := range map[string]string{
		"":               "has 0 fields",
		"* * * *":        "has 4 fields",
		"60 * * * *":     `minute field "60": "60" is not a value 0..59`,
		"* 24 * * *":     "hour field",
		"0 0 0 * *":      "day of month field",
		"0 0 * 13 *":     "month field",
		"0 0 * * 8":      "day of week field",
		"*/0 * * * *":    `step "0"`,
		"5-1 * * * *":    "runs backwards",
		"0 0 30 2 *":     "never fires",
		"@reboot":        "@reboot has no place",
		"0 0 * * funday": `"funday" is not a value 0..7 or a name`,
		"1.5 * * * *":    "is not a value",
		"+1 * * * *":     "is not a value",
		"0 0 * * * *":    "has 6 fields",
	} {
		_, err := config.Calendar(schedule)
		require.Error(t, err, schedule)
		require.Contains(t, err.Error(), want, schedule)
		require.False(t, strings.Contains(err.Error(), "\n"), schedule)
	}
}
