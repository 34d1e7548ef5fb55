// Package testtools finds the real programs tests run (HAProxy, cloud-init, shellcheck, Packer,
// Mermaid's parser), and copies repository trees for tests that change or move them.
// Under CI a missing program fails the test, because the README's test command installs them;
// elsewhere the test is skipped with the command that would install it.
package testtools

import (
	"bytes"
	"net"
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

// Built returns the path of a pinned program that tools/build.sh builds into .tools/bin.
func Built(t testing.TB, program string) string {
	t.Helper()
	root, err := stack.ProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, ".tools", "bin", program)
	if _, err := os.Stat(path); err != nil {
		missing(t, "the pinned "+program+" is not built")
	}
	return path
}

// Packer returns the pinned Packer and the plugin directory to give it as PACKER_PLUGIN_PATH.
func Packer(t testing.TB) (packer, pluginDir string) {
	t.Helper()
	packer = Built(t, "packer")
	return packer, filepath.Join(filepath.Dir(filepath.Dir(packer)), "packer-plugins")
}

// NodeModules returns the node_modules folder that tools/build.sh installs the npm lock of
// tools/<name> into: .tools/<name>/node_modules, current only while its lock is tools/<name>'s.
func NodeModules(t testing.TB, name string) string {
	t.Helper()
	root, err := stack.ProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(root, "tools", name, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, ".tools", name)
	got, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	switch {
	case err != nil:
		missing(t, "the pinned npm packages of tools/"+name+" are not installed")
	case !bytes.Equal(got, want):
		missing(t, ".tools/"+name+" was installed from another tools/"+name+"/package-lock.json")
	}
	return filepath.Join(dir, "node_modules")
}

func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; the README's test command (make test) installs it", what)
	}
	t.Skipf("%s (run make test to install it)", what)
}

// CopyTree copies the files under src to dst with their modes, so a test can change a copy of
// a directory of the repository or place it elsewhere.
func CopyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FreePort asks the kernel for a free loopback TCP port, for a server a test starts.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}
