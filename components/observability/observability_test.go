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
		Administrator: "arn:aws:iam::" + plan.Account + ":role/p/p-t-deploy",
		Email:         "ops@example.com", LogGroupPrefix: "/p/t/", LogGroups: []string{"/p/t/instance/system"},
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
		"alb without a health path": {func(ctx *pulumi.Context) error {
			a := monitorArgs("alb")
			a.HealthPath = "edge/health"
			_, err := observability.NewMonitor(ctx, "t", a)
			return err
		}, "HealthPath"},
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

func TestBothEdgesShareTheExternalCheck(t *testing.T) {
	for edge, want := range map[string]struct {
		alarms int
		advice string
	}{"alb": {13, "unhealthy-hosts"}, "eip": {8, "Elastic IP"}} {
		p, err := run(func(ctx *pulumi.Context) error {
			_, err := observability.NewMonitor(ctx, "t", monitorArgs(edge))
			return err
		})
		require.NoError(t, err, edge)
		checks := p.OfType("aws:route53/healthCheck:HealthCheck")
		require.Len(t, checks, 1, edge)
		hc := checks[0]
		require.Equal(t, "HTTPS", hc.Str("type"), edge)
		require.Equal(t, "example.com", hc.Str("fqdn"), edge)
		require.Equal(t, "/.edge/health", hc.Str("resourcePath"), edge)
		require.True(t, hc.Bool("enableSni"), edge)
		require.Len(t, p.OfType("aws:cloudwatch/metricAlarm:MetricAlarm"), want.alarms, edge)
		alarm, ok := p.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "t-external-check")
		require.True(t, ok, edge)
		require.Equal(t, observability.HealthCheckRegion, alarm.Region, "%s: Route 53 publishes its metric only there", edge)
		require.Equal(t, hc.ID, alarm.Str("dimensions.HealthCheckId"), edge)
		require.Contains(t, alarm.Str("alarmDescription"), want.advice, edge)
		out, ok := p.Find("aws:cloudwatch/eventTarget:EventTarget", "t-external-check-out")
		require.True(t, ok, edge)
		require.Equal(t, observability.HealthCheckRegion, out.Region, edge)
		require.Contains(t, out.Str("arn"), ":events:eu-central-1:", "%s: forwarded to the stack region's bus", edge)
	}
}

func TestBasicMonitoringWidensOnlyTheCPUAlarm(t *testing.T) {
	for _, basic := range []bool{false, true} {
		p, err := run(func(ctx *pulumi.Context) error {
			a := monitorArgs("alb")
			a.BasicMonitoring = basic
			_, err := observability.NewMonitor(ctx, "t", a)
			return err
		})
		require.NoError(t, err)
		cpu, ok := p.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "t-cpu")
		require.True(t, ok)
		status, ok := p.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "t-status-check")
		require.True(t, ok)
		period, evaluations := 60.0, 5.0
		if basic {
			period, evaluations = 300, 1 // EC2 publishes every 5 minutes; 5 minutes is one period
		}
		require.Equal(t, period, cpu.Num("period"), "basic=%v", basic)
		require.Equal(t, evaluations, cpu.Num("evaluationPeriods"), "basic=%v", basic)
		require.Equal(t, 60.0, status.Num("period"), "status checks are 1-minute metrics either way")
	}
}
