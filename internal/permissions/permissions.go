// Package permissions says what the AWS provider will ask of a stack's roles: every request it
// sends for each planned resource over the resource's lifecycle, from internal/awsapi's table
// (derived from the provider's source), plus the checks AWS makes beyond the calls themselves
// and Packer's calls. The account tests ask the IAM evaluator for each; cmd/docgen counts them.
package permissions

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// Need is one request pulumi up, refresh or destroy makes the provider send for a planned
// resource: an action on a resource ARN with the condition keys AWS puts in it.
type Need struct {
	Request iampolicy.Request
	// From names the planned resource, provider type and phase, for failure messages.
	From string
}

// autoname stands in for the random suffix Pulumi adds to a logical name it names a resource by.
const autoname = "-1a2b3c4"

// Physical is the name AWS would show for a planned resource.
func Physical(r plan.Resource) string {
	if n := r.GivenName(); n != "" {
		return n
	}
	return r.Name + autoname
}

// Identity is how IAM names a planned resource: its Service Authorization Reference resource
// type and its ARN. Related resources (a route's table, a rule's group) answer for the ones
// that have no ARN of their own.
func Identity(p *plan.Plan, r plan.Resource) (string, string) {
	acct, region := plan.Account, r.Region
	arn := func(service, resource string) string {
		return "arn:aws:" + service + ":" + region + ":" + acct + ":" + resource
	}
	ec2 := func(kind, id string) (string, string) { return "ec2:" + kind, arn("ec2", kind+"/"+id) }
	bucket := func(name string) (string, string) { return "s3:bucket", "arn:aws:s3:::" + name }
	switch r.Type {
	case "aws:ec2/vpc:Vpc":
		return ec2("vpc", r.ID)
	case "aws:ec2/subnet:Subnet":
		return ec2("subnet", r.ID)
	case "aws:ec2/internetGateway:InternetGateway":
		return ec2("internet-gateway", r.ID)
	case "aws:ec2/routeTable:RouteTable":
		return ec2("route-table", r.ID)
	case "aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation":
		return ec2("route-table", r.Str("routeTableId"))
	case "aws:ec2/eip:Eip":
		return ec2("elastic-ip", "eipalloc-"+r.Name)
	case "aws:ec2/natGateway:NatGateway":
		return ec2("natgateway", r.ID)
	case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "aws:ec2/securityGroup:SecurityGroup":
		return ec2("security-group", r.ID)
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		return ec2("security-group", r.Str("securityGroupId"))
	case "aws:ec2/flowLog:FlowLog":
		return ec2("vpc-flow-log", r.ID)
	case "aws:ec2/launchTemplate:LaunchTemplate":
		return ec2("launch-template", r.ID)
	case "aws:autoscaling/group:Group":
		return "autoscaling:autoScalingGroup", arn("autoscaling", "autoScalingGroup:0123-uuid:autoScalingGroupName/"+Physical(r))
	case "aws:lb/loadBalancer:LoadBalancer":
		return "elasticloadbalancing:loadbalancer/app/", arn("elasticloadbalancing", "loadbalancer/app/"+Physical(r)+"/0123456789abcdef")
	case "aws:lb/targetGroup:TargetGroup":
		return "elasticloadbalancing:targetgroup", arn("elasticloadbalancing", "targetgroup/"+Physical(r)+"/0123456789abcdef")
	case "aws:lb/listener:Listener":
		lbName := ""
		// The mocks give a load balancer the ARN .../loadbalancer/app/<logical name>/<id>.
		if parts := strings.Split(r.Str("loadBalancerArn"), "/"); len(parts) >= 3 {
			if lb, ok := p.Find("aws:lb/loadBalancer:LoadBalancer", parts[2]); ok {
				lbName = Physical(lb)
			}
		}
		return "elasticloadbalancing:listener/app", arn("elasticloadbalancing", "listener/app/"+lbName+"/0123456789abcdef/fedcba9876543210")
	case "aws:acm/certificate:Certificate":
		return "acm:certificate", arn("acm", "certificate/"+r.Name)
	case "aws:acm/certificateValidation:CertificateValidation":
		return "acm:certificate", r.Str("certificateArn")
	case "aws:route53/record:Record":
		return "route53:hostedzone", "arn:aws:route53:::hostedzone/" + r.Str("zoneId")
	case "aws:route53/healthCheck:HealthCheck":
		return "route53:healthcheck", "arn:aws:route53:::healthcheck/" + r.ID
	case "aws:s3/bucketV2:BucketV2":
		return bucket(Physical(r))
	case "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
		"aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketVersioningV2:BucketVersioningV2",
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":
		return bucket(r.Str("bucket"))
	case "aws:s3/bucketObjectv2:BucketObjectv2":
		return "s3:object", "arn:aws:s3:::" + r.Str("bucket") + "/" + r.Str("key")
	case "aws:ecr/repository:Repository":
		return "ecr:repository", arn("ecr", "repository/"+Physical(r))
	case "aws:ecr/lifecyclePolicy:LifecyclePolicy":
		return "ecr:repository", arn("ecr", "repository/"+r.Str("repository"))
	case "aws:iam/role:Role":
		return "iam:role", "arn:aws:iam::" + acct + ":role" + r.Str("path") + Physical(r)
	case "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		if role, ok := roleNamed(p, r.Str("role")); ok {
			return Identity(p, role)
		}
		return "iam:role", "arn:aws:iam::" + acct + ":role/" + r.Str("role")
	case "aws:iam/instanceProfile:InstanceProfile":
		return "iam:instance-profile", "arn:aws:iam::" + acct + ":instance-profile" + r.Str("path") + Physical(r)
	case "aws:iam/policy:Policy":
		return "iam:policy", "arn:aws:iam::" + acct + ":policy" + r.Str("path") + Physical(r)
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		return "iam:oidc-provider", "arn:aws:iam::" + acct + ":oidc-provider/" + strings.TrimPrefix(r.Str("url"), "https://")
	case "aws:kms/key:Key":
		return "kms:key", arn("kms", "key/0123abcd-"+r.Name)
	case "aws:kms/alias:Alias":
		return "kms:alias", arn("kms", r.Str("name"))
	case "aws:sns/topic:Topic":
		return "sns:topic", arn("sns", Physical(r))
	case "aws:sns/topicPolicy:TopicPolicy":
		return "sns:topic", r.Str("arn")
	case "aws:sns/topicSubscription:TopicSubscription":
		return "sns:topic", r.Str("topic")
	case "aws:budgets/budget:Budget":
		return "budgets:budget", "arn:aws:budgets::" + acct + ":budget/" + Physical(r)
	case "aws:cloudwatch/logGroup:LogGroup":
		return "logs:log-group", arn("logs", "log-group:"+Physical(r))
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		return "cloudwatch:alarm", arn("cloudwatch", "alarm:"+Physical(r))
	case "aws:cloudwatch/dashboard:Dashboard":
		return "cloudwatch:dashboard", "arn:aws:cloudwatch::" + acct + ":dashboard/" + r.Str("dashboardName")
	case "aws:cloudwatch/eventRule:EventRule":
		return "events:rule-on-default-event-bus", arn("events", "rule/"+Physical(r))
	case "aws:cloudwatch/eventTarget:EventTarget":
		return "events:rule-on-default-event-bus", arn("events", "rule/"+r.Str("rule"))
	case "aws:ssm/parameter:Parameter":
		return "ssm:parameter", arn("ssm", "parameter"+r.Str("name"))
	}
	return "", ""
}

// roleNamed finds a planned role by the name other resources refer to it by (its logical name,
// which the mocks hand out as its name).
func roleNamed(p *plan.Plan, name string) (plan.Resource, bool) {
	for _, r := range p.OfType("aws:iam/role:Role") {
		if r.Name == name || Physical(r) == name {
			return r, true
		}
	}
	return plan.Resource{}, false
}

// exclusion is an action the provider can reach for a type that the deploy role is meant not to
// have, with why the program never makes the provider send it. holds checks that reason on
// the planned resource.
type exclusion struct {
	reason string
	holds  func(r plan.Resource) bool
}

// exclusions are keyed by provider type and action: paths of the provider's code that only an
// argument the program never sets opens, so the deploy role does not grant them. Each guard
// checks that argument on every planned resource of the type.
var exclusions = map[[2]string]exclusion{
	{"aws_iam_role", "iam:DeleteRolePermissionsBoundary"}: {"the provider removes a boundary only when permissions_boundary is dropped; every role keeps the stack's, and the deploy role denies the call",
		func(r plan.Resource) bool { return r.Str("permissionsBoundary") != "" }},
	{"aws_iam_role", "iam:AttachRolePolicy"}: {"the role resource attaches policies only for managed_policy_arns, which no role sets (attachments are their own resources)",
		unset("managedPolicyArns")},
	{"aws_acm_certificate", "acm:ImportCertificate"}: {"only for an imported certificate (private_key)", unset("privateKey")},
	{"aws_acm_certificate", "acm:RenewCertificate"}: {"only when ACM reports pending_renewal, which private-CA certificates with early_renewal_duration do",
		unset("certificateAuthorityArn", "earlyRenewalDuration")},
	{"aws_autoscaling_group", "autoscaling:PutWarmPool"}:         {"only with warm_pool", unset("warmPool")},
	{"aws_autoscaling_group", "autoscaling:DeleteWarmPool"}:      {"only with warm_pool", unset("warmPool")},
	{"aws_autoscaling_group", "autoscaling:AttachLoadBalancers"}: {"only for Classic Load Balancers (load_balancers)", unset("loadBalancers")},
	{"aws_autoscaling_group", "autoscaling:DetachLoadBalancers"}: {"only for Classic Load Balancers (load_balancers)", unset("loadBalancers")},
	{"aws_eip", "ec2:AssociateAddress"}:                          {"only with instance or network_interface; the dev node claims its address itself, with the instance role", unset("instance", "networkInterface")},
	{"aws_subnet", "ec2:AssociateSubnetCidrBlock"}:               {"only for IPv6 (ipv6_cidr_block)", unset("ipv6CidrBlock")},
	{"aws_subnet", "ec2:DisassociateSubnetCidrBlock"}:            {"only for IPv6 (ipv6_cidr_block)", unset("ipv6CidrBlock")},
	{"aws_vpc", "ec2:AssociateVpcCidrBlock"}:                     {"only for IPv6 blocks", unset("assignGeneratedIpv6CidrBlock", "ipv6CidrBlock", "ipv6IpamPoolId")},
	{"aws_vpc", "ec2:DisassociateVpcCidrBlock"}:                  {"only for IPv6 blocks", unset("assignGeneratedIpv6CidrBlock", "ipv6CidrBlock", "ipv6IpamPoolId")},
	{"aws_vpc", "ec2:ModifyVpcTenancy"}:                          {"only when instance_tenancy changes from the default", unset("instanceTenancy")},
	{"aws_vpc", "ec2:GetIpamPoolAllocations"}:                    {"only for a VPC from an IPAM pool", unset("ipv4IpamPoolId")},
	{"aws_route_table", "ec2:EnableVgwRoutePropagation"}:         {"only with propagating_vgws", unset("propagatingVgws")},
	{"aws_route_table", "ec2:DisableVgwRoutePropagation"}:        {"only with propagating_vgws", unset("propagatingVgws")},
	{"aws_nat_gateway", "ec2:AssignPrivateNatGatewayAddress"}:    {"only with secondary addresses", unset(natSecondaries...)},
	{"aws_nat_gateway", "ec2:UnassignPrivateNatGatewayAddress"}:  {"only with secondary addresses", unset(natSecondaries...)},
	{"aws_nat_gateway", "ec2:AssociateNatGatewayAddress"}:        {"only with secondary addresses", unset(natSecondaries...)},
	{"aws_nat_gateway", "ec2:DisassociateNatGatewayAddress"}:     {"only with secondary addresses", unset(natSecondaries...)},
	{"aws_kms_key", "kms:EnableKey"}:                             {"only when is_enabled is set false and back; keys stay enabled", unset("isEnabled")},
	{"aws_kms_key", "kms:DisableKey"}:                            {"only when is_enabled is set false; keys stay enabled", unset("isEnabled")},
	{"aws_s3_bucket", "s3:DeleteBucketWebsite"}:                  {"only for the legacy inline website block", unset("websites", "website")},
	{"aws_s3_bucket", "s3:PutAccelerateConfiguration"}:           {"only for the legacy acceleration_status", unset("accelerationStatus")},
	{"aws_s3_bucket", "s3:PutReplicationConfiguration"}:          {"only for the legacy inline replication_configuration", unset("replicationConfiguration", "replicationConfigurations")},
	{"aws_s3_bucket", "s3:DeleteObject"}:                         {"only force_destroy empties a bucket before deleting it", notTrue("forceDestroy")},
	{"aws_s3_bucket", "s3:PutObjectLegalHold"}:                   {"only force_destroy empties a bucket before deleting it", notTrue("forceDestroy")},
	{"aws_s3_bucket", "s3:ListBucketVersions"}:                   {"only force_destroy empties a bucket before deleting it", notTrue("forceDestroy")},
	{"aws_s3_bucket", "s3:BypassGovernanceRetention"}:            {"only force_destroy empties a bucket before deleting it", notTrue("forceDestroy")},
	{"aws_lb", "elasticloadbalancing:SetIpAddressType"}:          {"only when ip_address_type is set", unset("ipAddressType")},
}

var natSecondaries = []string{"secondaryAllocationIds", "secondaryPrivateIpAddresses", "secondaryPrivateIpAddressCount"}

// unset holds when none of the inputs is set.
func unset(inputs ...string) func(plan.Resource) bool {
	return func(r plan.Resource) bool {
		for _, in := range inputs {
			if !r.Get(in).IsNull() {
				return false
			}
		}
		return true
	}
}

// notTrue holds when a boolean input is unset or false.
func notTrue(input string) func(plan.Resource) bool {
	return func(r plan.Resource) bool { return !r.Bool(input) }
}

// Needs lists every request the provider makes for the planned resources of a stack over their
// lifecycle (create, the updates, refresh, delete, and the code that plans a diff), and for the
// program's reads, less the exclusions (which describe the main program's stacks, so the
// account program keeps them all). It also returns the actions it excluded, sorted.
func Needs(table *awsapi.Table, p *plan.Plan) ([]Need, []string, error) {
	var out []Need
	excluded := map[string]bool{}
	for _, r := range p.Resources {
		if !r.Custom || r.Type == "pulumi:providers:aws" {
			continue
		}
		if r.Type == "command:local:Command" { // not the AWS provider: Packer, modelled below
			out = append(out, packer(p, r)...)
			continue
		}
		typ, tf, err := table.Type(r.Type)
		if err != nil {
			return nil, nil, err
		}
		for _, phase := range awsapi.Phases {
			for _, action := range table.PhaseActions(typ, phase) {
				if ex, ok := exclusions[[2]string{tf, action}]; ok && p.Project == plan.Project {
					if !ex.holds(r) {
						return nil, nil, fmt.Errorf("%s %s: the exclusion of %s no longer holds: %s", r.Type, r.Name, action, ex.reason)
					}
					excluded[action] = true
					continue
				}
				for _, req := range requests(table, p, r, action) {
					out = append(out, Need{req, fmt.Sprintf("%s %s (%s %s)", r.Type, r.Name, tf, phase)})
				}
			}
		}
		more, err := authorisations(p, r)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, more...)
	}
	out = append(out, providerConfiguration(p)...)
	for _, rd := range p.Reads {
		typ, tf, err := table.Type(rd.Token)
		if err != nil {
			return nil, nil, err
		}
		for _, action := range table.PhaseActions(typ, awsapi.Read) {
			ctx := map[string]string{"aws:RequestedRegion": p.Config["aws:region"]}
			res := "*"
			if action == "ssm:GetParameter" {
				res = "arn:aws:ssm:" + p.Config["aws:region"] + ":" + plan.Account + ":parameter" + fmt.Sprint(rd.Args["name"])
			}
			out = append(out, Need{iampolicy.Request{Action: action, Resource: res, Context: ctx}, "read " + rd.Token + " (" + tf + ")"})
		}
	}
	return out, slices.Sorted(maps.Keys(excluded)), nil
}

// requests is one request per resource an action names: the planned resource itself when the
// action applies to its type, else the stack's resources of the types the action lists, else
// a resource of each required type it cannot be one of ours, or Resource "*" for an action
// that applies to no resource type.
func requests(table *awsapi.Table, p *plan.Plan, r plan.Resource, action string) []iampolicy.Request {
	ownType, ownARN := Identity(p, r)
	facts := table.Actions[action]
	ctx := context(p, r, action)
	if len(facts.ResourceTypes) == 0 {
		return []iampolicy.Request{{Action: action, Resource: "*", Context: ctx}}
	}
	for _, rt := range facts.ResourceTypes {
		if sameType(rt.Name, ownType) {
			return []iampolicy.Request{{Action: action, Resource: ownARN, Context: ctx}}
		}
	}
	var out []iampolicy.Request
	for _, rt := range facts.ResourceTypes {
		found := false
		for _, o := range p.Resources {
			if typ, arn := Identity(p, o); o.Custom && typ == rt.Name {
				out = append(out, iampolicy.Request{Action: action, Resource: arn, Context: context(p, o, action)})
				found = true
			}
		}
		if !found && rt.Required {
			arn, _ := table.ARN(rt.Name, map[string]string{"Partition": "aws", "Region": r.Region, "Account": plan.Account}, "x")
			out = append(out, iampolicy.Request{Action: action, Resource: arn, Context: ctx})
		}
	}
	if len(out) == 0 { // only optional resource types, none of them ours: the request names none
		out = append(out, iampolicy.Request{Action: action, Resource: "*", Context: ctx})
	}
	return out
}

// sameType compares an action's resource type with a planned resource's. The Service
// Authorization Reference documents Classic and V2 Elastic Load Balancing on two pages under
// one prefix, with actions of the same names (CreateLoadBalancer, AddTags, ...); the data
// package keeps one entry a name, the Classic one, whose only type is "loadbalancer". A V2
// call of that name acts on the V2 resource it names.
func sameType(actionType, own string) bool {
	if actionType == own {
		return true
	}
	return actionType == "elasticloadbalancing:loadbalancer" && strings.HasPrefix(own, "elasticloadbalancing:")
}

// context is the condition keys a request for a planned resource carries: its region, the
// stack's tag on the resource and in the request, and for a role its boundary.
func context(p *plan.Plan, r plan.Resource, action string) map[string]string {
	ctx := map[string]string{"aws:RequestedRegion": r.Region, "aws:RequestTag/Stack": p.Stack, "aws:ResourceTag/Stack": p.Stack}
	if strings.HasPrefix(action, "iam:") {
		role := r
		if r.Type != "aws:iam/role:Role" {
			role, _ = roleNamed(p, r.Str("role"))
		}
		if b := role.Str("permissionsBoundary"); b != "" {
			ctx["iam:PermissionsBoundary"] = b
		}
		if a := r.Str("policyArn"); a != "" {
			ctx["iam:PolicyARN"] = a
		}
	}
	return ctx
}

// authorisations are the checks AWS makes beyond the API call itself, which no provider code
// names: passing a role to a service, the service-linked role a service creates on first use,
// and the launch permissions Auto Scaling checks for a launch template.
func authorisations(p *plan.Plan, r plan.Resource) ([]Need, error) {
	ctx := func(extra ...string) map[string]string {
		c := map[string]string{"aws:RequestedRegion": r.Region, "aws:RequestTag/Stack": p.Stack, "aws:ResourceTag/Stack": p.Stack}
		for i := 0; i+1 < len(extra); i += 2 {
			c[extra[i]] = extra[i+1]
		}
		return c
	}
	var missing error
	pass := func(roleName, service string) Need {
		role, ok := roleNamed(p, roleName)
		if !ok {
			missing = fmt.Errorf("%s %s passes %s, which the plan does not create", r.Type, r.Name, roleName)
		}
		_, arn := Identity(p, role)
		return Need{iampolicy.Request{Action: "iam:PassRole", Resource: arn, Context: ctx("iam:PassedToService", service)},
			r.Type + " " + r.Name + " passes " + roleName + " to " + service}
	}
	slr := func(service string) Need {
		return Need{iampolicy.Request{Action: "iam:CreateServiceLinkedRole",
			Resource: "arn:aws:iam::" + plan.Account + ":role/aws-service-role/" + service + "/x",
			Context:  ctx("iam:AWSServiceName", service)}, r.Type + " " + r.Name + " needs the service-linked role of " + service}
	}
	last := func(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
	switch r.Type {
	case "aws:autoscaling/group:Group":
		// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html:
		// creating or updating a group with a launch template needs ec2:RunInstances and
		// iam:PassRole for the template's instance profile role; the first group creates
		// AWSServiceRoleForAutoScaling.
		profiles := p.OfType("aws:iam/instanceProfile:InstanceProfile")
		if len(profiles) != 1 {
			return nil, fmt.Errorf("%d instance profiles planned for %s", len(profiles), r.Name)
		}
		profile := profiles[0]
		out := []Need{
			{iampolicy.Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:" + r.Region + ":" + plan.Account + ":instance/*", Context: ctx()}, r.Name + " launch template permissions"},
			pass(profile.Str("role"), "ec2.amazonaws.com"),
			slr("autoscaling.amazonaws.com"),
		}
		return out, missing
	case "aws:iam/instanceProfile:InstanceProfile":
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html: adding a role to a
		// profile passes it.
		out := []Need{pass(r.Str("role"), "ec2.amazonaws.com")}
		return out, missing
	case "aws:lb/loadBalancer:LoadBalancer":
		return []Need{slr("elasticloadbalancing.amazonaws.com")}, nil
	case "aws:ec2/flowLog:FlowLog":
		out := []Need{pass(last(r.Str("iamRoleArn")), "vpc-flow-logs.amazonaws.com")}
		return out, missing
	case "aws:cloudwatch/eventTarget:EventTarget":
		if rn := r.Str("roleArn"); rn != "" {
			out := []Need{pass(last(rn), "events.amazonaws.com")}
			return out, missing
		}
	}
	return nil, nil
}

// Actions is the set of actions a list of needs asks for, sorted.
func Actions(needs []Need) []string {
	set := map[string]bool{}
	for _, n := range needs {
		set[n.Request.Action] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// Granted expands every Allow statement's actions into the actions of the table's services
// they grant.
func Granted(table *awsapi.Table, docs []iampolicy.Document) map[string]bool {
	out := map[string]bool{}
	for _, d := range docs {
		for _, st := range d.Statement {
			if st.Effect != "Allow" {
				continue
			}
			for _, a := range st.Action {
				for _, x := range table.Expand(a) {
					out[x] = true
				}
			}
		}
	}
	return out
}

// Without returns the documents with one action taken out of every Allow statement, wildcards
// expanded so the rest of what they grant stays.
func Without(table *awsapi.Table, docs []iampolicy.Document, action string) []iampolicy.Document {
	var out []iampolicy.Document
	for _, d := range docs {
		nd := iampolicy.Document{Version: d.Version}
		for _, st := range d.Statement {
			if st.Effect == "Allow" {
				var actions []string
				for _, a := range st.Action {
					exp := table.Expand(a)
					if !slices.ContainsFunc(exp, func(x string) bool { return strings.EqualFold(x, action) }) {
						actions = append(actions, a)
						continue
					}
					for _, x := range exp {
						if !strings.EqualFold(x, action) {
							actions = append(actions, x)
						}
					}
				}
				st.Action = actions
				if len(actions) == 0 {
					continue
				}
			}
			nd.Statement = append(nd.Statement, st)
		}
		out = append(out, nd)
	}
	return out
}

// packer is what images/build.sh makes Packer's amazon-ebs builder call with the deploy role's
// credentials: the calls of its documented minimal policy
// (https://developer.hashicorp.com/packer/integrations/hashicorp/amazon#iam-task-or-instance-role)
// that this template's steps use, the builder's profile, and Session Manager, its communicator.
func packer(p *plan.Plan, r plan.Resource) []Need {
	arn := func(service, resource string) string {
		return "arn:aws:" + service + ":" + r.Region + ":" + plan.Account + ":" + resource
	}
	ctx := map[string]string{"aws:RequestedRegion": r.Region, "aws:RequestTag/Stack": p.Stack, "aws:ResourceTag/Stack": p.Stack}
	var out []Need
	add := func(action, resource string, extra ...string) {
		c := maps.Clone(ctx)
		for i := 0; i+1 < len(extra); i += 2 {
			c[extra[i]] = extra[i+1]
		}
		out = append(out, Need{iampolicy.Request{Action: action, Resource: resource, Context: c}, "Packer (" + r.Name + ")"})
	}
	for _, a := range []string{"RunInstances", "CreateKeyPair", "CreateImage", "CreateTags", "StopInstances", "TerminateInstances", "DeleteKeyPair", "DeregisterImage", "DeleteSnapshot"} {
		add("ec2:"+a, arn("ec2", "*"))
	}
	add("iam:PassRole", "arn:aws:iam::"+plan.Account+":role/immutable-edge/immutable-edge-image-builder", "iam:PassedToService", "ec2.amazonaws.com")
	add("ssm:StartSession", arn("ec2", "instance/i-0123"))
	add("ssm:StartSession", "arn:aws:ssm:"+r.Region+"::document/AWS-StartPortForwardingSession")
	add("ssm:TerminateSession", arn("ssm", "session/botocore-session-1"))
	add("ssm:DescribeInstanceInformation", "*")
	return out
}

// providerConfiguration is what the AWS provider calls before any resource: internal/conns/config.go
// asks aws-sdk-go-base's GetAwsAccountIDAndPartition for the account, which calls
// sts:GetCallerIdentity (unless skip_requesting_account_id, which the stacks do not set).
func providerConfiguration(p *plan.Plan) []Need {
	return []Need{{iampolicy.Request{Action: "sts:GetCallerIdentity", Resource: "*",
		Context: map[string]string{"aws:RequestedRegion": p.Config["aws:region"]}}, "provider configuration"}}
}

// PreviewNeeds is what a preview without refresh makes the provider send: its configuration,
// the program's reads, and the code that computes each resource's diff.
func PreviewNeeds(table *awsapi.Table, p *plan.Plan) ([]Need, error) {
	all, _, err := Needs(table, p)
	if err != nil {
		return nil, err
	}
	var out []Need
	for _, n := range all {
		if strings.HasPrefix(n.From, "read ") || n.From == "provider configuration" || strings.HasSuffix(n.From, " "+awsapi.Plan+")") {
			out = append(out, n)
		}
	}
	return out, nil
}

// Beyond counts the actions of the table's services that the documents grant and the needs do
// not ask for.
func Beyond(table *awsapi.Table, docs []iampolicy.Document, needs []Need) int {
	needed := Actions(needs)
	n := 0
	for a := range Granted(table, docs) {
		if !slices.ContainsFunc(needed, func(x string) bool { return strings.EqualFold(x, a) }) {
			n++
		}
	}
	return n
}

// Exclusion is one provider code path the deploy roles do not grant, and why.
type Exclusion struct{ Type, Action, Reason string }

// ExclusionList lists the exclusions, sorted by type and action.
func ExclusionList() []Exclusion {
	var out []Exclusion
	for k, e := range exclusions {
		out = append(out, Exclusion{k[0], k[1], e.reason})
	}
	slices.SortFunc(out, func(a, b Exclusion) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.Action, b.Action)
	})
	return out
}
