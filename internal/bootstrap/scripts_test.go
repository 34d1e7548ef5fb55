package bootstrap_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"maps"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// Fakes for the programs the scripts call. Each logs its arguments to $FAKE_LOG; behaviour is
// steered by FAKE_* variables, counters live in $FAKE_DIR.
var fakes = map[string]string{
	"aws": `echo "aws $*" >>"$FAKE_LOG"
# The launch hook: Pending:Wait until completed; once it has ended, calls on it are refused as
# Auto Scaling refuses them.
state=$(cat "$FAKE_DIR/lifecycle" 2>/dev/null || echo Pending:Wait)
gone() { echo "An error occurred (ValidationError) when calling the $1 operation: No active Lifecycle Action found with instance ID i-0abc" >&2; exit 254; }
case "$*" in
"s3api list-objects-v2"*)
	[ -z "$FAKE_S3_LIST_ERROR" ] || { echo "An error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied" >&2; exit 254; }
	if [ -e "$FAKE_DIR/state.tar.gz" ]; then echo "$*" | sed 's/.*--prefix \([^ ]*\).*/\1/'; else echo; fi ;;
"s3 cp s3://"*)
	[ -z "$FAKE_S3_CP_ERROR" ] || { echo "download failed: (ExpiredToken)" >&2; exit 1; }
	cp "$FAKE_DIR/state.tar.gz" "$4" ;;
"s3 cp - s3://"*) cat >"$FAKE_DIR/saved.tar.gz" ;;
"ec2 associate-address"*)
	n=$(($(cat "$FAKE_DIR/claims" 2>/dev/null || echo 0) + 1)); echo "$n" >"$FAKE_DIR/claims"
	[ "$n" -gt "${FAKE_CLAIM_FAILS:-0}" ] || exit 1
	# The address keeps one holder; taking it from another instance needs --allow-reassociation.
	holder=$(cat "$FAKE_DIR/holder" 2>/dev/null || true)
	id=$(echo "$*" | sed 's/.*--instance-id \([^ ]*\).*/\1/')
	case "$*" in *--allow-reassociation*) ;; *) [ -z "$holder" ] || [ "$holder" = "$id" ] || exit 254 ;; esac
	echo "$id" >"$FAKE_DIR/holder" ;;
"autoscaling describe-auto-scaling-instances"*LifecycleState*) echo "$state" ;;
"autoscaling describe-auto-scaling-instances"*) echo dev-asg-1 ;;
"autoscaling record-lifecycle-action-heartbeat"*)
	[ "$state" = Pending:Wait ] || gone RecordLifecycleActionHeartbeat
	[ -z "$FAKE_HEARTBEAT_FAILS" ] || { echo "An error occurred (Throttling) when calling the RecordLifecycleActionHeartbeat operation: Rate exceeded" >&2; exit 254; } ;;
"autoscaling complete-lifecycle-action"*CONTINUE*)
	[ "$state" = Pending:Wait ] || gone CompleteLifecycleAction
	case "$FAKE_CONTINUE" in
	fail) echo "An error occurred (Throttling) when calling the CompleteLifecycleAction operation: Rate exceeded" >&2; exit 254 ;;
	lost) echo InService >"$FAKE_DIR/lifecycle"; echo "Read timeout on endpoint URL" >&2; exit 255 ;;
	esac
	echo InService >"$FAKE_DIR/lifecycle" ;;
"autoscaling complete-lifecycle-action"*ABANDON*)
	[ "$state" = Pending:Wait ] || gone CompleteLifecycleAction
	echo Terminating >"$FAKE_DIR/lifecycle" ;;
"ssm get-parameter"*|"secretsmanager get-secret-value"*)
	# A secret is a file under $FAKE_DIR/secrets named like its id (/ as _), answered as the
	# CLI's --output json answers --query: one JSON string.
	[ -z "$FAKE_SECRET_ERROR" ] || { echo "An error occurred (ThrottlingException) when reading a secret: Rate exceeded" >&2; exit 254; }
	id=$(echo "$*" | sed 's/.*--\(name\|secret-id\) \([^ ]*\).*/\2/' | tr / _)
	[ -e "$FAKE_DIR/secrets/$id" ] || { echo "An error occurred (ResourceNotFoundException): $id not found" >&2; exit 254; }
	jq -Rs . <"$FAKE_DIR/secrets/$id" ;;
"autoscaling set-instance-health"*)
	n=$(($(cat "$FAKE_DIR/marks" 2>/dev/null || echo 0) + 1)); echo "$n" >"$FAKE_DIR/marks"
	[ "$n" -gt "${FAKE_MARK_FAILS:-0}" ] ;;
esac`,
	// certbot keeps a valid lineage (--keep-until-expiring), else issues one as it lays it out:
	// archive/edge/<kind>N.pem and live/edge/<kind>.pem symlinks, for the -d names, and runs the
	// --deploy-hook (the repository's copy of it), as certbot runs it for each issued certificate.
	"certbot": `echo "certbot $*" >>"$FAKE_LOG"
le=$IE_ETC/letsencrypt
if [ -e "$le/live/edge/cert.pem" ] && openssl x509 -checkend 2592000 -noout -in "$le/live/edge/cert.pem" >/dev/null; then exit 0; fi
mkdir -p "$le/archive/edge" "$le/live/edge"
n=$(($(ls "$le/archive/edge" | grep -c '^cert') + 1)) san= cn= hook=
while [ $# -gt 0 ]; do [ "$1" = -d ] && { san="$san,DNS:$2"; cn=${cn:-$2}; }; [ "$1" = --deploy-hook ] && hook=$2; shift; done
a=$le/archive/edge
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 -subj "/CN=$cn" -addext "subjectAltName=${san#,}" \
	-keyout "$a/privkey$n.pem" -out "$a/cert$n.pem" 2>/dev/null
cp "$a/cert$n.pem" "$a/chain$n.pem"
cat "$a/cert$n.pem" "$a/chain$n.pem" >"$a/fullchain$n.pem"
for f in cert chain fullchain privkey; do ln -sfn "../../archive/edge/$f$n.pem" "$le/live/edge/$f.pem"; done
[ -z "$hook" ] || RENEWED_LINEAGE=$le/live/edge bash "$FAKE_HOOKS/$(basename "$hook")"`,
	"amazon-cloudwatch-agent-ctl": `echo "amazon-cloudwatch-agent-ctl $*" >>"$FAKE_LOG"`,
	"curl": `echo "curl $*" >>"$FAKE_LOG"
case "$*" in
*api/token*) echo token-1 ;;
*meta-data/instance-id*) echo "${FAKE_INSTANCE_ID:-i-0abc}" ;;
*meta-data/autoscaling/target-lifecycle-state*) echo "${FAKE_LIFECYCLE:-InService}" ;;
*/.edge/health*)
	[ -z "$FAKE_GATE_SLEEP" ] || sleep "$FAKE_GATE_SLEEP"
	if [ -e "$FAKE_DIR/health" ]; then [ "$(cat "$FAKE_DIR/health")" = up ]; exit; fi
	n=$(($(cat "$FAKE_DIR/gates" 2>/dev/null || echo 0) + 1)); echo "$n" >"$FAKE_DIR/gates"
	if [ -n "${FAKE_GATE_SEQ:-}" ]; then set -- $FAKE_GATE_SEQ; shift $((n - 1)); [ "${1:-down}" = up ]; exit; fi
	[ "$n" -gt "${FAKE_GATE_FAILS:-0}" ] ;;
*) exit 22 ;;
esac`,
	"systemctl": `echo "systemctl $*" >>"$FAKE_LOG"`,
	// docker exec exits with $FAKE_DIR/exec-status (0 when absent): a worker's health command.
	"docker": `echo "docker $*" >>"$FAKE_LOG"
case "$1" in exec) exit "$(cat "$FAKE_DIR/exec-status" 2>/dev/null || echo 0)" ;; esac`,
}

type bootRun struct {
	log    []string
	err    error
	etc    string
	exit   int
	output string
}

// sandbox is an instance's filesystem for the scripts: a temporary /etc with the stack
// description, fakes first on PATH, and the fakes' state, kept across runs.
type sandbox struct {
	t                                     *testing.T
	dir, root, bin, etc, fakeDir, logFile string
}

// newSandbox writes the stack description and the fakes (more, when given, add to or replace them).
func newSandbox(t *testing.T, s bootstrap.Stack, more map[string]string) *sandbox {
	t.Helper()
	testtools.Need(t, "jq")
	testtools.Need(t, "tar")
	testtools.Need(t, "openssl")
	root, err := plan.Root()
	require.NoError(t, err)
	dir := t.TempDir()
	b := &sandbox{t: t, dir: dir, root: root, bin: filepath.Join(dir, "bin"), etc: filepath.Join(dir, "etc"),
		fakeDir: filepath.Join(dir, "fake"), logFile: filepath.Join(dir, "calls.log")}
	for _, d := range []string{b.bin, filepath.Join(b.etc, "immutable-edge"), b.fakeDir, b.tmp()} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	all := maps.Clone(fakes)
	maps.Copy(all, more)
	for name, body := range all {
		require.NoError(t, os.WriteFile(filepath.Join(b.bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	}
	desc, err := json.Marshal(s)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(b.etc, "immutable-edge", "stack.json"), desc, 0o644))
	return b
}

// runDir is the sandbox's /run/immutable-edge (IE_RUN).
func (b *sandbox) runDir() string { return filepath.Join(b.dir, "run") }

// tmp is the scripts' TMPDIR, inside the sandbox.
func (b *sandbox) tmp() string { return filepath.Join(b.dir, "tmp") }

// run runs one of the instance scripts; the calls logged are every run's so far.
func (b *sandbox) run(script string, args []string, env ...string) bootRun {
	t := b.t
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(b.root, "images/files/usr/local/lib/immutable-edge", script)}, args...)...)
	cmd.Env = append([]string{
		"PATH=" + b.bin + ":" + os.Getenv("PATH"), "IE_ETC=" + b.etc, "FAKE_LOG=" + b.logFile, "FAKE_DIR=" + b.fakeDir,
		"FAKE_HOOKS=" + filepath.Join(b.root, "images/files/usr/local/lib/immutable-edge"),
		"IE_GATE_TRIES=4", "IE_GATE_DELAY=0", "IE_GATE_SETTLE=0", "IE_CLAIM_TRIES=3", "IE_CLAIM_DELAY=0",
		"IE_AGENT_CTL=" + filepath.Join(b.bin, "amazon-cloudwatch-agent-ctl"), "IE_VAR=" + filepath.Join(b.fakeDir, "var"),
		"IE_RUN=" + b.runDir(), "TMPDIR=" + b.tmp(),
	}, env...)
	out, runErr := cmd.CombinedOutput()
	calls, _ := os.ReadFile(b.logFile)
	r := bootRun{log: strings.Split(strings.TrimSpace(string(calls)), "\n"), err: runErr, etc: b.etc, output: string(out)}
	if cmd.ProcessState != nil {
		r.exit = cmd.ProcessState.ExitCode()
	}
	t.Logf("%s %s output:\n%s", script, strings.Join(args, " "), out)
	return r
}

// runScript runs one of the instance scripts against a stack description, with fakes first on PATH.
func runScript(t *testing.T, script string, s bootstrap.Stack, setup func(etc string), env ...string) bootRun {
	t.Helper()
	b := newSandbox(t, s, nil)
	if setup != nil {
		setup(b.etc)
	}
	return b.run(script, nil, env...)
}

// holder is the instance the fake's Elastic IP is associated with.
func (b *sandbox) holder() string {
	raw, _ := os.ReadFile(filepath.Join(b.fakeDir, "holder"))
	return strings.TrimSpace(string(raw))
}

// lifecycle is the fake launch hook's state for the instance.
func (b *sandbox) lifecycle() string {
	raw, err := os.ReadFile(filepath.Join(b.fakeDir, "lifecycle"))
	if err != nil {
		return "Pending:Wait"
	}
	return strings.TrimSpace(string(raw))
}

// index returns the position of the first call containing all of parts, or -1.
func (r bootRun) index(parts ...string) int {
	for i, l := range r.log {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return i
		}
	}
	return -1
}

func (r bootRun) count(part string) int {
	n := 0
	for _, l := range r.log {
		if strings.Contains(l, part) {
			n++
		}
	}
	return n
}

func stackFor(t *testing.T, name string) bootstrap.Stack {
	t.Helper()
	raw, err := plan.StackConfig(name)
	require.NoError(t, err)
	cfg, err := config.Load("immutable-edge", name, raw)
	require.NoError(t, err)
	s := bootstrap.Describe(cfg, plan.Account)
	if s.Edge.Mode == config.EdgeEIP {
		s.Edge.AllocationID, s.Edge.CertBucket, s.Edge.CertPrefix = "eipalloc-0abc", "dev-certs-1", "letsencrypt/"
	}
	// The data tier's endpoints and password secrets exist only once it does; the stack fills them in.
	if cfg.Database != nil {
		s.Database = &bootstrap.Endpoint{Host: testDatabaseHost, Port: 5432, Name: cfg.Database.Name, SecretARN: testDatabaseSecretARN}
	}
	if cfg.Cache != nil {
		s.Cache = &bootstrap.Endpoint{Host: testCacheHost, Port: 6379, SecretARN: testCacheSecretARN}
	}
	return s
}

func TestBootClaimsTheAddressOnlyAfterTheGate(t *testing.T) {
	t.Parallel()
	r := runScript(t, "boot.sh", stackFor(t, "dev"), nil, "FAKE_GATE_FAILS=2")
	require.NoError(t, r.err)
	certbot := r.index("certbot certonly", "--dns-route53", "-d dev.example.com", "-d api.dev.example.com", "--keep-until-expiring")
	save := r.index("aws s3 cp - s3://dev-certs-1/letsencrypt/" + bootstrap.CertStateObject)
	web := r.index("systemctl enable --no-reload --now ie-svc@web.service ie-svc@api.service")
	haproxy := r.index("systemctl reload-or-restart haproxy.service")
	gate := r.index("curl", "http://127.0.0.1:80/.edge/health")
	claim := r.index("aws ec2 associate-address", "--allocation-id eipalloc-0abc", "--instance-id i-0abc", "--allow-reassociation")
	ready := r.index("aws autoscaling complete-lifecycle-action", "--lifecycle-hook-name instance-ready", "--auto-scaling-group-name dev-asg-1", "--lifecycle-action-result CONTINUE")
	beat := r.index("aws autoscaling record-lifecycle-action-heartbeat", "--lifecycle-hook-name instance-ready", "--auto-scaling-group-name dev-asg-1", "--instance-id i-0abc")
	agent := r.index("amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:" + bootstrap.AgentConfigFile)
	days := r.index("aws cloudwatch put-metric-data", "--namespace ImmutableEdge/dev --", "--metric-name "+bootstrap.CertMetric, "--dimensions Stack=dev")
	timer := r.index("systemctl enable --no-reload --now ie-cert-metric.timer")
	for name, i := range map[string]int{"certbot": certbot, "save": save, "web": web, "haproxy": haproxy, "gate": gate, "claim": claim, "ready": ready,
		"agent": agent, "days": days, "timer": timer, "heartbeat": beat} {
		require.GreaterOrEqual(t, i, 0, "%s not called; calls:\n%s", name, strings.Join(r.log, "\n"))
	}
	require.Less(t, agent, certbot, "the agent ships the logs of a boot that fails")
	require.Less(t, certbot, days)
	require.Less(t, certbot, web, "the certificate exists before HAProxy needs it")
	require.Less(t, web, haproxy, "containers before HAProxy")
	require.Less(t, haproxy, gate)
	require.Less(t, beat, certbot, "the hook is kept open from the start")
	require.Less(t, gate, ready)
	require.Less(t, ready, claim, "the address moves only once the instance is in service")
	require.Equal(t, 4, r.count("/.edge/health"), "two failed gate checks, then two passes in a row")
	// certbot's deploy hook ran on the issuance and left the rest to boot.sh: one upload, one metric.
	require.Equal(t, 1, r.count("aws s3 cp - s3://"), "the state is saved once")
	require.Equal(t, 1, r.count("put-metric-data"), "the expiry is published once")
	// systemd reloads its configuration once: every reload re-runs the generators.
	require.Equal(t, 1, r.count("systemctl daemon-reload"))
	for _, l := range r.log {
		if strings.HasPrefix(l, "systemctl enable") {
			require.Contains(t, l, " --no-reload ", "an enable that reloads systemd's configuration again")
		}
	}
	require.Contains(t, r.log[r.index("curl", "api/token")], "-X PUT", "IMDSv2 token")
	env, err := os.ReadFile(filepath.Join(r.etc, "immutable-edge/services/web.env"))
	require.NoError(t, err)
	require.Equal(t, "IMAGE=123456789012.dkr.ecr.eu-central-1.amazonaws.com/immutable-edge/dev/web:1.4.2\n"+
		"PUBLISH=--publish 127.0.0.1:3000:3000 --env PORT=3000\nROOT_FLAGS=--read-only --tmpfs /tmp:rw,size=64m\nENV_FLAGS=\nSECRET_FLAGS=\n", string(env))
	pemInfo, err := os.Stat(filepath.Join(r.etc, "haproxy/certs/edge.pem"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), pemInfo.Mode().Perm(), "the key is readable by root only")
}

func TestFailedClaimAsksToBeReplaced(t *testing.T) {
	t.Parallel()
	b := newSandbox(t, stackFor(t, "dev"), nil)
	require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "holder"), []byte("i-0old\n"), 0o644))
	r := b.run("boot.sh", nil, "FAKE_CLAIM_FAILS=99")
	require.Error(t, r.err)
	require.NotZero(t, r.exit)
	require.Equal(t, 3, r.count("aws ec2 associate-address"), "bounded retries")
	require.Less(t, r.index("--lifecycle-action-result CONTINUE"), r.index("aws ec2 associate-address"))
	require.Equal(t, -1, r.index("--lifecycle-action-result ABANDON"), "the hook was completed already")
	mark := r.index("aws autoscaling set-instance-health", "--instance-id i-0abc", "--health-status Unhealthy")
	require.GreaterOrEqual(t, mark, 0, "an instance in service without the address asks to be replaced")
	require.Equal(t, "i-0old", b.holder(), "the address stays where it was")
	require.Equal(t, -1, r.index("ie-health-watch.timer"))
}

func TestGateNeverHealthyNeverClaims(t *testing.T) {
	t.Parallel()
	r := runScript(t, "boot.sh", stackFor(t, "dev"), nil, "FAKE_GATE_FAILS=99")
	require.Error(t, r.err)
	require.Equal(t, 4, r.count("/.edge/health"), "bounded wait")
	require.Equal(t, -1, r.index("associate-address"), "a node that is not healthy never takes the address")
	require.GreaterOrEqual(t, r.index("--lifecycle-action-result ABANDON"), 0)
}

// TestGateIgnoresAPassBeforeHAProxysChecks: the first answer after HAProxy starts can pass before
// any check ran (servers count as up until then); the next one, after the checks, fails.
func TestGateIgnoresAPassBeforeHAProxysChecks(t *testing.T) {
	t.Parallel()
	r := runScript(t, "boot.sh", stackFor(t, "dev"), nil, "FAKE_GATE_SEQ=up down down down down")
	require.Error(t, r.err)
	require.Equal(t, -1, r.index("associate-address"), "one early pass never takes the address")
	require.GreaterOrEqual(t, r.index("--lifecycle-action-result ABANDON"), 0)

	r = runScript(t, "boot.sh", stackFor(t, "dev"), nil, "FAKE_GATE_SEQ=up down up up")
	require.NoError(t, r.err)
	require.Equal(t, 4, r.count("/.edge/health"), "two passes in a row, the second after the checks")
	require.Less(t, r.index("curl", "/.edge/health"), r.index("associate-address"))
}

func TestBootBehindTheLoadBalancer(t *testing.T) {
	t.Parallel()
	r := runScript(t, "boot.sh", stackFor(t, "prod"), nil)
	require.NoError(t, r.err)
	require.Equal(t, -1, r.index("certbot"), "the ALB holds the certificate")
	require.Equal(t, -1, r.index("associate-address"))
	require.GreaterOrEqual(t, r.index("curl", "http://127.0.0.1:8080/.edge/health"), 0)
	require.GreaterOrEqual(t, r.index("--lifecycle-action-result CONTINUE"), 0)
}

func TestRenewHookRebuildsReloadsAndSaves(t *testing.T) {
	t.Parallel()
	renewed := func(etc string) { // certbot has just renewed: live/ points at the new chain and key
		le := filepath.Join(etc, "letsencrypt")
		for _, d := range []string{"live/edge", "archive/edge"} {
			require.NoError(t, os.MkdirAll(filepath.Join(le, d), 0o700))
		}
		for kind, body := range map[string]string{"fullchain": "NEW-CHAIN\n", "privkey": "NEW-KEY\n"} {
			require.NoError(t, os.WriteFile(filepath.Join(le, "archive/edge", kind+"2.pem"), []byte(body), 0o600))
			require.NoError(t, os.Symlink("../../archive/edge/"+kind+"2.pem", filepath.Join(le, "live/edge", kind+".pem")))
		}
	}
	r := runScript(t, "renew-hook.sh", stackFor(t, "dev"), renewed)
	require.NoError(t, r.err)
	pem, err := os.ReadFile(filepath.Join(r.etc, "haproxy/certs/edge.pem"))
	require.NoError(t, err)
	require.Equal(t, "NEW-CHAIN\nNEW-KEY\n", string(pem))
	reload := r.index("systemctl reload haproxy.service")
	save := r.index("aws s3 cp - s3://dev-certs-1/letsencrypt/" + bootstrap.CertStateObject)
	require.GreaterOrEqual(t, reload, 0)
	require.Greater(t, save, reload, "the state is saved once HAProxy serves the new certificate")
}

func TestScriptsAreShellcheckClean(t *testing.T) {
	t.Parallel()
	shellcheck := testtools.Need(t, "shellcheck")
	root, err := plan.Root()
	require.NoError(t, err)
	dir := filepath.Join(root, "images/files/usr/local/lib/immutable-edge")
	scripts, err := filepath.Glob(filepath.Join(dir, "*.sh"))
	require.NoError(t, err)
	require.Len(t, scripts, 10)
	cmd := exec.Command(shellcheck, append([]string{"-x", "--severity=style"}, scripts...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

func TestCertMetricPublishesTheDaysLeft(t *testing.T) {
	t.Parallel()
	expiring := func(etc string) { // a certificate with 40 and a half days left
		live := filepath.Join(etc, "letsencrypt/live/edge")
		require.NoError(t, os.MkdirAll(live, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(live, "cert.pem"), selfSigned(t, time.Now().Add(40*24*time.Hour+12*time.Hour)), 0o644))
	}
	r := runScript(t, "cert-metric.sh", stackFor(t, "dev"), expiring)
	require.NoError(t, r.err)
	require.Equal(t, []string{"aws cloudwatch put-metric-data --region eu-central-1 --namespace ImmutableEdge/dev" +
		" --metric-name " + bootstrap.CertMetric + " --dimensions " + bootstrap.DimStack + "=dev --unit Count --value 40"}, r.log)

	missing := runScript(t, "cert-metric.sh", stackFor(t, "dev"), nil)
	require.Error(t, missing.err, "no certificate is a failure the timer's unit shows, not a figure")
	require.Equal(t, -1, missing.index("put-metric-data"))
}

// selfSigned returns a PEM certificate that expires at notAfter.
func selfSigned(t *testing.T, notAfter time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dev.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestScriptsAgreeWithTheRenderer(t *testing.T) {
	t.Parallel()
	root, err := plan.Root()
	require.NoError(t, err)
	lib, err := os.ReadFile(filepath.Join(root, "images/files/usr/local/lib/immutable-edge/lib.sh"))
	require.NoError(t, err)
	require.Contains(t, string(lib), "IE_PEM=$IE_ETC/"+strings.TrimPrefix(bootstrap.CertFile, "/etc/"), "HAProxy reads the PEM the scripts write")
	require.Contains(t, string(lib), "--deploy-hook "+bootstrap.ScriptDir+"/renew-hook.sh")
	state, err := os.ReadFile(filepath.Join(root, "images/files/usr/local/lib/immutable-edge/certstate.sh"))
	require.NoError(t, err)
	require.Contains(t, string(state), "\nIE_STATE_OBJECT="+bootstrap.CertStateObject+"\n")
	require.Contains(t, string(state), "\nIE_RENEW_HOOK="+bootstrap.ScriptDir+"/renew-hook.sh\n")
	boot, err := os.ReadFile(filepath.Join(root, "images/files/usr/local/lib/immutable-edge/boot.sh"))
	require.NoError(t, err)
	require.Contains(t, string(boot), `units+=("`+bootstrap.UnitName("$svc")+`")`)
	require.Contains(t, string(lib), "file:"+bootstrap.AgentConfigFile, "the agent starts with the rendered configuration")
	require.Contains(t, string(lib), "--metric-name "+bootstrap.CertMetric+" --dimensions \"Stack=")

	// The AMI's rsyslog rule writes the files the agent configuration ships.
	rules, err := os.ReadFile(filepath.Join(root, "images/files/etc/rsyslog.d/30-immutable-edge.conf"))
	require.NoError(t, err)
	agent, err := bootstrap.AgentConfig(stackFor(t, "dev"))
	require.NoError(t, err)
	for _, f := range []string{bootstrap.LogDir + "/haproxy.log", bootstrap.LogDir + "/containers.log"} {
		require.Contains(t, string(rules), `file="`+f+`"`)
		require.Contains(t, agent, `"file_path": "`+f+`"`)
	}
	unit, err := bootstrap.TemplateUnit(stackFor(t, "dev"))
	require.NoError(t, err)
	require.Contains(t, unit, "--log-opt tag=ie-svc-%i", "container lines carry the identifier the rsyslog rule matches")
	require.Contains(t, string(rules), `$programname startswith 'ie-svc-'`)
}
