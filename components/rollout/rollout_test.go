package rollout_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/components/rollout"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

func validArgs() *rollout.RolloutArgs {
	return &rollout.RolloutArgs{
		GroupName: pulumi.String("web-asg"), LaunchTemplateID: pulumi.String("lt-0123456789abcdef0"),
		LaunchTemplateVersion: pulumi.Int(7), Alarms: pulumi.ToStringArray([]string{"web-5xx", "web-down"}),
		Region: "eu-central-1", MinHealthy: 100, MaxHealthy: 200, WarmupSeconds: 180, BakeSeconds: 300, TimeoutMinutes: 45,
	}
}

func runRollout(args *rollout.RolloutArgs) (*plan.Plan, error) {
	return plan.RunProgram("test", plan.Config{}, nil, func(ctx *pulumi.Context) error {
		_, err := rollout.NewRollout(ctx, "web", args)
		return err
	})
}

func TestTheCommandCarriesEverythingTheRefreshNeeds(t *testing.T) {
	p, err := runRollout(validArgs())
	require.NoError(t, err)
	cmd, ok := p.Find("command:local:Command", "web-refresh")
	require.True(t, ok)
	require.Equal(t, map[string]any{
		"ROLLOUT_GROUP": "web-asg", "ROLLOUT_TEMPLATE_ID": "lt-0123456789abcdef0", "ROLLOUT_TEMPLATE_VERSION": "7",
		"ROLLOUT_ALARMS": "web-5xx,web-down", "ROLLOUT_REGION": "eu-central-1", "ROLLOUT_MIN_HEALTHY": "100",
		"ROLLOUT_MAX_HEALTHY": "200", "ROLLOUT_WARMUP": "180", "ROLLOUT_BAKE": "300", "ROLLOUT_TIMEOUT": "45m",
	}, cmd.Get("environment").Mappable())
	require.Equal(t, rollout.Command, cmd.Str("create"))
	require.Equal(t, rollout.Command, cmd.Str("update"), "a new version is an update, so it runs again")
	require.True(t, cmd.Get("delete").IsNull(), "destroy has nothing to roll out")
	require.True(t, cmd.Get("triggers").IsNull(), "a replacement would run create again with no reason")
	require.True(t, cmd.Get("dir").IsNull(), "no absolute path in the state")
}

func TestRolloutRejectsBadArgs(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		edit       func(*rollout.RolloutArgs)
	}{
		{"no group", "GroupName", func(a *rollout.RolloutArgs) { a.GroupName = nil }},
		{"no alarms", "Alarms", func(a *rollout.RolloutArgs) { a.Alarms = nil }},
		{"no region", "Region", func(a *rollout.RolloutArgs) { a.Region = "" }},
		{"capacity drops", "MinHealthy", func(a *rollout.RolloutArgs) { a.MinHealthy = 101 }},
		{"no timeout", "TimeoutMinutes", func(a *rollout.RolloutArgs) { a.TimeoutMinutes = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := validArgs()
			tc.edit(args)
			p, err := runRollout(args)
			require.ErrorContains(t, err, "rollout web: ")
			require.ErrorContains(t, err, tc.want)
			require.Empty(t, p.Resources, "nothing registered")
		})
	}
}
