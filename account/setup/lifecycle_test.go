package setup

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/permissions"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// TestInstanceRoleKeepsItsLaunchHook weighs the lifecycle calls boot.sh makes (lifecycle.sh):
// the instance role's inline policy and the stack's permissions boundary allow them on the
// stack's own group, and refuse them on another stack's.
func TestInstanceRoleKeepsItsLaunchHook(t *testing.T) {
	for _, s := range committedStacks(t) {
		p := mainPlan(t, s)
		role := find(t, p, "aws:iam/role:Role", s+"-role")
		_, roleARN := permissions.Identity(p, role)
		access := iampolicy.Access{
			Principal: roleARN, Account: plan.Account,
			Identity: []iampolicy.Document{doc(t, find(t, p, "aws:iam/rolePolicy:RolePolicy", s+"-runtime").Str("policy"))},
			Boundary: policies(t, "immutable-edge-"+s+"-boundary"),
		}
		group := func(stack string) iampolicy.Request {
			return iampolicy.Request{Resource: "arn:aws:autoscaling:" + region + ":" + plan.Account +
				":autoScalingGroup:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0:autoScalingGroupName/" + stack + "-asg-1",
				Context: map[string]string{"aws:ResourceTag/Stack": stack, "aws:RequestedRegion": region}}
		}
		other := map[string]string{"dev": "prod", "prod": "dev"}[s]
		for _, tc := range []struct {
			name, action, stack string
			allow               bool
		}{
			{"heartbeat", "autoscaling:RecordLifecycleActionHeartbeat", s, true},
			{"CONTINUE or ABANDON", "autoscaling:CompleteLifecycleAction", s, true},
			{"another stack's heartbeat", "autoscaling:RecordLifecycleActionHeartbeat", other, false},
			{"completing another stack's launch", "autoscaling:CompleteLifecycleAction", other, false},
		} {
			t.Run(s+" "+tc.name, func(t *testing.T) {
				req := group(tc.stack)
				req.Action = tc.action
				ok, why, err := iampolicy.Decide(req, access)
				require.NoError(t, err)
				require.Equal(t, tc.allow, ok, "%s %s: %s", req.Action, req.Resource, why)
			})
		}
		// Finding its group and its lifecycle state: a read with no resource type.
		ok, why, err := iampolicy.Decide(iampolicy.Request{Action: "autoscaling:DescribeAutoScalingInstances", Resource: "*",
			Context: map[string]string{"aws:RequestedRegion": region}}, access)
		require.NoError(t, err)
		require.True(t, ok, "%s: %s", s, why)
	}
}
