package config

import (
	"errors"
)

// Scaling is how the alb edge's group follows load between fleet.min and fleet.max: two
// target-tracking policies, on requests per instance and on average CPU, each adding instances
// when its metric is above target and the pair removing them only when both are below.
type Scaling struct {
	// Enabled is nil until defaults apply: on for the alb edge whenever fleet.max exceeds
	// fleet.min. Off leaves the group at its desired capacity (policy rule IE_ASG_SCALING fails
	// unless waived with the reason).
	Enabled *bool `json:"enabled"`
	// RequestsPerTarget is the load balancer's requests per instance per minute the group keeps
	// (the ALBRequestCountPerTarget metric).
	RequestsPerTarget int `json:"requestsPerTarget"`
	// CPUPercent is the group's average CPU it keeps (ASGAverageCPUUtilization).
	CPUPercent float64 `json:"cpuPercent"`
	// AtMaxMinutes is how long the group may sit at fleet.max before the at-max alarm pages.
	AtMaxMinutes int `json:"atMaxMinutes"`
}

// Scaling defaults, explained in Pulumi.yaml's description of the key.
const (
	// DefaultRequestsPerTarget is about 17 requests a second per instance: far below what HAProxy
	// carries (docs/edge-benchmark.md), so it stands for the application behind it, which waits on
	// its database rather than burning CPU. Measure yours and set it.
	DefaultRequestsPerTarget = 1000
	// DefaultScalingCPUPercent leaves room under the cpu alarm (80) for the minutes a new
	// instance takes to boot, while the ones in service carry the load.
	DefaultScalingCPUPercent = 60
	// DefaultAtMaxMinutes pages after half an hour at the ceiling: long enough that a burst the
	// fleet absorbed does not page, short enough that a day of lost requests does not go unseen.
	DefaultAtMaxMinutes = 30
)

// MaxAtMaxMinutes is CloudWatch's limit on an alarm of 1-minute periods: evaluation periods
// times period may be at most one day
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
const MaxAtMaxMinutes = 1440

// Scales reports whether the group follows load: the alb edge, a range to move in, scaling on.
func (c *Config) Scales() bool {
	return c.Edge == EdgeALB && c.Fleet.Max > c.Fleet.Min && c.Scaling != nil && *c.Scaling.Enabled
}

// applyScalingDefaults fills scaling on the alb edge; the eip edge keeps nil, so a scaling key
// on it is still seen (and refused) by validateScaling.
func (c *Config) applyScalingDefaults() {
	if c.Edge != EdgeALB {
		return
	}
	if c.Scaling == nil {
		c.Scaling = &Scaling{}
	}
	s := c.Scaling
	if s.Enabled == nil {
		on := c.Fleet.Max > c.Fleet.Min
		s.Enabled = &on
	}
	if s.RequestsPerTarget == 0 {
		s.RequestsPerTarget = DefaultRequestsPerTarget
	}
	if s.CPUPercent == 0 {
		s.CPUPercent = DefaultScalingCPUPercent
	}
	if s.AtMaxMinutes == 0 {
		s.AtMaxMinutes = DefaultAtMaxMinutes
	}
}

func (c *Config) validateScaling() error {
	var errs problems
	fail := func(k, format string, a ...any) { errs.add(key(k), format, a...) }
	s := c.Scaling
	switch {
	case s == nil:
		return nil
	case c.Edge == EdgeEIP:
		fail("scaling", "the eip edge runs one instance, which holds the Elastic IP: it cannot scale (remove scaling, or use edge alb)")
		return errors.Join(errs...)
	case *s.Enabled && c.Fleet.Max == c.Fleet.Min: // true only when set: the default is max > min
		fail("scaling", "fleet.min and fleet.max are both %d: there is no range to scale in (raise fleet.max, or set scaling.enabled false)", c.Fleet.Min)
	}
	if s.RequestsPerTarget < 1 || s.RequestsPerTarget > 1000000 {
		fail("scaling.requestsPerTarget", "must be 1..1000000 requests per instance per minute, got %d", s.RequestsPerTarget)
	}
	switch {
	case s.CPUPercent < 10 || s.CPUPercent > 90:
		fail("scaling.cpuPercent", "must be 10..90 (average CPU the group keeps), got %v", s.CPUPercent)
	case s.CPUPercent >= c.Alarms.CPUPercent:
		fail("scaling.cpuPercent", "must be below alarms.cpuPercent (%v): the group would sit where the cpu alarm pages, got %v", c.Alarms.CPUPercent, s.CPUPercent)
	}
	if s.AtMaxMinutes < 1 || s.AtMaxMinutes > MaxAtMaxMinutes {
		fail("scaling.atMaxMinutes", "must be 1..%d, got %d", MaxAtMaxMinutes, s.AtMaxMinutes)
	}
	return errors.Join(errs...)
}
