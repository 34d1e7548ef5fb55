package bootstrap_test

import (
	"crypto/sha256"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// FuzzRender takes the same edits as config's FuzzLoad (plan.Edit on a committed stack) and,
// for every config Load accepts, renders the instance payload: it must render, the user-data
// must parse as a cloud-config document with the two top-level keys, and the haproxy.cfg must
// pass the real `haproxy -c`. Only accepted configs reach HAProxy, and each distinct haproxy.cfg
// is checked once, which keeps a few seconds of fuzzing within a few hundred HAProxy runs.
func FuzzRender(f *testing.F) {
	haproxy := testtools.Need(f, "haproxy")
	edits, err := plan.CommittedEdits()
	require.NoError(f, err)
	var checked sync.Map
	f.Fuzz(func(t *testing.T, stack, key, path, value string, tags int) {
		stack, raw, err := edits.Apply(stack, key, path, value, tags)
		if err != nil {
			t.Skip("the edit does not apply to this stack's config")
		}
		c, err := config.Load(plan.Project, stack, raw)
		if err != nil {
			return // refused: FuzzLoad checks how
		}
		s := bootstrap.Describe(c, plan.Account)
		if s.Edge.Mode == config.EdgeEIP {
			s.Edge.AllocationID, s.Edge.CertBucket, s.Edge.CertPrefix = "eipalloc-0abc", "dev-certs-1", "letsencrypt/"
		}
		ud, err := bootstrap.UserData(s)
		require.NoError(t, err, "an accepted config must render")
		require.True(t, strings.HasPrefix(ud, "#cloud-config\n"), "user-data is a cloud-config document")
		var doc map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(ud), &doc), "user-data must parse as YAML")
		require.ElementsMatch(t, []string{"write_files", "runcmd"}, keysOf(doc))

		sum := sha256.Sum256([]byte(renderedHAProxy(t, s)))
		if _, done := checked.LoadOrStore(sum, true); done {
			return
		}
		cfg := testConfig(t, s, nil) // writes the error pages and a certificate for haproxy -c
		out, err := exec.Command(haproxy, "-c", "-f", cfg).CombinedOutput()
		require.NoError(t, err, "haproxy -c refuses the config of an accepted stack: %s", out)
		require.NotContains(t, string(out), "[WARNING]", "%s", out)
	})
}

func renderedHAProxy(t *testing.T, s bootstrap.Stack) string {
	t.Helper()
	cfg, err := bootstrap.HAProxyConfig(s)
	require.NoError(t, err)
	return cfg
}
