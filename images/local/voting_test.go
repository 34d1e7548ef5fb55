package local_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// databaseAddr is where the voting instance finds its database: a guest forward to a real
// PostgreSQL on the host's loopback, standing in for the RDS endpoint.
const databaseAddr = "169.254.0.104"

// TestVotingRunsItsWorkerSecretsAndDatabase boots the voting stack's payload, its database's
// address pointed at a local PostgreSQL 15 (TLS on, the app user's password checked): the
// worker runs unrouted with its secrets mounted, the web services' containers hold the
// secrets secrets.sh read with the instance role (the URLs it composed from the RDS-managed
// secret and the cache's token, the SSM parameter), and result reads the database through the
// connection string it was given, over TLS, as the database's own user.
func TestVotingRunsItsWorkerSecretsAndDatabase(t *testing.T) {
	t.Parallel()
	img := build(t)
	w := newWorld(t, "voting", true)
	s := w.p.stack
	require.NotNil(t, s.Database)
	require.NotNil(t, s.Cache)
	// The payload as synthesized, but for the database's name: the VM has no DNS for RDS.
	w.p.userData = strings.Replace(w.p.userData, `"host": "`+s.Database.Host+`"`, `"host": "`+databaseAddr+`"`, 1)
	require.Contains(t, w.p.userData, databaseAddr, "stack.json is not compressed, so its host can be pointed here")

	password := "p@ss/" + rand.Text() + ":?&="
	token := rand.Text() + rand.Text()
	pg := startPostgres(t, s.Database.Name, "app", password)
	w.more = map[string]int{databaseAddr + ":5432": pg}
	rds, err := json.Marshal(map[string]string{"username": "app", "password": password, "engine": "postgres"})
	require.NoError(t, err)
	w.aws.secrets = map[string]string{
		s.Database.SecretARN:                 string(rds),
		s.Cache.SecretARN:                    token,
		"/immutable-edge/voting/session-key": "session-" + rand.Text(),
		"immutable-edge/voting/webhook":      `{"token":"webhook-` + rand.Text() + `"}`,
	}

	in := w.boot(t, img, instanceID, 80, 443)
	w.inService(t, in, func() bool { return w.associated(instanceID) })
	in.settled(t, w) // ie-svc@worker.service is active among the others
	in.hardened(t, w)

	// The worker runs, unpublished, with its secrets mounted read-only.
	var workers []struct {
		State      struct{ Running bool }
		HostConfig struct{ PortBindings map[string]any }
		Mounts     []struct {
			Destination string
			RW          bool
		}
	}
	require.NoError(t, json.Unmarshal([]byte(in.control(t, "inspect ie-worker")), &workers))
	require.Len(t, workers, 1)
	require.True(t, workers[0].State.Running, "the worker runs")
	require.Empty(t, workers[0].HostConfig.PortBindings, "a worker listens nowhere")
	require.Contains(t, workers[0].Mounts, struct {
		Destination string
		RW          bool
	}{"/run/secrets", false})

	rootFile, _ := w.trust(t)
	get := func(host, path string) response {
		return curl(t, rootFile, "https://"+host+path, in.fwd[443])
	}
	sum := func(v string) string {
		h := sha256.Sum256([]byte(v))
		return hex.EncodeToString(h[:]) + "\n"
	}
	vote, result := s.Services[0].Host, s.Services[1].Host
	redis := fmt.Sprintf("rediss://:%s@%s:%d", url.PathEscape(token), s.Cache.Host, s.Cache.Port)
	r := get(vote, "/.secret/REDIS_URL")
	require.Equal(t, 200, r.code)
	require.Equal(t, sum(redis), r.body, "vote's REDIS_URL is the cache's URL with its token")
	r = get(result, "/.secret/SESSION_KEY")
	require.Equal(t, 200, r.code)
	require.Equal(t, sum(w.aws.secrets["/immutable-edge/voting/session-key"]), r.body, "the SSM parameter, as stored")

	// result reads the database through the URL secrets.sh composed from the RDS secret.
	r = get(result, "/.db")
	require.Equal(t, 200, r.code, r.body)
	require.Equal(t, "app@"+s.Database.Name+" true\n", r.body, "connected as the app user to its database, over TLS")

	// The secrets were read with the instance role from the stand-in, each by its reference.
	var reads []string
	for _, c := range w.aws.Calls() {
		if c.Service == "secretsmanager" || c.Service == "ssm" {
			reads = append(reads, c.Operation+" "+c.Path)
		}
	}
	require.Contains(t, reads, "GetSecretValue "+s.Database.SecretARN)
	require.Contains(t, reads, "GetSecretValue "+s.Cache.SecretARN)
	require.Contains(t, reads, "GetParameter /immutable-edge/voting/session-key")
	// No value reached the journal.
	journal := in.control(t, "journal")
	for _, v := range []string{password, token, url.PathEscape(password)} {
		require.NotContains(t, journal, v)
	}
}

// startPostgres runs a real PostgreSQL on loopback with TLS on (a throwaway self-signed
// certificate; sslmode=require does not verify it, as libpq does not) and one database owned by
// user, who logs in with password over TLS only. It returns the port.
func startPostgres(t *testing.T, database, user, password string) int {
	t.Helper()
	bin := pgBin(t)
	dir, err := os.MkdirTemp("", "ie-postgres-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	// PostgreSQL refuses to run as root: as root, run it as its own user.
	as := func(name string, args ...string) *exec.Cmd {
		if os.Geteuid() != 0 {
			return exec.Command(name, args...)
		}
		_, err := osuser.Lookup("postgres")
		require.NoError(t, err, "running as root, PostgreSQL needs its postgres user")
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	data := filepath.Join(dir, "data")
	require.NoError(t, os.Chmod(dir, 0o777))
	out, err := as(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust").CombinedOutput()
	require.NoError(t, err, "initdb: %s", out)
	out, err = exec.Command("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
		"-subj", "/CN=database", "-keyout", filepath.Join(dir, "server.key"), "-out", filepath.Join(dir, "server.crt")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, f := range []string{"server.key", "server.crt"} {
		require.NoError(t, os.Chmod(filepath.Join(dir, f), 0o644)) // copied below, owned by postgres
		out, err = as("cp", filepath.Join(dir, f), filepath.Join(data, f)).CombinedOutput()
		require.NoError(t, err, "%s", out)
		out, err = as("chmod", "0600", filepath.Join(data, f)).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	port := testtools.FreePort(t)
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nssl = on\nunix_socket_directories = '%s'\n", port, dir)
	hba := "local all postgres trust\nhostssl " + database + " " + user + " 127.0.0.1/32 password\n"
	out, err = as("sh", "-c", fmt.Sprintf("printf '%%s' \"$1\" >>%s/postgresql.conf && printf '%%s' \"$2\" >%s/pg_hba.conf", data, data), "sh", conf, hba).CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = as(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"), "-w", "start").CombinedOutput()
	require.NoError(t, err, "pg_ctl start: %s", out)
	t.Cleanup(func() { _ = as(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop").Run() })
	role := fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", user, strings.ReplaceAll(password, "'", "''"))
	db := fmt.Sprintf("CREATE DATABASE %s OWNER %s", database, user) // outside a transaction: its own -c
	psql := filepath.Join(bin, "psql")
	if _, err := os.Stat(psql); err != nil {
		psql = testtools.Need(t, "psql")
	}
	out, err = as(psql, "-h", dir, "-p", fmt.Sprint(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", role, "-c", db).CombinedOutput()
	require.NoError(t, err, "psql: %s", out)
	return port
}

// pgBin is the directory of PostgreSQL's server programs: Debian keeps them off PATH, under
// /usr/lib/postgresql/<version>/bin.
func pgBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		testtools.Need(t, "initdb") // fails under CI, skips elsewhere
	}
	return filepath.Dir(matches[len(matches)-1])
}
