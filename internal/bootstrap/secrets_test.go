package bootstrap_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// The data tier stackFor fills in for a config that has one: what the stack writes into
// stack.json once the database and the cache exist.
const (
	testDatabaseHost      = "voting.c0ffee0123ab.eu-central-1.rds.amazonaws.com"
	testDatabaseSecretARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-0123abcd-AbCdEf"
	testCacheHost         = "master.voting.abc123.euc1.cache.amazonaws.com"
	testCacheSecretARN    = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:immutable-edge/voting/cache-token-AbCdEf"
)

// The data tier's passwords as the test account keeps them: RDS's managed secret (JSON with
// username and password) and the cache's auth token (a plain string), both with characters a
// URL must escape; and the URLs secrets.sh composes from them (jq's @uri, TLS asked for).
const (
	rdsSecret   = `{"username":"app","password":"p@ss/w:rd?Tr0ub4dor","engine":"postgres"}`
	dbPassword  = "p@ss/w:rd?Tr0ub4dor"
	cacheToken  = "t0k+en/Tr0ub4dor="
	databaseURL = "postgresql://app:p%40ss%2Fw%3Ard%3FTr0ub4dor@voting.c0ffee0123ab.eu-central-1.rds.amazonaws.com:5432/votes?sslmode=require"
	redisURL    = "rediss://:t0k%2Ben%2FTr0ub4dor%3D@master.voting.abc123.euc1.cache.amazonaws.com:6379"
)

// accountSecrets is everything the test account holds, by the ids secrets.sh reads them by:
// plan's mocked values, and the data tier's secrets by their ARNs (as stack.json names them).
func accountSecrets() map[string]string {
	all := map[string]string{testDatabaseSecretARN: rdsSecret, testCacheSecretARN: cacheToken}
	for id, v := range plan.SecretValues {
		all[id] = v
	}
	return all
}

// requireURLHolds checks that a composed URL parses back to the credentials it was made of.
func requireURLHolds(t *testing.T, raw, user, password string) {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	got, ok := u.User.Password()
	require.True(t, ok, "a password in %s", raw)
	require.Equal(t, password, got)
	require.Equal(t, user, u.User.Username())
}

// readSecrets returns the files of a service's secret directory, checking each is read-only.
func readSecrets(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		got[e.Name()] = string(raw)
		require.Equal(t, os.FileMode(0o444), mode(t, filepath.Join(dir, e.Name())), e.Name())
	}
	return got
}

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

// TestSecretsReachTheContainerAsReadOnlyFiles: the worker's three secrets (the database's URL
// and the cache's, composed from the data tier's secrets and endpoints, and one field of a JSON
// secret) become files under the runtime directory, exactly the values, readable by any
// container user, behind a directory only root passes; the log names them without their values;
// clear removes them.
func TestSecretsReachTheContainerAsReadOnlyFiles(t *testing.T) {
	t.Parallel()
	s := stackFor(t, "voting")
	require.Empty(t, s.JobTable, "the stack fills the job table in, not the test's data tier")
	b := newSandbox(t, s, nil)
	b.putSecrets(accountSecrets())
	r := b.run("secrets.sh", []string{"fetch", "worker"})
	require.NoError(t, r.err, r.output)
	dir := filepath.Join(b.runDir(), "secrets", "worker")
	got := readSecrets(t, dir)
	require.Equal(t, map[string]string{
		"DATABASE_URL":  databaseURL,
		"REDIS_URL":     redisURL,
		"WEBHOOK_TOKEN": "w3bhook-t0ken-9f2e1d",
	}, got, "the values as composed or stored, no newline added")
	requireURLHolds(t, got["DATABASE_URL"], "app", dbPassword)
	requireURLHolds(t, got["REDIS_URL"], "", cacheToken)
	require.Equal(t, os.FileMode(0o755), mode(t, dir), "the container's user reads its mount")
	require.Equal(t, os.FileMode(0o700), mode(t, filepath.Dir(dir)), "on the host only root passes")
	require.GreaterOrEqual(t, r.index("aws secretsmanager get-secret-value", "--region eu-central-1", "--secret-id "+testDatabaseSecretARN), 0)
	require.GreaterOrEqual(t, r.index("aws secretsmanager get-secret-value", "--region eu-central-1", "--secret-id "+testCacheSecretARN), 0)
	require.GreaterOrEqual(t, r.index("aws secretsmanager get-secret-value", "--region eu-central-1", "--secret-id immutable-edge/voting/webhook"), 0)
	require.Equal(t, 3, r.count("aws secretsmanager get-secret-value"), "one read a secret")
	require.Zero(t, r.count("aws ssm"))
	require.Contains(t, r.output, "service worker: secret DATABASE_URL read (database, key url)")
	require.Contains(t, r.output, "service worker: secret REDIS_URL read (cache, key url)")
	require.Contains(t, r.output, "service worker: secret WEBHOOK_TOKEN read (secretsmanager immutable-edge/voting/webhook, key token)")
	requireNoValue(t, r, "Tr0ub4dor", "p@ss", "t0k+en", "t0k%2Ben", "w3bhook-t0ken")

	r = b.run("secrets.sh", []string{"clear", "worker"})
	require.NoError(t, r.err)
	require.NoDirExists(t, dir)

	// The web front end that shows the tally: its URL from the same database secret, and an SSM
	// parameter, decrypted.
	r = b.run("secrets.sh", []string{"fetch", "result"})
	require.NoError(t, r.err, r.output)
	require.Equal(t, map[string]string{
		"DATABASE_URL": databaseURL,
		"SESSION_KEY":  plan.SecretValues["/immutable-edge/voting/session-key"],
	}, readSecrets(t, filepath.Join(b.runDir(), "secrets", "result")))
	require.GreaterOrEqual(t, r.index("aws ssm get-parameter", "--region eu-central-1", "--name /immutable-edge/voting/session-key", "--with-decryption"), 0)
	requireNoValue(t, r, "Tr0ub4dor", "p@ss", "s3ssion")

	// The nightly job reads its secrets as a service does.
	r = b.run("secrets.sh", []string{"fetch", "prune"})
	require.NoError(t, r.err, r.output)
	require.Equal(t, map[string]string{"DATABASE_URL": databaseURL}, readSecrets(t, filepath.Join(b.runDir(), "secrets", "prune")))
}

// TestDataTierPasswordsReachTheContainerBare: a service that asks for the data tier's password
// rather than its URL gets the password as it is, unescaped: the RDS secret's password field,
// the cache's token.
func TestDataTierPasswordsReachTheContainerBare(t *testing.T) {
	t.Parallel()
	s := stackFor(t, "voting")
	s.Services[2].Secrets = []bootstrap.Secret{
		{Name: "PGPASSWORD", Source: bootstrap.SourceDatabase, Key: "password"},
		{Name: "REDIS_PASSWORD", Source: bootstrap.SourceCache, Key: "password"},
	}
	b := newSandbox(t, s, nil)
	b.putSecrets(accountSecrets())
	r := b.run("secrets.sh", []string{"fetch", "worker"})
	require.NoError(t, r.err, r.output)
	require.Equal(t, map[string]string{"PGPASSWORD": dbPassword, "REDIS_PASSWORD": cacheToken},
		readSecrets(t, filepath.Join(b.runDir(), "secrets", "worker")))
	require.Contains(t, r.output, "service worker: secret PGPASSWORD read (database, key password)")
	requireNoValue(t, r, "Tr0ub4dor", "p@ss", "t0k+en")
}

// TestSecretsWithoutAServiceNeedNoAWS: a service without secrets gets no directory, and its
// start does not call AWS.
func TestSecretsWithoutAServiceNeedNoAWS(t *testing.T) {
	t.Parallel()
	s := stackFor(t, "voting")
	s.Services[0].Secrets = nil
	b := newSandbox(t, s, nil)
	r := b.run("secrets.sh", []string{"fetch", "vote"})
	require.NoError(t, r.err, r.output)
	require.NoDirExists(t, filepath.Join(b.runDir(), "secrets", "vote"))
	require.Zero(t, r.count("aws "))
}

// TestSecretsAreAllOrNothing: a secret that cannot be read (an RDS secret that is not a JSON
// object with a username and a password, a JSON secret without the key asked for, the API
// failing) fails the fetch, so the unit does not start the container; nothing half-written is
// left, and no value reaches the log, jq's messages included.
func TestSecretsAreAllOrNothing(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		database, webhook string
		env               []string
		calls             int // reads of Secrets Manager: the secrets before the bad one, then three tries
	}{
		"the RDS secret without a password":      {`{"username":"app","pass":"x-s3cret-value"}`, `{"token":"x-s3cret-hook"}`, nil, 3},
		"the RDS secret's password not a string": {`{"username":"app","password":["x-s3cret-value"]}`, `{"token":"x-s3cret-hook"}`, nil, 3},
		"the RDS secret not JSON":                {"plain x-s3cret-value", `{"token":"x-s3cret-hook"}`, nil, 3},
		"the RDS secret JSON null":               {"null", `{"token":"x-s3cret-hook"}`, nil, 3},
		"the RDS secret a JSON string":           {`"x-s3cret-value"`, `{"token":"x-s3cret-hook"}`, nil, 3},
		"the RDS secret a JSON list":             {`["x-s3cret-value"]`, `{"token":"x-s3cret-hook"}`, nil, 3},
		"no such key":                            {rdsSecret, `{"password":"x-s3cret-value"}`, nil, 5},
		"a JSON list":                            {rdsSecret, `["x-s3cret-value"]`, nil, 5},
		"not JSON":                               {rdsSecret, "plain x-s3cret-value", nil, 5},
		"the API keeps failing":                  {rdsSecret, `{"token":"x-s3cret-value"}`, []string{"FAKE_SECRET_ERROR=1"}, 3},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newSandbox(t, stackFor(t, "voting"), nil)
			b.putSecrets(map[string]string{testDatabaseSecretARN: tc.database, testCacheSecretARN: cacheToken, "immutable-edge/voting/webhook": tc.webhook})
			r := b.run("secrets.sh", []string{"fetch", "worker"}, tc.env...)
			require.Error(t, r.err)
			require.Contains(t, r.output, "service worker: could not read secret")
			require.Equal(t, tc.calls, r.count("aws secretsmanager get-secret-value"), "bounded retries")
			entries, err := os.ReadDir(filepath.Join(b.runDir(), "secrets"))
			require.NoError(t, err)
			require.Empty(t, entries, "nothing half-written")
			requireNoValue(t, r, "x-s3cret", "Tr0ub4dor", "p@ss", "t0k+en")
		})
	}
}

// TestWorkersRunUnroutedWithTheirEnvironment boots the voting stack: the worker starts with the
// web services in one call, publishes no port, gets its environment as a Docker env file and its
// secrets as a read-only mount, as a web service with secrets does; one without gets no mount;
// a worker with a health command also gets its check's timer.
func TestWorkersRunUnroutedWithTheirEnvironment(t *testing.T) {
	t.Parallel()
	s := stackFor(t, "voting")
	s.Services[2].HealthCommand = []string{"/app/healthcheck", "--quick"}
	s.Services[1].Secrets = nil // every voting service has secrets; result, here, none
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
	mount := func(name string) string {
		return "SECRET_FLAGS=--mount type=bind,source=" + b.runDir() + "/secrets/" + name + ",target=" + bootstrap.SecretMount + ",readonly\n"
	}
	require.Equal(t, "IMAGE=123456789012.dkr.ecr.eu-central-1.amazonaws.com/immutable-edge/voting/worker:1.2.0\n"+
		"PUBLISH=\nROOT_FLAGS=--read-only --tmpfs /tmp:rw,size=64m\n"+
		"ENV_FLAGS=--env-file "+services+"/worker.docker-env\n"+
		mount("worker"), read("worker.env"))
	require.Equal(t, "LOG_LEVEL=info\n", read("worker.docker-env"))
	require.Equal(t, "OPTION_A=Cats\nOPTION_B=Dogs\n", read("vote.docker-env"), "sorted, one literal line each")
	require.Contains(t, read("vote.env"), "PUBLISH=--publish 127.0.0.1:3000:3000 --env PORT=3000\n")
	require.Contains(t, read("vote.env"), mount("vote"), "REDIS_URL, composed at its start")
	require.Contains(t, read("result.env"), "PUBLISH=--publish 127.0.0.1:3001:3001 --env PORT=3001\n")
	require.Contains(t, read("result.env"), "SECRET_FLAGS=\n", "no secrets, no mount")
	require.Equal(t, -1, r.index("ie-worker-check@vote"), "web services are HAProxy's to check")
	require.Equal(t, -1, r.index("aws secretsmanager"), "secrets are read by each unit's start, not by the boot")
	require.Equal(t, -1, r.index("aws ssm get-parameter", "--with-decryption"))
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
// decryption and GetSecretValue (the data tier's secrets by the ARNs stack.json holds), signed
// for the stack's region, and the answers' values land in the files exactly, composed where a
// service asked for a URL.
func TestTheAWSCLIReadsTheSecrets(t *testing.T) {
	t.Parallel()
	cli := testtools.Need(t, "aws")
	values := accountSecrets()
	var mu sync.Mutex
	requests := map[string][]map[string]any{}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		target := r.Header.Get("X-Amz-Target")
		mu.Lock()
		requests[target] = append(requests[target], in)
		mu.Unlock()
		if !strings.Contains(r.Header.Get("Authorization"), "/eu-central-1/") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		var id string
		switch target {
		case "AmazonSSM.GetParameter":
			id, _ = in["Name"].(string)
		case "secretsmanager.GetSecretValue":
			id, _ = in["SecretId"].(string)
		}
		v, ok := values[id]
		switch {
		case target == "" || id == "":
			w.WriteHeader(http.StatusBadRequest)
		case !ok:
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"__type": "ResourceNotFoundException", "message": "not found"})
		case target == "AmazonSSM.GetParameter":
			_ = json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{
				"Name": id, "Type": "SecureString", "Value": v, "Version": 1}})
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"ARN": id, "Name": id, "SecretString": v})
		}
	}))
	defer api.Close()
	b := newSandbox(t, stackFor(t, "voting"), nil)
	require.NoError(t, os.WriteFile(filepath.Join(b.bin, "aws"), []byte("#!/bin/sh\nexec "+cli+" --endpoint-url "+api.URL+` "$@"`+"\n"), 0o755))
	env := []string{"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	for _, name := range []string{"worker", "result"} {
		r := b.run("secrets.sh", []string{"fetch", name}, env...)
		require.NoError(t, r.err, r.output)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []map[string]any{{"Name": "/immutable-edge/voting/session-key", "WithDecryption": true}}, requests["AmazonSSM.GetParameter"])
	require.ElementsMatch(t, []map[string]any{
		{"SecretId": testDatabaseSecretARN}, {"SecretId": testCacheSecretARN}, {"SecretId": "immutable-edge/voting/webhook"}, // worker
		{"SecretId": testDatabaseSecretARN}, // result
	}, requests["secretsmanager.GetSecretValue"])
	require.Len(t, requests, 2, "no other calls")
	file := func(path string) string {
		raw, err := os.ReadFile(filepath.Join(b.runDir(), "secrets", path))
		require.NoError(t, err)
		return string(raw)
	}
	require.Equal(t, databaseURL, file("worker/DATABASE_URL"))
	require.Equal(t, redisURL, file("worker/REDIS_URL"))
	require.Equal(t, "w3bhook-t0ken-9f2e1d", file("worker/WEBHOOK_TOKEN"))
	require.Equal(t, databaseURL, file("result/DATABASE_URL"))
	require.Equal(t, plan.SecretValues["/immutable-edge/voting/session-key"], file("result/SESSION_KEY"))
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
