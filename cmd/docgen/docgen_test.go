package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDocsAreCurrent fails when a generated block of README.md or docs/ no longer matches what
// the program says: run make docs.
func TestDocsAreCurrent(t *testing.T) {
	require.NoError(t, run([]string{"-root", "../.."}, io.Discard))
}

func TestApplyReportsAndRewritesStaleBlocks(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "docs"), 0o755))
	readme := "# x\n<!-- generated:figures -->\nold\n<!-- end:figures -->\ntext\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte(readme), 0o644))
	blocks := map[string]string{"figures": "new"}
	stale, err := apply(dir, blocks, false)
	require.NoError(t, err)
	require.Equal(t, []string{"README.md:figures"}, stale)
	b, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	require.Equal(t, readme, string(b), "checking writes nothing")

	_, err = apply(dir, blocks, true)
	require.NoError(t, err)
	b, _ = os.ReadFile(filepath.Join(dir, "README.md"))
	require.Equal(t, "# x\n<!-- generated:figures -->\nnew\n<!-- end:figures -->\ntext\n", string(b))
	stale, err = apply(dir, blocks, false)
	require.NoError(t, err)
	require.Empty(t, stale)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "docs", "a.md"), []byte("<!-- generated:nope -->\n<!-- end:nope -->\n"), 0o644))
	_, err = apply(dir, blocks, false)
	require.ErrorContains(t, err, "no generator for block nope")
}
