package permissions

import (
	"maps"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// command is what a pulumi-command resource makes the AWS CLI or Packer call with the deploy
// role's credentials: the rollout (components/rollout), or the image build and its delete.
func command(p *plan.Plan, r plan.Resource) []Need {
	if r.Str("environment.ROLLOUT_GROUP") != "" {
		return rollout(p, r)
	}
	return append(packer(p, r), deregister(p, r)...)
}

// rollout is what cmd/rollout calls (cmd/rollout/aws.go), each as the Service Authorization
// Reference scopes it (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html,
// .../list_amazoncloudwatch.html): the describes apply to no resource, the refresh calls to the
// group, DescribeAlarms to each alarm. A refresh with a DesiredConfiguration launch template is
// checked like an update of the group with it: ec2:RunInstances and passing the instance
// profile's role (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html),
// which authorisations already asks of the group.
func rollout(p *plan.Plan, r plan.Resource) []Need {
	region := r.Str("environment.ROLLOUT_REGION")
	ctx := map[string]string{"aws:RequestedRegion": region, "aws:ResourceTag/Stack": p.Stack}
	why := "rollout (" + r.Name + ")"
	var out []Need
	add := func(action, resource string) {
		// The command runs on create and on every change it is triggered by; never on destroy.
		out = append(out, Need{iampolicy.Request{Action: action, Resource: resource, Context: maps.Clone(ctx)}, why, awsapi.Update})
	}
	add("autoscaling:DescribeAutoScalingGroups", "*")
	add("autoscaling:DescribeInstanceRefreshes", "*")
	group := "arn:aws:autoscaling:" + region + ":" + plan.Account + ":autoScalingGroup:0123-uuid:autoScalingGroupName/" + r.Str("environment.ROLLOUT_GROUP")
	add("autoscaling:StartInstanceRefresh", group)
	add("autoscaling:RollbackInstanceRefresh", group)
	for _, alarm := range strings.Split(r.Str("environment.ROLLOUT_ALARMS"), ",") {
		add("cloudwatch:DescribeAlarms", "arn:aws:cloudwatch:"+region+":"+plan.Account+":alarm:"+alarm)
	}
	return out
}
