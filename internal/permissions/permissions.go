// Package permissions says what the AWS provider will ask of a stack's roles: every request it
// sends for each planned resource over the resource's lifecycle, from internal/awsapi's table
// (derived from the provider's source), plus the checks AWS makes beyond the calls themselves
// and the calls of the image build and image retention. The account tests ask the IAM
// evaluator for each; cmd/docgen counts them.
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
	// Phase is the lifecycle phase that sends it (awsapi.Create ... awsapi.Delete); empty for
	// what every operation sends (the provider's configuration).
	Phase string
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
		if strings.HasPrefix(r.Type, "random:") || r.Type == "pulumi:providers:random" { // made on the deployer's machine: no AWS call
			continue
		}
		if r.Type == "command:local:Command" { // not the AWS provider: modelled by hand (commands.go)
			more, err := commandNeeds(p, r)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, more...)
			continue
		}
		typ, tf, err := table.Type(r.Type)
		if err != nil {
			return nil, nil, err
		}
		for _, phase := range awsapi.Phases {
			for _, action := range table.PhaseActions(typ, phase) {
				if ex, ok := exclusions[[2]string{tf, action}]; ok && p.Project == plan.Project {
					switch {
					case ex.holds(r):
						excluded[action] = true
						continue
					case !opened[[2]string{tf, action}]:
						return nil, nil, fmt.Errorf("%s %s: the exclusion of %s no longer holds: %s", r.Type, r.Name, action, ex.reason)
					}
					// The resource opens the path on purpose (a disposable bucket): the role needs it.
				}
				for _, req := range requests(table, p, r, action) {
					out = append(out, Need{req, fmt.Sprintf("%s %s (%s %s)", r.Type, r.Name, tf, phase), phase})
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
			out = append(out, Need{iampolicy.Request{Action: action, Resource: res, Context: ctx}, "read " + rd.Token + " (" + tf + ")", awsapi.Read})
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
	if ownType == "s3:bucket" && slices.ContainsFunc(facts.ResourceTypes, func(rt awsapi.ResourceType) bool { return rt.Name == "s3:object" }) {
		return []iampolicy.Request{{Action: action, Resource: ownARN + anyObject, Context: ctx}}
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

// anyObject names every object of a bucket in a request: the object calls a bucket's delete
// makes (emptying it) reach whatever keys it holds. Only a grant whose key part is "*" matches
// the literal "*", so a grant under a prefix fails the check, as it would fail the emptying.
const anyObject = "/*"

// sameType compares an action's resource type with a planned resource's. The Service
// Authorization Reference documents Classic and V2 Elastic Load Balancing on two pages under
// one prefix (https://docs.aws.amazon.com/service-authorization/latest/reference/list_elasticloadbalancing.html
// and list_elasticloadbalancingv2.html), with actions of the same names (CreateLoadBalancer, AddTags, ...); the data
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
			r.Type + " " + r.Name + " passes " + roleName + " to " + service, awsapi.Create}
	}
	slr := func(service string) Need {
		return Need{iampolicy.Request{Action: "iam:CreateServiceLinkedRole",
			Resource: "arn:aws:iam::" + plan.Account + ":role/aws-service-role/" + service + "/x",
			Context:  ctx("iam:AWSServiceName", service)}, r.Type + " " + r.Name + " needs the service-linked role of " + service, awsapi.Create}
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
			{iampolicy.Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:" + r.Region + ":" + plan.Account + ":instance/*", Context: ctx()}, r.Name + " launch template permissions", awsapi.Create},
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
	case "aws:s3/bucketV2:BucketV2":
		return emptying(p, r), nil
	}
	return nil, nil
}

// emptying is what IAM asks of a bucket's force_destroy beyond the table's operation mapping:
// the provider's emptyBucket (hashicorp/terraform-provider-aws at 1a5174b1,
// internal/service/s3/delete.go) deletes every object version and
// delete marker by key and version id with DeleteObjects, and deleting a specific version needs
// s3:DeleteObjectVersion as well as s3:DeleteObject
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html, "Permissions").
func emptying(p *plan.Plan, r plan.Resource) []Need {
	if !r.Bool("forceDestroy") {
		return nil
	}
	_, arn := Identity(p, r)
	ctx := map[string]string{"aws:RequestedRegion": r.Region, "aws:ResourceTag/Stack": p.Stack}
	return []Need{{iampolicy.Request{Action: "s3:DeleteObjectVersion", Resource: arn + anyObject, Context: ctx},
		r.Type + " " + r.Name + " (force_destroy deletes the object versions)", awsapi.Delete}}
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

// DestroyNeeds is what `pulumi destroy` makes the provider send: its configuration and every
// planned resource's delete path, with what a disposable bucket's emptying adds. Destroy does
// not run the program, so no reads; it refreshes nothing unless asked to.
func DestroyNeeds(table *awsapi.Table, p *plan.Plan) ([]Need, error) {
	return needsWhere(table, p, func(n Need) bool { return n.Phase == awsapi.Delete || n.Phase == "" })
}

// needsWhere is the plan's needs that keep accepts.
func needsWhere(table *awsapi.Table, p *plan.Plan, keep func(Need) bool) ([]Need, error) {
	all, _, err := Needs(table, p)
	if err != nil {
		return nil, err
	}
	var out []Need
	for _, n := range all {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// providerConfiguration is what the AWS provider calls before any resource: internal/conns/config.go
// asks aws-sdk-go-base's GetAwsAccountIDAndPartition for the account, which calls
// sts:GetCallerIdentity (unless skip_requesting_account_id, which the stacks do not set).
func providerConfiguration(p *plan.Plan) []Need {
	return []Need{{iampolicy.Request{Action: "sts:GetCallerIdentity", Resource: "*",
		Context: map[string]string{"aws:RequestedRegion": p.Config["aws:region"]}}, "provider configuration", ""}}
}

// PreviewNeeds is what a preview without refresh makes the provider send: its configuration,
// the program's reads, and the code that computes each resource's diff.
func PreviewNeeds(table *awsapi.Table, p *plan.Plan) ([]Need, error) {
	return needsWhere(table, p, func(n Need) bool {
		return strings.HasPrefix(n.From, "read ") || n.From == "provider configuration" || n.Phase == awsapi.Plan
	})
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
