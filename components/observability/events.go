package observability

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// RefreshEvents are the instance-refresh outcomes that need a person: the rollout did not
// finish, or it was rolled back (Auto Scaling's EventBridge detail types).
var RefreshEvents = []string{
	"EC2 Auto Scaling Instance Refresh Failed",
	"EC2 Auto Scaling Instance Refresh Cancelled",
	"EC2 Auto Scaling Instance Refresh Rollback Started",
	"EC2 Auto Scaling Instance Refresh Rollback Succeeded",
	"EC2 Auto Scaling Instance Refresh Rollback Failed",
}

// refreshEvents routes the group's failed or rolled-back refreshes to the topic, as one readable line.
func refreshEvents(ctx *pulumi.Context, name string, args *MonitorArgs, parent pulumi.ResourceOption) (*cloudwatch.EventRule, error) {
	pattern := args.GroupName.ToStringOutput().ApplyT(func(group string) (string, error) {
		b, err := json.Marshal(map[string]any{
			"source":      []string{"aws.autoscaling"},
			"detail-type": RefreshEvents,
			"detail":      map[string]any{"AutoScalingGroupName": []string{group}},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	rule, err := cloudwatch.NewEventRule(ctx, name+"-refresh", &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(args.Qualifier + "-refresh"), // the topic admits rules named <qualifier>-*
		Description:  pulumi.String("Instance refreshes of " + args.Stack + " that failed, were cancelled or rolled back"),
		EventPattern: pattern,
		Tags:         tags.Named(args.Tags, args.Qualifier+"-refresh"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("refresh rule: %w", err)
	}
	_, err = cloudwatch.NewEventTarget(ctx, name+"-refresh", &cloudwatch.EventTargetArgs{
		Rule: rule.Name, Arn: args.TopicARN,
		InputTransformer: cloudwatch.EventTargetInputTransformerArgs{
			InputPaths: pulumi.StringMap{
				"event": pulumi.String("$.detail-type"), "group": pulumi.String("$.detail.AutoScalingGroupName"),
				"refresh": pulumi.String("$.detail.InstanceRefreshId"),
			},
			InputTemplate: pulumi.String(`"<event>: group <group>, refresh <refresh>. ` +
				`The group keeps (or returns to) the previous launch template version. See why with ` +
				`aws autoscaling describe-instance-refreshes --auto-scaling-group-name <group>, ` +
				`then the cloud-init log group of the instances it launched."`),
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("refresh rule target: %w", err)
	}
	return rule, nil
}
