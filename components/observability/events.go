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
	pattern := groupEvents(args.GroupName, RefreshEvents)
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

// ScalingEvents are Auto Scaling's failed activities: a launch or a termination that did not
// happen, whether a policy, a refresh or a health replacement asked for it (detail types of
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html).
var ScalingEvents = []string{"EC2 Instance Launch Unsuccessful", "EC2 Instance Terminate Unsuccessful"}

// scalingRuleName names the scaling-failure rule; the scaling-failed alarm counts its matches.
func scalingRuleName(a *MonitorArgs) string { return a.Qualifier + "-scaling" }

// scalingEvents mails each failed scaling activity of the group with AWS's reason.
func scalingEvents(ctx *pulumi.Context, name string, args *MonitorArgs, parent pulumi.ResourceOption) error {
	pattern := groupEvents(args.GroupName, ScalingEvents)
	rule, err := cloudwatch.NewEventRule(ctx, name+"-scaling", &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(scalingRuleName(args)), // the topic admits rules named <qualifier>-*
		Description:  pulumi.String("Failed launches and terminations of " + args.Stack + "'s group"),
		EventPattern: pattern,
		Tags:         tags.Named(args.Tags, scalingRuleName(args)),
	}, parent)
	if err != nil {
		return fmt.Errorf("scaling rule: %w", err)
	}
	_, err = cloudwatch.NewEventTarget(ctx, name+"-scaling", &cloudwatch.EventTargetArgs{
		Rule: rule.Name, Arn: args.TopicARN,
		InputTransformer: cloudwatch.EventTargetInputTransformerArgs{
			InputPaths: pulumi.StringMap{
				"event": pulumi.String("$.detail-type"), "group": pulumi.String("$.detail.AutoScalingGroupName"),
				"why": pulumi.String("$.detail.StatusMessage"), "cause": pulumi.String("$.detail.Cause"),
			},
			InputTemplate: pulumi.String(`"<event>: group <group>. <why> (<cause>) ` +
				`See every attempt with aws autoscaling describe-scaling-activities --auto-scaling-group-name <group>."`),
		},
	}, parent)
	if err != nil {
		return fmt.Errorf("scaling rule target: %w", err)
	}
	return nil
}

// groupEvents is an EventBridge pattern for Auto Scaling events of these detail types from one group.
func groupEvents(group pulumi.StringInput, types []string) pulumi.StringOutput {
	return group.ToStringOutput().ApplyT(func(name string) (string, error) {
		b, err := json.Marshal(map[string]any{
			"source":      []string{"aws.autoscaling"},
			"detail-type": types,
			"detail":      map[string]any{"AutoScalingGroupName": []string{name}},
		})
		return string(b), err
	}).(pulumi.StringOutput)
}
