package fleet

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Scaling moves the group between Min and Max with load: one target-tracking policy on the load
// balancer's requests per instance and one on the group's average CPU. AWS adds instances when
// either is above its target and removes them only when both are below, never going under
// MinSize or over MaxSize ("Amazon EC2 Auto Scaling does not scale your group below the minimum
// capacity or above the maximum capacity":
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html).
type Scaling struct {
	// ResourceLabel names the load balancer and the group's target group for the
	// ALBRequestCountPerTarget metric: the final part of each ARN, joined by a slash
	// (app/<lb>/<id>/targetgroup/<tg>/<id>:
	// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PredefinedMetricSpecification.html).
	ResourceLabel pulumi.StringInput
	// RequestsPerTarget is the requests per instance per minute the group keeps.
	RequestsPerTarget int
	// CPUPercent is the average CPU the group keeps.
	CPUPercent float64
}

// Predefined metrics of the two policies.
const (
	MetricRequests = "ALBRequestCountPerTarget"
	MetricCPU      = "ASGAverageCPUUtilization"
)

func (s *Scaling) validate(a *FleetArgs) error {
	switch {
	case s.ResourceLabel == nil:
		return errors.New("Scaling.ResourceLabel is required")
	case a.TargetGroupARNs == nil:
		// "You can't specify a resource label unless the target group is attached to the Auto
		// Scaling group" (API_PredefinedMetricSpecification, as above).
		return errors.New("Scaling needs TargetGroupARNs: the request metric is the target group's")
	case a.Max <= a.Min:
		return fmt.Errorf("Scaling needs Max above Min, got %d/%d", a.Min, a.Max)
	case s.RequestsPerTarget < 1 || s.CPUPercent <= 0 || s.CPUPercent >= 100:
		return fmt.Errorf("Scaling targets must be positive and CPUPercent below 100, got %d/%v", s.RequestsPerTarget, s.CPUPercent)
	}
	return nil
}

// newPolicies attaches the two target-tracking policies to the group. Neither sets its own
// warmup: the group's default instance warmup applies to both, as AWS recommends ("we strongly
// recommend that you enable and configure the default instance warmup", and a policy's
// EstimatedInstanceWarmup would override it:
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-default-instance-warmup.html).
func newPolicies(ctx *pulumi.Context, name string, s *Scaling, group *autoscaling.Group, parent pulumi.ResourceOption) ([]*autoscaling.Policy, error) {
	specs := []struct {
		suffix, metric string
		label          pulumi.StringPtrInput
		target         float64
	}{
		{"requests", MetricRequests, s.ResourceLabel.ToStringOutput().ToStringPtrOutput(), float64(s.RequestsPerTarget)},
		{"cpu", MetricCPU, nil, s.CPUPercent},
	}
	var out []*autoscaling.Policy
	for _, sp := range specs {
		p, err := autoscaling.NewPolicy(ctx, name+"-"+sp.suffix, &autoscaling.PolicyArgs{
			Name:                 pulumi.String(name + "-" + sp.suffix),
			AutoscalingGroupName: group.Name,
			PolicyType:           pulumi.String("TargetTrackingScaling"),
			TargetTrackingConfiguration: &autoscaling.PolicyTargetTrackingConfigurationArgs{
				PredefinedMetricSpecification: &autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
					PredefinedMetricType: pulumi.String(sp.metric),
					ResourceLabel:        sp.label,
				},
				TargetValue: pulumi.Float64(sp.target),
				// Scale-in stays on: AWS removes instances "more gradually" and only when every
				// policy agrees (as-scaling-target-tracking.html, as above).
				DisableScaleIn: pulumi.Bool(false),
			},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("scaling policy %s: %w", sp.suffix, err)
		}
		out = append(out, p)
	}
	return out, nil
}
