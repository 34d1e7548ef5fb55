package stack_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// TestDevIsDisposable: dev sets protect false, so nothing in its plan is protected and destroy
// empties what it deletes (the bucket's versions, the repositories' images) instead of
// stopping at a non-empty one.
func TestDevIsDisposable(t *testing.T) {
	p := stackPlan(t, "dev")
	for _, r := range p.Resources {
		require.False(t, r.Protect, "%s %s is protected: pulumi destroy of dev would stop at it", r.Type, r.Name)
	}
	require.True(t, one(t, p, tBucket).Bool("forceDestroy"), "a versioned bucket with objects refuses DeleteBucket")
	repos := p.OfType(tRepository)
	require.Len(t, repos, 2)
	for _, r := range repos {
		require.True(t, r.Bool("forceDelete"), "%s: a repository with images refuses DeleteRepository", r.Name)
	}
}

// TestProdKeepsItsProtections: prod (protect true) protects its log bucket and repositories,
// never empties them, and keeps the load balancer's deletion protection.
func TestProdKeepsItsProtections(t *testing.T) {
	p := stackPlan(t, "prod")
	require.True(t, one(t, p, tLoadBalancer).Bool("enableDeletionProtection"))
	logs := one(t, p, tBucket)
	require.True(t, logs.Protect, "the access logs survive a mistaken destroy")
	require.False(t, logs.Bool("forceDestroy"))
	for _, r := range p.OfType(tRepository) {
		require.True(t, r.Protect, r.Name)
		require.False(t, r.Bool("forceDelete"), r.Name)
	}
}

// TestProtectDecidesWhatDestroyKeeps turns protect around on both stacks: the choice is the
// config key's, not the stack name's, and the load balancer's deletion protection follows it
// unless alb.deletionProtection is set.
func TestProtectDecidesWhatDestroyKeeps(t *testing.T) {
	dev, err := plan.StackConfig("dev")
	require.NoError(t, err)
	kept, err := plan.RunConfig("dev", dev.With("protect", "true"), nil)
	require.NoError(t, err)
	require.True(t, one(t, kept, tEIP).Protect)
	require.True(t, one(t, kept, tBucket).Protect)
	require.False(t, one(t, kept, tBucket).Bool("forceDestroy"))

	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	for _, tc := range []struct {
		name       string
		cfg        plan.Config
		protection bool
	}{
		{"protect false alone", prod.With("protect", "false").Set("alb.deletionProtection", nil), false},
		{"protect false, deletion protection kept", prod.With("protect", "false").Set("alb.deletionProtection", true), true},
		{"protect left to its default", prod.Without("protect").Set("alb.deletionProtection", nil), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := plan.RunConfig("prod", tc.cfg, nil)
			require.NoError(t, err)
			require.Equal(t, tc.protection, one(t, p, tLoadBalancer).Bool("enableDeletionProtection"))
		})
	}
}
