package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/plandiff"
)

// synthJSON runs the real synth command on a stack's config with edits applied and returns the
// path of its JSON document: the same command the preview workflow runs on both branches.
func synthJSON(t *testing.T, synth, stack string, edit func(plan.Config) plan.Config) string {
	t.Helper()
	cfg, err := plan.StackConfig(stack)
	require.NoError(t, err)
	dir := t.TempDir()
	file := filepath.Join(dir, "Pulumi."+stack+".yaml")
	doc, err := edit(cfg).YAML()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, doc, 0o644))
	root, err := plan.Root()
	require.NoError(t, err)
	cmd := exec.Command(synth, "-stack", stack, "-config-file", file, "-format", "json")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 { // 1: policy failures, still a plan
		require.NoError(t, err, "%s", stderr.String())
	}
	path := filepath.Join(dir, stack+".json")
	require.NoError(t, os.WriteFile(path, out, 0o644))
	return path
}

func buildSynth(t *testing.T) string {
	t.Helper()
	root, err := plan.Root()
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "synth")
	build := exec.Command("go", "build", "-o", bin, "./cmd/synth")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func comment(t *testing.T, base, head string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"-base", base, "-head", head}, &stdout, &stderr), stderr.String())
	return stdout.String()
}

func TestCommentOnRealSynthOutputs(t *testing.T) {
	synth := buildSynth(t)
	same := func(c plan.Config) plan.Config { return c }

	prodBase := synthJSON(t, synth, "prod", same)
	bigger := synthJSON(t, synth, "prod", func(c plan.Config) plan.Config { return c.With("instanceType", "t4g.medium") })
	body := comment(t, prodBase, bigger)
	require.True(t, strings.HasPrefix(body, plandiff.Marker("prod")+"\n"), body)
	require.Contains(t, body, "### `prod`: 0 to create, 1 to update, 0 to replace, 0 to delete")
	require.Contains(t, body, "| ~ | `prod-lt` | `aws:ec2/launchTemplate:LaunchTemplate` | update: new version<br>`instanceType`: `\"t4g.small\"` → `\"t4g.medium\"` |")
	require.Contains(t, body, "| ↻ | `prod-asg` | `aws:autoscaling/group:Group` | instance refresh: launch template prod-lt gets a new version")
	// Twice the instance price at four instances puts 80% of the budget below the worst case.
	require.Contains(t, body, "**Policy:** 235 pass, 5 waived, 1 fail (base: 0 fail).")
	require.Contains(t, body, "| **new** | `IE_BUDGET` | `prod-budget` | its first alert (80% of $250.00 = $200.00) is below the estimate at max capacity ($216.93, 4 instances): raise monthlyBudgetUsd to at least $272.00 |")
	require.Contains(t, body, "**Cost:** $123.77 → $151.80 a month (+28.03).")
	require.Contains(t, body, "| `prod-asg` | $28.03 | $56.06 | +28.03 |")
	require.Equal(t, body, comment(t, prodBase, bigger), "the same plans give the same comment")

	devBase := synthJSON(t, synth, "dev", same)
	newImage := synthJSON(t, synth, "dev", func(c plan.Config) plan.Config {
		// A new web image and no waiver for the public IP: a user-data diff and a new failure.
		c = c.Set("services.0.image", "web:1.4.3")
		var all, waivers []map[string]any
		require.NoError(t, json.Unmarshal([]byte(c["immutable-edge:policyWaivers"]), &all))
		for _, w := range all {
			if w["rule"] != "CKV_AWS_88" {
				waivers = append(waivers, w)
			}
		}
		return c.With("policyWaivers", waivers)
	})
	body = comment(t, devBase, newImage)
	require.Contains(t, body, "`userData` (diff below)")
	require.Contains(t, body, "<details><summary>user-data of <code>dev-lt</code></summary>")
	require.Contains(t, body, "+ ")
	require.Contains(t, body, "web:1.4.3")
	require.Contains(t, body, "| **new** | `CKV_AWS_88` | `dev-lt` |")
	require.Contains(t, body, "0 fail).", "the base had none")

	none := comment(t, devBase, devBase)
	require.Contains(t, none, "No resource changes.")
	require.Contains(t, none, "(+0.00)")
}

func TestBadInput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 2, run([]string{"-base", "x.json"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "-head are required")
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{"), 0o644))
	stderr.Reset()
	require.Equal(t, 2, run([]string{"-base", bad, "-head", bad}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "not a synth JSON plan")
	require.Empty(t, stdout.String())
}
