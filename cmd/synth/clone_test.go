package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// clone copies what the program reads from a checkout (the project file, the stack files,
// images/) into a directory of its own, as a second clone elsewhere on disk would hold them.
func clone(t *testing.T, root, dir string) {
	t.Helper()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	testtools.CopyTree(t, filepath.Join(root, "images"), filepath.Join(dir, "images"))
}

// TestPlansFromTwoClonePathsAreIdentical: `pulumi up` from a clone in another directory plans
// no change, because no input holds a path of the checkout (the image commands run relative
// to the project directory pulumi starts them in). The plan JSON of each stack is the same,
// byte for byte, from two clones at different paths, and names neither path.
func TestPlansFromTwoClonePathsAreIdentical(t *testing.T) {
	root := mustRoot(t)
	dirs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "deeper", "clone-b")}
	for _, stack := range []string{"dev", "prod"} {
		var docs []string
		for _, dir := range dirs {
			require.NoError(t, os.MkdirAll(dir, 0o755))
			clone(t, root, dir)
			t.Chdir(dir)
			code, doc, stderr := synth("-stack", stack, "-format", "json")
			require.Equal(t, 0, code, stderr)
			for _, path := range []string{dir, root, filepath.Dir(dir)} {
				require.NotContains(t, doc, path, "%s plan from %s names a path of the checkout", stack, dir)
			}
			docs = append(docs, doc)
		}
		require.Equal(t, docs[0], docs[1], "%s: the same plan from either clone", stack)
		require.True(t, strings.Contains(docs[0], `"create": "images/build.sh"`) || stack == "prod", "dev builds the image, relative to the project")
	}
}
