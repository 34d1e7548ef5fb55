package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
)

func TestFullGraphIsAFlowchartOfComponents(t *testing.T) {
	code, out, stderr := synth("-stack", "prod", "-format", "mermaid", "-graph", "full")
	require.Equal(t, 0, code, stderr)
	require.True(t, strings.HasPrefix(out, "flowchart LR\n"))
	require.Equal(t, 9, strings.Count(out, "  subgraph "), "one subgraph per component")
	require.Equal(t, strings.Count(out, "  subgraph "), strings.Count(out, "\n  end\n"))
	require.Contains(t, out, `"LaunchTemplate prod-lt"`)
	// Every edge joins two declared nodes.
	declared := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(r\d+)\[`).FindAllStringSubmatch(out, -1) {
		declared[m[1]] = true
	}
	edges := regexp.MustCompile(`(?m)^  (r\d+) --> (r\d+)$`).FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, edges)
	for _, e := range edges {
		require.True(t, declared[e[1]] && declared[e[2]], "edge %s --> %s", e[1], e[2])
	}
}

func TestBootstrapOutWritesThePayload(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := synth("-stack", "dev", "-bootstrap-out", dir, "-format", "json")
	require.Equal(t, 0, code, stderr)
	ud, err := os.ReadFile(filepath.Join(dir, "user-data"))
	require.NoError(t, err)
	files, err := bootstrap.Files(string(ud))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, "files", f.Path))
		require.NoError(t, err, f.Path)
		require.Equal(t, f.Content, string(got), f.Path)
	}
	require.Contains(t, stderr, fmt.Sprintf("wrote %d files", len(files)+1), "user-data and each file")
}
