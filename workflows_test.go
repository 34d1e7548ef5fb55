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

	"github.com/immutable-edge/immutable-edge/internal/testtools"
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
	actionlint := testtools.Built(t, "actionlint")
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".github/workflows"), 0o755))
	bad := "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nonexistent }}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".github/workflows/bad.yml"), []byte(bad), 0o644))
	cmd := exec.Command(actionlint, filepath.Join(dir, ".github/workflows/bad.yml"))
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Contains(t, string(out), "nonexistent")
}

// TestUpsertCommentEditsItsOwnComment runs the comment script against a fake gh: the first
// preview of a stack creates a comment, the next one edits it, and another stack's or another
// author's comment is left alone.
func TestUpsertCommentEditsItsOwnComment(t *testing.T) {
	testtools.Need(t, "bash")
	testtools.Need(t, "jq")
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	// The fake answers the comment listing from $COMMENTS through the real jq, as gh --jq does.
	fake := `#!/bin/sh
echo "$*" >>"` + calls + `"
if [ "$2" = "--paginate" ]; then
	jq -r "$5" "$COMMENTS"
fi
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gh"), []byte(fake), 0o755))
	body := filepath.Join(dir, "comment-dev.md")
	require.NoError(t, os.WriteFile(body, []byte("<!-- immutable-edge-preview:dev -->\n### `dev`: …\n"), 0o644))
	run := func(comments string, args ...string) (string, error) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "comments.json"), []byte(comments), 0o644))
		require.NoError(t, os.WriteFile(calls, nil, 0o644))
		cmd := exec.Command("bash", append([]string{".github/scripts/upsert-comment.sh"}, args...)...)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "COMMENTS="+filepath.Join(dir, "comments.json"))
		out, err := cmd.CombinedOutput()
		log, _ := os.ReadFile(calls)
		return string(out) + string(log), err
	}
	others := `[{"id": 7, "user": {"login": "someone"}, "body": "<!-- immutable-edge-preview:dev -->"},
		{"id": 8, "user": {"login": "github-actions[bot]"}, "body": "<!-- immutable-edge-preview:prod -->"}]`
	out, err := run(others, "o/r", "12", body)
	require.NoError(t, err, out)
	require.Contains(t, out, "api --method POST repos/o/r/issues/12/comments -F body=@"+body)

	mine := `[{"id": 8, "user": {"login": "github-actions[bot]"}, "body": "<!-- immutable-edge-preview:prod -->"},
		{"id": 9, "user": {"login": "github-actions[bot]"}, "body": "<!-- immutable-edge-preview:dev -->\nold"}]`
	out, err = run(mine, "o/r", "12", body)
	require.NoError(t, err, out)
	require.Contains(t, out, "api --method PATCH repos/o/r/issues/comments/9 -F body=@"+body)
	require.NotContains(t, out, "POST")

	_, err = run(mine, "o/r", "12; rm -rf /", body)
	require.Error(t, err, "the pull request number comes from an artifact: only digits")
}

// TestForkPreviewsCannotPassForMain runs the wrapper the comment workflow puts around the
// Markdown a pull request's own code produced: its marker is the wrapper's (a forged one for
// another stack is dropped), it is labelled with the commit, capped in size, and from a fork
// fenced so that nothing in it renders.
func TestForkPreviewsCannotPassForMain(t *testing.T) {
	testtools.Need(t, "bash")
	const sha = "0123456789abcdef0123456789abcdef01234567"
	dir := t.TempDir()
	wrap := func(body string, fork string, extra ...string) (string, error) {
		path := filepath.Join(dir, "comment.md")
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
		out, err := exec.Command("bash", append([]string{".github/scripts/wrap-comment.sh", "dev", path, sha, fork}, extra...)...).CombinedOutput()
		return string(out), err
	}
	hostile := "<!-- immutable-edge-preview:prod -->\n### `prod`: 0 to change\n**Merged to main: all checks passed** ````\n<img src=x>\n"
	out, err := wrap(hostile, "true")
	require.NoError(t, err, out)
	lines := strings.Split(out, "\n")
	require.Equal(t, "<!-- immutable-edge-preview:dev -->", lines[0], "the wrapper's marker, not the artifact's")
	require.Equal(t, 1, strings.Count(out, "immutable-edge-preview"), "the forged marker is gone")
	require.Contains(t, lines[1], "pull request from a fork, at 0123456789ab")
	require.Equal(t, "`````", lines[3], "a fence longer than the longest backtick run inside")
	require.Equal(t, "`````", lines[len(lines)-2])
	require.Contains(t, out, "<img src=x>", "kept, but as text inside the fence")

	out, err = wrap(hostile, "false")
	require.NoError(t, err, out)
	require.Contains(t, out, "Computed by this pull request's own code at 0123456789ab, not by main.")
	require.NotContains(t, out, "`````", "a branch of this repository renders as Markdown")

	out, err = wrap(strings.Repeat("| row | of a huge table |\n", 5000), "false", "1000")
	require.NoError(t, err, out)
	require.Less(t, len(out), 1300, "capped")
	require.Contains(t, out, "cut at 1000 of")

	_, err = wrap("x", "maybe")
	require.Error(t, err)
}

func TestScriptsAreShellcheckClean(t *testing.T) {
	shellcheck := testtools.Need(t, "shellcheck")
	scripts, err := filepath.Glob(".github/scripts/*.sh")
	require.NoError(t, err)
	require.NotEmpty(t, scripts)
	out, err := exec.Command(shellcheck, append([]string{"--severity=style"}, scripts...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
}
