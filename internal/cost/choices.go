package cost

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// Choice is a config change that lowers a stack's bill, with what it gives up.
type Choice struct {
	// Set are the config values of the choice; Without, the values it replaces (a stack that has
	// taken the choice is priced against them to show what it saves).
	Set, Without map[string]any
	TradeOff     string
}

// Choices are the cheaper settings a small team would weigh for an alb stack, cheapest trade-off
// first. Each is priced by planning the stack with it (PriceChoices).
var Choices = []Choice{
	{Set: map[string]any{"s3Endpoint": true}, Without: map[string]any{"s3Endpoint": false},
		TradeOff: "None but one: S3 connections open while the endpoint is added may break once (docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html). The default wherever a NAT gateway exists."},
	{Set: map[string]any{"logRetentionDays": 90}, Without: map[string]any{"logRetentionDays": 365},
		TradeOff: "Flow logs and instance logs are kept 90 days instead of a year: a shorter window to investigate an incident found late."},
	{Set: map[string]any{"azCount": 2}, Without: map[string]any{"azCount": 3},
		TradeOff: "The load balancer and instances span two zones instead of three: one zone outage halves the capacity instead of taking a third."},
	{Set: map[string]any{"detailedMonitoring": false}, Without: map[string]any{"detailedMonitoring": true},
		TradeOff: "EC2's CPU and network metrics every 5 minutes instead of every minute: the cpu alarm evaluates 5-minute periods and pages up to 5 minutes later. Status checks stay 1-minute."},
	{Set: map[string]any{"instanceType": "t4g.micro"}, Without: map[string]any{"instanceType": "t4g.small"},
		TradeOff: "1 GiB of memory instead of 2 for HAProxy, the agents and both containers, and half the burst CPU credits: fine for a quiet site, an out-of-memory kill under load."},
	{Set: map[string]any{"natGateways": "none", "instanceSubnets": "public"}, Without: map[string]any{"natGateways": "single", "instanceSubnets": "private"},
		TradeOff: "No NAT gateway: the instances sit in the public subnets with a public IPv4 address each (priced here) and reach AWS directly. Their security group still admits only the load balancer, but a mistake in it exposes them to the internet, and their outbound address changes with every instance."},
}

// Name is how the choice reads in a stack file: `key: value` pairs, sorted.
func (c Choice) Name() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c.Set)) {
		parts = append(parts, fmt.Sprintf("%s: %v", k, c.Set[k]))
	}
	return strings.Join(parts, ", ")
}

// Taken reports whether cfg already holds the choice's values.
func (c Choice) Taken(cfg plan.Config) bool {
	return reflect.DeepEqual(c.Set, pick(cfg, c.Set))
}

// pick reads cfg's values of the given keys, decoded as the choice writes them.
func pick(cfg plan.Config, keys map[string]any) map[string]any {
	out := map[string]any{}
	for k, want := range keys {
		v, ok := cfg[plan.Project+":"+k]
		if !ok {
			continue
		}
		switch want.(type) {
		case bool:
			out[k] = v == "true"
		case int:
			var n int
			if _, err := fmt.Sscan(v, &n); err == nil {
				out[k] = n
			}
		default:
			out[k] = v
		}
	}
	return out
}

// Priced is one choice's effect on a stack: its monthly total with the choice and without it.
type Priced struct {
	Choice
	Taken         bool
	With, Without float64
	Plan          *plan.Plan // the stack planned with the choice
}

// Saves is what the choice takes off the bill.
func (p Priced) Saves() float64 { return cents(p.Without - p.With) }

// PriceChoices plans the stack once per choice, on top of cfg: a choice cfg has taken is priced against
// its Without values, any other against cfg as it is.
func PriceChoices(stack string, cfg plan.Config) ([]Priced, error) {
	base, err := plan.RunConfig(stack, cfg, nil)
	if err != nil {
		return nil, err
	}
	total := Of(base).MonthlyUSD
	var out []Priced
	for _, c := range Choices {
		pr := Priced{Choice: c, Taken: c.Taken(cfg), With: total, Without: total, Plan: base}
		other := c.Set
		if pr.Taken {
			other = c.Without
		}
		p, err := plan.RunConfig(stack, apply(cfg, other), nil)
		if err != nil {
			return nil, fmt.Errorf("choice %s: %w", c.Name(), err)
		}
		if pr.Taken {
			pr.Without = Of(p).MonthlyUSD
		} else {
			pr.With, pr.Plan = Of(p).MonthlyUSD, p
		}
		out = append(out, pr)
	}
	return out, nil
}

// Untaken is cfg with every choice it has not taken yet.
func Untaken(cfg plan.Config) plan.Config {
	for _, c := range Choices {
		if !c.Taken(cfg) {
			cfg = apply(cfg, c.Set)
		}
	}
	return cfg
}

func apply(cfg plan.Config, values map[string]any) plan.Config {
	for _, k := range slices.Sorted(maps.Keys(values)) {
		cfg = cfg.With(k, values[k])
	}
	return cfg
}
