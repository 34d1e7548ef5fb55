package policy

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/cost"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

const (
	tKey         = "aws:kms/key:Key"
	tKeyAlias    = "aws:kms/alias:Alias"
	tTopic       = "aws:sns/topic:Topic"
	tTopicPolicy = "aws:sns/topicPolicy:TopicPolicy"
	tTopicSub    = "aws:sns/topicSubscription:TopicSubscription"
	tAlarm       = "aws:cloudwatch/metricAlarm:MetricAlarm"
	tEventRule   = "aws:cloudwatch/eventRule:EventRule"
	tEventTarget = "aws:cloudwatch/eventTarget:EventTarget"
	tDashboard   = "aws:cloudwatch/dashboard:Dashboard"
	tHealthCheck = "aws:route53/healthCheck:HealthCheck"
	tBudget      = "aws:budgets/budget:Budget"
	tProvider    = "pulumi:providers:aws"
)

var monitoringRules = []Rule{
	{ID: "CKV_AWS_7", Ref: "checkov CKV_AWS_7; FSBP KMS.4", Severity: Medium,
		Rationale: "Yearly key rotation limits what one leaked key version can decrypt.",
		check: each([]string{tKey}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("enableKeyRotation"), "rotates yearly", "rotation is off")
		})},
	{ID: "CKV_AWS_33", Ref: "checkov CKV_AWS_33; FSBP KMS.2 spirit", Severity: High,
		Rationale: "A key policy names its principals; a wildcard principal hands the key to every AWS account.",
		check: each([]string{tKey}, func(c *Context, r plan.Resource) (bool, string) {
			return openTo(r.Str("policy"), "key")
		})},
	{ID: "CKV_AWS_26", Ref: "checkov CKV_AWS_26; FSBP SNS.1", Severity: Medium,
		Rationale: "Alert messages are encrypted at rest with a customer managed key (CloudWatch cannot use aws/sns).",
		check: each([]string{tTopic}, func(c *Context, r plan.Resource) (bool, string) {
			k := r.Str("kmsMasterKeyId")
			return verdict(k != "" && !strings.HasSuffix(k, "alias/aws/sns"), "encrypted with "+k, "not encrypted with a customer managed key")
		})},
	{ID: "CKV_AWS_169", Ref: "checkov CKV_AWS_169", Severity: High,
		Rationale: "Nobody outside the account and the named AWS services may publish to or read the alert topic.",
		check: each([]string{tTopicPolicy}, func(c *Context, r plan.Resource) (bool, string) {
			return openTo(r.Str("policy"), "topic")
		})},
	{ID: "CKV_AWS_319", Ref: "checkov CKV_AWS_319", Severity: Medium,
		Rationale: "An alarm with its actions disabled pages nobody.",
		check: each([]string{tAlarm}, func(c *Context, r plan.Resource) (bool, string) {
			v := r.Get("actionsEnabled")
			return verdict(!v.IsBool() || v.BoolValue(), "actions enabled", "actions disabled")
		})},
	{ID: "IE_ALARM_NOTIFIES", Ref: "immutable-edge: alerts reach a person", Severity: High,
		Rationale: "Every alarm tells the alert topic when it fires and when it clears, directly or through an EventBridge rule.",
		check: each([]string{tAlarm}, func(c *Context, r plan.Resource) (bool, string) {
			topics := topicNames(c)
			if hasTopic(r.Strings("alarmActions"), topics) && hasTopic(r.Strings("okActions"), topics) {
				return true, "alarm and OK actions to the alert topic"
			}
			if forwardedToTopic(c, r.Str("name"), topics) {
				return true, "state changes reach the alert topic through EventBridge"
			}
			return false, "neither its actions nor an EventBridge rule reach the alert topic"
		})},
	{ID: "IE_BUDGET", Ref: "immutable-edge: cost control; AWS Well-Architected COST02-BP05", Severity: Medium,
		Rationale: "The stack's spend is watched by a budget on its cost allocation tag that alerts on actual and forecast spend.",
		check: func(c *Context) []Finding {
			var out []Finding
			for _, b := range c.Plan.OfType(tBudget) {
				problems := budgetProblems(c, b)
				out = append(out, Finding{Resource: b, OK: len(problems) == 0, Reason: strings.Join(problems, "; ")})
				if len(problems) == 0 {
					out[len(out)-1].Reason = "alerts on actual and forecast spend of stack " + c.Plan.Stack
				}
			}
			if len(out) == 0 {
				out = append(out, Finding{Reason: "the stack has no budget"})
			}
			return out
		}},
}

// openTo fails a resource policy with an Allow to a wildcard principal.
func openTo(policy, what string) (bool, string) {
	doc, err := iampolicy.Parse(policy)
	if err != nil {
		return false, what + " policy does not parse"
	}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			continue
		}
		aws := st.Principal["AWS"]
		if st.Principal == nil || aws == "*" || st.Principal["*"] != nil {
			return false, "statement " + st.Sid + " allows any principal"
		}
	}
	return true, what + " policy names its principals"
}

// topicNames are the names of the plan's topics; an SNS ARN ends in the topic's name.
func topicNames(c *Context) []string {
	var out []string
	for _, r := range c.Plan.OfType(tTopic) {
		out = append(out, r.Str("name"))
	}
	return out
}

func isTopic(arn string, names []string) bool {
	return strings.HasPrefix(arn, "arn:") && strings.Contains(arn, ":sns:") && slices.Contains(names, arn[strings.LastIndex(arn, ":")+1:])
}

func hasTopic(arns, names []string) bool {
	return slices.ContainsFunc(arns, func(a string) bool { return isTopic(a, names) })
}

// forwardedToTopic reports whether an EventBridge rule in the plan matches the named alarm's
// state changes and targets one of the topics (the rule in the stack's region that the
// us-east-1 rule forwards to).
func forwardedToTopic(c *Context, alarm string, topics []string) bool {
	for _, rule := range c.Plan.OfType(tEventRule) {
		var pattern struct {
			Resources []string `json:"resources"`
		}
		if json.Unmarshal([]byte(rule.Str("eventPattern")), &pattern) != nil ||
			!slices.ContainsFunc(pattern.Resources, func(a string) bool { return strings.HasSuffix(a, ":alarm:"+alarm) }) {
			continue
		}
		for _, target := range c.Plan.OfType(tEventTarget) {
			if target.Str("rule") == rule.Str("name") && target.Region == rule.Region && isTopic(target.Str("arn"), topics) {
				return true
			}
		}
	}
	return false
}

func budgetProblems(c *Context, b plan.Resource) []string {
	var problems []string
	filter := "user:Stack$" + c.Plan.Stack
	if b.Str("costFilters.0.name") != "TagKeyValue" || !slices.Contains(b.Strings("costFilters.0.values"), filter) {
		problems = append(problems, "does not filter by the cost allocation tag "+filter)
	}
	kinds := map[string]bool{}
	for i := range b.Len("notifications") {
		n := "notifications." + strconv.Itoa(i)
		if len(b.Strings(n+".subscriberSnsTopicArns")) > 0 {
			kinds[b.Str(n+".notificationType")] = true
		}
	}
	if !kinds["ACTUAL"] || !kinds["FORECASTED"] {
		problems = append(problems, "does not alert the topic on both actual and forecast spend")
	}
	if p := headroomProblem(c, b); p != "" {
		problems = append(problems, p)
	}
	return problems
}

// headroomProblem is set when the budget's first alert on actual spend comes below what the
// stack costs at the most instances it runs (cost.Estimate's range): every month at max
// capacity would page as overspend, so the budget says nothing a scale-out did not.
func headroomProblem(c *Context, b plan.Resource) string {
	limit, err := strconv.ParseFloat(b.Str("limitAmount"), 64)
	if err != nil {
		return "its limit is not a number"
	}
	first := 0.0
	for i := range b.Len("notifications") {
		n := "notifications." + strconv.Itoa(i)
		if b.Str(n+".notificationType") == "ACTUAL" && b.Str(n+".thresholdType") == "PERCENTAGE" && (first == 0 || b.Num(n+".threshold") < first) {
			first = b.Num(n + ".threshold")
		}
	}
	if first == 0 {
		return ""
	}
	alert, top := limit*first/100, cost.Of(c.Plan).Range.Max
	if alert < top.MonthlyUSD {
		return fmt.Sprintf("its first alert (%v%% of $%.2f = $%.2f) is below the estimate at max capacity ($%.2f, %d instances): raise monthlyBudgetUsd to at least $%.2f",
			first, limit, alert, top.MonthlyUSD, top.Instances, math.Ceil(top.MonthlyUSD*100/first))
	}
	return ""
}
