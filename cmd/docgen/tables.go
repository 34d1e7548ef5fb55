package main

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
	"github.com/immutable-edge/immutable-edge/internal/cost"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/permissions"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

// counts are what the account tests check for one stack, counted.
type counts struct {
	requests, actions, beyond, excluded int
	previewRequests, previewActions     int
}

func permissionCounts(table *awsapi.Table, stacks map[string]*stackFacts, account *plan.Plan) (map[string]counts, error) {
	out := map[string]counts{}
	for name, f := range stacks {
		docs, err := managed(account, "immutable-edge-"+name+"-deploy-")
		if err != nil {
			return nil, err
		}
		needs, excluded, err := permissions.Needs(table, f.plan)
		if err != nil {
			return nil, err
		}
		pre, err := permissions.PreviewNeeds(table, f.plan)
		if err != nil {
			return nil, err
		}
		out[name] = counts{
			requests: len(needs), actions: len(permissions.Actions(needs)), beyond: permissions.Beyond(table, docs, needs),
			excluded: len(excluded), previewRequests: len(pre), previewActions: len(permissions.Actions(pre)),
		}
	}
	return out, nil
}

// managed parses the account plan's managed policies whose names start with prefix.
func managed(account *plan.Plan, prefix string) ([]iampolicy.Document, error) {
	var out []iampolicy.Document
	for _, r := range account.OfType("aws:iam/policy:Policy") {
		if strings.HasPrefix(r.Str("name"), prefix) {
			d, err := iampolicy.Parse(r.Str("policy"))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Name, err)
			}
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no managed policy named %s*", prefix)
	}
	return out, nil
}

func figures(stacks map[string]*stackFacts, account *plan.Plan, c map[string]counts, table *awsapi.Table) string {
	names := slices.Sorted(maps.Keys(stacks))
	var b strings.Builder
	row := func(what string, f func(*stackFacts) string) {
		fmt.Fprintf(&b, "| %s |", what)
		for _, n := range names {
			fmt.Fprintf(&b, " %s |", f(stacks[n]))
		}
		b.WriteString("\n")
	}
	b.WriteString("| what | " + strings.Join(names, " | ") + " |\n|---|" + strings.Repeat("--:|", len(names)) + "\n")
	row("resources planned (components among them)", func(s *stackFacts) string {
		comp := 0
		for _, r := range s.plan.Resources {
			if !r.Custom {
				comp++
			}
		}
		return fmt.Sprintf("%d (%d)", len(s.plan.Resources), comp)
	})
	row("data sources read", func(s *stackFacts) string { return fmt.Sprint(len(s.plan.Reads)) })
	row("policy rules applied", func(s *stackFacts) string {
		rules := map[string]bool{}
		for _, r := range s.results {
			rules[r.Rule] = true
		}
		return fmt.Sprint(len(rules))
	})
	row("policy checks: pass / waived / fail", func(s *stackFacts) string {
		n := policy.Count(s.results)
		return fmt.Sprintf("%d / %d / %d", n[policy.Pass], n[policy.Waived], n[policy.Fail])
	})
	row("monthly cost estimate", func(s *stackFacts) string { return fmt.Sprintf("$%.2f", s.estimate.MonthlyUSD) })
	row("deploy role: requests checked / actions needed", func(s *stackFacts) string {
		return fmt.Sprintf("%d / %d", c[s.name].requests, c[s.name].actions)
	})
	row("deploy role: actions granted beyond need / excluded on purpose", func(s *stackFacts) string {
		return fmt.Sprintf("%d / %d", c[s.name].beyond, c[s.name].excluded)
	})
	row("preview role: requests / actions a preview sends", func(s *stackFacts) string {
		return fmt.Sprintf("%d / %d", c[s.name].previewRequests, c[s.name].previewActions)
	})
	fmt.Fprintf(&b, "\nThe account program plans %d resources; the policy has %d rules; the derived AWS API table covers %d resource types and %d data sources (%d SDK operations, %d IAM actions).\n",
		len(account.Resources), len(policy.Rules()), len(table.Resources), len(table.DataSources), len(table.Operations), len(table.Actions))
	return b.String()
}

// configTable is Pulumi.yaml's config schema as a table.
func configTable(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var doc struct {
		Config map[string]struct {
			Type        string `yaml:"type"`
			Description string `yaml:"description"`
			Items       struct {
				Type string `yaml:"type"`
			} `yaml:"items"`
		} `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	var b strings.Builder
	b.WriteString("| key | type | what it sets |\n|---|---|---|\n")
	for _, k := range slices.Sorted(maps.Keys(doc.Config)) {
		e := doc.Config[k]
		typ := e.Type
		if typ == "array" && e.Items.Type != "" {
			typ = "array of " + e.Items.Type
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k, typ, cell(e.Description))
	}
	return b.String(), nil
}

func policyRules() string {
	var b strings.Builder
	b.WriteString("| rule | source | severity | why |\n|---|---|---|---|\n")
	for _, r := range policy.Rules() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.ID, cell(r.Ref), r.Severity, cell(r.Rationale))
	}
	return b.String()
}

func costTable(e cost.Estimate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$%.2f a month, eu-central-1 list prices of %s.\n\n| resource | USD a month | basis |\n|---|--:|---|\n", e.MonthlyUSD, cost.PriceDate)
	for _, it := range e.Items {
		fmt.Fprintf(&b, "| `%s` | %.2f | %s |\n", it.Resource[strings.LastIndex(it.Resource, "::")+2:], it.USD, cell(it.Basis))
	}
	return b.String()
}

// policySizes are the account program's managed policies against IAM's 6,144 characters.
func policySizes(account *plan.Plan) string {
	var b strings.Builder
	b.WriteString("| policy | characters (IAM allows 6,144) |\n|---|--:|\n")
	pols := account.OfType("aws:iam/policy:Policy")
	slices.SortFunc(pols, func(a, b plan.Resource) int { return strings.Compare(a.Str("name"), b.Str("name")) })
	for _, r := range pols {
		fmt.Fprintf(&b, "| `%s` | %d |\n", r.Str("name"), len(strings.Join(strings.Fields(r.Str("policy")), "")))
	}
	return b.String()
}

// apiTable says where the derived table came from and what it holds.
func apiTable(t *awsapi.Table) string {
	var b strings.Builder
	src := t.Provider
	fmt.Fprintf(&b, "Derived from [%s](https://github.com/%s) at commit `%s` (%s)", src.Repository, src.Repository, src.Commit, src.Date)
	if src.Note != "" {
		fmt.Fprintf(&b, ": %s", src.Note)
	}
	b.WriteString(".\n\n")
	if len(src.Overlays) > 0 {
		b.WriteString("| file read at another revision | source | sha256 |\n|---|---|---|\n")
		for _, o := range src.Overlays {
			fmt.Fprintf(&b, "| `%s` | `%s` | `%s…` |\n", o.Path, o.Source, o.SHA256[:16])
		}
		b.WriteString("\n")
	}
	ops := map[string]int{}
	for _, typ := range t.Resources {
		for phase, list := range typ.Ops {
			ops[phase] += len(list)
		}
	}
	fmt.Fprintf(&b, "IAM data: `%s@%s` (%s). %d resource types, %d data sources, %d SDK operations mapped to %d IAM actions (%d operations authorised by actions not named after them, each with AWS's page).\n\n",
		t.IAM.Package, t.IAM.Version, t.IAM.Integrity, len(t.Resources), len(t.DataSources), len(t.Operations), len(t.Actions), len(t.IAM.Overrides))
	b.WriteString("| phase | operations reached, summed over the resource types |\n|---|--:|\n")
	for _, phase := range awsapi.Phases {
		fmt.Fprintf(&b, "| %s | %d |\n", phase, ops[phase])
	}
	b.WriteString("\nProvider code paths the deploy roles do not grant, because only an argument the program never sets opens them (the test checks the argument on every planned resource):\n\n| type | action | why |\n|---|---|---|\n")
	for _, e := range permissions.ExclusionList() {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", e.Type, e.Action, cell(e.Reason))
	}
	return b.String()
}

// providerChecks counts the planned values checked against the provider's compiled validators.
func providerChecks(t *awsapi.Table, stacks map[string]*stackFacts) string {
	var b strings.Builder
	b.WriteString("| stack | planned values checked | values whose validator the table cannot evaluate | violations |\n|---|--:|--:|--:|\n")
	for _, name := range slices.Sorted(maps.Keys(stacks)) {
		checked, unchecked, bad := 0, 0, 0
		for _, r := range stacks[name].plan.Resources {
			if !r.Custom || !strings.HasPrefix(r.Type, "aws:") || r.Type == "pulumi:providers:aws" {
				continue
			}
			res, err := t.Check(r.Type, r.Name, r.Inputs.Mappable())
			if err != nil {
				continue
			}
			checked += res.Checked
			unchecked += len(res.Unchecked)
			bad += len(res.Violations)
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", name, checked, unchecked, bad)
	}
	kinds := map[string]int{}
	var walk func(awsapi.Rule)
	walk = func(r awsapi.Rule) {
		kinds[r.Kind]++
		for _, o := range r.Of {
			walk(o)
		}
	}
	arguments := 0
	for _, typ := range t.Resources {
		for _, c := range typ.Constraints {
			if c.Rule != nil {
				arguments++
				walk(*c.Rule)
			}
		}
	}
	fmt.Fprintf(&b, "\n%d arguments of the planned types carry a validator; compiled into rules of these kinds:", arguments)
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		fmt.Fprintf(&b, " %s %d,", k, kinds[k])
	}
	return strings.TrimSuffix(b.String(), ",") + ".\n"
}

// cell keeps a value on one table row.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

// stackTable is each committed stack's shape, from its config.
func stackTable(stacks map[string]*stackFacts) string {
	var b strings.Builder
	b.WriteString("| stack | edge | instances | network |\n|---|---|---|---|\n")
	for _, name := range slices.Sorted(maps.Keys(stacks)) {
		c := stacks[name].cfg
		edge := "`eip`: one instance claims an Elastic IP once healthy; HAProxy terminates TLS (Let's Encrypt)"
		if c.Edge == "alb" {
			edge = "`alb`: internet-facing ALB with an ACM certificate"
		}
		count := fmt.Sprint(c.Fleet.Min)
		if c.Fleet.Max != c.Fleet.Min {
			count = fmt.Sprintf("%d to %d", c.Fleet.Min, c.Fleet.Max)
		}
		nat := map[string]string{"none": "no NAT", "single": "one NAT gateway", "perAz": "a NAT gateway per zone"}[c.NATGateways]
		if c.S3Endpoint {
			nat += ", an S3 gateway endpoint"
		}
		fmt.Fprintf(&b, "| %s | %s | %s × %s in %s subnets | %d zones, %s |\n", name, edge, count, c.InstanceType, c.InstanceSubnets, c.AZCount, nat)
	}
	return b.String()
}
