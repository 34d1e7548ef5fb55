package permissions

import (
	"fmt"
	"maps"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// commandNeeds is what a pulumi-command command of the project makes AWS do with the deploy
// role's credentials. No provider code names these calls, so each script is modelled by hand,
// and a command this package does not know is an error rather than a silent gap.
func commandNeeds(p *plan.Plan, r plan.Resource) ([]Need, error) {
	switch create := r.Str("create"); {
	case r.Str("environment.ROLLOUT_GROUP") != "":
		return rollout(p, r), nil
	case strings.HasSuffix(create, "/build.sh"):
		return packer(p, r)
	case strings.HasSuffix(create, "/prune.sh"):
		return retention(r), nil
	default:
		return nil, fmt.Errorf("%s %s runs %q, which internal/permissions does not model", r.Type, r.Name, create)
	}
}

// rollout is what cmd/rollout calls (cmd/rollout/aws.go), each as the Service Authorization
// Reference scopes it (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html,
// .../list_amazoncloudwatch.html): the describes apply to no resource, the refresh calls to the
// group, DescribeAlarms to each alarm. A refresh with a DesiredConfiguration launch template is
// checked like an update of the group with it: ec2:RunInstances and passing the instance
// profile's role (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html),
// which authorisations already asks of the group.
func rollout(p *plan.Plan, r plan.Resource) []Need {
	// The command runs on create and on every change it is triggered by; never on destroy.
	c := &caller{r: r, from: "rollout (" + r.Name + ")", phase: awsapi.Update}
	own := map[string]string{"aws:ResourceTag/Stack": p.Stack}
	c.add("autoscaling:DescribeAutoScalingGroups", "*", own)
	c.add("autoscaling:DescribeInstanceRefreshes", "*", own)
	group := c.arn("autoscaling", "autoScalingGroup:0123-uuid:autoScalingGroupName/"+r.Str("environment.ROLLOUT_GROUP"))
	c.add("autoscaling:StartInstanceRefresh", group, own)
	c.add("autoscaling:RollbackInstanceRefresh", group, own)
	for _, alarm := range strings.Split(r.Str("environment.ROLLOUT_ALARMS"), ",") {
		c.add("cloudwatch:DescribeAlarms", c.arn("cloudwatch", "alarm:"+alarm), own)
	}
	return c.out
}

// caller collects the requests one command makes in one lifecycle phase.
type caller struct {
	r     plan.Resource
	from  string
	phase string // awsapi.Create for a command's create and update, awsapi.Delete for its delete
	out   []Need
}

func (c *caller) arn(service, resource string) string {
	return "arn:aws:" + service + ":" + c.r.Region + ":" + plan.Account + ":" + resource
}

// ec2 is an EC2 resource without an account in its ARN: images and snapshots.
func (c *caller) ec2(resource string) string { return "arn:aws:ec2:" + c.r.Region + "::" + resource }

func (c *caller) add(action, resource string, ctx ...map[string]string) {
	full := map[string]string{"aws:RequestedRegion": c.r.Region}
	for _, m := range ctx {
		maps.Copy(full, m)
	}
	c.out = append(c.out, Need{iampolicy.Request{Action: action, Resource: resource, Context: full}, c.from, c.phase})
}

// channelTags are the condition keys of an image or snapshot the channel built: Packer tags
// them with the template's tags (images/golden.pkr.hcl: Project, Channel, and Stack, the
// building stack, which is the channel's).
func channelTags(project, channel string) map[string]string {
	return map[string]string{"aws:ResourceTag/Project": project, "aws:ResourceTag/Channel": channel, "aws:ResourceTag/Stack": channel}
}

// createdBy is the condition keys of a call that creates a resource with the template's tags,
// and of the tagging that call implies (ec2:CreateAction names the create call:
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html).
func createdBy(project, channel, action string) map[string]string {
	return map[string]string{"aws:RequestTag/Project": project, "aws:RequestTag/Channel": channel, "aws:RequestTag/Stack": channel,
		"ec2:CreateAction": action}
}

// packer is what images/build.sh makes Packer's amazon-ebs builder (packer-plugin-amazon
// v1.8.0) call for this template: the calls of its documented minimal policy
// (https://developer.hashicorp.com/packer/integrations/hashicorp/amazon#iam-task-or-instance-role)
// that the template's steps reach, in the stack's subnet, with the builder's profile and
// Session Manager as the communicator.
func packer(p *plan.Plan, r plan.Resource) ([]Need, error) {
	c := &caller{r: r, from: "Packer (" + r.Name + ")", phase: awsapi.Create}
	subnet, ok := ofTypeByID(p, "aws:ec2/subnet:Subnet", r.Str("environment.SUBNET_ID"))
	if !ok {
		return nil, fmt.Errorf("%s builds in %q, which is no subnet of the plan", r.Name, r.Str("environment.SUBNET_ID"))
	}
	vpc, ok := ofTypeByID(p, "aws:ec2/vpc:Vpc", subnet.Str("vpcId"))
	if !ok {
		return nil, fmt.Errorf("%s: the build subnet's VPC %q is not in the plan", r.Name, subnet.Str("vpcId"))
	}
	_, subnetARN := Identity(p, subnet)
	_, vpcARN := Identity(p, vpc)
	stack := map[string]string{"aws:ResourceTag/Stack": p.Stack}
	run := channelTags(plan.Project, r.Str("environment.CHANNEL"))
	channel := r.Str("environment.CHANNEL")
	created := createdBy(plan.Project, channel, "")
	delete(created, "ec2:CreateAction")

	// Network info (step_network_info.go): the zone and VPC come from the subnet it is given.
	c.add("ec2:DescribeSubnets", "*")
	c.add("ec2:DescribeImages", "*") // the source AMI filter, and the image it made
	// A temporary security group in that VPC (step_security_group.go); with Session Manager
	// no ingress rule (SkipSSHRuleCreation), so no AuthorizeSecurityGroupIngress.
	c.add("ec2:CreateSecurityGroup", c.arn("ec2", "security-group/*"), created)
	c.add("ec2:CreateSecurityGroup", vpcARN, stack)
	c.add("ec2:DescribeSecurityGroups", "*")
	c.add("ec2:DeleteSecurityGroup", c.arn("ec2", "security-group/*"), run)
	c.add("ec2:CreateKeyPair", c.arn("ec2", "key-pair/*"), created)
	c.add("ec2:DeleteKeyPair", c.arn("ec2", "key-pair/*"), run)
	// The build instance in the stack's subnet, from Canonical's image, with the temporary
	// group and key pair, which carry the run tags: existing resources of the stack's by then.
	for _, res := range []string{"instance/*", "network-interface/*", "volume/*"} {
		c.add("ec2:RunInstances", c.arn("ec2", res), created)
	}
	c.add("ec2:RunInstances", subnetARN, stack)
	c.add("ec2:RunInstances", c.arn("ec2", "security-group/*"), run)
	c.add("ec2:RunInstances", c.arn("ec2", "key-pair/*"), run)
	c.add("ec2:RunInstances", c.ec2("image/ami-0canonical"))
	for _, t := range [][2]string{{"instance/*", "RunInstances"}, {"volume/*", "RunInstances"},
		{"security-group/*", "CreateSecurityGroup"}, {"key-pair/*", "CreateKeyPair"}} {
		c.add("ec2:CreateTags", c.arn("ec2", t[0]), createdBy(plan.Project, channel, t[1]))
	}
	c.add("ec2:DescribeInstances", "*")
	c.add("iam:PassRole", "arn:aws:iam::"+plan.Account+":role/immutable-edge/immutable-edge-image-builder",
		map[string]string{"iam:PassedToService": "ec2.amazonaws.com"})
	c.add("ssm:DescribeInstanceInformation", "*")
	c.add("ssm:StartSession", c.arn("ec2", "instance/i-0123"))
	c.add("ssm:StartSession", "arn:aws:ssm:"+r.Region+"::document/AWS-StartPortForwardingSession")
	c.add("ssm:TerminateSession", c.arn("ssm", "session/botocore-session-1"))
	// The image: stop, CreateImage with the run tags on image and snapshots (ebs/step_create_ami.go),
	// then encrypt_boot copies it (step_ami_region_copy.go) and deregisters the unencrypted
	// original and deletes its snapshots (helper_funcs.go DestroyAMIs); a failed build
	// deregisters what it made the same way.
	c.add("ec2:StopInstances", c.arn("ec2", "instance/*"), run)
	c.add("ec2:CreateImage", c.arn("ec2", "instance/*"), run)
	c.add("ec2:CreateImage", c.ec2("image/*"), created)
	c.add("ec2:CreateImage", c.ec2("snapshot/*"), created)
	c.add("ec2:CopyImage", c.ec2("image/ami-0unencrypted"), run) // the source: the image it made
	c.add("ec2:CopyImage", c.ec2("image/*"), created)
	// The AMI's own tags (tags) go on after CreateImage: by then it carries the run tags.
	c.add("ec2:CreateTags", c.ec2("image/*"), created, run)
	c.add("ec2:CreateTags", c.ec2("snapshot/*"), created, run)
	c.add("ec2:DeregisterImage", c.ec2("image/ami-0unencrypted"), run)
	c.add("ec2:DeleteSnapshot", c.ec2("snapshot/snap-0unencrypted"), run)
	c.add("ec2:TerminateInstances", c.arn("ec2", "instance/*"), run)
	return c.out, nil
}

// retention is what images/prune.sh calls: every read before any deletion, then the
// deregistration of the channel's unused images and their snapshots. It runs after each build
// (create, update) and, with --keep 0, as the command's delete when the stack is destroyed.
func retention(r plan.Resource) []Need {
	out := retentionCalls(&caller{r: r, from: "image retention (" + r.Name + ")", phase: awsapi.Create})
	if r.Str("delete") != "" {
		out = append(out, retentionCalls(&caller{r: r, from: "image retention (" + r.Name + " delete)", phase: awsapi.Delete})...)
	}
	return out
}

func retentionCalls(c *caller) []Need {
	project, channel := c.r.Str("environment.PROJECT"), c.r.Str("environment.CHANNEL")
	c.add("ec2:DescribeImages", "*")
	// GetParametersByPath is authorised against the path asked for, not the parameters it
	// returns (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-retrieval-authorization.html).
	c.add("ssm:GetParametersByPath", c.arn("ssm", "parameter/"+project), map[string]string{"ssm:Recursive": "true"})
	c.add("ec2:DescribeLaunchTemplates", "*")
	c.add("ec2:DescribeLaunchTemplateVersions", "*")
	c.add("ec2:DescribeInstances", "*")
	c.add("ec2:DeregisterImage", c.ec2("image/ami-0old"), channelTags(project, channel))
	c.add("ec2:DeleteSnapshot", c.ec2("snapshot/snap-0old"), channelTags(project, channel))
	return c.out
}

// ofTypeByID finds a planned resource by type and id (the mocks give resources of different
// types that share a logical name the same id).
func ofTypeByID(p *plan.Plan, token, id string) (plan.Resource, bool) {
	for _, r := range p.OfType(token) {
		if r.ID == id {
			return r, true
		}
	}
	return plan.Resource{}, false
}
