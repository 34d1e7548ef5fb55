package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/cost"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

// costChoices prices each cheaper choice on the committed prod stack: what prod costs with it,
// what it saves, what it gives up and which policy rules it makes fail (each then needs a
// waiver with its reason in policyWaivers).
func costChoices(prod *stackFacts) (string, error) {
	priced, err := cost.PriceChoices(prod.name, prod.plan.Config)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "prod as committed: **$%.2f a month**. Each row plans prod with one more choice; a choice prod has taken is priced against its absence.\n\n", prod.estimate.MonthlyUSD)
	b.WriteString("| choice | prod a month | saves | trade-off | rules it fails (a waiver each) |\n|---|--:|--:|---|---|\n")
	for _, pr := range priced {
		fails, err := newFailures(prod, pr.Plan)
		if err != nil {
			return "", err
		}
		name := "`" + pr.Name() + "`"
		if pr.Taken {
			name += " (taken in Pulumi.prod.yaml)"
		}
		fmt.Fprintf(&b, "| %s | %.2f | %.2f | %s | %s |\n", name, pr.With, pr.Saves(), cell(pr.TradeOff), orNone(fails))
	}
	all, err := plan.RunConfig(prod.name, cost.Untaken(prod.plan.Config), nil)
	if err != nil {
		return "", err
	}
	fails, err := newFailures(prod, all)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "\nEvery choice above at once: **$%.2f a month** (rules it fails: %s).\n", cost.Of(all).MonthlyUSD, orNone(fails))
	return b.String(), nil
}

// newFailures lists the rules that fail on p but not on the committed stack.
func newFailures(base *stackFacts, p *plan.Plan) ([]string, error) {
	_, results, err := policy.EvaluatePlan(p)
	if err != nil {
		return nil, err
	}
	before := map[string]bool{}
	for _, r := range base.results {
		before[r.Rule] = before[r.Rule] || r.Status == policy.Fail
	}
	now := map[string]bool{}
	for _, r := range results {
		if r.Status == policy.Fail && !before[r.Rule] {
			now[r.Rule] = true
		}
	}
	return slices.Sorted(maps.Keys(now)), nil
}

func orNone(rules []string) string {
	if len(rules) == 0 {
		return "none"
	}
	return "`" + strings.Join(rules, "`, `") + "`"
}
