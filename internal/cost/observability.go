package cost

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// allowance is what the account gets free each month, used up in plan (URN) order.
type allowance map[string]float64

func allowanceFor(p *plan.Plan) allowance {
	a := allowance{"healthChecks": freeHealthChecks, "dashboards": freeDashboards}
	if p.Config[KeyFreeTier] == "true" {
		a["alarms"], a["metrics"], a["logsGB"] = freeAlarmMetrics, freeCustomMetrics, freeLogsGB
	}
	return a
}

// take uses up to n units of a kind and returns how many are left to pay for.
func (a allowance) take(kind string, n float64) (charged float64, note string) {
	free := math.Min(n, a[kind])
	a[kind] -= free
	if free == 0 {
		return n, ""
	}
	return n - free, fmt.Sprintf(" (%s of them within the account's free allowance)", trim(free))
}

// logs prices gb a month ingested and kept for retention days; CloudWatch's free 5 GB covers
// ingestion and storage together.
func (a allowance) logs(gb, retention float64) (float64, string) {
	stored := gb * math.Min(retention/30, 12)
	in, inNote := a.take("logsGB", gb)
	kept, keptNote := a.take("logsGB", stored)
	return in*logsGB.USD + kept*logsStored.USD, fmt.Sprintf("%s GB ingested × $%.2f%s + %s GB kept (%.0f days) × $%.4f%s",
		trim(gb), logsGB.USD, inNote, trim(stored), retention, logsStored.USD, keptNote)
}

func trim(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// priceObservability prices the key, the alarms, the instances' custom and detailed-monitoring
// metrics and logs, the dashboard and the external check. Budgets without actions, AWS-service
// events on EventBridge and the first 1,000 email notifications are free.
func priceObservability(p *plan.Plan, free allowance, count func(plan.Resource) float64, add func(plan.Resource, float64, string, ...any)) {
	for _, r := range p.OfType("aws:kms/key:Key") {
		add(r, kmsKeyMonth.USD, "1 customer managed key × $%.2f", kmsKeyMonth.USD)
	}
	for _, r := range p.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		n := 1.0
		if q := r.Len("metricQueries"); q > 0 {
			n = 0
			for i := range q {
				if r.Str(fmt.Sprintf("metricQueries.%d.metric.metricName", i)) != "" {
					n++ // a metric-math alarm pays for each metric it reads
				}
			}
		}
		charged, note := free.take("alarms", n)
		add(r, charged*alarmMetric.USD, "%s alarm metric(s)%s × $%.2f", trim(n), note, alarmMetric.USD)
	}
	instances := priceInstanceMetrics(p, free, count, add)
	for _, lg := range p.OfType("aws:cloudwatch/logGroup:LogGroup") {
		if lg.Str("namePrefix") != "" {
			continue // the flow logs, priced with the flow log
		}
		usd, basis := free.logs(InstanceLogGBPerGroup*instances, lg.Num("retentionInDays"))
		add(lg, usd, "%s GB a month per instance assumed × %v: %s", trim(InstanceLogGBPerGroup), instances, basis)
	}
	for _, r := range p.OfType("aws:cloudwatch/dashboard:Dashboard") {
		n := dashboardMetrics(r.Str("dashboardBody"))
		if n > freeDashboardMetric {
			add(r, dashboardMo.USD, "1 dashboard of %d metrics (the free ones show at most %d) × $%.2f", n, freeDashboardMetric, dashboardMo.USD)
			continue
		}
		charged, note := free.take("dashboards", 1)
		add(r, charged*dashboardMo.USD, "1 dashboard of %d metrics%s × $%.2f", n, note, dashboardMo.USD)
	}
	priceHealthChecks(p, free, add)
}

// priceInstanceMetrics prices what each group's instances publish: the agent's custom metrics
// (counted from the user-data) and, with detailed monitoring on, EC2's own metrics every
// minute, for count(group) instances. It returns the instances counted.
func priceInstanceMetrics(p *plan.Plan, free allowance, count func(plan.Resource) float64, add func(plan.Resource, float64, string, ...any)) float64 {
	instances := 0.0
	for _, g := range p.OfType("aws:autoscaling/group:Group") {
		n := count(g)
		instances += n
		lt, ok := p.ByID(g.Str("launchTemplate.id"))
		if !ok {
			continue
		}
		if raw, err := base64.StdEncoding.DecodeString(lt.Str("userData")); err == nil {
			if metrics, err := bootstrap.PublishedMetrics(string(raw)); err == nil {
				m := float64(len(metrics))
				charged, note := free.take("metrics", m)
				add(lt, charged*customMetric.USD, "%s custom metrics from the instances (Stack dimension, not per instance)%s × $%.2f",
					trim(m), note, customMetric.USD)
			}
		}
		if lt.Bool("monitoring.enabled") {
			m := n * ec2DetailedMetrics
			charged, note := free.take("metrics", m)
			add(lt, charged*customMetric.USD, "detailed monitoring: %v instance(s) × %d EC2 metrics every minute, billed as custom metrics%s × $%.2f",
				n, ec2DetailedMetrics, note, customMetric.USD)
		}
	}
	return instances
}

// priceHealthChecks prices the external checks: Route 53 bills a check of an AWS endpoint (a
// resource in the account) below one of anything else, and each optional feature (HTTPS here)
// on top, even for the free checks.
func priceHealthChecks(p *plan.Plan, free allowance, add func(plan.Resource, float64, string, ...any)) {
	endpoint := "the Elastic IP"
	if len(p.OfType("aws:lb/loadBalancer:LoadBalancer")) > 0 {
		endpoint = "the load balancer"
	}
	for _, r := range p.OfType("aws:route53/healthCheck:HealthCheck") {
		charged, note := free.take("healthChecks", 1)
		usd := charged * healthCheckMo.USD
		basis := fmt.Sprintf("1 health check%s × $%.2f", note, healthCheckMo.USD)
		if strings.HasPrefix(r.Str("type"), "HTTPS") {
			usd += healthHTTPSMo.USD
			basis += fmt.Sprintf(" + HTTPS option $%.2f (assumed an AWS endpoint: %s is in the account; as a non-AWS endpoint $%.2f + $%.2f)",
				healthHTTPSMo.USD, endpoint, healthNonAWSMo.USD, healthNonAWSHTTPSMo.USD)
		}
		add(r, usd, "%s", basis)
	}
}

// dashboardMetrics counts the metric lines of a dashboard body, as CloudWatch's free tier counts
// a dashboard's metrics.
func dashboardMetrics(body string) int {
	var d struct {
		Widgets []struct {
			Properties struct {
				Metrics []json.RawMessage `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return freeDashboardMetric + 1 // unreadable: not assumed free
	}
	n := 0
	for _, w := range d.Widgets {
		n += len(w.Properties.Metrics)
	}
	return n
}
