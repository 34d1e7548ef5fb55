package bootstrap_test

import (
	"os"
	"os/exec"
	"testing"
)

// need returns the path of a program the test runs. Under CI (CI set) a missing program fails
// the test: the README's test command installs them, so absence is a broken setup, not a skip.
func need(t *testing.T, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; the README's test command installs it", program)
	}
	t.Skipf("%s is not installed (run the README's test command to install it)", program)
	return ""
}
