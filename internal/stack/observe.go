package stack

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/components/edge"
	"github.com/immutable-edge/immutable-edge/components/fleet"
	"github.com/immutable-edge/immutable-edge/components/observability"
	"github.com/immutable-edge/immutable-edge/components/rollout"
	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/config"
)

// newAlerts creates the stack's key, alert topic, budget and the instances' log groups first:
// the flow logs and the instances write with that key.
func newAlerts(ctx *pulumi.Context, cfg *config.Config, env *environment) (*observability.Alerts, error) {
	return observability.NewAlerts(ctx, cfg.Stack, &observability.AlertsArgs{
		Partition: env.partition, Region: cfg.Region, AccountID: env.account, Qualifier: cfg.NamePrefix(),
		Administrator:    config.DeployRoleARN(env.partition, env.account, cfg.Project, cfg.Stack),
		Email:            cfg.AlertEmail,
		LogGroupPrefix:   "/" + cfg.Project + "/" + cfg.Stack + "/",
		LogGroups:        bootstrap.LogGroups(cfg.Project, cfg.Stack),
		KeyServices:      keyServices(cfg),
		ServiceLogGroups: rdsLogGroups(cfg),
		RetentionDays:    cfg.LogRetention, MonthlyBudgetUSD: cfg.MonthlyBudget,
		CostTagKey: "Stack", CostTagValue: cfg.Stack, // config.Tags always carries it
		Tags: cfg.Tags(),
	})
}

// newMonitor watches what the stack built: the fleet, the edge and the instances' metrics.
func newMonitor(ctx *pulumi.Context, cfg *config.Config, env *environment, alerts *observability.Alerts,
	front edge.Edge, fl *fleet.Fleet) (*observability.Monitor, error) {
	t, a := front.Telemetry(), cfg.Alarms
	return observability.NewMonitor(ctx, cfg.Stack, &observability.MonitorArgs{
		Partition: env.partition, Region: cfg.Region, AccountID: env.account, Qualifier: cfg.NamePrefix(),
		Stack: cfg.Stack, Namespace: config.MetricNamespace(cfg.Stack),
		TopicARN:  alerts.TopicARN,
		GroupName: fl.GroupName, Desired: cfg.Fleet.Desired, Headroom: headroom(cfg),
		Edge: t.Mode, LoadBalancer: t.LoadBalancer, TargetGroup: t.TargetGroup, Certificate: t.Certificate,
		Domain: cfg.Domain, HealthPath: config.EdgeHealthPath, BasicMonitoring: !cfg.DetailedMonitoring,
		Jobs: jobNames(cfg),
		Thresholds: observability.Thresholds{
			CPUPercent: a.CPUPercent, DiskPercent: a.DiskPercent, HTTP5xxPercent: a.HTTP5xxPercent,
			LatencyP95Seconds: a.LatencyP95Seconds, CertificateDays: a.CertificateDays, Minutes: a.Minutes,
		},
		Roles: roleScope(cfg),
		Tags:  cfg.Tags(),
	})
}

// RolloutTimeoutMinutes bounds one rollout: past it the refresh is rolled back and `up` fails.
// The deploy job's own limit (90 minutes) leaves room for the image build before it.
const RolloutTimeoutMinutes = 45

// newRollout moves the group to each new template version once the alarms that judge it exist
// (its inputs are their outputs, which orders it after them: an explicit DependsOn on the
// components would list their children in registration order, which varies). The refresh bakes as long as those alarms take to fire (alarms.minutes), so a version that
// passes its health checks but breaks traffic still rolls back.
func newRollout(ctx *pulumi.Context, cfg *config.Config, fl *fleet.Fleet, mon *observability.Monitor) (*rollout.Rollout, error) {
	return rollout.NewRollout(ctx, cfg.Stack, &rollout.RolloutArgs{
		GroupName: fl.GroupName, LaunchTemplateID: fl.LaunchTemplateID, LaunchTemplateVersion: fl.LaunchTemplateVersion,
		Alarms: mon.RollbackAlarms, Region: cfg.Region,
		MinHealthy: fleet.MinHealthy, MaxHealthy: fleet.MaxHealthy, WarmupSeconds: warmup(cfg),
		BakeSeconds: cfg.Alarms.Minutes * 60, TimeoutMinutes: RolloutTimeoutMinutes,
	})
}

// jobNames lists the stack's jobs, in config order.
func jobNames(cfg *config.Config) []string {
	var names []string
	for _, j := range cfg.Jobs {
		names = append(names, j.Name)
	}
	return names
}

// keyServices are the services that encrypt the stack's resources with its key on the deploy
// role's behalf: the firings table, the database (its storage and managed secret), the cache
// and its token's secret.
func keyServices(cfg *config.Config) []string {
	var out []string
	if len(cfg.Jobs) > 0 {
		out = append(out, "dynamodb")
	}
	if cfg.Cache != nil {
		out = append(out, "elasticache")
	}
	if cfg.Database != nil {
		out = append(out, "rds")
	}
	if cfg.Database != nil || cfg.Cache != nil {
		out = append(out, "secretsmanager")
	}
	return out
}
