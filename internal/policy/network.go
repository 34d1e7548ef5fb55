package policy

import (
	"fmt"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// Type tokens the rules read.
const (
	tVpc            = "aws:ec2/vpc:Vpc"
	tSubnet         = "aws:ec2/subnet:Subnet"
	tFlowLog        = "aws:ec2/flowLog:FlowLog"
	tDefaultSG      = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	tLogGroup       = "aws:cloudwatch/logGroup:LogGroup"
	tSecurityGroup  = "aws:ec2/securityGroup:SecurityGroup"
	tIngress        = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	tEgress         = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	tEIP            = "aws:ec2/eip:Eip"
	tNAT            = "aws:ec2/natGateway:NatGateway"
	tLaunchTemplate = "aws:ec2/launchTemplate:LaunchTemplate"
	tGroup          = "aws:autoscaling/group:Group"
	tLoadBalancer   = "aws:lb/loadBalancer:LoadBalancer"
	tListener       = "aws:lb/listener:Listener"
	tTargetGroup    = "aws:lb/targetGroup:TargetGroup"
	tCommand        = "command:local:Command"
)

const world = "0.0.0.0/0"

var networkRules = []Rule{
	{ID: "CKV2_AWS_11", Ref: "checkov CKV2_AWS_11; FSBP EC2.6", Severity: Medium,
		Rationale: "VPC flow logs record every accepted and rejected flow for incident response.",
		check: each([]string{tVpc}, func(c *Context, vpc plan.Resource) (bool, string) {
			for _, fl := range c.Plan.OfType(tFlowLog) {
				if fl.Str("vpcId") == vpc.ID && fl.Str("trafficType") == "ALL" {
					return true, "flow log " + fl.Name + " records all traffic"
				}
			}
			return false, "no flow log with trafficType ALL for this VPC"
		})},
	{ID: "CKV2_AWS_12", Ref: "checkov CKV2_AWS_12; FSBP EC2.2", Severity: Medium,
		Rationale: "The default security group must deny everything so nothing lands in it open by accident.",
		check: each([]string{tVpc}, func(c *Context, vpc plan.Resource) (bool, string) {
			for _, d := range c.Plan.OfType(tDefaultSG) {
				if d.Str("vpcId") == vpc.ID {
					return verdict(d.Len("ingress") == 0 && d.Len("egress") == 0,
						"default security group adopted with no rules", "default security group "+d.Name+" has rules")
				}
			}
			return false, "the default security group is not managed, so it keeps AWS's allow-all rules"
		})},
	{ID: "CKV_AWS_130", Ref: "checkov CKV_AWS_130; FSBP EC2.15", Severity: Medium,
		Rationale: "Subnets must not hand out public IPs on their own; what needs one asks explicitly.",
		check: each([]string{tSubnet}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(!r.Bool("mapPublicIpOnLaunch"), "mapPublicIpOnLaunch is off", "mapPublicIpOnLaunch is on")
		})},
	{ID: "CKV_AWS_66", Ref: "checkov CKV_AWS_66", Severity: Low,
		Rationale: "Log groups need a retention period, or logs (and their cost) grow forever.",
		check: each([]string{tLogGroup}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Num("retentionInDays") > 0, fmt.Sprintf("retention %v days", r.Num("retentionInDays")), "no retention set")
		})},
	{ID: "CKV_AWS_338", Ref: "checkov CKV_AWS_338", Severity: Low,
		Rationale: "Keeping logs a year covers most audit and incident look-backs.",
		check: each([]string{tLogGroup}, func(c *Context, r plan.Resource) (bool, string) {
			d := r.Num("retentionInDays")
			return verdict(d >= 365, fmt.Sprintf("retention %v days", d), fmt.Sprintf("retention %v days is under 365", d))
		})},
	{ID: "CKV_AWS_158", Ref: "checkov CKV_AWS_158", Severity: Low,
		Rationale: "A customer managed KMS key lets access to log contents be controlled and revoked separately.",
		check: each([]string{tLogGroup}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("kmsKeyId") != "", "encrypted with "+r.Str("kmsKeyId"), "encrypted only with the CloudWatch default key")
		})},
	{ID: "CKV_AWS_23", Ref: "checkov CKV_AWS_23", Severity: Low,
		Rationale: "Every security group and rule says why it exists, so reviews can tell intent from drift.",
		check: each([]string{tSecurityGroup, tIngress, tEgress}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("description") != "", "described", "no description")
		})},
	{ID: "CKV_AWS_24", Ref: "checkov CKV_AWS_24; FSBP EC2.13", Severity: High,
		Rationale: "SSH from the internet is the most attacked door; Session Manager replaces it.",
		check: each([]string{tIngress}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(!(open(r) && covers(r, 22)), "does not open 22 to the internet", "opens 22 to the internet")
		})},
	{ID: "CKV_AWS_25", Ref: "checkov CKV_AWS_25; FSBP EC2.14", Severity: High,
		Rationale: "RDP from the internet is as exposed as SSH.",
		check: each([]string{tIngress}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(!(open(r) && covers(r, 3389)), "does not open 3389 to the internet", "opens 3389 to the internet")
		})},
	{ID: "CKV_AWS_260", Ref: "checkov CKV_AWS_260", Severity: Medium,
		Rationale: "Port 80 from the internet is allowed only on the edge, and only where it redirects to HTTPS.",
		check: each([]string{tIngress}, func(c *Context, r plan.Resource) (bool, string) {
			if !(open(r) && covers(r, 80)) {
				return true, "does not open 80 to the internet"
			}
			if !edgeGroups(c)[r.Str("securityGroupId")] {
				return false, "opens 80 to the internet on a group that is not the edge"
			}
			return verdict(httpRedirects(c), "edge port 80 only redirects to HTTPS", "edge port 80 serves plain HTTP")
		})},
	{ID: "EC2.18", Ref: "FSBP EC2.18 (authorized ports 80, 443)", Severity: High,
		Rationale: "Only 80 and 443 face the internet, and only on the edge: the ALB's group (alb) or the node's (eip).",
		check: each([]string{tIngress}, func(c *Context, r plan.Resource) (bool, string) {
			if !open(r) {
				return true, "not open to the internet"
			}
			from, to := r.Num("fromPort"), r.Num("toPort")
			if !((from == 80 && to == 80) || (from == 443 && to == 443)) {
				return false, fmt.Sprintf("opens %v-%v to the internet", from, to)
			}
			return verdict(edgeGroups(c)[r.Str("securityGroupId")], fmt.Sprintf("%v open on the %s edge", from, c.Edge),
				fmt.Sprintf("%v open to the internet on a group that is not the %s edge", from, c.Edge))
		})},
	{ID: "CKV_AWS_277", Ref: "checkov CKV_AWS_277", Severity: High,
		Rationale: "No rule opens every port or protocol to the internet.",
		check: each([]string{tIngress}, func(c *Context, r plan.Resource) (bool, string) {
			all := r.Str("ipProtocol") == "-1" || (r.Num("fromPort") <= 0 && r.Num("toPort") >= 65535)
			return verdict(!open(r) || !all, "a bounded port and protocol", "all ports or protocols open to the internet")
		})},
	{ID: "CKV_AWS_382", Ref: "checkov CKV_AWS_382", Severity: Medium,
		Rationale: "Egress is narrowed to the protocols and ports the instances use, not everything.",
		check: each([]string{tEgress}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("ipProtocol") != "-1", "protocol "+r.Str("ipProtocol"), "all protocols out")
		})},
	{ID: "IE_SG_REFERENCE", Ref: "design: rules between tiers by security group reference", Severity: Medium,
		Rationale: "Between our own tiers a rule names the other security group, never an address range that can drift.",
		check: each([]string{tIngress, tEgress}, func(c *Context, r plan.Resource) (bool, string) {
			if r.Str("referencedSecurityGroupId") != "" {
				return true, "by reference to " + r.Str("referencedSecurityGroupId")
			}
			return verdict(r.Str("cidrIpv4") == world, "internet rule", "address range "+r.Str("cidrIpv4")+" instead of a group reference")
		})},
	{ID: "CKV2_AWS_5", Ref: "checkov CKV2_AWS_5", Severity: Low,
		Rationale: "A security group nothing uses is clutter that someone will attach by mistake.",
		check: each([]string{tSecurityGroup}, func(c *Context, sg plan.Resource) (bool, string) {
			for _, r := range c.Plan.OfType(tLaunchTemplate) {
				for _, id := range r.Strings("networkInterfaces.0.securityGroups") {
					if id == sg.ID {
						return true, "used by launch template " + r.Name
					}
				}
			}
			for _, r := range c.Plan.OfType(tLoadBalancer) {
				for _, id := range r.Strings("securityGroups") {
					if id == sg.ID {
						return true, "used by load balancer " + r.Name
					}
				}
			}
			if what, ok := attachedTo(c, sg.ID); ok {
				return true, "used by " + what
			}
			return false, "attached to nothing"
		})},
	{ID: "CKV2_AWS_19", Ref: "checkov CKV2_AWS_19", Severity: Low,
		Rationale: "An Elastic IP that nothing holds costs money and invites confusion.",
		check: each([]string{tEIP}, func(c *Context, eip plan.Resource) (bool, string) {
			for _, n := range c.Plan.OfType(tNAT) {
				if n.Str("allocationId") == eip.ID {
					return true, "held by NAT gateway " + n.Name
				}
			}
			return false, "not associated in the program"
		})},
}

// open reports whether an ingress rule admits the whole internet.
func open(r plan.Resource) bool { return r.Str("cidrIpv4") == world || r.Str("cidrIpv6") == "::/0" }

func covers(r plan.Resource, port float64) bool {
	return r.Str("ipProtocol") == "-1" || (r.Num("fromPort") <= port && port <= r.Num("toPort"))
}

// edgeGroups are the security groups that face the internet in this edge mode.
func edgeGroups(c *Context) map[string]bool {
	groups := map[string]bool{}
	switch c.Edge {
	case config.EdgeALB:
		for _, lb := range c.Plan.OfType(tLoadBalancer) {
			for _, id := range lb.Strings("securityGroups") {
				groups[id] = true
			}
		}
	case config.EdgeEIP:
		for _, lt := range c.Plan.OfType(tLaunchTemplate) {
			for _, id := range lt.Strings("networkInterfaces.0.securityGroups") {
				groups[id] = true
			}
		}
	}
	return groups
}

// httpRedirects reports whether port 80 on the edge redirects to HTTPS: the ALB's HTTP listener
// must redirect; on the eip edge HAProxy's :80 frontend redirects (bootstrap renders it).
func httpRedirects(c *Context) bool {
	if c.Edge == config.EdgeEIP {
		return true
	}
	for _, l := range c.Plan.OfType(tListener) {
		if l.Num("port") == 80 {
			return l.Str("defaultActions.0.type") == "redirect" && l.Str("defaultActions.0.redirect.protocol") == "HTTPS"
		}
	}
	return true // no listener on 80: nothing serves it
}
