package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

func synth(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestJSONIsByteIdenticalAcrossRuns(t *testing.T) {
	for _, s := range []string{"dev", "prod"} {
		code, first, stderr := synth("-stack", s, "-format", "json")
		require.Equal(t, 0, code, stderr)
		_, second, _ := synth("-stack", s, "-format", "json")
		require.Equal(t, first, second, "%s: same config, same bytes", s)

		var doc struct {
			Project   string `json:"project"`
			Stack     string `json:"stack"`
			Resources []struct {
				URN, Type, Name, Parent string
				DependsOn               []string       `json:"dependsOn"`
				Inputs                  map[string]any `json:"inputs"`
			} `json:"resources"`
			Outputs map[string]any `json:"outputs"`
		}
		require.NoError(t, json.Unmarshal([]byte(first), &doc))
		require.Equal(t, "immutable-edge", doc.Project)
		require.Equal(t, s, doc.Stack)
		require.NotEmpty(t, doc.Resources)
		require.Equal(t, "ami-0123456789abcdef0", doc.Outputs["amiId"])
		var lt map[string]any
		for _, r := range doc.Resources {
			if r.Type == "aws:ec2/launchTemplate:LaunchTemplate" {
				lt = r.Inputs
			}
		}
		require.Equal(t, "required", lt["metadataOptions"].(map[string]any)["httpTokens"], "inputs carry schema names")
	}
}

func TestTextShowsTheComponentTree(t *testing.T) {
	code, out, _ := synth("-stack", "prod")
	require.Equal(t, 0, code)
	require.Contains(t, out, "immutable-edge:fleet:Fleet prod\n  aws:autoscaling/group:Group prod-asg")
	require.Contains(t, out, "metadataOptions.httpTokens=required")
	require.Contains(t, out, "\noutputs:\n")
}

func TestBadConfigNamesTheKeyAndPrintsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
	b, err := os.ReadFile(filepath.Join(mustRoot(t), "Pulumi.dev.yaml"))
	require.NoError(t, err)
	bad := strings.Replace(string(b), "immutable-edge:azCount:", "immutable-edge:azCuont:", 1)
	bad = strings.Replace(bad, "    max: 1\n", "    max: 2\n", 1)
	require.NotEqual(t, string(b), bad)
	require.NoError(t, os.WriteFile(path, []byte(bad), 0o600))

	code, out, stderr := synth("-stack", "dev", "-config-file", path)
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, stderr, "immutable-edge:azCuont: unknown key (did you mean azCount?)")
	require.Contains(t, stderr, "immutable-edge:fleet.max: must be 1 when edge is eip")
}

func TestBadFlags(t *testing.T) {
	code, out, stderr := synth("-format", "yaml")
	require.Equal(t, 2, code)
	require.Empty(t, out)
	require.Contains(t, stderr, "-format")
	code, _, stderr = synth("-stack", "staging")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "Pulumi.staging.yaml")
}

func mustRoot(t *testing.T) string {
	t.Helper()
	root, err := plan.Root()
	require.NoError(t, err)
	return root
}
