package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// workflow is the part of a GitHub Actions workflow these checks read.
type workflow struct {
	Permissions any `yaml:"permissions"`
	Jobs        map[string]struct {
		Permissions any `yaml:"permissions"`
		Steps       []struct {
			Uses string `yaml:"uses"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

var pinned = regexp.MustCompile(`uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+(\.\d+)*$`)

// TestWorkflowsPinActionsAndLimitPermissions: every action is pinned to a full commit with its
// version in a comment, and every job runs with permissions written down (its own or the
// workflow's), never the repository default.
func TestWorkflowsPinActionsAndLimitPermissions(t *testing.T) {
	files, err := filepath.Glob(".github/workflows/*.yml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, line := range strings.Split(string(raw), "\n") {
			if strings.Contains(line, "uses:") && !strings.Contains(line, "uses: ./") {
				require.Regexp(t, pinned, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- ")), "%s:%d", f, i+1)
			}
		}
		var w workflow
		require.NoError(t, yaml.Unmarshal(raw, &w), f)
		for name, job := range w.Jobs {
			require.True(t, job.Permissions != nil || w.Permissions != nil, "%s job %s: permissions are explicit", f, name)
		}
		require.NotEqual(t, "write-all", w.Permissions, f)
	}
}

// TestActionlintFailsABrokenWorkflow keeps the linter honest: a workflow with an undefined
// expression and a bad shell line must fail it.
func TestActionlintFailsABrokenWorkflow(t *testing.T) {
	actionlint, err := filepath.Abs(".tools/bin/actionlint")
	require.NoError(t, err)
	if _, err := os.Stat(actionlint); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("actionlint missing under CI: run tools/build.sh")
		}
		t.Skip("actionlint not built (tools/build.sh)")
	}
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".github/workflows"), 0o755))
	bad := "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nonexistent }}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".github/workflows/bad.yml"), []byte(bad), 0o644))
	cmd := exec.Command(actionlint, filepath.Join(dir, ".github/workflows/bad.yml"))
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Contains(t, string(out), "nonexistent")
}
