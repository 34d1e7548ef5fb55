package images_test

import (
	"os"
	"os/exec"
	"path/filepath"
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

func packer(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	bin, plugins := testtools.Packer(t)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PACKER_PLUGIN_PATH="+plugins, "CHECKPOINT_DISABLE=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestPackerValidatesTheTemplate(t *testing.T) {
	for _, arch := range []string{"arm64", "amd64"} {
		out, err := packer(t, imagesDir(t), "validate", "-var", "architecture="+arch, "-var", "channel=prod", ".")
		require.NoError(t, err, out)
		require.Contains(t, out, "The configuration is valid.")
	}
	out, err := packer(t, imagesDir(t), "fmt", "-check", ".")
	require.NoError(t, err, "packer fmt -check: %s", out)
}

func TestPackerValidateCatchesMistakes(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(imagesDir(t), "golden.pkr.hcl"))
	require.NoError(t, err)
	for name, tc := range map[string]struct{ from, to, want string }{
		"misspelled field":    {"ssh_username ", "ssh_usernam ", `An argument named "ssh_usernam" is not expected here`},
		"bad architecture":    {`default     = "arm64"`, `default     = "sparc"`, "The architecture must be arm64 or amd64"},
		"missing provisioner": {`"scripts/50-runtime.sh"`, `"scripts/55-missing.sh"`, "55-missing.sh"},
	} {
		bad := strings.Replace(string(src), tc.from, tc.to, 1)
		require.NotEqual(t, string(src), bad, name)
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "golden.pkr.hcl"), []byte(bad), 0o644))
		require.NoError(t, os.Symlink(filepath.Join(imagesDir(t), "scripts"), filepath.Join(dir, "scripts")))
		require.NoError(t, os.Symlink(filepath.Join(imagesDir(t), "files"), filepath.Join(dir, "files")))
		out, err := packer(t, dir, "validate", ".")
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
	require.GreaterOrEqual(t, len(scripts), 12, "provisioners, runtime scripts, build/deregister/promote")
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
