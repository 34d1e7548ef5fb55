package policy_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

func TestEveryStackPlansWithZeroFailures(t *testing.T) {
	names, err := plan.Stacks()
	require.NoError(t, err)
	require.Equal(t, []string{"dev", "prod", "voting"}, names)
	for _, s := range names {
		p, err := plan.Run(s, "")
		require.NoError(t, err)
		cfg, err := config.Load(p.Project, s, p.Config)
		require.NoError(t, err)
		res, err := policy.Evaluate(p, cfg)
		require.NoError(t, err)
		for _, r := range res {
			require.NotEqual(t, policy.Fail, r.Status, "%s %s %s: %s", s, r.Rule, r.Resource, r.Reason)
		}
		n := policy.Count(res)
		require.Positive(t, n[policy.Pass], s)
		require.Equal(t, len(cfg.PolicyWaivers) > 0, n[policy.Waived] > 0, "%s: every waiver is used", s)
	}
}

func TestWaiverTurnsFailuresIntoDecisions(t *testing.T) {
	bad := []plan.Resource{launchTemplate().With("networkInterfaces.0.associatePublicIpAddress", "true")}
	res, err := policy.Evaluate(plan.Of(bad...), &config.Config{Edge: "eip", PolicyWaivers: []config.Waiver{{Rule: "CKV_AWS_88", Reason: "the node needs an address"}}})
	require.NoError(t, err)
	got := find(res, "CKV_AWS_88")
	require.Len(t, got, 1)
	require.Equal(t, policy.Waived, got[0].Status)
	require.Contains(t, got[0].Reason, "waived: the node needs an address")
}

func TestStaleWaiverFails(t *testing.T) {
	res, err := policy.Evaluate(plan.Of(launchTemplate()), &config.Config{Edge: "alb", PolicyWaivers: []config.Waiver{{Rule: "CKV_AWS_88", Reason: "no longer true"}}})
	require.NoError(t, err)
	var stale []policy.Result
	for _, r := range find(res, "CKV_AWS_88") {
		if r.Status == policy.Fail {
			stale = append(stale, r)
		}
	}
	require.Len(t, stale, 1)
	require.Contains(t, stale[0].Reason, "waiver matches no failing resource")
}

func TestUnknownWaiverRuleIsAConfigError(t *testing.T) {
	_, err := policy.Evaluate(plan.Of(), &config.Config{Edge: "alb", PolicyWaivers: []config.Waiver{{Rule: "CKV_AWS_8"}, {Rule: "ckv_aws_7_9", Reason: "typo"}}})
	var ke *config.KeyError
	require.True(t, errors.As(err, &ke))
	require.Equal(t, "immutable-edge:policyWaivers[1].rule", ke.Key)
	require.Contains(t, ke.Reason, `"ckv_aws_7_9" is not a policy rule`)
}

// TestDocsListEveryRule: docs/policy.md's rule table is cmd/docgen's block, kept current by its
// test; this one says which page a waiver's error points readers to.
func TestDocsListEveryRule(t *testing.T) {
	root, err := plan.Root()
	require.NoError(t, err)
	page := readFile(t, root+"/docs/policy.md")
	for _, rule := range policy.Rules() {
		require.True(t, strings.Contains(page, "| `"+rule.ID+"` |"), "docs/policy.md's rule table lacks %s", rule.ID)
	}
}

func find(res []policy.Result, rule string) []policy.Result {
	var out []policy.Result
	for _, r := range res {
		if r.Rule == rule {
			out = append(out, r)
		}
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
