package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// parsed is what tools/mermaid/parse.mjs reports for one file.
type parsed struct {
	File      string   `json:"file"`
	OK        bool     `json:"ok"`
	Error     string   `json:"error"`
	Type      string   `json:"type"`
	Nodes     []string `json:"nodes"`
	Subgraphs []string `json:"subgraphs"`
	Links     int      `json:"links"`
}

// mermaidParse runs Mermaid's own parser (the pinned npm package) over diagrams and returns its
// verdict on each, and whether every one parsed.
func mermaidParse(t *testing.T, diagrams map[string]string) (map[string]parsed, bool) {
	t.Helper()
	node := testtools.Need(t, "node")
	modules := testtools.NodeModules(t, "mermaid")
	dir := t.TempDir()
	args := []string{filepath.Join(mustRoot(t), "tools", "mermaid", "parse.mjs"), modules}
	for name, text := range diagrams {
		path := filepath.Join(dir, name+".mmd")
		require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
		args = append(args, path)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(node, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != 1) {
		t.Fatalf("parse.mjs: %v\n%s", err, stderr.String())
	}
	out := map[string]parsed{}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var p parsed
		require.NoError(t, json.Unmarshal(sc.Bytes(), &p), sc.Text())
		out[strings.TrimSuffix(filepath.Base(p.File), ".mmd")] = p
	}
	require.Len(t, out, len(diagrams), "one verdict per diagram; stderr:\n%s", stderr.String())
	return out, err == nil
}

func TestMermaidParsesEveryDiagram(t *testing.T) {
	diagrams := map[string]string{}
	for _, stack := range []string{"dev", "prod"} {
		for _, graph := range []string{"system", "full"} {
			code, out, stderr := synth("-stack", stack, "-format", "mermaid", "-graph", graph)
			require.Equal(t, 0, code, stderr)
			diagrams[stack+"-"+graph] = out
		}
	}
	results, ok := mermaidParse(t, diagrams)
	for name, r := range results {
		require.True(t, r.OK, "%s: %s", name, r.Error)
		require.Equal(t, "flowchart-v2", r.Type, name)
	}
	require.True(t, ok)
	for _, stack := range []string{"dev", "prod"} {
		p, r := readPicture(t, diagrams[stack+"-system"]), results[stack+"-system"]
		// Mermaid makes a node of any id a link names: a misspelt one would show here.
		require.ElementsMatch(t, slices.Collect(maps.Keys(p.nodes)), r.Nodes, stack)
		require.ElementsMatch(t, slices.Collect(maps.Keys(p.groups)), r.Subgraphs, stack)
		require.Len(t, p.links, r.Links, stack)
		require.LessOrEqual(t, len(r.Nodes), maxNodes, stack)
	}
}

func TestMermaidRejectsABrokenDiagram(t *testing.T) {
	code, out, stderr := synth("-stack", "prod", "-format", "mermaid")
	require.Equal(t, 0, code, stderr)
	// The picture as it would be without quote(): a bare label with a comma and parentheses.
	quoted := `["ALB prod-alb, internet-facing"]`
	require.Contains(t, out, quoted)
	broken := strings.Replace(out, quoted, "[ALB prod-alb (internet-facing)]", 1)
	results, ok := mermaidParse(t, map[string]string{"good": out, "broken": broken})
	require.False(t, ok, "parse.mjs exits non-zero when a diagram does not parse")
	require.True(t, results["good"].OK, results["good"].Error)
	require.False(t, results["broken"].OK)
	require.Contains(t, results["broken"].Error, "Parse error")
}
