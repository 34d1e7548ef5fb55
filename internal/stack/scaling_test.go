package stack_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/components/edge"
	"github.com/immutable-edge/immutable-edge/components/fleet"
	"github.com/immutable-edge/immutable-edge/components/observability"
	"github.com/immutable-edge/immutable-edge/internal/cost"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/policy"
	"github.com/immutable-edge/immutable-edge/internal/stack"
)

func TestProdScalesOnRequestsAndCPUBetweenMinAndMax(t *testing.T) {
	p := stackPlan(t, "prod")
	group := one(t, p, tGroup)
	lb, tg := one(t, p, tLoadBalancer), one(t, p, tTargetGroup)
	label := "app/" + lb.Name + "/0123456789abcdef/targetgroup/" + tg.Name + "/0123456789abcdef" // the mocks' arnSuffix outputs
	byMetric := map[string]plan.Resource{}
	for _, pol := range p.OfType(tScalingPolicy) {
		require.Equal(t, "TargetTrackingScaling", pol.Str("policyType"))
		require.Equal(t, group.GivenName(), pol.Str("autoscalingGroupName"), "wired to the group")
		require.True(t, pol.Get("estimatedInstanceWarmup").IsNull(), "the group's default instance warmup applies")
		byMetric[pol.Str("targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType")] = pol
	}
	require.Len(t, byMetric, 2)
	requests, cpu := byMetric[fleet.MetricRequests], byMetric[fleet.MetricCPU]
	require.Equal(t, label, requests.Str("targetTrackingConfiguration.predefinedMetricSpecification.resourceLabel"))
	require.Equal(t, []string{"arn:aws:elasticloadbalancing:eu-central-1:" + plan.Account + ":" + label[len("app/"+lb.Name+"/0123456789abcdef/"):]},
		group.Strings("targetGroupArns"), "the labelled target group is the group's (AWS requires it attached)")
	require.Equal(t, 1000.0, requests.Num("targetTrackingConfiguration.targetValue"))
	require.Equal(t, 60.0, cpu.Num("targetTrackingConfiguration.targetValue"))
	require.Equal(t, 2.0, group.Num("minSize"), "target tracking never goes below min")
	require.Equal(t, 4.0, group.Num("maxSize"), "nor above max: fleet.max is the ceiling")
	require.Equal(t, 2.0, group.Num("desiredCapacity"))

	// Warmup: from InService (after the launch hook held the boot) until the instance carries
	// its share: the target group's checks and a full metric period.
	warm := group.Num("defaultInstanceWarmup")
	require.GreaterOrEqual(t, warm, float64(edge.TargetReadySeconds(0)+stack.MetricPeriod))
	roll, ok := p.CommandWith("ROLLOUT_TEMPLATE_ID", group.Str("launchTemplate.id"))
	require.True(t, ok)
	require.Equal(t, strconv.Itoa(int(warm)), roll.Str("environment.ROLLOUT_WARMUP"), "the refresh waits the same warmup")

	slow, err := plan.RunConfig("prod", prodConfig(t).Set("alb.slowStartSeconds", 300), nil)
	require.NoError(t, err)
	require.Equal(t, float64(edge.TargetReadySeconds(300)+stack.MetricPeriod), one(t, slow, tGroup).Num("defaultInstanceWarmup"),
		"slow start ramps a newcomer's share: the warmup covers it")
}

func TestFixedFleetsHaveNoScaling(t *testing.T) {
	for _, s := range []string{"dev", "voting"} {
		p := stackPlan(t, s)
		require.Empty(t, p.OfType(tScalingPolicy), s)
		for _, name := range []string{"at-max", "scaling-failed"} {
			_, ok := findAlarm(p, "immutable-edge-"+s+"-"+name)
			require.False(t, ok, "%s has no %s alarm", s, name)
		}
		require.Equal(t, []string{"launchTemplate"}, one(t, p, tGroup).IgnoreChanges, "%s: desired capacity stays the config's", s)
	}
	off := prodConfig(t).With("scaling", map[string]any{"enabled": false})
	for _, tc := range []struct {
		name, status string
		cfg          plan.Config
	}{
		{"unwaived", policy.Fail, off},
		{"waived", policy.Waived, off.With("policyWaivers", []map[string]string{{"rule": "IE_ASG_SCALING", "reason": "a fixed pair while we measure the load"}})},
	} {
		fixed, err := plan.RunConfig("prod", tc.cfg, nil)
		require.NoError(t, err)
		require.Empty(t, fixed.OfType(tScalingPolicy), "scaling off")
		_, results, err := policy.EvaluatePlan(fixed)
		require.NoError(t, err)
		seen := 0
		for _, r := range results {
			if r.Rule == "IE_ASG_SCALING" {
				seen++
				require.Equal(t, tc.status, r.Status, "%s: a max nothing uses fails unless waived", tc.name)
				require.Contains(t, r.Reason, "fleet 2..4 but no scaling policy: the group stays at 2")
			}
		}
		require.Equal(t, 1, seen)
	}
}

func TestHeadroomAlarmsPageTheTopic(t *testing.T) {
	p := stackPlan(t, "prod")
	atMax, ok := findAlarm(p, "immutable-edge-prod-at-max")
	require.True(t, ok)
	require.Equal(t, "GroupDesiredCapacity", atMax.Str("metricName"))
	require.Equal(t, "GreaterThanOrEqualToThreshold", atMax.Str("comparisonOperator"))
	require.Equal(t, 4.0, atMax.Num("threshold"), "fleet.max")
	require.Equal(t, 30.0, atMax.Num("evaluationPeriods"), "scaling.atMaxMinutes of 1-minute periods")
	require.Equal(t, 60.0, atMax.Num("period"))
	failed, ok := findAlarm(p, "immutable-edge-prod-scaling-failed")
	require.True(t, ok)
	require.Equal(t, "TriggeredRules", failed.Str("metricName"))
	require.Equal(t, "immutable-edge-prod-scaling", failed.Str("dimensions.RuleName"))
	for _, a := range []plan.Resource{atMax, failed} {
		require.Equal(t, []string{topicARN("prod")}, a.Strings("alarmActions"))
		require.Equal(t, []string{topicARN("prod")}, a.Strings("okActions"))
	}
	roll, _ := p.CommandWith("ROLLOUT_TEMPLATE_ID", one(t, p, tGroup).Str("launchTemplate.id"))
	require.NotContains(t, roll.Str("environment.ROLLOUT_ALARMS"), "at-max", "a busy fleet is no reason to roll a version back")

	var rule, target plan.Resource
	for _, r := range p.OfType(tEventRule) {
		if r.Str("name") == "immutable-edge-prod-scaling" {
			rule = r
		}
	}
	for _, r := range p.OfType(tEventTarget) {
		if r.Str("rule") == "immutable-edge-prod-scaling" {
			target = r
		}
	}
	var pattern struct {
		Source     []string `json:"source"`
		DetailType []string `json:"detail-type"`
		Detail     struct {
			Group []string `json:"AutoScalingGroupName"`
		} `json:"detail"`
	}
	require.NoError(t, json.Unmarshal([]byte(rule.Str("eventPattern")), &pattern))
	require.Equal(t, []string{"aws.autoscaling"}, pattern.Source)
	require.Equal(t, observability.ScalingEvents, pattern.DetailType)
	require.Equal(t, []string{p.Outputs["asgName"].(string)}, pattern.Detail.Group)
	require.Equal(t, topicARN("prod"), target.Str("arn"), "the failure's reason is mailed")

	var d observability.Dashboard
	require.NoError(t, json.Unmarshal([]byte(one(t, p, tDashboard).Str("dashboardBody")), &d))
	shown := map[string]bool{}
	for _, w := range d.Widgets {
		for _, row := range w.Properties.Metrics {
			shown[metricRef(row)] = true
		}
	}
	asg := " AutoScalingGroupName=" + p.Outputs["asgName"].(string)
	require.True(t, shown["AWS/AutoScaling GroupMaxSize"+asg], "the ceiling is on the dashboard")
	require.True(t, shown["AWS/Events TriggeredRules RuleName=immutable-edge-prod-scaling"], "and the failed activities")
}

// TestASecondUpAfterAScaleOutLeavesDesiredCapacityAlone replays what the engine does with the
// group on the next `pulumi up` after its policies took it from 2 to 4 instances. The state
// holds the group as the last up recorded it, or, after a refresh (`pulumi up --refresh`), as
// AWS has it: for a bridged provider a refresh reads the live value into the outputs and into
// the recorded inputs (the bridge's Read extracts inputs from the refreshed outputs). The
// program registers the same inputs as before (desiredCapacity 2); the engine resets every
// ignoreChanges path to the recorded input (resource.PropertyPath.Reset, which
// processIgnoreChanges calls: pulumi pkg/resource/deploy/step_generator.go, v3.260.0); the
// provider then plans an update of desired_capacity exactly when that input differs from the
// state's value, since the attribute is Optional and Computed and resourceGroupUpdate sends it
// on HasChange (terraform-provider-aws internal/service/autoscaling/group.go at 00a919d).
func TestASecondUpAfterAScaleOutLeavesDesiredCapacityAlone(t *testing.T) {
	first := one(t, stackPlan(t, "prod"), tGroup)
	second, err := plan.RunConfig("prod", prodConfig(t), nil)
	require.NoError(t, err)
	again := one(t, second, tGroup)
	require.Equal(t, 2.0, again.Num("desiredCapacity"), "the program still registers the configured size")

	// planned is the desired capacity the provider would send, if any, given the recorded
	// inputs and the state's value.
	planned := func(ignore []string, recorded resource.PropertyMap, state float64) (float64, bool) {
		news := again.Inputs.Copy()
		for _, path := range ignore {
			p, err := resource.ParsePropertyPath(path)
			require.NoError(t, err)
			p.Reset(recorded, news)
		}
		v := news["desiredCapacity"]
		return v.NumberValue(), v.NumberValue() != state
	}
	const scaledOut = 4.0
	refreshed := first.Inputs.Copy()
	refreshed["desiredCapacity"] = resource.NewProperty(scaledOut)
	for _, tc := range []struct {
		name     string
		recorded resource.PropertyMap
		state    float64
	}{
		{"without a refresh", first.Inputs, 2}, // the state still says 2; AWS runs 4
		{"after a refresh", refreshed, scaledOut},
	} {
		_, changes := planned(again.IgnoreChanges, tc.recorded, tc.state)
		require.False(t, changes, "%s: the second up plans no change to desired capacity", tc.name)
	}
	// Without the ignore the configured 2 meets the refreshed 4: the provider sends 4 → 2 and
	// waits for the group to shrink, the fight terraform-provider-aws #470 describes.
	got, changes := planned([]string{"launchTemplate"}, refreshed, scaledOut)
	require.True(t, changes, "the check bites: without the ignore an up resets the scale-out")
	require.Equal(t, 2.0, got)
}

func TestCostRangesFromMinToMaxAndTheBudgetCoversTheMax(t *testing.T) {
	p := stackPlan(t, "prod")
	e := cost.Of(p)
	require.Equal(t, 2, e.Range.Min.Instances)
	require.Equal(t, 4, e.Range.Max.Instances)
	require.Equal(t, e.MonthlyUSD, e.Range.Min.MonthlyUSD, "prod starts at its minimum")
	perInstance := (e.Range.Max.MonthlyUSD - e.Range.Min.MonthlyUSD) / 2
	require.Greater(t, perInstance, 13.0, "a t4g.small, its volume and its metrics, each")
	for _, s := range []string{"dev", "voting"} {
		d := cost.Of(stackPlan(t, s))
		require.Equal(t, d.Range.Min, d.Range.Max, "%s does not scale", s)
		require.Equal(t, d.MonthlyUSD, d.Range.Max.MonthlyUSD)
	}

	tight, err := plan.RunConfig("prod", prodConfig(t).With("monthlyBudgetUsd", "190"), nil)
	require.NoError(t, err)
	_, results, err := policy.EvaluatePlan(tight)
	require.NoError(t, err)
	var budget policy.Result
	for _, r := range results {
		if r.Rule == "IE_BUDGET" {
			budget = r
		}
	}
	require.Equal(t, policy.Fail, budget.Status, "80%% of $190 is below prod at 4 instances")
	require.Contains(t, budget.Reason, "its first alert (80% of $190.00 = $152.00) is below the estimate at max capacity ($"+
		strconv.FormatFloat(e.Range.Max.MonthlyUSD, 'f', 2, 64)+", 4 instances)")
}

// prodConfig is Pulumi.prod.yaml as committed.
func prodConfig(t *testing.T) plan.Config {
	t.Helper()
	c, err := plan.StackConfig("prod")
	require.NoError(t, err)
	return c
}
