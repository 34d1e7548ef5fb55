package bootstrap_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// amiFile reads a file the golden image bakes in, from images/files.
func amiFile(t *testing.T, path string) string {
	t.Helper()
	root, err := plan.Root()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "images/files", path))
	require.NoError(t, err)
	return string(b)
}

// TestRsyslogSplitsHAProxyAndContainerLines runs the AMI's rsyslog rule in a real rsyslogd and
// sends it the lines journald would forward: HAProxy's and the containers' land in their own
// files (which the agent ships to their log groups), everything else does not.
func TestRsyslogSplitsHAProxyAndContainerLines(t *testing.T) {
	t.Parallel()
	rsyslogd := testtools.Need(t, "rsyslogd")
	logger := testtools.Need(t, "logger")
	dir := t.TempDir()
	rule := strings.ReplaceAll(amiFile(t, "etc/rsyslog.d/30-immutable-edge.conf"), bootstrap.LogDir, dir)
	sock, rest := filepath.Join(dir, "log.sock"), filepath.Join(dir, "rest.log")
	conf := filepath.Join(dir, "rsyslog.conf")
	require.NoError(t, os.WriteFile(conf, []byte(`module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="`+sock+`")
`+rule+`
action(type="omfile" file="`+rest+`")
`), 0o644))
	check, err := exec.Command(rsyslogd, "-N1", "-f", conf).CombinedOutput()
	require.NoError(t, err, "%s", check)

	daemon := exec.Command(rsyslogd, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	require.NoError(t, daemon.Start())
	t.Cleanup(func() { _ = daemon.Process.Kill(); _ = daemon.Wait() })
	waitFor(t, func() bool { _, err := os.Stat(sock); return err == nil })
	for tag, line := range map[string]string{"haproxy": "GET /ready 200", "ie-svc-web": "listening on 3000", "sshd": "unrelated"} {
		out, err := exec.Command(logger, "--socket", sock, "-t", tag, line).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	read := func(name string) string { b, _ := os.ReadFile(filepath.Join(dir, name)); return string(b) }
	waitFor(t, func() bool {
		return strings.Contains(read("haproxy.log"), "GET /ready 200") && strings.Contains(read("containers.log"), "listening on 3000") &&
			strings.Contains(read("rest.log"), "unrelated")
	})
	require.NotContains(t, read("rest.log"), "GET /ready", "HAProxy lines stop at their own file")
	require.NotContains(t, read("haproxy.log"), "listening on 3000")
}

func TestLogrotateAcceptsTheAMIConfig(t *testing.T) {
	t.Parallel()
	logrotate := testtools.Need(t, "logrotate")
	dir := t.TempDir()
	conf := filepath.Join(dir, "immutable-edge")
	require.NoError(t, os.WriteFile(conf, []byte(strings.ReplaceAll(amiFile(t, "etc/logrotate.d/immutable-edge"), bootstrap.LogDir, dir)), 0o644))
	out, err := exec.Command(logrotate, "--debug", "--state", filepath.Join(dir, "state"), conf).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.NotContains(t, strings.ToLower(string(out)), "error", "%s", out)
}

func TestSystemdAcceptsTheCertificateMetricTimer(t *testing.T) {
	t.Parallel()
	verifyAMIUnits(t, "cert-metric.sh", "ie-cert-metric.timer", "ie-cert-metric.service")
}

// verifyAMIUnits runs systemd-analyze verify on units baked into the AMI, their script at its
// place in this checkout, and returns the directory they were written to.
func verifyAMIUnits(t *testing.T, script string, units ...string) string {
	t.Helper()
	analyze := testtools.Need(t, "systemd-analyze")
	root, err := plan.Root()
	require.NoError(t, err)
	dir := t.TempDir()
	var paths []string
	for _, unit := range units {
		body := strings.ReplaceAll(amiFile(t, "etc/systemd/system/"+unit), bootstrap.ScriptDir+"/"+script,
			filepath.Join(root, "images/files", bootstrap.ScriptDir, script))
		require.NoError(t, os.WriteFile(filepath.Join(dir, unit), []byte(body), 0o644))
		paths = append(paths, filepath.Join(dir, unit))
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, paths...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze reports unknown keys only as output")
	return dir
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}
