package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/immutable-edge/immutable-edge/internal/cost"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/plandiff"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

// keyInputs are the inputs a reader looks for first, per resource type.
var keyInputs = map[string][]string{
	"aws:ec2/vpc:Vpc":                  {"cidrBlock"},
	"aws:ec2/subnet:Subnet":            {"availabilityZone", "cidrBlock", "mapPublicIpOnLaunch"},
	"aws:ec2/route:Route":              {"destinationCidrBlock"},
	"aws:ec2/flowLog:FlowLog":          {"trafficType", "logDestinationType"},
	"aws:cloudwatch/logGroup:LogGroup": {"namePrefix", "retentionInDays"},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {"fromPort", "cidrIpv4", "description"},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   {"fromPort", "cidrIpv4", "description"},
	"aws:ecr/repository:Repository":                             {"name", "imageTagMutability", "imageScanningConfiguration.scanOnPush"},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":         {"policyArn"},
	"aws:ec2/launchTemplate:LaunchTemplate": {"imageId", "instanceType", "metadataOptions.httpTokens",
		"metadataOptions.httpPutResponseHopLimit", "blockDeviceMappings.0.ebs.encrypted", "networkInterfaces.0.associatePublicIpAddress"},
	"aws:autoscaling/group:Group":      {"minSize", "desiredCapacity", "maxSize", "healthCheckType", "launchTemplate.version"},
	"aws:lb/loadBalancer:LoadBalancer": {"internal", "dropInvalidHeaderFields", "desyncMitigationMode", "enableDeletionProtection", "accessLogs.enabled"},
	"aws:lb/listener:Listener":         {"port", "protocol", "sslPolicy", "defaultActions.0.type"},
	"aws:lb/targetGroup:TargetGroup":   {"protocol", "port", "healthCheck.path"},
	"aws:acm/certificate:Certificate":  {"domainName", "subjectAlternativeNames"},
	"aws:route53/record:Record":        {"name", "type"},
	"aws:ec2/eip:Eip":                  {"domain"},
	"command:local:Command":            {"create", "environment.CHANNEL", "environment.KEEP", "environment.ROLLOUT_TEMPLATE_VERSION", "environment.ROLLOUT_BAKE"},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {"rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"},
}

// Tree renders the component tree: each component with its children, one line a resource.
func Tree(p *plan.Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s: %d resources (%d components)\n", p.Project, p.Stack, len(p.Resources), countComponents(p))
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		for _, r := range p.Children(parent) {
			fmt.Fprintf(&b, "%s%s %s%s\n", indent, r.Type, r.Name, summary(r))
			walk(r.URN, indent+"  ")
		}
	}
	for _, r := range p.Resources {
		if r.Type == "pulumi:pulumi:Stack" {
			continue
		}
		if _, ok := p.ByURN(r.Parent); !ok { // top level: parented to the stack
			fmt.Fprintf(&b, "%s %s%s\n", r.Type, r.Name, summary(r))
			walk(r.URN, "  ")
		}
	}
	if len(p.Outputs) > 0 {
		b.WriteString("\noutputs:\n")
		for _, k := range slices.Sorted(maps.Keys(p.Outputs)) {
			v, _ := json.Marshal(p.Outputs[k])
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
	}
	return b.String()
}

func countComponents(p *plan.Plan) int {
	n := 0
	for _, r := range p.Resources {
		if !r.Custom {
			n++
		}
	}
	return n
}

func summary(r plan.Resource) string {
	var parts []string
	for _, path := range keyInputs[r.Type] {
		if v := r.Get(path); !v.IsNull() {
			parts = append(parts, path+"="+short(v))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "  [" + strings.Join(parts, " ") + "]"
}

func short(v resource.PropertyValue) string {
	switch {
	case v.IsString():
		return v.StringValue()
	case v.IsComputed() || v.IsOutput():
		return "(known after up)"
	}
	b, _ := json.Marshal(v.Mappable())
	return string(b)
}

// JSON renders the synth document; resources are in URN order, reads in token and argument
// order, policy results in rule order and map keys sorted, so the same config gives
// byte-identical output.
func JSON(s *Synth) ([]byte, error) {
	b, err := json.MarshalIndent(newDocument(s), "", "  ")
	return append(b, '\n'), err
}

func newDocument(s *Synth) plandiff.Document {
	p := s.Plan
	d := plandiff.Document{Project: p.Project, Stack: p.Stack, Reads: reads(p), Outputs: p.Outputs, Policy: s.Policy, Cost: s.Cost}
	if d.Policy == nil {
		d.Policy = []policy.Result{}
	}
	if d.Outputs == nil {
		d.Outputs = map[string]any{}
	}
	for _, r := range p.Resources {
		deps := slices.Sorted(slices.Values(r.DependsOn))
		if deps == nil {
			deps = []string{}
		}
		d.Resources = append(d.Resources, plandiff.Resource{URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent, DependsOn: deps, Inputs: r.Inputs.Mappable()})
	}
	return d
}

// reads are the plan's data source calls as the document has them: never null, so a reader
// tells a plan that read nothing from a document written before reads were recorded.
func reads(p *plan.Plan) []plandiff.Lookup {
	out := []plandiff.Lookup{}
	for _, r := range p.Reads {
		rd := plandiff.Lookup{Token: r.Token, Args: r.Args, Result: r.Result}
		if rd.Args == nil {
			rd.Args = map[string]any{}
		}
		if rd.Result == nil {
			rd.Result = map[string]any{}
		}
		out = append(out, rd)
	}
	return out
}

// Text is the tree, then what the program read, then the policy summary and the cost table.
func Text(s *Synth) string {
	var b strings.Builder
	b.WriteString(Tree(s.Plan))
	if rs := reads(s.Plan); len(rs) > 0 {
		b.WriteString("\n")
		for _, r := range rs {
			fmt.Fprintf(&b, "reads %s → %s\n", r.Subject(), r.Answer())
		}
	}
	b.WriteString("\n" + policySummary(s.Policy))
	b.WriteString("\n" + costTable(s.Cost))
	return b.String()
}

func policySummary(results []policy.Result) string {
	var b strings.Builder
	n := policy.Count(results)
	rules := map[string]bool{}
	for _, r := range results {
		rules[r.Rule] = true
	}
	fmt.Fprintf(&b, "policy: %d rules applied, %d checks: %d pass, %d waived, %d fail\n",
		len(rules), len(results), n[policy.Pass], n[policy.Waived], n[policy.Fail])
	for _, status := range []string{policy.Fail, policy.Waived} {
		for _, r := range results {
			if r.Status == status {
				fmt.Fprintf(&b, "  %-6s %-16s %-28s %s\n", strings.ToUpper(status), r.Rule, shortURN(r.Resource), r.Reason)
			}
		}
	}
	return b.String()
}

func costTable(e cost.Estimate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cost: $%.2f a month (eu-central-1 list prices of %s)\n", e.MonthlyUSD, cost.PriceDate)
	r := e.Range
	if r.Min.Instances == r.Max.Instances {
		fmt.Fprintf(&b, "capacity: %d instance(s) all month, the group does not scale\n", r.Min.Instances)
	} else {
		fmt.Fprintf(&b, "capacity: $%.2f a month at %d instances (fleet.min) to $%.2f at %d (fleet.max); the budget is checked against the max\n",
			r.Min.MonthlyUSD, r.Min.Instances, r.Max.MonthlyUSD, r.Max.Instances)
	}
	for _, it := range e.Items {
		fmt.Fprintf(&b, "  %9.2f  %-34s %s\n", it.USD, shortURN(it.Resource), it.Basis)
	}
	return b.String()
}

// shortURN is the last part of a URN, the logical name, or "-" for none.
func shortURN(urn string) string {
	if urn == "" {
		return "-"
	}
	return urn[strings.LastIndex(urn, "::")+2:]
}
