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
		require.Equal(t, tc.want, fleet.MaxSize(tc.max, tc.desired), "max %d desired %d", tc.max, tc.desired)
	}
}
