package images_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// runWithFakes runs a copy of an images/ script with fake programs first on PATH.
func runWithFakes(t *testing.T, script string, fakes map[string]string, env ...string) (stdout, stderr string, calls []string, err error) {
	t.Helper()
	testtools.Need(t, "jq")
	parts := strings.Fields(script)
	copied, bin := scriptCopy(t, parts[0]), t.TempDir()
	dir := filepath.Dir(copied)
	log := filepath.Join(dir, "calls.log")
	for name, body := range fakes {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\necho \""+name+" $*\" >>"+log+"\n"+body+"\n"), 0o755))
	}
	cmd := exec.Command("bash", append([]string{copied}, parts[1:]...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + bin + ":" + os.Getenv("PATH")}, env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	b, _ := os.ReadFile(log)
	return out.String(), errb.String(), strings.Split(strings.TrimSpace(string(b)), "\n"), err
}

const manifest = `cat >manifest.json <<'JSON'
{"builds":[{"artifact_id":"eu-central-1:ami-0aaaaaaaaaaaaaaa1","packer_run_uuid":"old"},
           {"artifact_id":"eu-central-1:ami-0bbbbbbbbbbbbbbb2","packer_run_uuid":"run-2"}],
 "last_run_uuid":"run-2"}
JSON`

var buildEnv = []string{"REGION=eu-central-1", "CHANNEL=dev", "ARCHITECTURE=arm64", "SUBNET_ID=subnet-0123456789abcdef0", "GIT_REVISION=abc123"}

func TestBuildPrintsOnlyThisRunsAMI(t *testing.T) {
	stdout, stderr, calls, err := runWithFakes(t, "build.sh", map[string]string{
		"packer": "case \"$1\" in\nbuild)\necho '==> building'\n" + manifest + "\n;;\nesac",
	}, buildEnv...)
	require.NoError(t, err, stderr)
	require.Equal(t, "ami-0bbbbbbbbbbbbbbb2\n", stdout, "the id of this run's build, alone on stdout")
	require.Equal(t, "packer init .", calls[0])
	require.Regexp(t, `^packer build -color=false -var region=eu-central-1 -var channel=dev -var architecture=arm64 `+
		`-var subnet_id=subnet-0123456789abcdef0 -var git_revision=abc123 -var image_manifest=/\S+/image-manifest.json \.$`, calls[1],
		"the build runs in the stack's subnet, and the image manifest lands outside images/ (it is no input of the image)")
}

func TestBuildSummarisesTheImageManifest(t *testing.T) {
	writeBack := `for a in "$@"; do case $a in image_manifest=*) m=${a#image_manifest=} ;; esac; done
echo '{"packages":{"haproxy":"2.8.5-1ubuntu3","bash":"5.2"},"downloads":[{"name":"aws-cli","version":"2.27.49"}]}' >"$m"`
	stdout, stderr, _, err := runWithFakes(t, "build.sh", map[string]string{
		"packer": "case \"$1\" in\nbuild)\n" + writeBack + "\n" + manifest + "\n;;\nesac",
	}, buildEnv...)
	require.NoError(t, err, stderr)
	require.Equal(t, "ami-0bbbbbbbbbbbbbbb2\n", stdout)
	require.Contains(t, stderr, "ami-0bbbbbbbbbbbbbbb2 holds 2 packages, e.g. haproxy 2.8.5-1ubuntu3; verified downloads: aws-cli 2.27.49")
}

func TestBuildNeedsTheSubnet(t *testing.T) {
	var env []string
	for _, e := range buildEnv {
		if !strings.HasPrefix(e, "SUBNET_ID=") {
			env = append(env, e)
		}
	}
	_, stderr, calls, err := runWithFakes(t, "build.sh", map[string]string{"packer": "exit 0"}, env...)
	require.Error(t, err)
	require.Contains(t, stderr, "SUBNET_ID is required")
	require.Equal(t, []string{""}, calls, "Packer never runs without it")
}

func TestBuildFailuresShowPackersOutputAndNoId(t *testing.T) {
	for name, fake := range map[string]string{
		"packer fails":       `case "$1" in build) echo "Error: UnauthorizedOperation"; exit 1 ;; esac`,
		"no AMI in manifest": `case "$1" in build) echo '{"builds":[],"last_run_uuid":"x"}' >manifest.json ;; esac`,
	} {
		stdout, stderr, _, err := runWithFakes(t, "build.sh", map[string]string{"packer": fake}, buildEnv...)
		require.Error(t, err, name)
		require.Empty(t, stdout, "%s: never an empty or partial id", name)
		require.Contains(t, stderr, "the last lines of Packer's output", name)
	}
	_, stderr, _, err := runWithFakes(t, "build.sh", map[string]string{"packer": `echo "Error: UnauthorizedOperation" >&2; exit 1`}, buildEnv...)
	require.Error(t, err)
	require.Contains(t, stderr, "UnauthorizedOperation", "the cause reaches the deployer")
}

func TestBuildWithoutPackerSaysHowToGetIt(t *testing.T) {
	jq := testtools.Need(t, "jq")
	// Only the system directories and jq's: no packer anywhere on PATH.
	path := "PATH=/usr/bin:/bin:" + filepath.Dir(jq)
	stdout, stderr, _, err := runWithFakes(t, "build.sh", nil, append(buildEnv, path)...)
	if _, lookErr := exec.LookPath("/usr/bin/packer"); lookErr == nil {
		t.Skip("a system packer is installed in /usr/bin")
	}
	require.Error(t, err)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "packer is not installed (tools/build.sh builds the pinned version")
}

// TestTheDeployHookIsRegisteredOnce: certbot runs a hook given with --deploy-hook (kept in the
// certificate's renewal configuration as renew_hook for later renewals) and, on `certbot
// renew`, every executable in /etc/letsencrypt/renewal-hooks/deploy as well
// (https://eff-certbot.readthedocs.io/en/stable/using.html#renewing-certificates; the directory
// is for renew only: certbot/certbot#9869). The image used to register renew-hook.sh both
// ways, so each renewal ran it twice. What the image and the instance payload hold registers it
// exactly once.
func TestTheDeployHookIsRegisteredOnce(t *testing.T) {
	root := filepath.Dir(imagesDir(t))
	registration := regexp.MustCompile(`--deploy-hook|--renew-hook|renewal-hooks|renew_hook|deploy_hook`)
	var found []string
	for _, dir := range []string{"images", "internal/bootstrap"} {
		require.NoError(t, filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") || strings.Contains(p, "/testdata/") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(b), "\n") {
				code := strings.TrimSpace(line)
				if registration.MatchString(code) && !strings.HasPrefix(code, "#") && !strings.HasPrefix(code, "//") {
					rel, _ := filepath.Rel(root, p)
					found = append(found, rel+": "+code)
				}
			}
			return nil
		}))
	}
	// The renewal file boot writes for a restored lineage names the same hook, as certbot would
	// from --deploy-hook (internal/bootstrap checks IE_RENEW_HOOK is renew-hook.sh).
	require.Equal(t, []string{"images/files/usr/local/lib/immutable-edge/certstate.sh: deploy_hook = $IE_RENEW_HOOK",
		"images/files/usr/local/lib/immutable-edge/lib.sh: --deploy-hook /usr/local/lib/immutable-edge/renew-hook.sh)"}, found)
}
