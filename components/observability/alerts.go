// Package observability tells an operator about trouble and cost before users do. Alerts is the
// stack's delivery side: one customer managed key, the encrypted alert topic with its email
// subscription, the monthly budget and the instances' log groups. Monitor is what is watched:
// alarms on the fleet, the edge and the instances' own metrics, the instance-refresh events, an
// external check of the eip edge, and a dashboard. Both are built from the stack's outputs.
package observability

import (
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/budgets"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// AlertsArgs configures where alerts go and what is kept.
type AlertsArgs struct {
	Partition, Region, AccountID string
	// Qualifier prefixes the account-unique names (topic, budget, key alias), e.g. immutable-edge-dev.
	Qualifier string
	// Administrator is the role that deploys the stack (config.DeployRoleARN): the key's own
	// policy lets it manage the key. No identity policy does, so a key's Stack tag, which any
	// stack's role can put on a key without one, grants nothing (account/setup).
	Administrator string
	// Email receives every alarm, refresh failure and budget alert (it must confirm the subscription).
	Email string
	// LogGroupPrefix is the stack's log group namespace, e.g. /immutable-edge/dev/; the key
	// encrypts groups under it (the flow logs' too) and nothing else.
	LogGroupPrefix string
	// ServiceLogGroups are log groups an AWS service writes under a name of its own (RDS's
	// /aws/rds/instance/<id>/postgresql); the key encrypts these too, by exact name.
	ServiceLogGroups []string
	// KeyServices are the services whose resources the key encrypts besides logs, SNS and S3
	// (dynamodb, rds, elasticache, secretsmanager): the deploy role may use it through them.
	KeyServices []string
	// LogGroups are the instances' log groups to create, each under LogGroupPrefix.
	LogGroups     []string
	RetentionDays int
	// MonthlyBudgetUSD is the stack's monthly spending limit.
	MonthlyBudgetUSD float64
	// CostTag is the cost allocation tag (key and value) that marks the stack's spending.
	CostTagKey, CostTagValue string
	Tags                     map[string]string
}

// Alerts is the stack's key, alert topic, budget and instance log groups.
type Alerts struct {
	pulumi.ResourceState
	KeyARN   pulumi.StringOutput `pulumi:"keyArn"`
	TopicARN pulumi.StringOutput `pulumi:"topicArn"`
	// LogGroupNames are the created instance log groups, in LogGroups order.
	LogGroupNames pulumi.StringArrayOutput `pulumi:"logGroupNames"`
	// LogGroups are those log groups as resources, for a DependsOn that names exactly them (a
	// DependsOn on the component lists the children registered so far, which races).
	LogGroups []pulumi.Resource
}

func (a *AlertsArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	var bad []string
	if a.Partition == "" || a.Region == "" || a.AccountID == "" || a.Qualifier == "" {
		bad = append(bad, "Partition, Region, AccountID and Qualifier are required")
	}
	if addr, err := mail.ParseAddress(a.Email); err != nil || addr.Address != a.Email {
		bad = append(bad, fmt.Sprintf("Email %q is not an address", a.Email))
	}
	if !strings.HasPrefix(a.LogGroupPrefix, "/") || !strings.HasSuffix(a.LogGroupPrefix, "/") {
		bad = append(bad, fmt.Sprintf("LogGroupPrefix %q must start and end with /", a.LogGroupPrefix))
	}
	for _, g := range a.LogGroups {
		if !strings.HasPrefix(g, a.LogGroupPrefix) {
			bad = append(bad, fmt.Sprintf("log group %q is outside %q, where the key may not encrypt", g, a.LogGroupPrefix))
		}
	}
	if a.RetentionDays < 1 {
		bad = append(bad, "RetentionDays must be positive")
	}
	if !(a.MonthlyBudgetUSD > 0) {
		bad = append(bad, "MonthlyBudgetUSD must be more than 0")
	}
	if !strings.HasPrefix(a.Administrator, "arn:") || !strings.Contains(a.Administrator, ":role/") {
		bad = append(bad, "Administrator must be a role ARN")
	}
	if a.CostTagKey == "" || a.CostTagValue == "" {
		bad = append(bad, "CostTagKey and CostTagValue are required")
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// NewAlerts creates the key, the topic and its email subscription, the budget and the log groups.
func NewAlerts(ctx *pulumi.Context, name string, args *AlertsArgs, opts ...pulumi.ResourceOption) (*Alerts, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("alerts %s: %w", name, err)
	}
	a := &Alerts{}
	if err := ctx.RegisterComponentResource("immutable-edge:observability:Alerts", name, a, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(a)
	p := principals{partition: args.Partition, region: args.Region, account: args.AccountID, qualifier: args.Qualifier,
		administrator: args.Administrator}
	key, err := kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.String("Stack " + name + ": alert topic and log groups"),
		EnableKeyRotation:    pulumi.Bool(true), // CKV_AWS_7, KMS.4
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(p.keyPolicy(args.LogGroupPrefix, args.ServiceLogGroups, args.KeyServices).JSON()),
		Tags:                 tags.Named(args.Tags, name+"-key"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("alerts %s: key: %w", name, err)
	}
	if _, err := kms.NewAlias(ctx, name+"-key", &kms.AliasArgs{
		Name: pulumi.String("alias/" + args.Qualifier + "-observability"), TargetKeyId: key.KeyId,
	}, parent); err != nil {
		return nil, fmt.Errorf("alerts %s: key alias: %w", name, err)
	}
	topic, err := sns.NewTopic(ctx, name+"-alerts", &sns.TopicArgs{
		Name:           pulumi.String(args.Qualifier + "-alerts"),
		DisplayName:    pulumi.String("immutable-edge " + name),
		KmsMasterKeyId: key.Arn, // CKV_AWS_26: a customer managed key, which CloudWatch can use
		Tags:           tags.Named(args.Tags, name+"-alerts"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("alerts %s: topic: %w", name, err)
	}
	if _, err := sns.NewTopicPolicy(ctx, name+"-alerts", &sns.TopicPolicyArgs{
		Arn:    topic.Arn,
		Policy: topic.Arn.ApplyT(func(arn string) string { return p.topicPolicy(arn).JSON() }).(pulumi.StringOutput),
	}, parent); err != nil {
		return nil, fmt.Errorf("alerts %s: topic policy: %w", name, err)
	}
	if _, err := sns.NewTopicSubscription(ctx, name+"-alerts-email", &sns.TopicSubscriptionArgs{
		Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(args.Email),
	}, parent); err != nil {
		return nil, fmt.Errorf("alerts %s: email subscription: %w", name, err)
	}
	if err := newBudget(ctx, name, args, topic.Arn, parent); err != nil {
		return nil, fmt.Errorf("alerts %s: %w", name, err)
	}
	var groups pulumi.StringArray
	for _, g := range args.LogGroups {
		lg, err := cloudwatch.NewLogGroup(ctx, name+"-"+strings.ReplaceAll(strings.TrimPrefix(g, args.LogGroupPrefix), "/", "-"), &cloudwatch.LogGroupArgs{
			Name:            pulumi.String(g), // the agent's configuration names it
			RetentionInDays: pulumi.Int(args.RetentionDays),
			KmsKeyId:        key.Arn,
			Tags:            tags.Named(args.Tags, g),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("alerts %s: log group %s: %w", name, g, err)
		}
		groups = append(groups, lg.Name)
		a.LogGroups = append(a.LogGroups, lg)
	}
	a.KeyARN, a.TopicARN = key.Arn, topic.Arn
	a.LogGroupNames = groups.ToStringArrayOutput()
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{
		"keyArn": a.KeyARN, "topicArn": a.TopicARN, "logGroupNames": a.LogGroupNames,
	})
}

// newBudget watches the stack's monthly spend, found by its cost allocation tag: 80% of the limit
// spent, or 100% forecast, alerts the topic and the email directly (in case the topic is the problem).
func newBudget(ctx *pulumi.Context, name string, args *AlertsArgs, topicARN pulumi.StringOutput, parent pulumi.ResourceOption) error {
	notify := func(kind string, percent float64) budgets.BudgetNotificationInput {
		return budgets.BudgetNotificationArgs{
			NotificationType:         pulumi.String(kind),
			ComparisonOperator:       pulumi.String("GREATER_THAN"),
			Threshold:                pulumi.Float64(percent),
			ThresholdType:            pulumi.String("PERCENTAGE"),
			SubscriberEmailAddresses: pulumi.StringArray{pulumi.String(args.Email)},
			SubscriberSnsTopicArns:   pulumi.StringArray{topicARN},
		}
	}
	_, err := budgets.NewBudget(ctx, name+"-budget", &budgets.BudgetArgs{
		Name:        pulumi.String(args.Qualifier + "-monthly"),
		BudgetType:  pulumi.String("COST"),
		TimeUnit:    pulumi.String("MONTHLY"),
		LimitAmount: pulumi.String(strconv.FormatFloat(args.MonthlyBudgetUSD, 'f', 2, 64)),
		LimitUnit:   pulumi.String("USD"),
		CostFilters: budgets.BudgetCostFilterArray{budgets.BudgetCostFilterArgs{
			// Cost Explorer's form of a user tag: user:<key>$<value>.
			Name:   pulumi.String("TagKeyValue"),
			Values: pulumi.StringArray{pulumi.String("user:" + args.CostTagKey + "$" + args.CostTagValue)},
		}},
		Notifications: budgets.BudgetNotificationArray{notify("ACTUAL", 80), notify("FORECASTED", 100)},
		Tags:          tags.Named(args.Tags, name+"-monthly"),
	}, parent)
	if err != nil {
		return fmt.Errorf("budget: %w", err)
	}
	return nil
}
