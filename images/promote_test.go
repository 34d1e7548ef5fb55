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

// project lays out a project directory (Pulumi.yaml, one Pulumi.<stack>.yaml per entry,
// images/promote.sh) and returns the script's path in it.
func project(t *testing.T, stacks map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: immutable-edge\nruntime: go\n"), 0o644))
	for stack, body := range stacks {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), []byte(body), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "images"), 0o755))
	script := filepath.Join(dir, "images", "promote.sh")
	b, err := os.ReadFile(filepath.Join(imagesDir(t), "promote.sh"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(script, b, 0o755))
	return script
}

func committedStacks(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, s := range []string{"dev", "prod"} {
		b, err := os.ReadFile(filepath.Join(imagesDir(t), "..", "Pulumi."+s+".yaml"))
		require.NoError(t, err)
		out[s] = string(b)
	}
	return out
}

func promote(t *testing.T, script string, a account, stdin string, args ...string) (after account, stdout, stderr string, err error) {
	t.Helper()
	testtools.Need(t, "jq")
	fake, ferr := newFakeAccount(t.TempDir(), a)
	require.NoError(t, ferr)
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Env = append(fake.env(), "AWS_REGION=eu-central-1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	after, rerr := fake.read()
	require.NoError(t, rerr)
	return after, out.String(), errb.String(), err
}

func twoChannels(dev, prod string) account {
	a := account{Parameters: map[string]string{"/immutable-edge/dev/ami-id": dev}}
	if prod != "" {
		a.Parameters["/immutable-edge/prod/ami-id"] = prod
	}
	for _, id := range []string{dev, prod} {
		a.Images = append(a.Images, image{ID: id, State: "available"})
	}
	return a
}

func TestPromoteCopiesOneChannelToAnother(t *testing.T) {
	t.Parallel()
	script := project(t, committedStacks(t))
	dev, prod := "ami-0ddddddddddddddd1", "ami-0eeeeeeeeeeeeeee2"

	pinned := twoChannels(dev, prod)
	pinned.Images[1].Tags = map[string]string{"Pinned-prod": "/immutable-edge/prod/ami-id"} // the last promotion's
	after, stdout, stderr, err := promote(t, script, pinned, "", "dev", "prod", "--yes")
	require.NoError(t, err, stderr)
	require.Contains(t, stdout, "dev: "+dev+" (/immutable-edge/dev/ami-id)\nprod:  "+prod+" (/immutable-edge/prod/ami-id)\n",
		"both ids are shown before anything changes")
	require.Equal(t, dev, after.Parameters["/immutable-edge/prod/ami-id"])
	pins := map[string]string{}
	for _, im := range after.Images {
		pins[im.ID] = im.Tags["Pinned-prod"]
	}
	require.Equal(t, map[string]string{dev: "/immutable-edge/prod/ami-id", prod: ""}, pins,
		"the promoted image is pinned (dev's role cannot deregister it), the replaced one unpinned")

	after, _, _, err = promote(t, script, twoChannels(dev, prod), "n\n", "dev", "prod")
	require.Error(t, err, "without --yes and without a 'y' nothing changes")
	require.Equal(t, prod, after.Parameters["/immutable-edge/prod/ami-id"])
	after, _, _, err = promote(t, script, twoChannels(dev, prod), "y\n", "dev", "prod")
	require.NoError(t, err)
	require.Equal(t, dev, after.Parameters["/immutable-edge/prod/ami-id"], "a 'y' promotes")

	_, stdout, _, err = promote(t, script, twoChannels(dev, dev), "", "dev", "prod", "--yes")
	require.NoError(t, err)
	require.Contains(t, stdout, "prod already runs "+dev)

	after, stdout, _, err = promote(t, script, twoChannels(dev, ""), "", "dev", "prod", "--yes")
	require.NoError(t, err, "the first promotion: prod has no parameter yet")
	require.Contains(t, stdout, "prod:  (none)")
	require.Equal(t, dev, after.Parameters["/immutable-edge/prod/ami-id"])

	a := twoChannels(dev, prod)
	delete(a.Parameters, "/immutable-edge/dev/ami-id")
	_, _, stderr, err = promote(t, script, a, "", "dev", "prod", "--yes")
	require.Error(t, err)
	require.Contains(t, stderr, "/immutable-edge/dev/ami-id (dev) holds no AMI id")

	a = twoChannels(dev, prod)
	a.Fail = map[string]string{"ssm get-parameter": "AccessDeniedException"}
	_, _, stderr, err = promote(t, script, a, "", "dev", "prod", "--yes")
	require.Error(t, err, "an error other than a missing parameter stops the promotion")
	require.Contains(t, stderr, "AccessDeniedException")
}

// TestPromoteReadsEachStacksImageParameter: the parameters come from the stack files, in block
// or flow style, quoted or not, or the program's default when a stack sets none.
func TestPromoteReadsEachStacksImageParameter(t *testing.T) {
	t.Parallel()
	dev, prod := "ami-0ddddddddddddddd1", "ami-0eeeeeeeeeeeeeee2"
	for name, tc := range map[string]struct{ devFile, prodFile, devParam, prodParam string }{
		"block style, a comment and quotes": {
			"config:\n  aws:region: eu-central-1\n  immutable-edge:image:\n    build: true\n    parameter: \"/immutable-edge/channels/dev\" # built here\n  immutable-edge:edge: eip\n",
			"config:\n  immutable-edge:image:\n    build: false\n    # promoted into\n    parameter: '/immutable-edge/channels/prod'\n",
			"/immutable-edge/channels/dev", "/immutable-edge/channels/prod"},
		"flow style": {
			"config:\n  immutable-edge:image: {build: true, parameter: /immutable-edge/x/dev}\n",
			"config:\n  immutable-edge:image: {parameter: /immutable-edge/x/prod, build: false}\n",
			"/immutable-edge/x/dev", "/immutable-edge/x/prod"},
		"no parameter set": {
			"config:\n  immutable-edge:image:\n    build: true\n  immutable-edge:parameter: /not/this\n",
			"config:\n  immutable-edge:edge: alb\n",
			"/immutable-edge/dev/ami-id", "/immutable-edge/prod/ami-id"},
	} {
		script := project(t, map[string]string{"dev": tc.devFile, "prod": tc.prodFile})
		a := twoChannels(dev, prod)
		a.Parameters = map[string]string{tc.devParam: dev, tc.prodParam: prod}
		after, stdout, stderr, err := promote(t, script, a, "", "dev", "prod", "--yes")
		require.NoError(t, err, "%s: %s", name, stderr)
		require.Contains(t, stdout, "("+tc.devParam+")", name)
		require.Equal(t, dev, after.Parameters[tc.prodParam], name)
	}

	// Named outright, the stack files are not needed.
	script := project(t, nil)
	after, _, stderr, err := promote(t, script, account{Parameters: map[string]string{"/immutable-edge/a": dev},
		Images: []image{{ID: dev, State: "available"}}}, "", "dev", "prod", "--yes",
		"--from-parameter", "/immutable-edge/a", "--to-parameter", "/immutable-edge/b")
	require.NoError(t, err, stderr)
	require.Equal(t, dev, after.Parameters["/immutable-edge/b"])
	_, _, stderr, err = promote(t, script, twoChannels(dev, prod), "", "dev", "prod", "--yes")
	require.Error(t, err)
	require.Contains(t, stderr, "no "+filepath.Dir(filepath.Dir(script))+"/Pulumi.dev.yaml")
}
