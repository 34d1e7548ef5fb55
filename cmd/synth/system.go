package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// Type tokens the system picture reads.
const (
	launchTemplateType = "aws:ec2/launchTemplate:LaunchTemplate"
	groupType          = "aws:autoscaling/group:Group"
	parameterType      = "aws:ssm/parameter:Parameter"
	commandType        = "command:local:Command"
	getParameterToken  = "aws:ssm/getParameter:getParameter"
	loadBalancerType   = "aws:lb/loadBalancer:LoadBalancer"
	listenerType       = "aws:lb/listener:Listener"
	targetGroupType    = "aws:lb/targetGroup:TargetGroup"
	eipType            = "aws:ec2/eip:Eip"
	ingressType        = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	egressType         = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	repositoryType     = "aws:ecr/repository:Repository"
)

// System draws the stack as a reviewer pictures it: the internet, the edge (each load balancer
// with its listeners and target groups, or the Elastic IP the instance claims), HAProxy's public
// ports on the instances, each service and its container, the ECR repository it pulls from, and
// Packer → SSM parameter → launch template → Auto Scaling group. Security group rules label the
// arrows they allow. Everything comes from the plan and the stack's services, so a change to
// either changes the picture.
func System(s *Synth) (string, error) {
	d, err := newSystem(s)
	if err != nil {
		return "", err
	}
	d.edge()
	d.image()
	if err := d.instances(); err != nil {
		return "", err
	}
	d.registry()
	return d.f.String(), nil
}

// system is the picture while it is drawn, with what later steps look up.
type system struct {
	p       *plan.Plan
	cfg     *config.Config
	f       flowchart
	lt, asg plan.Resource
	fleet   int                 // the Auto Scaling group's subgraph
	targets map[string][]target // security group id of a load balancer → its target groups
	eip     string              // node of the Elastic IP the instances claim; "" for none
	proxies map[int]string      // instance port → its HAProxy node
}

// target is a target group drawn: its node, its URN and the port it sends to.
type target struct {
	id, urn string
	port    int
}

func newSystem(s *Synth) (*system, error) {
	lts, asgs := s.Plan.OfType(launchTemplateType), s.Plan.OfType(groupType)
	if len(lts) != 1 || len(asgs) != 1 {
		return nil, fmt.Errorf("system picture: want one launch template and one Auto Scaling group, the plan has %d and %d", len(lts), len(asgs))
	}
	return &system{p: s.Plan, cfg: s.Config, lt: lts[0], asg: asgs[0],
		targets: map[string][]target{}, proxies: map[int]string{}}, nil
}

// image draws where the AMI comes from: a Packer build of this stack that writes the parameter,
// or a parameter read at deploy time that another stack's build was promoted into.
func (d *system) image() {
	const ssm, lt = "ssm", "lt"
	if param, ok := d.dependency(d.lt, parameterType); ok {
		// The parameter follows two commands: the build (its value) and retention (its order).
		for _, build := range d.dependencies(param, commandType) {
			if script := build.Str("create"); strings.HasSuffix(script, "/build.sh") {
				d.f.link(d.f.add("packer", "stadium", "Packer build", script), ssm, "AMI id")
			}
		}
		d.f.add(ssm, "cylinder", "SSM parameter "+param.Str("name"))
		d.f.link(ssm, lt, "imageId")
	}
	for _, r := range d.p.Reads {
		if r.Token == getParameterToken && r.Result["value"] == d.lt.Str("imageId") {
			d.f.dotted(d.f.add("packer", "stadium", "Packer build of another stack", "promoted by images/promote.sh"), ssm, "AMI id")
			d.f.add(ssm, "cylinder", fmt.Sprintf("SSM parameter %v", r.Args["name"]))
			d.f.dotted(ssm, lt, "read at deploy: "+d.lt.Str("imageId"))
			break
		}
	}
	d.f.add(lt, "box", "launch template "+d.lt.Name, d.instanceKind())
	d.fleet = d.f.group("asg", fmt.Sprintf("Auto Scaling group %s: %d to %d instances over %d subnets",
		d.asg.Name, int(d.asg.Num("minSize")), int(d.asg.Num("maxSize")), d.asg.Len("vpcZoneIdentifiers")))
	rollout := "version " + d.asg.Str("launchTemplate.version")
	if c, ok := d.p.CommandWith("ROLLOUT_TEMPLATE_ID", d.lt.ID); ok && c.Str("environment.ROLLOUT_ALARMS") != "" {
		rollout += fmt.Sprintf(", refresh by pulumi up, rollback on %d alarms", len(strings.Split(c.Str("environment.ROLLOUT_ALARMS"), ",")))
	}
	d.f.link(lt, "asg", rollout)
}

// instanceKind is what the template starts: type, metadata service, public address.
func (d *system) instanceKind() string {
	parts := []string{d.lt.Str("instanceType")}
	if d.lt.Str("metadataOptions.httpTokens") == "required" {
		parts = append(parts, "IMDSv2")
	}
	if d.lt.Bool("networkInterfaces.0.associatePublicIpAddress") {
		parts = append(parts, "public IP")
	}
	return strings.Join(parts, ", ")
}

// edge draws the way in: each load balancer, and the Elastic IP the instances claim at boot
// (the launch template carries its allocation).
func (d *system) edge() {
	d.f.add("internet", "circle", "internet")
	for i, lb := range d.p.OfType(loadBalancerType) {
		d.loadBalancer(fmt.Sprintf("lb%d", i), lb)
	}
	if eip, ok := d.dependency(d.lt, eipType); ok {
		d.eip = d.f.add("eip", "box", "Elastic IP "+eip.Name, "claimed at boot by a healthy instance")
		d.f.link("internet", d.eip, "")
	}
}

// loadBalancer draws one load balancer as a subgraph of its listeners and target groups, with
// the rules of its security groups on the arrows in.
func (d *system) loadBalancer(id string, lb plan.Resource) {
	scheme := "internet-facing"
	if lb.Bool("internal") {
		scheme = "internal"
	}
	kind := map[string]string{"application": "ALB", "network": "NLB"}[lb.Str("loadBalancerType")]
	g := d.f.group(id, strings.TrimSpace(kind+" "+lb.Name)+", "+scheme)
	listeners := map[int]string{}
	var own []plan.Resource
	for _, l := range d.p.OfType(listenerType) {
		if slices.Contains(l.DependsOn, lb.URN) {
			own = append(own, l)
			port := int(l.Num("port"))
			lines := []string{fmt.Sprintf("listener :%d %s", port, l.Str("protocol"))}
			if p := l.Str("sslPolicy"); p != "" {
				lines = append(lines, p)
			}
			listeners[port] = d.f.addTo(g, fmt.Sprintf("%sl%d", id, port), "box", lines...)
		}
	}
	var targets []target
	for _, l := range own {
		targets = d.actions(g, l, listeners, targets)
	}
	for _, sg := range lb.Strings("securityGroups") {
		d.targets[sg] = append(d.targets[sg], targets...)
		for _, rule := range d.rules(ingressType, sg) {
			for port, to := range sorted(listeners) {
				if rule.Str("referencedSecurityGroupId") == "" && admits(rule, port) {
					d.f.link("internet", to, ruleLabel(rule, "from"))
				}
			}
		}
	}
}

// actions links a listener to where its default actions send a request: another listener for
// a redirect, a target group for a forward. It returns the target groups drawn so far.
func (d *system) actions(g int, l plan.Resource, listeners map[int]string, targets []target) []target {
	from := listeners[int(l.Num("port"))]
	for i := range l.Len("defaultActions") {
		a := fmt.Sprintf("defaultActions.%d.", i)
		switch l.Str(a + "type") {
		case "redirect":
			var port int
			if _, err := fmt.Sscan(l.Str(a+"redirect.port"), &port); err == nil && listeners[port] != "" {
				d.f.dotted(from, listeners[port], "redirect "+strings.TrimPrefix(l.Str(a+"redirect.statusCode"), "HTTP_"))
			}
		case "forward":
			for _, tg := range d.dependencies(l, targetGroupType) {
				id := d.f.groups[g].id + "tg" + fmt.Sprint(len(targets))
				if i := slices.IndexFunc(targets, func(t target) bool { return t.urn == tg.URN }); i >= 0 {
					id = targets[i].id
				} else {
					port := int(tg.Num("port"))
					d.f.addTo(g, id, "box", "target group "+tg.Name,
						fmt.Sprintf("%s :%d, check %s", tg.Str("protocol"), port, tg.Str("healthCheck.path")))
					targets = append(targets, target{id, tg.URN, port})
				}
				d.f.link(from, id, "forward")
			}
		}
	}
	return targets
}
