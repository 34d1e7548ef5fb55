package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeAWS writes an `aws` that answers describe-instance-refreshes with the given statuses in
// turn (the last one repeats) and logs its arguments.
func fakeAWS(t *testing.T, statuses ...string) (bin, calls string) {
	t.Helper()
	dir := t.TempDir()
	var answers []string
	for _, s := range statuses {
		if s == "" {
			answers = append(answers, `{"InstanceRefreshes": []}`)
			continue
		}
		answers = append(answers, fmt.Sprintf(`{"InstanceRefreshes": [{"InstanceRefreshId": "r-1", "Status": %q, "StatusReason": "because", "PercentageComplete": 50}]}`, s))
	}
	for i, a := range answers {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("answer.%d", i)), []byte(a), 0o644))
	}
	calls = filepath.Join(dir, "calls")
	script := fmt.Sprintf(`#!/bin/sh
echo "$*" >>%[1]q
n=$(wc -l <%[1]q)
i=$((n - 1)); [ "$i" -ge %[2]d ] && i=%[3]d
cat %[4]q/answer.$i
`, calls, len(answers), len(answers)-1, dir)
	bin = filepath.Join(dir, "aws")
	require.NoError(t, os.WriteFile(bin, []byte(script), 0o755))
	return bin, calls
}

func TestWaitsThroughTheStatuses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		statuses []string
		code     int
		stderr   string
		polls    int
	}{
		{"in progress then successful", []string{"Pending", "InProgress", "InProgress", "Successful"}, 0, "", 4},
		{"in progress then failed", []string{"InProgress", "Failed"}, 1, "ended Failed: because", 2},
		{"rolled back", []string{"InProgress", "RollbackInProgress", "RollbackSuccessful"}, 1, "ended RollbackSuccessful", 3},
		{"cancelled", []string{"Cancelling", "Cancelled"}, 1, "ended Cancelled", 2},
		{"never a refresh", []string{""}, 0, "", 1},
		{"still running at the deadline", []string{"InProgress"}, 1, "timed out", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			aws, calls := fakeAWS(t, tc.statuses...)
			var stdout, stderr bytes.Buffer
			code := run([]string{"-group", "dev-asg", "-region", "eu-central-1", "-interval", "10ms", "-timeout", "2s", "-aws", aws}, &stdout, &stderr)
			require.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			require.Contains(t, stderr.String(), tc.stderr)
			log, err := os.ReadFile(calls)
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(string(log)), "\n")
			if tc.polls > 0 {
				require.Len(t, lines, tc.polls)
			} else {
				require.Greater(t, len(lines), 10, "kept polling until the deadline")
			}
			require.Equal(t, "autoscaling describe-instance-refreshes --auto-scaling-group-name dev-asg --max-records 1 --output json --region eu-central-1", lines[0])
		})
	}
}

func TestReportsEachChangeOnce(t *testing.T) {
	seq := []Refresh{{ID: "r", Status: "Pending"}, {ID: "r", Status: "InProgress", Percent: 50}, {ID: "r", Status: "InProgress", Percent: 50}, {ID: "r", Status: "Successful", Percent: 100}}
	i := 0
	var out bytes.Buffer
	r, err := Wait(context.Background(), func(context.Context) (*Refresh, error) { r := seq[i]; i++; return &r, nil }, time.Millisecond, &out)
	require.NoError(t, err)
	require.Equal(t, "Successful", r.Status)
	require.Equal(t, 3, strings.Count(out.String(), "\n"), out.String())
}

func TestBadFlagsAndCLIFailures(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 2, run([]string{"-timeout", "1m"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "-group is required")

	broken := filepath.Join(t.TempDir(), "aws")
	require.NoError(t, os.WriteFile(broken, []byte("#!/bin/sh\necho 'An error occurred (AccessDenied)' >&2\nexit 254\n"), 0o755))
	stderr.Reset()
	require.Equal(t, 2, run([]string{"-group", "g", "-aws", broken, "-interval", "10ms", "-timeout", "1s"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "AccessDenied")
}
