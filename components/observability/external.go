package observability

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// HealthCheckRegion is where Route 53 publishes health-check metrics, so where their alarm lives.
const HealthCheckRegion = "us-east-1"

// externalAdvice is where to look first when the external check fails, per edge.
var externalAdvice = map[string]string{
	"eip": "Check capacity, the DNS A record, that the node holds the Elastic IP, and HAProxy's certificate.",
	"alb": "Check unhealthy-hosts and capacity, the alias records to the load balancer, its HTTPS listener and the ACM certificate.",
}

type external struct {
	healthCheckID pulumi.StringOutput
	alarmName     pulumi.StringOutput
}

// externalCheck watches the edge from outside AWS: Route 53 checkers fetch the health path over
// HTTPS by name, so DNS, TLS, the edge (the Elastic IP's node, or the load balancer and its
// targets) and HAProxy are all on the path. Both edges share it; only the advice differs.
//
// The check's metric exists only in us-east-1, and an alarm may notify only a topic in its own
// region; instead of a second topic (and a second key), EventBridge forwards the alarm's state
// changes to the stack region's default bus, where a rule sends them to the alert topic.
func externalCheck(ctx *pulumi.Context, name string, args *MonitorArgs, parent pulumi.ResourceOption) (*external, error) {
	check, err := route53.NewHealthCheck(ctx, name+"-external", &route53.HealthCheckArgs{
		Type: pulumi.String("HTTPS"), Fqdn: pulumi.String(args.Domain), Port: pulumi.Int(443),
		ResourcePath: pulumi.String(args.HealthPath), EnableSni: pulumi.Bool(true),
		RequestInterval: pulumi.Int(30), FailureThreshold: pulumi.Int(3),
		Tags: tags.Named(args.Tags, args.Qualifier+"-external"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("health check: %w", err)
	}
	east, err := aws.NewProvider(ctx, name+"-"+HealthCheckRegion, &aws.ProviderArgs{
		Region:      pulumi.String(HealthCheckRegion),
		DefaultTags: aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(args.Tags)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("%s provider: %w", HealthCheckRegion, err)
	}
	inEast := pulumi.Provider(east)
	alarmName := args.Qualifier + "-external-check"
	alarm, err := cloudwatch.NewMetricAlarm(ctx, name+"-external-check", &cloudwatch.MetricAlarmArgs{
		Name: pulumi.String(alarmName),
		AlarmDescription: pulumi.String(fmt.Sprintf("https://%s%s fails from Route 53's checkers for %d minutes: the site is down for users. %s",
			args.Domain, args.HealthPath, args.Thresholds.Minutes, externalAdvice[args.Edge])),
		Namespace: pulumi.String(nsRoute53), MetricName: pulumi.String("HealthCheckStatus"),
		Dimensions: pulumi.StringMap{"HealthCheckId": check.ID()},
		Statistic:  pulumi.String("Minimum"), Period: pulumi.Int(60),
		ComparisonOperator: pulumi.String("LessThanThreshold"), Threshold: pulumi.Float64(1),
		EvaluationPeriods: pulumi.Int(args.Thresholds.Minutes), DatapointsToAlarm: pulumi.Int(args.Thresholds.Minutes),
		TreatMissingData: pulumi.String("breaching"),
		ActionsEnabled:   pulumi.Bool(true), // its state changes reach the topic through EventBridge
		Tags:             tags.Named(args.Tags, alarmName),
	}, parent, inEast)
	if err != nil {
		return nil, fmt.Errorf("external check alarm: %w", err)
	}
	if err := forwardAlarm(ctx, name, args, alarm, parent, inEast); err != nil {
		return nil, err
	}
	return &external{healthCheckID: check.ID().ToStringOutput(), alarmName: alarm.Name}, nil
}

// forwardAlarm sends the us-east-1 alarm's state changes to the stack region's default bus and,
// from there, to the alert topic.
func forwardAlarm(ctx *pulumi.Context, name string, args *MonitorArgs, alarm *cloudwatch.MetricAlarm,
	parent, inEast pulumi.ResourceOption) error {
	pattern := alarm.Arn.ApplyT(func(arn string) (string, error) {
		b, err := json.Marshal(map[string]any{
			"source": []string{"aws.cloudwatch"}, "detail-type": []string{"CloudWatch Alarm State Change"},
			"resources": []string{arn},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	ruleName := args.Qualifier + "-external-check"
	bus := "arn:" + args.Partition + ":events:" + args.Region + ":" + args.AccountID + ":event-bus/default"
	role, err := iam.NewRole(ctx, name+"-forward", &iam.RoleArgs{
		Description: pulumi.String("EventBridge forwards " + ruleName + " from " + HealthCheckRegion + " to " + args.Region),
		AssumeRolePolicy: pulumi.String(iampolicy.New(iampolicy.Statement{
			Effect: "Allow", Principal: map[string]any{"Service": "events.amazonaws.com"}, Action: []string{"sts:AssumeRole"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": args.AccountID}},
		}).JSON()),
		Path:                args.Roles.PathInput(),
		PermissionsBoundary: args.Roles.BoundaryInput(),
		Tags:                tags.Named(args.Tags, name+"-forward"),
	}, parent)
	if err != nil {
		return fmt.Errorf("forwarding role: %w", err)
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-forward", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: pulumi.String(iampolicy.New(iampolicy.Statement{
			Sid: "ForwardToStackRegion", Effect: "Allow", Action: []string{"events:PutEvents"}, Resource: []string{bus},
		}).JSON()),
	}, parent); err != nil {
		return fmt.Errorf("forwarding policy: %w", err)
	}
	out, err := cloudwatch.NewEventRule(ctx, name+"-external-check-out", &cloudwatch.EventRuleArgs{
		Name: pulumi.String(ruleName), Description: pulumi.String("Forward " + ruleName + " state changes to " + args.Region),
		EventPattern: pattern, Tags: tags.Named(args.Tags, ruleName),
	}, parent, inEast)
	if err != nil {
		return fmt.Errorf("forwarding rule: %w", err)
	}
	if _, err := cloudwatch.NewEventTarget(ctx, name+"-external-check-out", &cloudwatch.EventTargetArgs{
		Rule: out.Name, Arn: pulumi.String(bus), RoleArn: role.Arn,
	}, parent, inEast); err != nil {
		return fmt.Errorf("forwarding target: %w", err)
	}
	in, err := cloudwatch.NewEventRule(ctx, name+"-external-check", &cloudwatch.EventRuleArgs{
		Name: pulumi.String(ruleName), Description: pulumi.String("State changes of " + ruleName + " to the alert topic"),
		EventPattern: pattern, Tags: tags.Named(args.Tags, ruleName),
	}, parent)
	if err != nil {
		return fmt.Errorf("alert rule: %w", err)
	}
	_, err = cloudwatch.NewEventTarget(ctx, name+"-external-check", &cloudwatch.EventTargetArgs{
		Rule: in.Name, Arn: args.TopicARN,
		InputTransformer: cloudwatch.EventTargetInputTransformerArgs{
			InputPaths: pulumi.StringMap{
				"alarm": pulumi.String("$.detail.alarmName"), "state": pulumi.String("$.detail.state.value"),
				"reason": pulumi.String("$.detail.state.reason"),
			},
			InputTemplate: pulumi.String(`"<alarm> is <state>: <reason>"`),
		},
	}, parent)
	if err != nil {
		return fmt.Errorf("alert rule target: %w", err)
	}
	return nil
}
