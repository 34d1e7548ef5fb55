package stack

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/components/edge"
	"github.com/immutable-edge/immutable-edge/components/fleet"
	"github.com/immutable-edge/immutable-edge/components/observability"
	"github.com/immutable-edge/immutable-edge/internal/config"
)

// MetricPeriod is the period of the group's and the load balancer's 1-minute metrics.
const MetricPeriod = 60

// warmup is the group's default instance warmup: how long after an instance goes InService its
// metrics stay out of the group's aggregate, and what a refresh waits before it counts the
// instance. AWS starts it at InService, after the launch hook
// (https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html: "It waits until
// the instance reaches the InService state and the instance warmup has finished"), and the boot
// up to the health gate happens in Pending:Wait, while the instance already counts in the
// group's desired capacity. So what is left is the load balancer's part: its health checks and
// slow start, and one metric period with the instance carrying its full share, so its first
// CPU and request figures are not those of an idle newcomer (which would pull the average under
// target and let a second scale-out wait, or a scale-in start, too early).
func warmup(cfg *config.Config) int {
	if cfg.Edge != config.EdgeALB {
		return fleet.DefaultWarmup
	}
	return max(fleet.DefaultWarmup, edge.TargetReadySeconds(cfg.ALB.SlowStart)+MetricPeriod)
}

// scaling is the target tracking of a scaling stack, nil for a fixed one. The resource label is
// the load balancer's and the target group's ARN suffixes, joined by a slash.
func scaling(cfg *config.Config, t edge.Telemetry) *fleet.Scaling {
	if !cfg.Scales() {
		return nil
	}
	return &fleet.Scaling{
		ResourceLabel:     pulumi.Sprintf("%s/%s", t.LoadBalancer, t.TargetGroup),
		RequestsPerTarget: cfg.Scaling.RequestsPerTarget,
		CPUPercent:        cfg.Scaling.CPUPercent,
	}
}

// headroom is what the monitor watches of a scaling group's ceiling, nil for a fixed one.
func headroom(cfg *config.Config) *observability.Headroom {
	if !cfg.Scales() {
		return nil
	}
	return &observability.Headroom{Max: cfg.Fleet.Max, AtMaxMinutes: cfg.Scaling.AtMaxMinutes}
}
