// Package security builds the security groups of a stack: one for the edge (the load
// balancer), one for the instances, and one for each part of the data tier. Rules between our own tiers reference security
// groups, never CIDRs; every group and rule says why it exists; nothing opens port 22.
package security

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// Edge modes, as in the stack config.
const (
	ModeALB = "alb" // a load balancer takes traffic and forwards to HAProxy on ProxyPort
	ModeEIP = "eip" // the instance takes traffic on 80/443 itself
)

// world is the one CIDR that appears in rules: the public internet.
const world = "0.0.0.0/0"

// GroupsArgs configures the security groups.
type GroupsArgs struct {
	VpcID pulumi.StringInput
	Mode  string // ModeALB or ModeEIP
	// ProxyPort is the instance port the load balancer forwards to (ModeALB).
	ProxyPort int
	// DatabasePort and CachePort, when set, give the data tier a group each that admits that
	// port from the instance group only, and open instance egress to exactly that group and port.
	DatabasePort int
	CachePort    int
	Tags         map[string]string
}

// Groups holds the security groups of one stack.
type Groups struct {
	pulumi.ResourceState
	// EdgeGroupID is the load balancer's group; empty in ModeEIP, where the instance is the edge.
	EdgeGroupID     pulumi.StringOutput `pulumi:"edgeGroupId"`
	InstanceGroupID pulumi.StringOutput `pulumi:"instanceGroupId"`
	// DatabaseGroupID and CacheGroupID are the data tier's groups; empty without them.
	DatabaseGroupID pulumi.StringOutput `pulumi:"databaseGroupId"`
	CacheGroupID    pulumi.StringOutput `pulumi:"cacheGroupId"`
}

// rule is one ingress or egress permission; exactly one of cidr and peer is set.
type rule struct {
	role        string // part of the resource name
	port        int
	cidr        string
	peer        pulumi.StringInput
	description string
}

func (a *GroupsArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.VpcID == nil:
		return errors.New("VpcID is required")
	case a.Mode != ModeALB && a.Mode != ModeEIP:
		return fmt.Errorf("Mode %q is not alb or eip", a.Mode)
	case a.Mode == ModeALB && (a.ProxyPort < 1024 || a.ProxyPort > 65535):
		return fmt.Errorf("ProxyPort %d must be 1024..65535", a.ProxyPort)
	}
	return nil
}

// NewGroups creates the edge and instance security groups and their rules.
func NewGroups(ctx *pulumi.Context, name string, args *GroupsArgs, opts ...pulumi.ResourceOption) (*Groups, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("security %s: %w", name, err)
	}
	g := &Groups{}
	if err := ctx.RegisterComponentResource("immutable-edge:security:Groups", name, g, opts...); err != nil {
		return nil, err
	}
	instance, err := g.group(ctx, name+"-instance", args, "instances of "+name+": HAProxy and its containers")
	if err != nil {
		return nil, fmt.Errorf("security %s: %w", name, err)
	}
	// Instances reach ECR, S3, SSM, CloudWatch and Let's Encrypt over HTTPS and package mirrors
	// over HTTP; DNS and NTP go to the VPC resolver and Time Sync at link-local addresses,
	// which security groups do not filter.
	egress := []rule{
		{"https-out", 443, world, nil, "HTTPS to AWS APIs, ECR, S3 and ACME"},
		{"http-out", 80, world, nil, "HTTP for package mirrors and ACME redirects"},
	}
	var ingress []rule
	g.EdgeGroupID = pulumi.String("").ToStringOutput()
	switch args.Mode {
	case ModeALB:
		edge, err := g.group(ctx, name+"-edge", args, "load balancer of "+name+": public HTTP and HTTPS")
		if err != nil {
			return nil, fmt.Errorf("security %s: %w", name, err)
		}
		if err := g.rules(ctx, name+"-edge", edge, true, []rule{
			{"http-in", 80, world, nil, "HTTP from the internet, redirected to HTTPS"},
			{"https-in", 443, world, nil, "HTTPS from the internet"},
		}, args.Tags); err != nil {
			return nil, fmt.Errorf("security %s: %w", name, err)
		}
		if err := g.rules(ctx, name+"-edge", edge, false, []rule{
			{"to-instances", args.ProxyPort, "", instance.ID(), "load balancer to HAProxy on the instances"},
		}, args.Tags); err != nil {
			return nil, fmt.Errorf("security %s: %w", name, err)
		}
		ingress = []rule{{"from-edge", args.ProxyPort, "", edge.ID(), "HAProxy from the load balancer only"}}
		g.EdgeGroupID = edge.ID().ToStringOutput()
	case ModeEIP:
		ingress = []rule{
			{"http-in", 80, world, nil, "HTTP from the internet to HAProxy, redirected to HTTPS"},
			{"https-in", 443, world, nil, "HTTPS from the internet to HAProxy"},
		}
	}
	if err := g.rules(ctx, name+"-instance", instance, true, ingress, args.Tags); err != nil {
		return nil, fmt.Errorf("security %s: %w", name, err)
	}
	g.DatabaseGroupID = pulumi.String("").ToStringOutput()
	g.CacheGroupID = pulumi.String("").ToStringOutput()
	for _, tier := range []struct {
		role, what string
		port       int
		out        *pulumi.StringOutput
	}{
		{"database", "PostgreSQL", args.DatabasePort, &g.DatabaseGroupID},
		{"cache", "Redis", args.CachePort, &g.CacheGroupID},
	} {
		if tier.port == 0 {
			continue
		}
		sg, err := g.group(ctx, name+"-"+tier.role, args, tier.role+" of "+name+": "+tier.what+" from the instances only")
		if err != nil {
			return nil, fmt.Errorf("security %s: %w", name, err)
		}
		if err := g.rules(ctx, name+"-"+tier.role, sg, true, []rule{
			{"from-instances", tier.port, "", instance.ID(), tier.what + " from the instances only"},
		}, args.Tags); err != nil {
			return nil, fmt.Errorf("security %s: %w", name, err)
		}
		egress = append(egress, rule{"to-" + tier.role, tier.port, "", sg.ID(), "instances to the " + tier.role + " only"})
		*tier.out = sg.ID().ToStringOutput()
	}
	if err := g.rules(ctx, name+"-instance", instance, false, egress, args.Tags); err != nil {
		return nil, fmt.Errorf("security %s: %w", name, err)
	}
	g.InstanceGroupID = instance.ID().ToStringOutput()
	return g, ctx.RegisterResourceOutputs(g, pulumi.Map{
		"edgeGroupId":     g.EdgeGroupID,
		"instanceGroupId": g.InstanceGroupID,
		"databaseGroupId": g.DatabaseGroupID,
		"cacheGroupId":    g.CacheGroupID,
	})
}

// group creates a security group with no inline rules: each rule is its own resource, so
// changing one rule never rewrites the others.
func (g *Groups) group(ctx *pulumi.Context, name string, args *GroupsArgs, description string) (*ec2.SecurityGroup, error) {
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       args.VpcID,
		NamePrefix:  pulumi.String(name + "-"),
		Description: pulumi.String(description),
		// Replacing a group must not wait on instances that still use it.
		RevokeRulesOnDelete: pulumi.Bool(true),
		Tags:                tags.Named(args.Tags, name),
	}, pulumi.Parent(g))
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", name, err)
	}
	return sg, nil
}

// rules creates one ingress (or egress) rule resource per rule.
func (g *Groups) rules(ctx *pulumi.Context, prefix string, sg *ec2.SecurityGroup, ingress bool, rules []rule, stackTags map[string]string) error {
	for _, r := range rules {
		name := prefix + "-" + r.role
		var cidr pulumi.StringPtrInput
		if r.cidr != "" {
			cidr = pulumi.String(r.cidr)
		}
		var peer pulumi.StringPtrInput
		if r.peer != nil {
			peer = r.peer.ToStringOutput().ToStringPtrOutput()
		}
		in := vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"),
			FromPort: pulumi.Int(r.port), ToPort: pulumi.Int(r.port),
			CidrIpv4: cidr, ReferencedSecurityGroupId: peer, Description: pulumi.String(r.description),
			Tags: tags.Named(stackTags, name),
		}
		var err error
		if ingress {
			_, err = vpc.NewSecurityGroupIngressRule(ctx, name, &in, pulumi.Parent(g))
		} else {
			out := vpc.SecurityGroupEgressRuleArgs(in) // the two argument types have the same fields
			_, err = vpc.NewSecurityGroupEgressRule(ctx, name, &out, pulumi.Parent(g))
		}
		if err != nil {
			return fmt.Errorf("rule %s: %w", name, err)
		}
	}
	return nil
}
