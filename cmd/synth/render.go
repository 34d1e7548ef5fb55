package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/immutable-edge/immutable-edge/internal/plan"
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
	"aws:autoscaling/group:Group": {"minSize", "desiredCapacity", "maxSize", "healthCheckType", "instanceRefresh.strategy"},
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

// document is the JSON shape of design.md's offline synth contract.
type document struct {
	Project   string         `json:"project"`
	Stack     string         `json:"stack"`
	Resources []jsonResource `json:"resources"`
	Outputs   map[string]any `json:"outputs"`
}

type jsonResource struct {
	URN       string         `json:"urn"`
	Type      string         `json:"type"`
	Name      string         `json:"name"`
	Parent    string         `json:"parent"`
	DependsOn []string       `json:"dependsOn"`
	Inputs    map[string]any `json:"inputs"`
}

// JSON renders the plan as the synth document; resources are in URN order and map keys
// sorted, so the same config gives byte-identical output.
func JSON(p *plan.Plan) ([]byte, error) {
	d := document{Project: p.Project, Stack: p.Stack, Outputs: p.Outputs}
	if d.Outputs == nil {
		d.Outputs = map[string]any{}
	}
	for _, r := range p.Resources {
		deps := slices.Sorted(slices.Values(r.DependsOn))
		if deps == nil {
			deps = []string{}
		}
		d.Resources = append(d.Resources, jsonResource{r.URN, r.Type, r.Name, r.Parent, deps, r.Inputs.Mappable()})
	}
	b, err := json.MarshalIndent(d, "", "  ")
	return append(b, '\n'), err
}
