package stack_test

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// healing returns what the instances of a plan learn about self-healing, and the instance
// role's statement for it (nil when there is none).
func healing(t *testing.T, p *plan.Plan) (int, *iampolicy.Statement) {
	t.Helper()
	ud, err := base64.StdEncoding.DecodeString(one(t, p, tLaunchTemplate).Str("userData"))
	require.NoError(t, err)
	doc, err := iampolicy.Parse(findPolicy(t, p, p.Stack+"-runtime"))
	require.NoError(t, err)
	for _, st := range doc.Statement {
		if st.Sid == "MarkUnhealthy" {
			return stackFile(t, string(ud)).Healing.UnhealthyMinutes, &st
		}
	}
	return stackFile(t, string(ud)).Healing.UnhealthyMinutes, nil
}

// TestInstancesMayReplaceThemselves: both stacks' instances learn the configured time and may
// set the health of their own group's instances, the group the plan creates, and no other.
func TestInstancesMayReplaceThemselves(t *testing.T) {
	for _, s := range stacks {
		t.Run(s, func(t *testing.T) {
			p := stackPlan(t, s)
			minutes, st := healing(t, p)
			require.Equal(t, config.DefaultUnhealthyMinutes, minutes)
			require.NotNil(t, st, "the instance role may mark the instance unhealthy")
			group := "arn:aws:autoscaling:eu-central-1:" + plan.Account + ":autoScalingGroup:0123-uuid:autoScalingGroupName/" + p.Outputs["asgName"].(string)
			for tag, want := range map[string]bool{s: true, "other": false} {
				ok, err := iampolicy.Allows(iampolicy.Request{Action: "autoscaling:SetInstanceHealth", Resource: group,
					Context: map[string]string{"aws:ResourceTag/Stack": tag}}, iampolicy.New(*st))
				require.NoError(t, err)
				require.Equal(t, want, ok, "group %s tagged Stack=%s", group, tag)
			}
		})
	}
}

func TestHealingOffTakesTheGrantAway(t *testing.T) {
	dev, err := plan.StackConfig("dev")
	require.NoError(t, err)
	p, err := plan.RunConfig("dev", dev.With("healing", map[string]any{"unhealthyMinutes": 0}), nil)
	require.NoError(t, err)
	minutes, st := healing(t, p)
	require.Zero(t, minutes)
	require.Nil(t, st, "an instance that never marks itself needs no SetInstanceHealth")
}
