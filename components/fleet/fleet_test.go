package fleet_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/components/fleet"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// validArgs is a fleet that plans; each test case breaks one thing.
func validArgs() *fleet.FleetArgs {
	return &fleet.FleetArgs{
		ImageID:            pulumi.String("ami-0123456789abcdef0"),
		InstanceType:       "t4g.micro",
		InstanceProfileARN: pulumi.String("arn:aws:iam::123456789012:instance-profile/p"),
		SecurityGroupIDs:   pulumi.ToStringArray([]string{"sg-1"}),
		SubnetIDs:          pulumi.ToStringArray([]string{"subnet-1"}),
		UserData:           pulumi.String("#cloud-config\n"),
		Min:                1, Max: 1, Desired: 1,
		RootVolumeGB: 16,
	}
}

func runFleet(args *fleet.FleetArgs) (*plan.Plan, error) {
	return plan.RunProgram("test", plan.Config{}, nil, func(ctx *pulumi.Context) error {
		_, err := fleet.NewFleet(ctx, "test", args)
		return err
	})
}

func TestFleetRejectsBadArgs(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		edit       func(*fleet.FleetArgs)
	}{
		{"desired above max", "capacity", func(a *fleet.FleetArgs) { a.Desired = 2 }},
		{"no image", "ImageID", func(a *fleet.FleetArgs) { a.ImageID = nil }},
		{"small root volume", "RootVolumeGB", func(a *fleet.FleetArgs) { a.RootVolumeGB = 4 }},
		{"IMDS reachable from far", "IMDSHopLimit", func(a *fleet.FleetArgs) { a.IMDSHopLimit = 5 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := validArgs()
			tc.edit(args)
			p, err := runFleet(args)
			require.ErrorContains(t, err, "fleet test: "+tc.want)
			require.Empty(t, p.Resources, "nothing registered")
		})
	}
}

func TestUserDataLimit(t *testing.T) {
	args := validArgs()
	args.UserData = pulumi.String(strings.Repeat("x", fleet.MaxUserData))
	p, err := runFleet(args)
	require.NoError(t, err)
	require.Len(t, p.OfType("aws:ec2/launchTemplate:LaunchTemplate"), 1, "exactly at the limit plans")

	args.UserData = pulumi.String(strings.Repeat("x", fleet.MaxUserData+1))
	_, err = runFleet(args)
	require.ErrorContains(t, err, "fleet test: UserData is 16385 bytes; EC2 accepts at most 16384")
}

func TestTargetGroupsSwitchToELBHealthChecks(t *testing.T) {
	args := validArgs()
	args.TargetGroupARNs = pulumi.ToStringArray([]string{"arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/t/1"})
	args.IMDSHopLimit = 2
	p, err := runFleet(args)
	require.NoError(t, err)
	asg, ok := p.Find("aws:autoscaling/group:Group", "test-asg")
	require.True(t, ok)
	require.Equal(t, "ELB", asg.Str("healthCheckType"))
	require.Len(t, asg.Strings("targetGroupArns"), 1)
	lt, _ := p.Find("aws:ec2/launchTemplate:LaunchTemplate", "test-lt")
	require.Equal(t, 2.0, lt.Get("metadataOptions.httpPutResponseHopLimit").NumberValue(), "an explicit choice is honoured")
}

func TestMaxSizeLeavesRoomForLaunchBeforeTerminate(t *testing.T) {
	for _, tc := range []struct{ max, desired, want int }{
		{1, 1, 2}, // the eip node: one serves, the replacement comes up beside it
		{4, 2, 4}, // prod: the configured maximum already has room
		{3, 3, 6},
		{20, 2, 20},
	} {
		require.Equal(t, tc.want, fleet.MaxSize(tc.max, tc.desired, false), "max %d desired %d", tc.max, tc.desired)
	}
	require.Equal(t, 4, fleet.MaxSize(4, 3, true), "a scaling group's policies go up to MaxSize: it is the configured ceiling")
}

// scalingArgs is a fleet behind a target group with room to scale.
func scalingArgs() *fleet.FleetArgs {
	args := validArgs()
	args.Min, args.Max, args.Desired = 2, 4, 2
	args.TargetGroupARNs = pulumi.ToStringArray([]string{"arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/t/1"})
	args.Scaling = &fleet.Scaling{ResourceLabel: pulumi.String("app/lb/1/targetgroup/t/1"), RequestsPerTarget: 800, CPUPercent: 55}
	return args
}

func TestScalingAttachesTwoTargetTrackingPolicies(t *testing.T) {
	p, err := runFleet(scalingArgs())
	require.NoError(t, err)
	asg, ok := p.Find("aws:autoscaling/group:Group", "test-asg")
	require.True(t, ok)
	policies := p.OfType("aws:autoscaling/policy:Policy")
	require.Len(t, policies, 2)
	got := map[string]plan.Resource{}
	for _, pol := range policies {
		require.Equal(t, "TargetTrackingScaling", pol.Str("policyType"))
		require.Equal(t, asg.Str("namePrefix")+plan.UniqueSuffix, pol.Str("autoscalingGroupName"), "attached to the group")
		require.True(t, pol.Get("estimatedInstanceWarmup").IsNull(), "the group's default instance warmup applies")
		require.False(t, pol.Bool("targetTrackingConfiguration.disableScaleIn"))
		got[pol.Str("targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType")] = pol
	}
	require.Equal(t, "app/lb/1/targetgroup/t/1", got[fleet.MetricRequests].Str("targetTrackingConfiguration.predefinedMetricSpecification.resourceLabel"))
	require.Equal(t, 800.0, got[fleet.MetricRequests].Num("targetTrackingConfiguration.targetValue"))
	require.Equal(t, 55.0, got[fleet.MetricCPU].Num("targetTrackingConfiguration.targetValue"))
	require.Equal(t, 4.0, asg.Num("maxSize"), "the policies' ceiling is the configured max")
	require.Equal(t, 2.0, asg.Num("minSize"))
	require.Equal(t, 2.0, asg.Num("desiredCapacity"), "the size at creation")
	require.ElementsMatch(t, []string{"launchTemplate", "desiredCapacity"}, asg.IgnoreChanges, "the policies own desired capacity")
	require.Positive(t, asg.Num("defaultInstanceWarmup"))

	fixed, err := runFleet(validArgs())
	require.NoError(t, err)
	require.Empty(t, fixed.OfType("aws:autoscaling/policy:Policy"))
	g, _ := fixed.Find("aws:autoscaling/group:Group", "test-asg")
	require.Equal(t, []string{"launchTemplate"}, g.IgnoreChanges, "a fixed group's desired capacity stays the config's")
}

func TestScalingRejectsWhatCannotScale(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		edit       func(*fleet.FleetArgs)
	}{
		{"no range", "Max above Min", func(a *fleet.FleetArgs) { a.Max, a.Desired = 2, 2 }},
		{"no target group", "TargetGroupARNs", func(a *fleet.FleetArgs) { a.TargetGroupARNs = nil }},
		{"no label", "ResourceLabel", func(a *fleet.FleetArgs) { a.Scaling.ResourceLabel = nil }},
		{"cpu of 100", "CPUPercent", func(a *fleet.FleetArgs) { a.Scaling.CPUPercent = 100 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := scalingArgs()
			tc.edit(args)
			p, err := runFleet(args)
			require.ErrorContains(t, err, "fleet test: Scaling")
			require.ErrorContains(t, err, tc.want)
			require.Empty(t, p.Resources, "nothing registered")
		})
	}
}
