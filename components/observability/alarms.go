package observability

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// MinRequests is how many requests a window needs before its error percentage can page: one
// failed request out of three is noise, not an outage.
const MinRequests = 20

// metric is one CloudWatch metric: namespace, name and dimensions.
type metric struct {
	namespace, name string
	dims            pulumi.StringMap
}

// alarm is one row of the alarm table: a metric (or a metric-math query) and its condition.
type alarm struct {
	name, description string
	metric            metric
	stat              string // Minimum, Maximum, Average, Sum or a percentile like p95
	queries           cloudwatch.MetricAlarmMetricQueryArray
	compare           string
	threshold         float64
	period            int // seconds
	evaluations       int // consecutive periods that must breach
	missing           string
	// rollback: the alarm judges a rollout. One that fires while a refresh runs or bakes rolls
	// it back: errors, a service down, a target the load balancer finds unhealthy. Slow trends
	// (CPU, disk, latency, certificates) do not.
	rollback bool
}

// alarms is every alarm of the stack's edge, except the eip edge's external check.
func alarms(a *MonitorArgs) []alarm {
	t := a.Thresholds
	group := pulumi.StringMap{"AutoScalingGroupName": a.GroupName}
	stack := pulumi.StringMap{DimStack: pulumi.String(a.Stack)}
	holds := fmt.Sprintf("for %d minutes", t.Minutes)
	cpuPeriod, cpuEvaluations := ec2Window(a)
	list := []alarm{
		{name: "capacity", metric: metric{nsASG, "GroupInServiceInstances", group}, stat: "Minimum",
			compare: "LessThanThreshold", threshold: float64(a.Desired), period: 60, evaluations: 15, missing: "breaching",
			description: fmt.Sprintf("Fewer than %d instances in service for 15 minutes (the launch hook's limit). Check the group's activity history for failed launches or abandoned boots, then the cloud-init log group of the newest instance.", a.Desired)},
		{name: "status-check", metric: metric{nsEC2, "StatusCheckFailed", group}, stat: "Maximum",
			compare: "GreaterThanOrEqualToThreshold", threshold: 1, period: 60, evaluations: 2, missing: "notBreaching",
			description: "An instance fails its EC2 system or instance status check. The group replaces it; if this repeats, check the AWS Health dashboard and the instance's system log."},
		{name: "cpu", metric: metric{nsEC2, "CPUUtilization", group}, stat: "Average",
			compare: "GreaterThanThreshold", threshold: t.CPUPercent, period: cpuPeriod, evaluations: cpuEvaluations, missing: "notBreaching",
			description: fmt.Sprintf("Average CPU above %v%% %s. Check the dashboard's request rate and the containers' logs; on t4g types also CPUCreditBalance. Scale with a larger instanceType or fleet.", t.CPUPercent, holds)},
		{name: "http-5xx", rollback: true, queries: rate(metric{a.Namespace, Metric5xx, stack}, metric{a.Namespace, MetricRequests, stack}, t.Minutes),
			compare: "GreaterThanThreshold", threshold: t.HTTP5xxPercent, evaluations: 1, missing: "notBreaching",
			description: fmt.Sprintf("HAProxy answered more than %v%% of requests with 5xx over %d minutes (at least %d requests). 503 means a service backend is down (see service-down); 502/504 come from the containers: check the containers log group.", t.HTTP5xxPercent, t.Minutes, MinRequests)},
		{name: "service-down", rollback: true, metric: metric{a.Namespace, MetricServersUp, stack}, stat: "Minimum",
			compare: "LessThanThreshold", threshold: 1, period: 60, evaluations: t.Minutes, missing: "notBreaching",
			description: fmt.Sprintf("A service has no healthy container on some instance %s; HAProxy answers its hosts with 503. Check the containers log group and `systemctl status ie-svc@<service>` through Session Manager.", holds)},
		{name: "disk", metric: metric{a.Namespace, MetricDisk, stack}, stat: "Maximum",
			compare: "GreaterThanThreshold", threshold: t.DiskPercent, period: 300, evaluations: 1, missing: "notBreaching",
			description: fmt.Sprintf("An instance's root volume is more than %v%% full. Old images or logs fill it: raise rootVolumeGb (a new launch template version replaces the instances).", t.DiskPercent)},
	}
	if a.Edge == "alb" {
		lb := pulumi.StringMap{"LoadBalancer": a.LoadBalancer}
		requests := metric{nsALB, "RequestCount", lb}
		list = append(list,
			alarm{name: "alb-5xx", rollback: true, queries: rate(metric{nsALB, "HTTPCode_ELB_5XX_Count", lb}, requests, t.Minutes),
				compare: "GreaterThanThreshold", threshold: t.HTTP5xxPercent, evaluations: 1, missing: "notBreaching",
				description: fmt.Sprintf("The load balancer itself answered more than %v%% of requests with 5xx over %d minutes: usually no healthy target (see unhealthy-hosts) or targets closing connections.", t.HTTP5xxPercent, t.Minutes)},
			alarm{name: "target-5xx", rollback: true, queries: rate(metric{nsALB, "HTTPCode_Target_5XX_Count", lb}, requests, t.Minutes),
				compare: "GreaterThanThreshold", threshold: t.HTTP5xxPercent, evaluations: 1, missing: "notBreaching",
				description: fmt.Sprintf("The instances answered more than %v%% of requests with 5xx over %d minutes. Check the http-5xx and service-down alarms and the containers log group.", t.HTTP5xxPercent, t.Minutes)},
			alarm{name: "unhealthy-hosts", rollback: true, metric: metric{nsALB, "UnHealthyHostCount", pulumi.StringMap{"LoadBalancer": a.LoadBalancer, "TargetGroup": a.TargetGroup}},
				stat: "Maximum", compare: "GreaterThanThreshold", threshold: 0, period: 60, evaluations: t.Minutes, missing: "notBreaching",
				description: fmt.Sprintf("A target fails the load balancer's health check (HAProxy's /.edge/health) %s. The group replaces it after the grace period; check service-down and the haproxy log group.", holds)},
			alarm{name: "latency-p95", metric: metric{nsALB, "TargetResponseTime", lb}, stat: "p95",
				compare: "GreaterThanThreshold", threshold: t.LatencyP95Seconds, period: 60, evaluations: t.Minutes, missing: "notBreaching",
				description: fmt.Sprintf("95%% of requests took longer than %vs %s. Check CPU and memory on the dashboard and the slowest service's logs.", t.LatencyP95Seconds, holds)},
			alarm{name: "rejected-connections", metric: metric{nsALB, "RejectedConnectionCount", lb}, stat: "Sum",
				compare: "GreaterThanThreshold", threshold: 0, period: 60, evaluations: 1, missing: "notBreaching",
				description: "The load balancer rejected connections because it reached its connection limit. Check the request rate for a flood; AWS Shield or WAF if it is an attack."},
			alarm{name: "certificate-expiry", metric: metric{nsACM, "DaysToExpiry", pulumi.StringMap{"CertificateArn": a.Certificate}}, stat: "Minimum",
				compare: "LessThanThreshold", threshold: float64(t.CertificateDays), period: 86400, evaluations: 1, missing: "notBreaching",
				description: fmt.Sprintf("The ACM certificate expires in under %d days: managed renewal failed. Check that its DNS validation records still exist in the hosted zone (ACM console shows the renewal status).", t.CertificateDays)},
		)
	} else {
		list = append(list, alarm{name: "certificate-expiry", metric: metric{a.Namespace, MetricCertDays, stack}, stat: "Minimum",
			compare: "LessThanThreshold", threshold: float64(t.CertificateDays), period: 86400, evaluations: 1, missing: "breaching",
			description: fmt.Sprintf("The node's Let's Encrypt certificate expires in under %d days, or the node reported no figure for a day. Check the system log group for certbot and ie-cert-metric, and the Route 53 _acme-challenge records.", t.CertificateDays)})
	}
	if h := a.Headroom; h != nil {
		list = append(list,
			alarm{name: "at-max", metric: metric{nsASG, "GroupDesiredCapacity", group}, stat: "Minimum",
				compare: "GreaterThanOrEqualToThreshold", threshold: float64(h.Max), period: 60, evaluations: h.AtMaxMinutes, missing: "notBreaching",
				description: fmt.Sprintf("The group has wanted all %d instances fleet.max allows for %d minutes: it is out of room, and more load goes unserved or slow. Check the dashboard's requests and CPU; raise fleet.max (the budget's estimate at max grows with it) or a larger instanceType. A rollout needs room under fleet.max to launch replacements first.", h.Max, h.AtMaxMinutes)},
			// Auto Scaling's launch and terminate failures reach the rule (scalingEvents), which
			// mails the cause; TriggeredRules counts its matches
			// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html).
			alarm{name: "scaling-failed", metric: metric{nsEvents, "TriggeredRules", pulumi.StringMap{"RuleName": pulumi.String(scalingRuleName(a))}}, stat: "Sum",
				compare: "GreaterThanOrEqualToThreshold", threshold: 1, period: 60, evaluations: 1, missing: "notBreaching",
				description: "Auto Scaling failed to launch or terminate an instance of the group (a scale-out, a scale-in or a replacement). The mail from the scaling rule says why (capacity, quota, a launch template the deploy role cannot pass); `aws autoscaling describe-scaling-activities --auto-scaling-group-name <group>` shows every attempt."},
		)
	}
	for _, job := range a.Jobs {
		// job.sh publishes JobFailed once a firing, on the instance that ran it (1 for a run that
		// failed, timed out or could not reach the firings table); no figure between firings.
		list = append(list, alarm{name: "job-" + job, metric: metric{a.Namespace, MetricJobFailed, pulumi.StringMap{
			DimStack: pulumi.String(a.Stack), DimJob: pulumi.String(job)}}, stat: "Maximum",
			compare: "GreaterThanOrEqualToThreshold", threshold: 1, period: 300, evaluations: 1, missing: "notBreaching",
			description: fmt.Sprintf("A run of job %s failed: its container exited non-zero or hit timeoutMinutes, or no instance could claim the firing. The containers log group (tag ie-job-%s) and the system log group (job.sh) say which; the firings table holds its exit code.", job, job)})
	}
	return list
}

// ec2Window is the period and number of periods of an alarm on EC2's instance metrics. Without
// detailed monitoring CPUUtilization comes every 5 minutes, so 1-minute periods would mostly be
// empty: the alarm evaluates 5-minute periods covering at least the configured minutes. Status
// checks stay at 1 minute either way: "By default, this metric is available at a 1-minute
// frequency at no charge" (AWS's StatusCheckFailed description, as pulumi/awsx carries it:
// https://pulumi.com/docs/reference/pkg/nodejs/pulumi/awsx/functions/classic.ec2.metrics.statusCheckFailed.html).
func ec2Window(a *MonitorArgs) (period, evaluations int) {
	if a.BasicMonitoring {
		return 300, (a.Thresholds.Minutes + 4) / 5
	}
	return 60, a.Thresholds.Minutes
}

// rate is the percentage of requests that failed over the window, 0 while fewer than
// MinRequests arrived.
func rate(failed, total metric, minutes int) cloudwatch.MetricAlarmMetricQueryArray {
	period := 60 * minutes
	q := func(id string, m metric) cloudwatch.MetricAlarmMetricQueryInput {
		return cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String(id), ReturnData: pulumi.Bool(false),
			Metric: cloudwatch.MetricAlarmMetricQueryMetricArgs{
				Namespace: pulumi.String(m.namespace), MetricName: pulumi.String(m.name), Dimensions: m.dims,
				Period: pulumi.Int(period), Stat: pulumi.String("Sum"),
			}}
	}
	return cloudwatch.MetricAlarmMetricQueryArray{
		cloudwatch.MetricAlarmMetricQueryArgs{
			Id: pulumi.String("percent"), ReturnData: pulumi.Bool(true), Label: pulumi.String("% of requests failed"),
			Expression: pulumi.String(fmt.Sprintf("IF(total >= %d, 100 * FILL(failed, 0) / total, 0)", MinRequests)),
		},
		q("failed", failed),
		q("total", total),
	}
}
