package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/policy"
)

// replaceKeys are the inputs whose change makes AWS (through the provider) replace the resource
// rather than update it, for the types this program uses. A launch template is never replaced:
// a change is a new version, which the Auto Scaling group's refresh then rolls out.
var replaceKeys = map[string][]string{
	"aws:ec2/vpc:Vpc":                                           {"cidrBlock"},
	"aws:ec2/subnet:Subnet":                                     {"availabilityZone", "cidrBlock", "vpcId"},
	"aws:ec2/securityGroup:SecurityGroup":                       {"description", "name", "namePrefix", "vpcId"},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {"securityGroupId"},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   {"securityGroupId"},
	"aws:ec2/natGateway:NatGateway":                             {"allocationId", "subnetId"},
	"aws:ec2/eip:Eip":                                           {"domain"},
	"aws:ec2/routeTableAssociation:RouteTableAssociation":       {"subnetId"},
	"aws:ec2/route:Route":                                       {"destinationCidrBlock", "routeTableId"},
	"aws:ec2/flowLog:FlowLog":                                   {"logDestination", "trafficType", "vpcId"},
	"aws:cloudwatch/logGroup:LogGroup":                          {"name", "namePrefix"},
	"aws:iam/role:Role":                                         {"name", "namePrefix", "path"},
	"aws:iam/instanceProfile:InstanceProfile":                   {"name", "namePrefix", "path"},
	"aws:ecr/repository:Repository":                             {"name"},
	"aws:autoscaling/group:Group":                               {"name", "namePrefix"},
	"aws:lb/loadBalancer:LoadBalancer":                          {"internal", "loadBalancerType", "name", "namePrefix"},
	"aws:lb/targetGroup:TargetGroup":                            {"name", "namePrefix", "port", "protocol", "targetType", "vpcId"},
	"aws:acm/certificate:Certificate":                           {"domainName", "keyAlgorithm", "subjectAlternativeNames", "validationMethod"},
	"aws:route53/record:Record":                                 {"name", "type", "zoneId"},
	"aws:s3/bucketV2:BucketV2":                                  {"bucket", "bucketPrefix"},
}

// change is one resource's difference.
type change struct {
	op       string // "+", "-", "~", "+-"
	typ      string
	name     string
	paths    []string // changed input paths, sorted
	old, new map[string]string
	reason   string
}

// diffAgainst compares the current plan with a saved JSON plan.
func diffAgainst(s *Synth, oldPath string) ([]byte, error) {
	raw, err := os.ReadFile(oldPath)
	if err != nil {
		return nil, err
	}
	var old document
	if err := json.Unmarshal(raw, &old); err != nil {
		return nil, fmt.Errorf("not a synth JSON plan: %w", err)
	}
	// Round-trip the current plan through JSON so both sides have the same value types.
	var cur document
	b, err := json.Marshal(newDocument(s))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &cur); err != nil {
		return nil, err
	}
	return []byte(renderDiff(old, cur)), nil
}

func renderDiff(old, cur document) string {
	changes := compare(old, cur)
	var out strings.Builder
	counts := map[string]int{}
	for _, c := range changes {
		counts[c.op]++
		fmt.Fprintf(&out, "%-2s %s %s%s\n", c.op, c.typ, c.name, c.reason)
		for _, p := range c.paths {
			if p == "userData" {
				out.WriteString(indent(userDataDiff(c.old[p], c.new[p]), "      "))
				continue
			}
			fmt.Fprintf(&out, "      %s: %s → %s\n", p, orNone(c.old[p]), orNone(c.new[p]))
		}
	}
	for _, c := range refreshes(changes, cur) {
		out.WriteString(c)
	}
	if len(changes) == 0 {
		out.WriteString("no changes\n")
	}
	fmt.Fprintf(&out, "%d to create, %d to update, %d to replace, %d to delete\n", counts["+"], counts["~"], counts["+-"], counts["-"])
	fmt.Fprintf(&out, "cost: $%.2f → $%.2f a month (%+.2f)\n", old.Cost.MonthlyUSD, cur.Cost.MonthlyUSD, cur.Cost.MonthlyUSD-old.Cost.MonthlyUSD)
	fmt.Fprintf(&out, "policy failures: %d → %d\n", failures(old.Policy), failures(cur.Policy))
	return out.String()
}

func compare(old, cur document) []change {
	before := map[string]jsonResource{}
	for _, r := range old.Resources {
		before[r.URN] = r
	}
	var changes []change
	seen := map[string]bool{}
	for _, r := range cur.Resources {
		seen[r.URN] = true
		o, ok := before[r.URN]
		if !ok {
			changes = append(changes, change{op: "+", typ: r.Type, name: r.Name})
			continue
		}
		was, is := flatten(o.Inputs), flatten(r.Inputs)
		var paths []string
		for _, k := range slices.Sorted(maps.Keys(union(was, is))) {
			if was[k] != is[k] {
				paths = append(paths, k)
			}
		}
		if len(paths) == 0 {
			continue
		}
		c := change{op: "~", typ: r.Type, name: r.Name, paths: paths, old: was, new: is}
		if forced := forcing(r.Type, paths); len(forced) > 0 {
			c.op, c.reason = "+-", " (replace: "+strings.Join(forced, ", ")+")"
		} else if r.Type == "aws:ec2/launchTemplate:LaunchTemplate" {
			c.reason = " (update: new version)"
		}
		changes = append(changes, c)
	}
	for _, r := range old.Resources {
		if !seen[r.URN] {
			changes = append(changes, change{op: "-", typ: r.Type, name: r.Name})
		}
	}
	return changes
}

// refreshes names the consequence of a launch template update: every group pinned to it gets a
// new version and so an instance refresh, which no input of the group shows.
func refreshes(changes []change, cur document) []string {
	var out []string
	for _, c := range changes {
		if c.op != "~" || c.typ != "aws:ec2/launchTemplate:LaunchTemplate" {
			continue
		}
		for _, r := range cur.Resources {
			if r.Type != "aws:autoscaling/group:Group" {
				continue
			}
			if lt, ok := r.Inputs["launchTemplate"].(map[string]any); ok && lt["id"] == c.name+"-id" {
				out = append(out, fmt.Sprintf("~  %s %s (instance refresh: launch template %s gets a new version; instances are replaced launch-before-terminate)\n", r.Type, r.Name, c.name))
			}
		}
	}
	return out
}

func forcing(typ string, paths []string) []string {
	var out []string
	for _, p := range paths {
		top, _, _ := strings.Cut(p, ".")
		if slices.Contains(replaceKeys[typ], top) && !slices.Contains(out, top) {
			out = append(out, top)
		}
	}
	return out
}

// flatten turns nested inputs into path → JSON value, lists by index.
func flatten(v map[string]any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				walk(join(prefix, k), x)
			}
		case []any:
			for i, x := range t {
				walk(join(prefix, fmt.Sprint(i)), x)
			}
		default:
			b, _ := json.Marshal(t)
			out[prefix] = string(b)
		}
	}
	walk("", v)
	return out
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func union(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func failures(results []policy.Result) int { return policy.Count(results)[policy.Fail] }

func indent(s, pad string) string {
	return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad) + "\n"
}

// userDataDiff decodes both user-data values (JSON strings of base64) and diffs them as text.
func userDataDiff(oldJSON, newJSON string) string {
	decode := func(j string) string {
		var b64 string
		if json.Unmarshal([]byte(j), &b64) != nil {
			return ""
		}
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return b64
		}
		return string(b)
	}
	return "userData (decoded):\n" + unified(decode(oldJSON), decode(newJSON), 2)
}
