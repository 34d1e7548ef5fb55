package cost

import (
	"encoding/base64"
	"fmt"
	"math"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// allowance is what the account gets free each month, used up in plan (URN) order.
type allowance map[string]float64

func allowanceFor(p *plan.Plan) allowance {
	a := allowance{"healthChecks": freeHealthChecks}
	if p.Config[KeyFreeTier] == "true" {
		a["alarms"], a["metrics"], a["dashboards"], a["logsGB"] = freeAlarmMetrics, freeCustomMetrics, freeDashboards, freeLogsGB
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

// priceObservability prices the key, the alarms, the instances' custom metrics and logs, the
// dashboard and the external check. Budgets without actions, AWS-service events on EventBridge
// and the first 1,000 email notifications are free.
func priceObservability(p *plan.Plan, free allowance, add func(plan.Resource, float64, string, ...any)) {
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
	instances := 0.0
	for _, g := range p.OfType("aws:autoscaling/group:Group") {
		instances += g.Num("desiredCapacity")
		lt, ok := p.ByID(g.Str("launchTemplate.id"))
		if !ok {
			continue
		}
		if raw, err := base64.StdEncoding.DecodeString(lt.Str("userData")); err == nil {
			if metrics, err := bootstrap.PublishedMetrics(string(raw)); err == nil {
				n := float64(len(metrics))
				charged, note := free.take("metrics", n)
				add(lt, charged*customMetric.USD, "%s custom metrics from the instances (Stack dimension, not per instance)%s × $%.2f",
					trim(n), note, customMetric.USD)
			}
		}
	}
	for _, lg := range p.OfType("aws:cloudwatch/logGroup:LogGroup") {
		if lg.Str("namePrefix") != "" {
			continue // the flow logs, priced with the flow log
		}
		usd, basis := free.logs(InstanceLogGBPerGroup*instances, lg.Num("retentionInDays"))
		add(lg, usd, "%s GB a month per instance assumed × %v: %s", trim(InstanceLogGBPerGroup), instances, basis)
	}
	for _, r := range p.OfType("aws:cloudwatch/dashboard:Dashboard") {
		charged, note := free.take("dashboards", 1)
		add(r, charged*dashboardMo.USD, "1 dashboard%s × $%.2f", note, dashboardMo.USD)
	}
	for _, r := range p.OfType("aws:route53/healthCheck:HealthCheck") {
		charged, note := free.take("healthChecks", 1)
		usd := charged * healthCheckMo.USD
		basis := fmt.Sprintf("1 health check%s × $%.2f", note, healthCheckMo.USD)
		if r.Str("type") == "HTTPS" {
			usd += healthHTTPSMo.USD
			basis += fmt.Sprintf(" + HTTPS option $%.2f (assumed an AWS endpoint: the Elastic IP is in the account)", healthHTTPSMo.USD)
		}
		add(r, usd, "%s", basis)
	}
}
