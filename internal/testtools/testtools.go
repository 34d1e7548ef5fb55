// Package testtools finds the real programs tests run (HAProxy, cloud-init, shellcheck, Packer).
// Under CI a missing program fails the test, because the README's test command installs them;
// elsewhere the test is skipped with the command that would install it.
package testtools

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/immutable-edge/immutable-edge/internal/stack"
)

// Need returns the path of a program on PATH.
func Need(t testing.TB, program string) string {
	t.Helper()
	if path, err := exec.LookPath(program); err == nil {
		return path
	}
	missing(t, program+" is not installed")
	return ""
}

// Packer returns the pinned Packer that tools/build.sh builds into .tools/bin, and the plugin
// directory to give it as PACKER_PLUGIN_PATH.
func Packer(t testing.TB) (packer, pluginDir string) {
	t.Helper()
	root, err := stack.ProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	packer = filepath.Join(root, ".tools", "bin", "packer")
	if _, err := os.Stat(packer); err != nil {
		missing(t, "the pinned packer is not built")
	}
	return packer, filepath.Join(root, ".tools", "packer-plugins")
}

func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; the README's test command (make test) installs it", what)
	}
	t.Skipf("%s (run make test to install it)", what)
}
