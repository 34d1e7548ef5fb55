package images_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// runWithFakes runs an images/ script in a copy of images/ with fake programs first on PATH.
func runWithFakes(t *testing.T, script string, fakes map[string]string, env ...string) (stdout, stderr string, calls []string, err error) {
	t.Helper()
	testtools.Need(t, "jq")
	dir, bin := t.TempDir(), t.TempDir()
	src := imagesDir(t)
	for _, f := range []string{"build.sh", "deregister.sh", "promote.sh"} {
		b, rerr := os.ReadFile(filepath.Join(src, f))
		require.NoError(t, rerr)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o755))
	}
	log := filepath.Join(dir, "calls.log")
	for name, body := range fakes {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\necho \""+name+" $*\" >>"+log+"\n"+body+"\n"), 0o755))
	}
	parts := strings.Fields(script)
	cmd := exec.Command("bash", append([]string{filepath.Join(dir, parts[0])}, parts[1:]...)...)
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

var buildEnv = []string{"REGION=eu-central-1", "CHANNEL=dev", "ARCHITECTURE=arm64", "GIT_REVISION=abc123"}

func TestBuildPrintsOnlyThisRunsAMI(t *testing.T) {
	stdout, stderr, calls, err := runWithFakes(t, "build.sh", map[string]string{
		"packer": "case \"$1\" in\nbuild)\necho '==> building'\n" + manifest + "\n;;\nesac",
	}, buildEnv...)
	require.NoError(t, err, stderr)
	require.Equal(t, "ami-0bbbbbbbbbbbbbbb2\n", stdout, "the id of this run's build, alone on stdout")
	require.Equal(t, "packer init .", calls[0])
	require.Contains(t, calls[1], "packer build -color=false -var region=eu-central-1 -var channel=dev -var architecture=arm64 -var git_revision=abc123 .")
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

func TestDeregisterDeletesTheSnapshots(t *testing.T) {
	_, stderr, calls, err := runWithFakes(t, "deregister.sh", map[string]string{
		"aws": `case "$2" in describe-images) printf 'snap-0aaa\tsnap-0bbb\n' ;; esac`,
	}, "REGION=eu-central-1", "PULUMI_COMMAND_STDOUT=ami-0bbbbbbbbbbbbbbb2")
	require.NoError(t, err, stderr)
	require.Equal(t, []string{
		"aws ec2 describe-images --region eu-central-1 --image-ids ami-0bbbbbbbbbbbbbbb2 --query Images[0].BlockDeviceMappings[].Ebs.SnapshotId --output text",
		"aws ec2 deregister-image --region eu-central-1 --image-id ami-0bbbbbbbbbbbbbbb2",
		"aws ec2 delete-snapshot --region eu-central-1 --snapshot-id snap-0aaa",
		"aws ec2 delete-snapshot --region eu-central-1 --snapshot-id snap-0bbb",
	}, calls)
}

func TestPromoteCopiesOneChannelToAnother(t *testing.T) {
	channels := func(dev, prod string) map[string]string {
		return map[string]string{"aws": `case "$*" in
*"get-parameter"*"/immutable-edge/dev/ami-id"*) echo ` + dev + ` ;;
*"get-parameter"*"/immutable-edge/prod/ami-id"*) echo ` + prod + ` ;;
esac`}
	}
	put := "aws ssm put-parameter --region eu-central-1 --name /immutable-edge/prod/ami-id --type String --data-type aws:ec2:image --value ami-0ddddddddddddddd1 --overwrite"

	stdout, stderr, calls, err := runWithFakes(t, "promote.sh dev prod --yes", channels("ami-0ddddddddddddddd1", "ami-0eeeeeeeeeeeeeee2"), "AWS_REGION=eu-central-1")
	require.NoError(t, err, stderr)
	require.Contains(t, stdout, "dev: ami-0ddddddddddddddd1\nprod:  ami-0eeeeeeeeeeeeeee2\n", "both ids are shown before anything changes")
	require.Equal(t, put, calls[len(calls)-1])

	_, _, calls, err = runWithFakes(t, "promote.sh dev prod", channels("ami-0ddddddddddddddd1", "ami-0eeeeeeeeeeeeeee2"), "AWS_REGION=eu-central-1")
	require.Error(t, err, "without --yes and without a 'y' nothing changes")
	require.NotContains(t, strings.Join(calls, "\n"), "put-parameter")

	stdout, _, calls, err = runWithFakes(t, "promote.sh dev prod --yes", channels("ami-0ddddddddddddddd1", "ami-0ddddddddddddddd1"), "AWS_REGION=eu-central-1")
	require.NoError(t, err)
	require.Contains(t, stdout, "prod already runs ami-0ddddddddddddddd1")
	require.NotContains(t, strings.Join(calls, "\n"), "put-parameter")

	_, stderr, _, err = runWithFakes(t, "promote.sh dev prod --yes", channels("None", "ami-0eeeeeeeeeeeeeee2"), "AWS_REGION=eu-central-1")
	require.Error(t, err)
	require.Contains(t, stderr, "holds no AMI id")
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
