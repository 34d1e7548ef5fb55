// Package policy checks a Plan against the security rules this project commits to, each mapped
// to the checkov, Trivy or AWS Foundational Security Best Practices control it stands for.
// Policies run as Go over the mocked plan because CrossGuard packs are not available in Go.
package policy

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// Severity ranks how much a failure matters.
type Severity string

// Severities.
const (
	High   Severity = "high"
	Medium Severity = "medium"
	Low    Severity = "low"
)

// Status of one rule on one resource.
const (
	Pass   = "pass"
	Fail   = "fail"
	Waived = "waived"
)

// Rule is one security rule.
type Rule struct {
	ID        string // what a waiver names
	Ref       string // the checkov / Trivy / FSBP control(s) it corresponds to
	Severity  Severity
	Rationale string // one line: why it matters
	check     func(*Context) []Finding
}

// Finding is a rule's verdict on one resource.
type Finding struct {
	Resource plan.Resource
	OK       bool
	Reason   string
}

// Result is one line of the policy report (the synth JSON's "policy" entries).
type Result struct {
	Rule     string   `json:"rule"`
	Ref      string   `json:"ref"`
	Resource string   `json:"resource"` // URN
	Status   string   `json:"status"`
	Reason   string   `json:"reason"`
	Severity Severity `json:"-"`
}

// Context is what rules read: the plan and the stack choices it was made with.
type Context struct {
	Plan         *plan.Plan
	Edge         string   // config.EdgeALB or config.EdgeEIP
	RequiredTags []string // what IE_TAGS asks for: (*config.Config).RequiredTagKeys, as config validation checked
	// Services are the configured services, whose environment IE_ENV_SECRETS reads: it reaches
	// the plan only inside user-data, which may be compressed.
	Services []config.Service
	// Fleet is the configured capacity: a group's maxSize may exceed fleet.max only to leave a
	// rollout room, which is not a range to scale in (IE_ASG_SCALING).
	Fleet config.Fleet
}

// Rules returns every rule, sorted by id.
func Rules() []Rule {
	var all []Rule
	for _, group := range [][]Rule{networkRules, computeRules, environmentRules, loadBalancerRules, storageRules, identityRules, monitoringRules, jobRules, dataRules} {
		all = append(all, group...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all
}

// EvaluatePlan loads the stack config the plan was made from and runs every rule over the plan.
func EvaluatePlan(p *plan.Plan) (*config.Config, []Result, error) {
	cfg, err := config.Load(p.Project, p.Stack, p.Config)
	if err != nil {
		return nil, nil, err
	}
	results, err := Evaluate(p, cfg)
	return cfg, results, err
}

// Evaluate runs every rule over the plan made from cfg. A waiver (cfg.PolicyWaivers) turns a
// rule's failures into "waived" with its reason; a waiver naming no rule is a config error, and
// one that matches no failure is a failure of its own (a stale waiver hides the next real problem).
func Evaluate(p *plan.Plan, cfg *config.Config) ([]Result, error) {
	waivers := cfg.PolicyWaivers
	rules := Rules()
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
	}
	reasons := map[string]string{}
	for i, w := range waivers {
		if !slices.Contains(ids, w.Rule) {
			return nil, &config.KeyError{Key: fmt.Sprintf("%s:policyWaivers[%d].rule", config.Namespace, i),
				Reason: fmt.Sprintf("%q is not a policy rule%s", w.Rule, nearest(w.Rule, ids))}
		}
		reasons[w.Rule] = w.Reason
	}
	c := &Context{Plan: p, Edge: cfg.Edge, RequiredTags: cfg.RequiredTagKeys(), Services: cfg.Services, Fleet: cfg.Fleet}
	var out []Result
	for _, rule := range rules {
		waived := 0
		for _, f := range rule.check(c) {
			res := Result{Rule: rule.ID, Ref: rule.Ref, Resource: f.Resource.URN, Status: Pass, Reason: f.Reason, Severity: rule.Severity}
			if !f.OK {
				res.Status = Fail
				if why, ok := reasons[rule.ID]; ok {
					res.Status, res.Reason = Waived, f.Reason+"; waived: "+why
					waived++
				}
			}
			out = append(out, res)
		}
		if why, ok := reasons[rule.ID]; ok && waived == 0 {
			out = append(out, Result{Rule: rule.ID, Ref: rule.Ref, Status: Fail, Severity: rule.Severity,
				Reason: "waiver matches no failing resource; remove it (" + why + ")"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].Resource < out[j].Resource
	})
	return out, nil
}

// Count tallies results by status.
func Count(results []Result) map[string]int {
	n := map[string]int{Pass: 0, Fail: 0, Waived: 0}
	for _, r := range results {
		n[r.Status]++
	}
	return n
}

func nearest(got string, ids []string) string {
	for _, id := range ids {
		if strings.EqualFold(id, got) || strings.EqualFold(strings.ReplaceAll(id, "_", ""), strings.ReplaceAll(got, "_", "")) {
			return " (did you mean " + id + "?)"
		}
	}
	return " (docs/policy.md lists the rules)"
}

// each builds a check that judges every resource of the given types on its own.
func each(types []string, judge func(c *Context, r plan.Resource) (bool, string)) func(*Context) []Finding {
	return func(c *Context) []Finding {
		var out []Finding
		for _, r := range c.Plan.Resources {
			if r.Custom && slices.Contains(types, r.Type) {
				ok, why := judge(c, r)
				out = append(out, Finding{Resource: r, OK: ok, Reason: why})
			}
		}
		return out
	}
}

// verdict turns a condition into a finding's fields with a reason either way.
func verdict(ok bool, pass, fail string) (bool, string) {
	if ok {
		return true, pass
	}
	return false, fail
}
