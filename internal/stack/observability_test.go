package stack_test

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/components/observability"
	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// alarmsByMode is every alarm each stack must have (names after the immutable-edge-<stack>- prefix).
var alarmsByMode = map[string][]string{
	"dev": {"capacity", "status-check", "cpu", "http-5xx", "service-down", "disk", "certificate-expiry", "external-check"},
	"prod": {"capacity", "status-check", "cpu", "http-5xx", "service-down", "disk",
		"alb-5xx", "target-5xx", "unhealthy-hosts", "latency-p95", "rejected-connections", "certificate-expiry", "external-check",
		"at-max", "scaling-failed"},
}

func topicARN(s string) string {
	return "arn:aws:sns:eu-central-1:123456789012:immutable-edge-" + s + "-alerts"
}

func TestEveryAlarmExistsAndNotifiesTheTopic(t *testing.T) {
	for _, s := range stacks {
		p := stackPlan(t, s)
		var names []string
		for _, a := range p.OfType(tAlarm) {
			name := strings.TrimPrefix(a.Str("name"), "immutable-edge-"+s+"-")
			names = append(names, name)
			require.GreaterOrEqual(t, len(strings.Fields(a.Str("alarmDescription"))), 12, "%s %s: the description says what to check", s, name)
			require.NotEqual(t, false, a.Get("actionsEnabled").V, "%s %s", s, name)
			if a.Region != "eu-central-1" {
				continue // the external check, forwarded by EventBridge (below)
			}
			require.Equal(t, []string{topicARN(s)}, a.Strings("alarmActions"), "%s %s pages when it fires", s, name)
			require.Equal(t, []string{topicARN(s)}, a.Strings("okActions"), "%s %s says when it clears", s, name)
		}
		require.ElementsMatch(t, alarmsByMode[s], names, s)
		for _, name := range names {
			require.Contains(t, pagesTable, "| `"+name+"` |", "%s: docs/observability.md's \"What pages you\" table says what to do about %s", s, name)
		}
	}
}

// pagesTable is docs/observability.md, whose table lists every alarm and what to do.
var pagesTable = func() string {
	b, err := os.ReadFile("../../docs/observability.md")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

func TestAlarmThresholdsFollowTheConfig(t *testing.T) {
	cfg, err := plan.StackConfig("prod")
	require.NoError(t, err)
	p, err := plan.RunConfig("prod", cfg.Set("alarms.cpuPercent", 65).Set("alarms.latencyP95Seconds", 0.4).Set("alarms.minutes", 3), nil)
	require.NoError(t, err)
	cpu, ok := p.Find(tAlarm, "prod-cpu")
	require.True(t, ok)
	require.Equal(t, 65.0, cpu.Num("threshold"))
	require.Equal(t, 3.0, cpu.Num("evaluationPeriods"))
	latency, _ := p.Find(tAlarm, "prod-latency-p95")
	require.Equal(t, 0.4, latency.Num("threshold"))
	require.Equal(t, "p95", latency.Str("extendedStatistic"))
	capacity, _ := p.Find(tAlarm, "prod-capacity")
	require.Equal(t, 2.0, capacity.Num("threshold"), "fewer in service than the desired capacity")
	require.Equal(t, "LessThanThreshold", capacity.Str("comparisonOperator"))

	rate, _ := p.Find(tAlarm, "prod-http-5xx")
	require.Equal(t, "IF(total >= 20, 100 * FILL(failed, 0) / total, 0)", rate.Str("metricQueries.0.expression"))
	require.Equal(t, observability.Metric5xx, rate.Str("metricQueries.1.metric.metricName"))
	require.Equal(t, observability.MetricRequests, rate.Str("metricQueries.2.metric.metricName"))
	require.Equal(t, 180.0, rate.Num("metricQueries.1.metric.period"), "the rate is over the configured minutes")
}

func TestExternalCheckReachesTheTopicThroughEventBridge(t *testing.T) {
	for _, s := range stacks {
		externalCheckPath(t, s, map[string]string{"dev": "dev.example.com", "prod": "example.com"}[s])
	}
}

// externalCheckPath follows one stack's external check from Route 53 to its alert topic.
func externalCheckPath(t *testing.T, s, domain string) {
	t.Helper()
	p := stackPlan(t, s)
	check := one(t, p, tHealthCheck)
	require.Equal(t, "HTTPS", check.Str("type"))
	require.Equal(t, domain, check.Str("fqdn"))
	require.Equal(t, "/.edge/health", check.Str("resourcePath"))
	require.True(t, check.Bool("enableSni"))

	alarm, ok := p.Find(tAlarm, s+"-external-check")
	require.True(t, ok)
	require.Equal(t, observability.HealthCheckRegion, alarm.Region, "Route 53 publishes its metrics only there")
	require.Equal(t, "AWS/Route53", alarm.Str("namespace"))
	require.Equal(t, check.ID, alarm.Str("dimensions.HealthCheckId"))
	arn := "arn:aws:cloudwatch:us-east-1:123456789012:alarm:immutable-edge-" + s + "-external-check"

	rules := map[string]plan.Resource{}
	for _, r := range p.OfType(tEventRule) {
		var pattern struct {
			Resources []string `json:"resources"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.Str("eventPattern")), &pattern))
		if slices.Contains(pattern.Resources, arn) {
			rules[r.Region] = r
		}
	}
	require.Len(t, rules, 2, "a rule in us-east-1 and one in the stack's region match the alarm")
	targets := map[string]plan.Resource{}
	for _, tg := range p.OfType(tEventTarget) {
		for region, r := range rules {
			if tg.Region == region && tg.Str("rule") == r.Str("name") {
				targets[region] = tg
			}
		}
	}
	require.Equal(t, "arn:aws:events:eu-central-1:123456789012:event-bus/default", targets["us-east-1"].Str("arn"))
	require.NotEmpty(t, targets["us-east-1"].Str("roleArn"), "cross-region delivery needs a role")
	require.Equal(t, topicARN(s), targets["eu-central-1"].Str("arn"))
}

func TestRefreshFailuresGoToTheTopic(t *testing.T) {
	for _, s := range stacks {
		p := stackPlan(t, s)
		rule, ok := p.Find(tEventRule, s+"-refresh")
		require.True(t, ok, s)
		var pattern struct {
			Source     []string            `json:"source"`
			DetailType []string            `json:"detail-type"`
			Detail     map[string][]string `json:"detail"`
		}
		require.NoError(t, json.Unmarshal([]byte(rule.Str("eventPattern")), &pattern))
		require.Equal(t, []string{"aws.autoscaling"}, pattern.Source)
		require.ElementsMatch(t, []string{
			"EC2 Auto Scaling Instance Refresh Failed", "EC2 Auto Scaling Instance Refresh Cancelled",
			"EC2 Auto Scaling Instance Refresh Rollback Started", "EC2 Auto Scaling Instance Refresh Rollback Succeeded",
			"EC2 Auto Scaling Instance Refresh Rollback Failed"}, pattern.DetailType)
		require.Equal(t, []string{p.Outputs["asgName"].(string)}, pattern.Detail["AutoScalingGroupName"], "only this stack's group")
		target, ok := p.Find(tEventTarget, s+"-refresh")
		require.True(t, ok)
		require.Equal(t, topicARN(s), target.Str("arn"))
		require.Contains(t, target.Str("inputTransformer.inputTemplate"), "describe-instance-refreshes")
	}
}

func TestKeyAndTopicAdmitOnlyTheStacksPublishers(t *testing.T) {
	for _, s := range stacks {
		p := stackPlan(t, s)
		key, err := iampolicy.Parse(one(t, p, tKey).Str("policy"))
		require.NoError(t, err)
		require.True(t, one(t, p, tKey).Bool("enableKeyRotation"), s)
		services := map[string][]string{}
		for _, st := range key.Statement {
			if svc, ok := st.Principal["Service"].(string); ok {
				services[svc] = st.Action
				if strings.HasPrefix(svc, "logs.") {
					require.Equal(t, "arn:aws:logs:eu-central-1:123456789012:log-group:/immutable-edge/"+s+"/*",
						st.Condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"], "%s: logs may use the key for this stack's groups only", s)
				}
			}
		}
		require.Equal(t, []string{"kms:Decrypt", "kms:GenerateDataKey*"}, services["cloudwatch.amazonaws.com"], "%s: alarms can publish to the encrypted topic", s)
		require.Contains(t, services, "events.amazonaws.com", s)
		require.Contains(t, services, "budgets.amazonaws.com", s)
		require.Contains(t, services, "logs.eu-central-1.amazonaws.com", s)

		topic := one(t, p, tTopic)
		require.Equal(t, "arn:aws:kms:eu-central-1:123456789012:key/0123abcd-"+s+"-key", topic.Str("kmsMasterKeyId"), s)
		doc, err := iampolicy.Parse(one(t, p, "aws:sns/topicPolicy:TopicPolicy").Str("policy"))
		require.NoError(t, err)
		for _, st := range doc.Statement {
			require.NotEqual(t, "*", st.Principal["AWS"], s)
			if st.Principal["Service"] == "cloudwatch.amazonaws.com" {
				require.Equal(t, "arn:aws:cloudwatch:eu-central-1:123456789012:alarm:immutable-edge-"+s+"-*", st.Condition["ArnLike"]["aws:SourceArn"], s)
			}
		}
		sub := one(t, p, "aws:sns/topicSubscription:TopicSubscription")
		require.Equal(t, "email", sub.Str("protocol"))
		require.Equal(t, "ops@example.com", sub.Str("endpoint"))
	}
}

func TestBudgetWatchesTheStacksTag(t *testing.T) {
	for _, s := range stacks {
		b := one(t, stackPlan(t, s), tBudget)
		require.Equal(t, "TagKeyValue", b.Str("costFilters.0.name"), s)
		require.Equal(t, []string{"user:Stack$" + s}, b.Strings("costFilters.0.values"), s)
		require.Equal(t, map[string]string{"dev": "40.00", "prod": "250.00"}[s], b.Str("limitAmount"), s)
		require.Equal(t, "MONTHLY", b.Str("timeUnit"))
		got := map[string]float64{}
		for i := range b.Len("notifications") {
			n := "notifications." + strconv.Itoa(i)
			got[b.Str(n+".notificationType")] = b.Num(n + ".threshold")
			require.Equal(t, []string{topicARN(s)}, b.Strings(n+".subscriberSnsTopicArns"), s)
			require.Equal(t, []string{"ops@example.com"}, b.Strings(n+".subscriberEmailAddresses"), s)
		}
		require.Equal(t, map[string]float64{"ACTUAL": 80, "FORECASTED": 100}, got, s)
	}
}

func TestInstanceLogGroupsAreEncryptedAndKeptAsConfigured(t *testing.T) {
	for _, s := range stacks {
		p := stackPlan(t, s)
		var names []string
		for _, g := range p.OfType("aws:cloudwatch/logGroup:LogGroup") {
			require.Equal(t, one(t, p, tTopic).Str("kmsMasterKeyId"), g.Str("kmsKeyId"), "%s %s", s, g.Name)
			require.Equal(t, map[string]float64{"dev": 30, "prod": 365}[s], g.Num("retentionInDays"), s)
			if n := g.Str("name"); n != "" {
				names = append(names, n)
			}
		}
		prefix := "/immutable-edge/" + s + "/instance/"
		require.ElementsMatch(t, []string{prefix + "system", prefix + "haproxy", prefix + "containers", prefix + "cloud-init", prefix + "metrics"}, names, s)
		fleet, ok := p.Find("immutable-edge:fleet:Fleet", s)
		require.True(t, ok)
		for _, g := range p.OfType("aws:cloudwatch/logGroup:LogGroup") {
			if g.Str("name") != "" {
				require.Contains(t, fleet.DependsOn, g.URN, "%s: instances start after their log groups exist", s)
			}
		}
	}
}

// TestDashboardNamesOnlyMetricsTheStackProduces reads the dashboard and every alarm and checks
// each metric against its producer: the agent configuration in the user-data for the stack's
// namespace, the resources in the plan (and what they enable) for AWS namespaces.
func TestDashboardNamesOnlyMetricsTheStackProduces(t *testing.T) {
	for _, s := range stacks {
		p := stackPlan(t, s)
		produced := producedMetrics(t, p)
		var d observability.Dashboard
		require.NoError(t, json.Unmarshal([]byte(one(t, p, tDashboard).Str("dashboardBody")), &d), s)
		require.Equal(t, "immutable-edge-"+s, one(t, p, tDashboard).Str("dashboardName"))
		seen := map[string]bool{}
		for _, w := range d.Widgets {
			require.LessOrEqual(t, w.X+w.Width, 24, "%s %q fits the grid", s, w.Properties.Title)
			for _, row := range w.Properties.Metrics {
				ref := metricRef(row)
				require.Truef(t, produced[ref], "%s: dashboard %q shows %s, which nothing in the stack publishes", s, w.Properties.Title, ref)
				seen[ref] = true
			}
			if w.Type == "alarm" {
				require.Len(t, w.Properties.Alarms, len(p.OfType(tAlarm))-1, "%s: every alarm but the us-east-1 external check", s)
			}
		}
		for _, a := range p.OfType(tAlarm) {
			if a.Len("metricQueries") == 0 {
				ref := a.Str("namespace") + " " + a.Str("metricName") + dims(a.Get("dimensions").ObjectValue().Mappable())
				require.Truef(t, produced[ref], "%s alarm %s watches %s, which nothing publishes", s, a.Name, ref)
				continue
			}
			for i := range a.Len("metricQueries") {
				q := "metricQueries." + strconv.Itoa(i) + ".metric"
				if a.Str(q+".metricName") == "" {
					continue
				}
				ref := a.Str(q+".namespace") + " " + a.Str(q+".metricName") + dims(a.Get(q+".dimensions").ObjectValue().Mappable())
				require.Truef(t, produced[ref], "%s alarm %s reads %s, which nothing publishes", s, a.Name, ref)
			}
		}
		for _, m := range []string{"mem_used_percent", "disk_used_percent", "haproxy_frontend_http_requests_total"} {
			require.True(t, seen["ImmutableEdge/"+s+" "+m+" Stack="+s], "%s: the dashboard shows %s", s, m)
		}
	}
}

// producedMetrics lists "namespace name dim=value…" for everything the plan makes AWS or the
// instances publish.
func producedMetrics(t *testing.T, p *plan.Plan) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	lt := one(t, p, tLaunchTemplate)
	ud, err := base64.StdEncoding.DecodeString(lt.Str("userData"))
	require.NoError(t, err)
	own, err := bootstrap.PublishedMetrics(string(ud))
	require.NoError(t, err)
	for _, m := range own {
		out["ImmutableEdge/"+p.Stack+" "+m+" Stack="+p.Stack] = true
	}
	group := one(t, p, tGroup)
	asg := " AutoScalingGroupName=" + p.Outputs["asgName"].(string)
	for _, m := range group.Strings("enabledMetrics") {
		out["AWS/AutoScaling "+m+asg] = true
	}
	if lt.Bool("monitoring.enabled") {
		out["AWS/EC2 CPUUtilization"+asg], out["AWS/EC2 StatusCheckFailed"+asg] = true, true
	}
	for _, r := range p.OfType(tEventRule) {
		out["AWS/Events TriggeredRules RuleName="+r.Str("name")] = true
	}
	for _, hc := range p.OfType(tHealthCheck) {
		out["AWS/Route53 HealthCheckStatus HealthCheckId="+hc.ID] = true
	}
	for _, lb := range p.OfType(tLoadBalancer) {
		suffix := " LoadBalancer=app/" + lb.Name + "/0123456789abcdef"
		for _, m := range []string{"RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "TargetResponseTime", "RejectedConnectionCount"} {
			out["AWS/ApplicationELB "+m+suffix] = true
		}
		for _, tg := range p.OfType(tTargetGroup) {
			both := suffix + " TargetGroup=targetgroup/" + tg.Name + "/0123456789abcdef"
			out["AWS/ApplicationELB HealthyHostCount"+both], out["AWS/ApplicationELB UnHealthyHostCount"+both] = true, true
		}
	}
	for _, c := range p.OfType(tCertificate) {
		out["AWS/CertificateManager DaysToExpiry CertificateArn=arn:aws:acm:eu-central-1:123456789012:certificate/"+c.Name] = true
	}
	return out
}

// metricRef turns a dashboard metric row [namespace, name, dim, value, …, {options}] into a key.
func metricRef(row []any) string {
	ref := row[0].(string) + " " + row[1].(string)
	pairs := map[string]any{}
	for i := 2; i+1 < len(row); i += 2 {
		if k, ok := row[i].(string); ok {
			pairs[k] = row[i+1]
		}
	}
	return ref + dims(pairs)
}

func dims(m map[string]any) string {
	var out string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out += " " + k + "=" + m[k].(string)
	}
	return out
}
