package bootstrap_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// watcher drives health-watch.sh as ie-health-watch.service does, one timer tick at a time:
// check, then mark, with the clock, the edge's health and the unit's runtime directory its own.
type watcher struct {
	*sandbox
	env []string
}

// clock is the fake date: +%s prints the test's time, anything else is the real date.
const clock = `case "$1" in +%s) cat "$FAKE_DIR/now" ;; *) exec /bin/date "$@" ;; esac`

func newWatcher(t *testing.T, minutes int, inService bool, env ...string) *watcher {
	t.Helper()
	s := stackFor(t, "dev")
	s.Healing.UnhealthyMinutes = minutes
	b := newSandbox(t, s, map[string]string{"date": clock})
	runtime := filepath.Join(b.fakeDir, "run")
	require.NoError(t, os.MkdirAll(runtime, 0o700))
	if inService { // boot.sh's went_in_service, after the launch hook's CONTINUE
		require.NoError(t, os.MkdirAll(filepath.Join(b.fakeDir, "var"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "var", "in-service"), nil, 0o644))
	}
	return &watcher{sandbox: b, env: append([]string{"RUNTIME_DIRECTORY=" + runtime}, env...)}
}

// tick runs the unit once at second `at` with the edge up or down, and returns how many
// set-instance-health calls have been made so far and whether this tick's mark step failed
// (the unit fails; the next tick tries again).
func (w *watcher) tick(at int, up bool) (int, bool) {
	t := w.t
	t.Helper()
	health := "down"
	if up {
		health = "up"
	}
	require.NoError(t, os.WriteFile(filepath.Join(w.fakeDir, "now"), []byte(strconv.Itoa(1_800_000_000+at)), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(w.fakeDir, "health"), []byte(health), 0o644))
	check := w.run("health-watch.sh", []string{"check"}, w.env...)
	require.NoError(t, check.err, "check at %ds", at)
	mark := w.run("health-watch.sh", []string{"mark"}, w.env...)
	return mark.count("aws autoscaling set-instance-health"), mark.err != nil
}

// every returns the seconds from..to in steps of the timer's 30.
func every(from, to int) []int {
	var out []int
	for s := from; s <= to; s += 30 {
		out = append(out, s)
	}
	return out
}

func TestHealthWatchReplacesOnlyAnInstanceThatStaysDown(t *testing.T) {
	t.Parallel()
	type step struct {
		at []int
		up bool
	}
	for _, tc := range []struct {
		name      string
		minutes   int
		inService bool
		env       []string
		steps     []step
		want      int
		failures  int // mark steps that failed
	}{
		{"healthy", 5, true, nil, []step{{every(0, 600), true}}, 0, 0},
		{"down for less than the time", 5, true, nil, []step{{every(0, 270), false}, {every(300, 600), true}}, 0, 0},
		{"down for the time, then on", 5, true, nil, []step{{every(0, 600), false}}, 1, 0},
		{"down again: the clock starts over", 5, true, nil, []step{{every(0, 270), false}, {[]int{285}, true}, {every(300, 570), false}}, 0, 0},
		{"down again long enough", 5, true, nil, []step{{every(0, 270), false}, {[]int{285}, true}, {every(300, 600), false}}, 1, 0},
		{"before it went into service", 5, false, nil, []step{{every(0, 600), false}}, 0, 0},
		{"while Auto Scaling takes it out", 5, true, []string{"FAKE_LIFECYCLE=Terminated"}, []step{{every(0, 600), false}}, 0, 0},
		{"self-healing off", 0, true, nil, []step{{every(0, 600), false}}, 0, 0},
		{"a refused call is made again", 1, true, []string{"FAKE_MARK_FAILS=1"}, []step{{every(0, 120), false}}, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWatcher(t, tc.minutes, tc.inService, tc.env...)
			calls, failures := 0, 0
			for _, st := range tc.steps {
				for _, at := range st.at {
					n, failed := w.tick(at, st.up)
					calls = n
					if failed {
						failures++
					}
				}
			}
			require.Equal(t, tc.want, calls, "set-instance-health calls")
			require.Equal(t, tc.failures, failures, "failed mark steps")
		})
	}
}

func TestHealthWatchMarksThisInstanceAtTheTime(t *testing.T) {
	t.Parallel()
	w := newWatcher(t, 5, true, "FAKE_INSTANCE_ID=i-0sick")
	for _, at := range every(0, 270) {
		n, _ := w.tick(at, false)
		require.Zero(t, n, "at %ds", at)
	}
	n, failed := w.tick(300, false)
	require.Equal(t, 1, n, "five minutes after the first failed check")
	require.False(t, failed)
	r := w.run("health-watch.sh", []string{"mark"}, w.env...)
	require.Equal(t, "aws autoscaling set-instance-health --region eu-central-1 --instance-id i-0sick --health-status Unhealthy --no-should-respect-grace-period",
		r.log[r.index("set-instance-health")])
	require.Contains(t, r.log[r.index("curl", "target-lifecycle-state")], "X-aws-ec2-metadata-token: token-1", "IMDSv2")
	require.Equal(t, 1, r.count("set-instance-health"), "marking is done once")
	require.GreaterOrEqual(t, r.index("curl", "http://127.0.0.1:80"+config.EdgeHealthPath), 0, "HAProxy's health on the eip edge's port 80 frontend")
}

// TestBootStartsHealingOnlyOnceInService: the timer starts after the launch hook's CONTINUE,
// never for a boot that is abandoned, and not at all when healing is off.
func TestBootStartsHealingOnlyOnceInService(t *testing.T) {
	t.Parallel()
	r := runScript(t, "boot.sh", stackFor(t, "dev"), nil)
	require.NoError(t, r.err)
	ready := r.index("complete-lifecycle-action", "--lifecycle-action-result CONTINUE")
	timer := r.index("systemctl enable --no-reload --now ie-health-watch.timer")
	require.GreaterOrEqual(t, ready, 0)
	require.Greater(t, timer, ready, "the clock may start only in service")

	abandoned := runScript(t, "boot.sh", stackFor(t, "dev"), nil, "FAKE_GATE_FAILS=99")
	require.Error(t, abandoned.err)
	require.Equal(t, -1, abandoned.index("ie-health-watch.timer"))

	off := stackFor(t, "prod")
	off.Healing.UnhealthyMinutes = 0
	r = runScript(t, "boot.sh", off, nil)
	require.NoError(t, r.err)
	require.Equal(t, -1, r.index("ie-health-watch.timer"))
}

// TestReplacementTakesTheAddress: on the eip edge the unhealthy instance still holds the address
// while its replacement boots (launch before terminate); the replacement's gate passes and its
// claim moves the address to it in one call (--allow-reassociation), which the fake AWS refuses
// without the flag, as EC2 does for an address that is associated.
func TestReplacementTakesTheAddress(t *testing.T) {
	t.Parallel()
	b := newSandbox(t, stackFor(t, "dev"), nil)
	require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "holder"), []byte("i-0sick\n"), 0o644))
	r := b.run("boot.sh", nil, "FAKE_INSTANCE_ID=i-0new")
	require.NoError(t, r.err)
	holder, err := os.ReadFile(filepath.Join(b.fakeDir, "holder"))
	require.NoError(t, err)
	require.Equal(t, "i-0new\n", string(holder), "the replacement holds the address")
	claim := r.index("aws ec2 associate-address", "--instance-id i-0new")
	require.Less(t, r.index("curl", "/.edge/health"), claim, "only after its own gate")
	require.Less(t, r.index("--lifecycle-action-result CONTINUE"), claim, "only once it is in service")
}

func TestSystemdAcceptsTheHealthWatch(t *testing.T) {
	t.Parallel()
	dir := verifyAMIUnits(t, "health-watch.sh", "ie-health-watch.timer", "ie-health-watch.service")
	// The check runs without privileges: systemd's own exposure score, in tenths, at most 1.5
	// (systemd 252 scores the unit 1.4; without DynamicUser= it is 1.8, without the system-call
	// filter 3.0).
	out, err := exec.Command(testtools.Need(t, "systemd-analyze"), "security", "--offline=true", "--threshold=15",
		filepath.Join(dir, "ie-health-watch.service")).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// TestTheAWSCLISendsTheMark runs the mark step with the real AWS CLI against a stand-in for the
// Auto Scaling endpoint: the flags the script passes exist, and the request is SetInstanceHealth
// for this instance, Unhealthy, not waiting for the grace period, signed for the stack's region.
func TestTheAWSCLISendsTheMark(t *testing.T) {
	t.Parallel()
	cli := testtools.Need(t, "aws")
	var got http.Header
	var form map[string][]string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		got, form = r.Header.Clone(), r.PostForm
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<SetInstanceHealthResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">` +
			`<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></SetInstanceHealthResponse>`))
	}))
	defer api.Close()
	w := newWatcher(t, 1, true, "FAKE_INSTANCE_ID=i-0sick")
	require.NoError(t, os.WriteFile(filepath.Join(w.bin, "aws"), []byte("#!/bin/sh\nexec "+cli+" --endpoint-url "+api.URL+` "$@"`+"\n"), 0o755))
	w.env = append(w.env, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	w.tick(0, false)
	_, failed := w.tick(60, false)
	require.False(t, failed, "the CLI accepted the flags and the answer")
	require.NotNil(t, form, "the CLI called the endpoint")
	require.Equal(t, "SetInstanceHealth", first(form["Action"]))
	require.Equal(t, "i-0sick", first(form["InstanceId"]))
	require.Equal(t, "Unhealthy", first(form["HealthStatus"]))
	require.Equal(t, "false", first(form["ShouldRespectGracePeriod"]))
	require.Contains(t, got.Get("Authorization"), "/eu-central-1/autoscaling/aws4_request")
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// TestHealthWatchStaysInsideItsSystemCallFilter runs the check with the real bash, jq and curl
// under strace, against stand-ins for instance metadata and HAProxy, healthy and failing, and
// expects every system call they make to be one the unit's SystemCallFilter= lines allow, as
// systemd-analyze syscall-filter spells the groups out. A call outside them would kill the
// check (SIGSYS) on the instance and self-healing would silently never happen.
func TestHealthWatchStaysInsideItsSystemCallFilter(t *testing.T) {
	t.Parallel()
	strace := testtools.Need(t, "strace")
	allowed, denied := unitFilter(t, testtools.Need(t, "systemd-analyze"))
	testtools.Need(t, "jq")
	testtools.Need(t, "curl")
	var healthy atomic.Bool
	stand := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/latest/api/token":
			_, _ = w.Write([]byte("token-1"))
		case r.URL.Path == "/latest/meta-data/autoscaling/target-lifecycle-state":
			_, _ = w.Write([]byte("InService"))
		case r.URL.Path == config.EdgeHealthPath && healthy.Load():
			_, _ = w.Write([]byte("ok"))
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer stand.Close()
	port, err := strconv.Atoi(stand.URL[strings.LastIndex(stand.URL, ":")+1:])
	require.NoError(t, err)
	s := stackFor(t, "prod") // the alb edge's health port is in the description: the stand-in's
	s.Edge.ProxyPort = port
	b := newSandbox(t, s, nil)
	for _, d := range []string{"run", "var"} {
		require.NoError(t, os.MkdirAll(filepath.Join(b.fakeDir, d), 0o700))
	}
	require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "var", "in-service"), nil, 0o644))
	used := map[string]bool{}
	for _, up := range []bool{true, false, false} {
		healthy.Store(up)
		trace := filepath.Join(t.TempDir(), "trace")
		cmd := exec.Command(strace, "-f", "-qq", "-o", trace, "bash", filepath.Join(b.root, "images/files", bootstrap.ScriptDir, "health-watch.sh"), "check")
		cmd.Env = []string{"PATH=/usr/bin:/bin", "IE_ETC=" + b.etc, "IE_VAR=" + filepath.Join(b.fakeDir, "var"),
			"IE_IMDS=" + stand.URL, "RUNTIME_DIRECTORY=" + filepath.Join(b.fakeDir, "run")}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		raw, err := os.ReadFile(trace)
		require.NoError(t, err)
		for _, m := range syscallRE.FindAllStringSubmatch(string(raw), -1) {
			used[m[1]] = true
		}
	}
	_, err = os.Stat(filepath.Join(b.fakeDir, "run", "failing-since"))
	require.NoError(t, err, "the failing runs started the clock: the traced path is the real one")
	require.Greater(t, len(used), 20)
	for _, call := range slices.Sorted(maps.Keys(used)) {
		require.True(t, allowed[call] && !denied[call], "the check calls %s, which ie-health-watch.service's filter refuses", call)
	}
}

var syscallRE = regexp.MustCompile(`(?m)^\d+\s+([a-z0-9_]+)\(`)

// unitFilter reads the unit's SystemCallFilter= lines (an allow list, then ~ a deny list) and
// expands their groups with systemd-analyze.
func unitFilter(t *testing.T, analyze string) (allowed, denied map[string]bool) {
	t.Helper()
	out, err := exec.Command(analyze, "syscall-filter").Output()
	require.NoError(t, err)
	groups, current := map[string][]string{}, ""
	for _, line := range strings.Split(string(out), "\n") {
		switch f := strings.TrimSpace(line); {
		case strings.HasPrefix(line, "@"):
			current = strings.Fields(line)[0]
		case current != "" && f != "" && !strings.HasPrefix(f, "#"):
			groups[current] = append(groups[current], f)
		}
	}
	var expand func(set map[string]bool, names []string)
	expand = func(set map[string]bool, names []string) {
		for _, n := range names {
			if strings.HasPrefix(n, "@") {
				require.Contains(t, groups, n)
				expand(set, groups[n])
			} else {
				set[n] = true
			}
		}
	}
	allowed, denied = map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(amiFile(t, "etc/systemd/system/ie-health-watch.service"), "\n") {
		v, ok := strings.CutPrefix(line, "SystemCallFilter=")
		if !ok {
			continue
		}
		if deny, ok := strings.CutPrefix(v, "~"); ok {
			expand(denied, strings.Fields(deny))
		} else {
			expand(allowed, strings.Fields(v))
		}
	}
	require.NotEmpty(t, allowed)
	require.NotEmpty(t, denied)
	return allowed, denied
}
