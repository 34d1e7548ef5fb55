package observability_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/components/observability"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

func alertsArgs() *observability.AlertsArgs {
	return &observability.AlertsArgs{
		Partition: "aws", Region: "eu-central-1", AccountID: plan.Account, Qualifier: "p-t",
		Email: "ops@example.com", LogGroupPrefix: "/p/t/", LogGroups: []string{"/p/t/instance/system"},
		RetentionDays: 30, MonthlyBudgetUSD: 10, CostTagKey: "Stack", CostTagValue: "t",
	}
}

func monitorArgs(edge string) *observability.MonitorArgs {
	return &observability.MonitorArgs{
		Partition: "aws", Region: "eu-central-1", AccountID: plan.Account, Qualifier: "p-t",
		Stack: "t", Namespace: "ImmutableEdge", TopicARN: pulumi.String("arn:aws:sns:eu-central-1:123456789012:p-t-alerts"),
		GroupName: pulumi.String("t-asg"), Desired: 2, Edge: edge,
		LoadBalancer: pulumi.String("app/t/1"), TargetGroup: pulumi.String("targetgroup/t/1"), Certificate: pulumi.String("arn:cert"),
		Domain: "example.com", HealthPath: "/.edge/health",
		Thresholds: observability.Thresholds{CPUPercent: 80, DiskPercent: 80, HTTP5xxPercent: 5, LatencyP95Seconds: 1, CertificateDays: 21, Minutes: 5},
	}
}

func run(build func(ctx *pulumi.Context) error) (*plan.Plan, error) {
	return plan.RunProgram("test", plan.Config{}, nil, build)
}

func TestBadArgsNameTheFieldAndCreateNothing(t *testing.T) {
	for name, tc := range map[string]struct {
		build func(ctx *pulumi.Context) error
		want  string
	}{
		"no email": {func(ctx *pulumi.Context) error {
			a := alertsArgs()
			a.Email = "ops"
			_, err := observability.NewAlerts(ctx, "t", a)
			return err
		}, "Email"},
		"log group outside the key's prefix": {func(ctx *pulumi.Context) error {
			a := alertsArgs()
			a.LogGroups = []string{"/other/system"}
			_, err := observability.NewAlerts(ctx, "t", a)
			return err
		}, "outside"},
		"no budget": {func(ctx *pulumi.Context) error {
			a := alertsArgs()
			a.MonthlyBudgetUSD = 0
			_, err := observability.NewAlerts(ctx, "t", a)
			return err
		}, "MonthlyBudgetUSD"},
		"alb without its metrics": {func(ctx *pulumi.Context) error {
			a := monitorArgs("alb")
			a.LoadBalancer = nil
			_, err := observability.NewMonitor(ctx, "t", a)
			return err
		}, "LoadBalancer"},
		"eip without a domain": {func(ctx *pulumi.Context) error {
			a := monitorArgs("eip")
			a.Domain = ""
			_, err := observability.NewMonitor(ctx, "t", a)
			return err
		}, "Domain"},
		"unknown edge": {func(ctx *pulumi.Context) error {
			_, err := observability.NewMonitor(ctx, "t", monitorArgs("nlb"))
			return err
		}, "Edge"},
		"zero threshold": {func(ctx *pulumi.Context) error {
			a := monitorArgs("alb")
			a.Thresholds.Minutes = 0
			_, err := observability.NewMonitor(ctx, "t", a)
			return err
		}, "threshold"},
	} {
		p, err := run(tc.build)
		require.ErrorContains(t, err, tc.want, name)
		if p != nil {
			require.Empty(t, p.Resources, "%s: nothing is registered", name)
		}
	}
}

func TestMonitorWithoutEIPHasNoExternalCheck(t *testing.T) {
	p, err := run(func(ctx *pulumi.Context) error {
		_, err := observability.NewMonitor(ctx, "t", monitorArgs("alb"))
		return err
	})
	require.NoError(t, err)
	require.Empty(t, p.OfType("aws:route53/healthCheck:HealthCheck"))
	require.Empty(t, p.OfType("pulumi:providers:aws"))
	require.Len(t, p.OfType("aws:cloudwatch/metricAlarm:MetricAlarm"), 12)

	p, err = run(func(ctx *pulumi.Context) error {
		_, err := observability.NewMonitor(ctx, "t", monitorArgs("eip"))
		return err
	})
	require.NoError(t, err)
	require.Len(t, p.OfType("aws:route53/healthCheck:HealthCheck"), 1)
	require.Len(t, p.OfType("aws:cloudwatch/metricAlarm:MetricAlarm"), 8)
}
