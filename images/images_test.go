package images_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

func imagesDir(t *testing.T) string {
	t.Helper()
	root, err := plan.Root()
	require.NoError(t, err)
	return filepath.Join(root, "images")
}

// packerCmd is the pinned Packer with its plugins, run in dir.
func packerCmd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	bin, plugins := testtools.Packer(t)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PACKER_PLUGIN_PATH="+plugins, "CHECKPOINT_DISABLE=1")
	return cmd
}

func packer(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	out, err := packerCmd(t, dir, args...).CombinedOutput()
	return string(out), err
}

func TestPackerValidatesTheTemplate(t *testing.T) {
	for _, arch := range []string{"arm64", "amd64"} {
		out, err := packer(t, imagesDir(t), "validate", "-var", "architecture="+arch, "-var", "channel=prod", "-var", "subnet_id="+subnet, ".")
		require.NoError(t, err, out)
		require.Contains(t, out, "The configuration is valid.")
	}
	out, err := packer(t, imagesDir(t), "fmt", "-check", ".")
	require.NoError(t, err, "packer fmt -check: %s", out)

	// Packer does not report an unused variable: the builder's use of the subnet is read here.
	src, err := os.ReadFile(filepath.Join(imagesDir(t), "golden.pkr.hcl"))
	require.NoError(t, err)
	builder := regexp.MustCompile(`(?ms)^source "amazon-ebs" "golden" \{\n(.*?)^\}`).FindSubmatch(src)
	require.NotNil(t, builder)
	require.Regexp(t, `(?m)^\s*subnet_id\s*=\s*var\.subnet_id\s*$`, string(builder[1]), "the build runs in the subnet it is given")
	require.NotRegexp(t, `vpc_id|vpc_filter|subnet_filter`, string(builder[1]), "and nowhere else")
	// The deploy roles act only on what carries their stack's tag (account/setup's isolation
	// table; internal/permissions models Packer's calls with these tags): the building stack
	// is the channel's, and every thing the build makes carries it.
	tags := regexp.MustCompile(`(?ms)^  tags = \{\n(.*?)^  \}`).FindSubmatch(src)
	require.NotNil(t, tags)
	for _, kv := range []string{`Project\s*=\s*"immutable-edge"`, `Stack\s*=\s*var\.channel`, `Channel\s*=\s*var\.channel`} {
		require.Regexp(t, `(?m)^\s*`+kv+`\s*$`, string(tags[1]))
	}
	for _, field := range []string{"tags", "run_tags", "snapshot_tags", "run_volume_tags"} {
		require.Regexp(t, `(?m)^\s*`+field+`\s*=\s*(merge\()?local\.tags\b`, string(builder[1]), field)
	}
}

// subnet is a subnet id for validation; a real build gets the stack's from components/image.
const subnet = "subnet-0123456789abcdef0"

func TestPackerValidateCatchesMistakes(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(imagesDir(t), "golden.pkr.hcl"))
	require.NoError(t, err)
	for name, tc := range map[string]struct{ from, to, subnet, want string }{
		"misspelled field":    {"ssh_username ", "ssh_usernam ", subnet, `An argument named "ssh_usernam" is not expected here`},
		"bad architecture":    {`default     = "arm64"`, `default     = "sparc"`, subnet, "The architecture must be arm64 or amd64"},
		"missing provisioner": {`"scripts/50-runtime.sh"`, `"scripts/55-missing.sh"`, subnet, "55-missing.sh"},
		"no subnet":           {"", "", "", `Unset variable "subnet_id"`},
		"not a subnet":        {"", "", "vpc-0123456789abcdef0", "The subnet_id must be a subnet id"},
	} {
		bad := strings.Replace(string(src), tc.from, tc.to, 1)
		if tc.from != "" {
			require.NotEqual(t, string(src), bad, name)
		}
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "golden.pkr.hcl"), []byte(bad), 0o644))
		for _, d := range []string{"scripts", "files", "trust", "ssm-agent.sh.pkrtpl"} {
			require.NoError(t, os.Symlink(filepath.Join(imagesDir(t), d), filepath.Join(dir, d)))
		}
		args := []string{"validate"}
		if tc.subnet != "" {
			args = append(args, "-var", "subnet_id="+tc.subnet)
		}
		out, err := packer(t, dir, append(args, ".")...)
		require.Error(t, err, "%s must fail validation: %s", name, out)
		require.Contains(t, out, tc.want, name)
	}
}

func TestImageScriptsAreShellcheckClean(t *testing.T) {
	shellcheck := testtools.Need(t, "shellcheck")
	var scripts []string
	require.NoError(t, filepath.WalkDir(imagesDir(t), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".sh") {
			scripts = append(scripts, p)
		}
		return err
	}))
	require.GreaterOrEqual(t, len(scripts), 12, "provisioners, runtime scripts, build/prune/promote, fetch-verified")
	for _, s := range scripts {
		info, err := os.Stat(s)
		require.NoError(t, err)
		if info.Mode()&0o111 == 0 {
			continue // a sourced library (lib.sh) runs under its caller's options
		}
		b, err := os.ReadFile(s)
		require.NoError(t, err)
		require.True(t, strings.Contains(string(b), "\nset -euo pipefail\n") || strings.Contains(string(b), "\nset -Eeuo pipefail\n"),
			"%s: an executable script sets -euo pipefail", s)
	}
	cmd := exec.Command(shellcheck, append([]string{"-x", "--severity=style"}, scripts...)...)
	cmd.Dir = imagesDir(t)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}
