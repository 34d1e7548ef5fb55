package observability

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Dashboard is CloudWatch's dashboard body: a grid of widgets 24 units wide.
type Dashboard struct {
	Widgets []Widget `json:"widgets"`
}

// Widget is one dashboard tile.
type Widget struct {
	Type       string     `json:"type"` // metric or alarm
	X          int        `json:"x"`
	Y          int        `json:"y"`
	Width      int        `json:"width"`
	Height     int        `json:"height"`
	Properties Properties `json:"properties"`
}

// Properties configure a widget; Metrics rows are [namespace, name, dimension, value, ..., {options}].
type Properties struct {
	Title   string   `json:"title"`
	Region  string   `json:"region"`
	View    string   `json:"view,omitempty"`
	Stacked bool     `json:"stacked"`
	Period  int      `json:"period,omitempty"`
	Stat    string   `json:"stat,omitempty"`
	Metrics [][]any  `json:"metrics,omitempty"`
	Alarms  []string `json:"alarms,omitempty"`
}

// board collects what the dashboard shows once the resources it names exist.
type board struct {
	args        *MonitorArgs
	refreshRule *cloudwatch.EventRule
	alarms      []pulumi.StringOutput
	healthCheck pulumi.StringOutput // the external check
}

// resolved are the output values the widgets name.
type resolved struct {
	group, lb, tg, rule, healthCheck string
	alarms                           []string
}

func (b board) body() pulumi.StringOutput {
	a := b.args
	// The external check's alarm lives in us-east-1; the alarm tile shows this region's.
	in := []any{a.GroupName, b.refreshRule.Name, b.healthCheck}
	if a.Edge == "alb" {
		in = append(in, a.LoadBalancer, a.TargetGroup)
	} else {
		in = append(in, pulumi.String(""), pulumi.String(""))
	}
	for _, arn := range b.alarms {
		in = append(in, arn)
	}
	return pulumi.All(in...).ApplyT(func(v []any) (string, error) {
		r := resolved{group: v[0].(string), rule: v[1].(string), healthCheck: v[2].(string)}
		rest := v[5:]
		if a.Edge == "alb" {
			r.lb, r.tg = v[3].(string), v[4].(string)
		}
		for _, arn := range rest {
			r.alarms = append(r.alarms, arn.(string))
		}
		out, err := json.Marshal(b.layout(r))
		return string(out), err
	}).(pulumi.StringOutput)
}

// layout places the widgets: traffic on top, then health, then resources and the rollout.
func (b board) layout(r resolved) Dashboard {
	a := b.args
	group := []any{"AutoScalingGroupName", r.group}
	stack := func(name string, opts ...map[string]any) []any {
		return row(a.Namespace, name, []any{DimStack, a.Stack}, opts...)
	}
	graph := func(title, stat string, period int, metrics ...[]any) Properties {
		return Properties{Title: title, Region: a.Region, View: "timeSeries", Stat: stat, Period: period, Metrics: metrics}
	}
	var requests, errors, latency, healthy Properties
	external := row(nsRoute53, "HealthCheckStatus", []any{"HealthCheckId", r.healthCheck}, map[string]any{"region": HealthCheckRegion})
	if a.Edge == "alb" {
		lb := []any{"LoadBalancer", r.lb}
		requests = graph("Requests per minute", "Sum", 60, row(nsALB, "RequestCount", lb), stack(MetricRequests))
		errors = graph("5xx per minute", "Sum", 60, row(nsALB, "HTTPCode_ELB_5XX_Count", lb),
			row(nsALB, "HTTPCode_Target_5XX_Count", lb), stack(Metric5xx))
		latency = graph("Target response time (s)", "p95", 60,
			row(nsALB, "TargetResponseTime", lb, map[string]any{"stat": "p50"}),
			row(nsALB, "TargetResponseTime", lb, map[string]any{"stat": "p95"}),
			row(nsALB, "TargetResponseTime", lb, map[string]any{"stat": "p99"}))
		targets := []any{"TargetGroup", r.tg, "LoadBalancer", r.lb}
		healthy = graph("External check, targets and instances", "Minimum", 60, external, row(nsALB, "HealthyHostCount", targets),
			row(nsALB, "UnHealthyHostCount", targets, map[string]any{"stat": "Maximum"}),
			row(nsASG, "GroupInServiceInstances", group), row(nsASG, "GroupDesiredCapacity", group))
	} else {
		requests = graph("Requests per minute (HAProxy)", "Sum", 60, stack(MetricRequests))
		errors = graph("5xx per minute (HAProxy)", "Sum", 60, stack(Metric5xx))
		latency = graph("Average service response time (s, HAProxy)", "Average", 60, stack(MetricResponseAvg))
		healthy = graph("External check and instances", "Minimum", 60, external,
			row(nsASG, "GroupInServiceInstances", group), row(nsASG, "GroupDesiredCapacity", group))
	}
	services := graph("Services with no healthy container (0 = one is down)", "Minimum", 60, stack(MetricServersUp))
	compute := graph("CPU, memory, disk (%)", "Maximum", 300, row(nsEC2, "CPUUtilization", group, map[string]any{"stat": "Average"}),
		stack(MetricMemory), stack(MetricDisk))
	oom := graph("Out-of-memory kills", "Sum", 300, stack(MetricOOMKills))
	rollout := graph("Rollout: instances launching and leaving, failed refreshes", "Maximum", 60,
		row(nsASG, "GroupPendingInstances", group), row(nsASG, "GroupTerminatingInstances", group),
		row(nsEvents, "TriggeredRules", []any{"RuleName", r.rule}, map[string]any{"stat": "Sum"}))
	alarms := Properties{Title: "Alarms", Region: a.Region, Alarms: r.alarms}
	tiles := []Properties{requests, errors, latency, healthy, services, compute, oom, rollout}
	if a.Headroom != nil {
		tiles = append(tiles, graph("Scaling: wanted, in service and the ceiling; failed activities", "Maximum", 60,
			row(nsASG, "GroupDesiredCapacity", group), row(nsASG, "GroupInServiceInstances", group, map[string]any{"stat": "Minimum"}),
			row(nsASG, "GroupMaxSize", group),
			row(nsEvents, "TriggeredRules", []any{"RuleName", scalingRuleName(a)}, map[string]any{"stat": "Sum"})))
	}
	var d Dashboard
	for i, p := range tiles {
		d.Widgets = append(d.Widgets, Widget{Type: "metric", X: (i % 2) * 12, Y: (i / 2) * 6, Width: 12, Height: 6, Properties: p})
	}
	d.Widgets = append(d.Widgets, Widget{Type: "alarm", X: 0, Y: (len(tiles) + 1) / 2 * 6, Width: 24, Height: 4, Properties: alarms})
	return d
}

// row is one metric line: namespace, name, the dimension pairs, then any per-line options.
func row(namespace, name string, dims []any, opts ...map[string]any) []any {
	r := append([]any{namespace, name}, dims...)
	for _, o := range opts {
		r = append(r, o)
	}
	return r
}
