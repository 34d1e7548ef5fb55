package stack_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

// tagConfigs edit a stack's tag config. wantError "" means the stack plans and IE_TAGS passes on
// every resource; otherwise the run fails with that one error and registers nothing.
var tagConfigs = []struct {
	name      string
	stack     string
	edit      func(plan.Config) plan.Config
	wantError string
}{
	{"dev as committed", "dev", func(c plan.Config) plan.Config { return c }, ""},
	{"prod as committed", "prod", func(c plan.Config) plan.Config { return c }, ""},
	{"only Project and Stack, nothing required", "dev", func(c plan.Config) plan.Config {
		return c.With("aws:defaultTags", map[string]any{"tags": map[string]string{"Project": "immutable-edge", "Stack": "dev"}}).
			Without("requiredTags")
	}, ""},
	// The program tags every resource with Project and Stack itself (config.Tags), so a stack
	// without aws:defaultTags still carries both.
	{"no aws:defaultTags, nothing required", "prod", func(c plan.Config) plan.Config {
		return c.Without("aws:defaultTags").Without("requiredTags")
	}, ""},
	{"Owner required, no Owner tag", "dev", func(c plan.Config) plan.Config {
		return c.With("aws:defaultTags", map[string]any{"tags": map[string]string{"Project": "immutable-edge", "Stack": "dev"}}).
			With("requiredTags", []string{"Owner"})
	}, "aws:defaultTags: lacks tag Owner, which immutable-edge:requiredTags requires on every taggable resource"},
	{"no aws:defaultTags, Owner and CostCenter required", "prod", func(c plan.Config) plan.Config {
		return c.Without("aws:defaultTags")
	}, "aws:defaultTags: lacks tags Owner, CostCenter, which immutable-edge:requiredTags requires on every taggable resource"},
}

func TestRequiredTagsAreOneConfigErrorNotOnePolicyFailurePerResource(t *testing.T) {
	for _, tc := range tagConfigs {
		t.Run(tc.name, func(t *testing.T) {
			base, err := plan.StackConfig(tc.stack)
			require.NoError(t, err)
			p, err := plan.RunConfig(tc.stack, tc.edit(base), nil)
			if tc.wantError != "" {
				require.Equal(t, []string{config.KeyDefaultTags}, config.ErrorKeys(err), "exactly one error: %v", err)
				require.ErrorContains(t, err, tc.wantError)
				require.Empty(t, p.Resources, "a missing tag must fail before any resource is registered")
				return
			}
			require.NoError(t, err)
			cfg, err := config.Load(p.Project, p.Stack, p.Config)
			require.NoError(t, err)
			res, err := policy.Evaluate(p, cfg)
			require.NoError(t, err)
			tagged := 0
			for _, r := range res {
				require.NotEqual(t, policy.Fail, r.Status, "%s %s: %s", r.Rule, r.Resource, r.Reason)
				if r.Rule == "IE_TAGS" {
					tagged++
				}
			}
			require.Positive(t, tagged, "IE_TAGS judged the stack's resources")
		})
	}
}
