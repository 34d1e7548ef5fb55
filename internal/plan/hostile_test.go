package plan_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// A key twice in a stack file, at the top or inside a structured value, is an error naming the
// line, never a silent last-one-wins; an oversized file is refused before it is parsed.
func TestConfigFileRefusesDuplicatesAndSize(t *testing.T) {
	for name, doc := range map[string]string{
		"top-level key twice": "config:\n  immutable-edge:edge: eip\n  immutable-edge:edge: alb\n",
		"nested key twice":    "config:\n  immutable-edge:fleet:\n    max: 1\n    max: 20\n",
		"key twice in a list": "config:\n  immutable-edge:services:\n    - name: web\n      port: 3000\n      port: 8080\n",
	} {
		_, err := plan.ParseConfigFile("Pulumi.x.yaml", []byte(doc))
		require.ErrorContains(t, err, "already defined", name)
	}
	_, err := plan.ParseConfigFile("Pulumi.x.yaml", []byte("config:\n  a: "+strings.Repeat("x", plan.MaxConfigFile)+"\n"))
	require.ErrorContains(t, err, "at most")
	c, err := plan.ParseConfigFile("Pulumi.x.yaml", []byte("config:\n  immutable-edge:monthlyBudgetUsd: .inf\n"))
	require.NoError(t, err)
	require.Equal(t, "+Inf", c["immutable-edge:monthlyBudgetUsd"], "what config must refuse")
}

func TestEveryHostileValueNamesAKeyAndHasAName(t *testing.T) {
	cases, err := plan.HostileValues()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, h := range cases {
		require.NotEmpty(t, h.WantKey, h.Name)
		require.False(t, names[plan.SeedName(h)], "two cases named %q", h.Name)
		names[plan.SeedName(h)] = true
	}
}
