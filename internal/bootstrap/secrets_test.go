package bootstrap_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// putSecrets stores values behind the fake aws's secrets, by their ids.
func (b *sandbox) putSecrets(values map[string]string) {
	dir := filepath.Join(b.fakeDir, "secrets")
	require.NoError(b.t, os.MkdirAll(dir, 0o700))
	for id, v := range values {
		require.NoError(b.t, os.WriteFile(filepath.Join(dir, strings.ReplaceAll(id, "/", "_")), []byte(v), 0o600))
	}
}

// requireNoValue fails when a secret value shows in what the scripts printed or called.
func requireNoValue(t *testing.T, r bootRun, values ...string) {
	t.Helper()
	for _, v := range values {
		require.NotContains(t, r.output, v, "a secret value in the log")
		require.NotContains(t, strings.Join(r.log, "\n"), v, "a secret value in a command line")
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	return info.Mode().Perm()
}

// TestSecretsReachTheContainerAsReadOnlyFiles: the worker's two secrets (an SSM parameter, one
// field of a JSON secret) become files under the runtime directory, exactly the values, readable
// by any container user, behind a directory only root passes; the log names them without their
// values; clear removes them.
func TestSecretsReachTheContainerAsReadOnlyFiles(t *testing.T) {
	t.Parallel()
	b := newSandbox(t, stackFor(t, "voting"), nil)
	b.putSecrets(plan.SecretValues)
	r := b.run("secrets.sh", []string{"fetch", "worker"})
	require.NoError(t, r.err, r.output)
	dir := filepath.Join(b.runDir(), "secrets", "worker")
	got := map[string]string{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		got[e.Name()] = string(raw)
		require.Equal(t, os.FileMode(0o444), mode(t, filepath.Join(dir, e.Name())), e.Name())
	}
	require.Equal(t, map[string]string{
		"DATABASE_URL": plan.SecretValues["/immutable-edge/voting/database-url"],
		"CACHE_TOKEN":  "c4che-t0ken-9f2e1d",
	}, got, "the values as stored, no newline added")
	require.Equal(t, os.FileMode(0o755), mode(t, dir), "the container's user reads its mount")
	require.Equal(t, os.FileMode(0o700), mode(t, filepath.Dir(dir)), "on the host only root passes")
	require.GreaterOrEqual(t, r.index("aws ssm get-parameter", "--name /immutable-edge/voting/database-url", "--with-decryption", "--region eu-central-1"), 0)
	require.GreaterOrEqual(t, r.index("aws secretsmanager get-secret-value", "--secret-id immutable-edge/voting/cache"), 0)
	require.Contains(t, r.output, "service worker: secret CACHE_TOKEN read (secretsmanager immutable-edge/voting/cache, key token)")
	requireNoValue(t, r, "Tr0ub4dor", "c4che-t0ken")

	r = b.run("secrets.sh", []string{"clear", "worker"})
	require.NoError(t, r.err)
	require.NoDirExists(t, dir)

	// A service without secrets gets no directory, and its start does not call AWS.
	calls := len(r.log)
	r = b.run("secrets.sh", []string{"fetch", "vote"})
	require.NoError(t, r.err)
	require.NoDirExists(t, filepath.Join(b.runDir(), "secrets", "vote"))
	require.Len(t, r.log, calls)
}

// TestSecretsAreAllOrNothing: a secret that cannot be read (no such key, not JSON, the API
// failing) fails the fetch, so the unit does not start the container; the set read before stays
// as it was, nothing half-written is left, and no value reaches the log, jq's messages included.
func TestSecretsAreAllOrNothing(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cache string
		env   []string
		calls int
	}{
		"no such key":           {`{"password":"x-s3cret-value"}`, nil, 3},
		"not JSON":              {"plain x-s3cret-value", nil, 3},
		"a JSON list":           {`["x-s3cret-value"]`, nil, 3},
		"the API keeps failing": {`{"token":"x-s3cret-value"}`, []string{"FAKE_SECRET_ERROR=1"}, 3},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newSandbox(t, stackFor(t, "voting"), nil)
			b.putSecrets(map[string]string{"/immutable-edge/voting/database-url": "postgres://u:x-s3cret-db@h/db", "immutable-edge/voting/cache": tc.cache})
			r := b.run("secrets.sh", []string{"fetch", "worker"}, tc.env...)
			require.Error(t, r.err)
			require.Contains(t, r.output, "service worker: could not read secret")
			require.Equal(t, tc.calls, r.count("aws secretsmanager get-secret-value"), "bounded retries")
			entries, err := os.ReadDir(filepath.Join(b.runDir(), "secrets"))
			require.NoError(t, err)
			require.Empty(t, entries, "nothing half-written")
			requireNoValue(t, r, "x-s3cret")
		})
	}
}

// TestWorkersRunUnroutedWithTheirEnvironment boots the voting stack: the worker starts with the
// web services in one call, publishes no port, gets its environment as a Docker env file and its
// secrets as a read-only mount; a worker with a health command also gets its check's timer.
func TestWorkersRunUnroutedWithTheirEnvironment(t *testing.T) {
	t.Parallel()
	s := stackFor(t, "voting")
	s.Services[2].HealthCommand = []string{"/app/healthcheck", "--quick"}
	b := newSandbox(t, s, nil)
	r := b.run("boot.sh", nil)
	require.NoError(t, r.err, r.output)
	require.GreaterOrEqual(t, r.index("systemctl enable --no-reload --now ie-svc@vote.service ie-svc@result.service ie-svc@worker.service ie-worker-check@worker.timer"), 0)
	services := filepath.Join(b.etc, "immutable-edge/services")
	read := func(name string) string {
		raw, err := os.ReadFile(filepath.Join(services, name))
		require.NoError(t, err)
		return string(raw)
	}
	require.Equal(t, "IMAGE=123456789012.dkr.ecr.eu-central-1.amazonaws.com/immutable-edge/voting/worker:1.2.0\n"+
		"PUBLISH=\nROOT_FLAGS=--read-only --tmpfs /tmp:rw,size=64m\n"+
		"ENV_FLAGS=--env-file "+services+"/worker.docker-env\n"+
		"SECRET_FLAGS=--mount type=bind,source="+b.runDir()+"/secrets/worker,target="+bootstrap.SecretMount+",readonly\n", read("worker.env"))
	require.Equal(t, "LOG_LEVEL=info\n", read("worker.docker-env"))
	require.Equal(t, "OPTION_A=Cats\nOPTION_B=Dogs\n", read("vote.docker-env"), "sorted, one literal line each")
	require.Contains(t, read("vote.env"), "PUBLISH=--publish 127.0.0.1:3000:3000 --env PORT=3000\n")
	require.Contains(t, read("vote.env"), "SECRET_FLAGS=\n", "no secrets, no mount")
	require.Equal(t, -1, r.index("ie-worker-check@vote"), "web services are HAProxy's to check")
}

// TestWorkerHealthCommandRestartsAStuckWorker drives worker-check.sh as its timer does: the
// command runs in the container, exec form; two failures are counted, the third restarts the
// worker and starts the count again; a pass in between resets it.
func TestWorkerHealthCommandRestartsAStuckWorker(t *testing.T) {
	t.Parallel()
	s := stackFor(t, "voting")
	s.Services[2].HealthCommand = []string{"/app/healthcheck", "--timeout", "5 s"}
	b := newSandbox(t, s, nil)
	state := filepath.Join(b.dir, "check-state")
	tick := func(status string) bootRun {
		require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "exec-status"), []byte(status), 0o644))
		r := b.run("worker-check.sh", []string{"check", "worker"}, "RUNTIME_DIRECTORY="+state)
		require.NoError(t, r.err, r.output)
		return r
	}
	tick("1")
	tick("0")
	tick("1")
	r := tick("1")
	require.Equal(t, 0, r.count("systemctl restart"), "two failures in a row are not three")
	r = tick("1")
	require.Contains(t, r.output, "worker worker: restarting it")
	require.Equal(t, 1, r.count("systemctl restart ie-svc@worker.service"))
	require.Contains(t, r.log, "docker exec ie-worker /app/healthcheck --timeout 5 s")
	r = tick("1")
	require.Equal(t, 1, r.count("systemctl restart"), "the count starts again after a restart")

	// A worker without a command, and a web service, are not checked here.
	r = b.run("worker-check.sh", []string{"check", "vote"}, "RUNTIME_DIRECTORY="+state)
	require.NoError(t, r.err)
	require.Equal(t, 6, r.count("docker exec"))
}

// TestTheAWSCLIReadsTheSecrets runs secrets.sh with the real AWS CLI against a stand-in for the
// SSM and Secrets Manager endpoints: the flags exist, the requests are GetParameter with
// decryption and GetSecretValue, signed for the stack's region, and the answers' values land in
// the files exactly.
func TestTheAWSCLIReadsTheSecrets(t *testing.T) {
	t.Parallel()
	cli := testtools.Need(t, "aws")
	targets := map[string]map[string]any{}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		target := r.Header.Get("X-Amz-Target")
		targets[target] = in
		if !strings.Contains(r.Header.Get("Authorization"), "/eu-central-1/") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		switch target {
		case "AmazonSSM.GetParameter":
			_ = json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{
				"Name": in["Name"], "Type": "SecureString", "Value": plan.SecretValues[in["Name"].(string)], "Version": 1}})
		case "secretsmanager.GetSecretValue":
			_ = json.NewEncoder(w).Encode(map[string]any{"Name": in["SecretId"], "SecretString": plan.SecretValues[in["SecretId"].(string)]})
		default:
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer api.Close()
	b := newSandbox(t, stackFor(t, "voting"), nil)
	require.NoError(t, os.WriteFile(filepath.Join(b.bin, "aws"), []byte("#!/bin/sh\nexec "+cli+" --endpoint-url "+api.URL+` "$@"`+"\n"), 0o755))
	r := b.run("secrets.sh", []string{"fetch", "worker"}, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	require.NoError(t, r.err, r.output)
	require.Equal(t, map[string]any{"Name": "/immutable-edge/voting/database-url", "WithDecryption": true}, targets["AmazonSSM.GetParameter"])
	require.Equal(t, map[string]any{"SecretId": "immutable-edge/voting/cache"}, targets["secretsmanager.GetSecretValue"])
	raw, err := os.ReadFile(filepath.Join(b.runDir(), "secrets/worker/DATABASE_URL"))
	require.NoError(t, err)
	require.Equal(t, plan.SecretValues["/immutable-edge/voting/database-url"], string(raw))
	raw, err = os.ReadFile(filepath.Join(b.runDir(), "secrets/worker/CACHE_TOKEN"))
	require.NoError(t, err)
	require.Equal(t, "c4che-t0ken-9f2e1d", string(raw))
}

// TestSystemdAcceptsTheWorkerCheck verifies the image's worker-check template, timer and
// service, as one worker's instances.
func TestSystemdAcceptsTheWorkerCheck(t *testing.T) {
	t.Parallel()
	// The check orders itself after the worker's unit, which the payload brings.
	verifyImageUnits(t, []string{"ie-worker-check@.service", "ie-worker-check@.timer"},
		map[string]string{"ie-svc@.service": "[Service]\nExecStart=/bin/true\n"},
		"ie-worker-check@worker.timer", "ie-worker-check@worker.service")
}

// verifyImageUnits writes the image's units (its script paths pointing into the repository) and
// the stand-in units they name beside them, and has systemd-analyze verify the instances given.
func verifyImageUnits(t *testing.T, units []string, stubs map[string]string, instances ...string) {
	t.Helper()
	analyze := testtools.Need(t, "systemd-analyze")
	root, err := plan.Root()
	require.NoError(t, err)
	dir := t.TempDir()
	for _, unit := range units {
		body := strings.ReplaceAll(amiFile(t, "etc/systemd/system/"+unit), bootstrap.ScriptDir, filepath.Join(root, "images/files", bootstrap.ScriptDir))
		require.NoError(t, os.WriteFile(filepath.Join(dir, unit), []byte(body), 0o644))
	}
	for name, body := range stubs {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	var paths []string
	for _, u := range instances {
		paths = append(paths, filepath.Join(dir, u))
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, paths...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze reports unknown keys only as output")
}
