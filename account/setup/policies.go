package setup

import (
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
)

// EC2 is held to the stack positively: a call on an existing resource needs the resource's
// Stack tag to be this stack's (aws:ResourceTag/Stack), a call that creates one needs the
// request to tag it so (aws:RequestTag/Stack), and an untagged resource is no stack's. The
// Service Authorization Reference's EC2 page lists aws:RequestTag on the created resource types
// of each create call and aws:ResourceTag on every existing one
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
// A create call also names the resources it creates in (a subnet's VPC, an instance's subnet
// and security groups): those are authorised as existing resources, so each create statement
// lists only the types the call creates, never a type it takes as a parent.

// ec2Own are the EC2 calls on the stack's existing network, security groups, launch templates
// and instances (and a create call's parents); tags have their own statement.
var ec2Own = []string{
	"ec2:AllocateAddress", "ec2:AssociateRouteTable", "ec2:AttachInternetGateway",
	"ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
	"ec2:CreateFlowLogs", "ec2:CreateLaunchTemplateVersion",
	"ec2:CreateNatGateway", "ec2:CreateRoute", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup", "ec2:CreateSubnet",
	"ec2:CreateVpcEndpoint", "ec2:DeleteFlowLogs", "ec2:DeleteInternetGateway", "ec2:DeleteLaunchTemplate",
	"ec2:DeleteLaunchTemplateVersions", "ec2:DeleteNatGateway", "ec2:DeleteRoute", "ec2:DeleteRouteTable", "ec2:DeleteVpcEndpoints",
	"ec2:DeleteNetworkInterface", // deleting a subnet removes interfaces a load balancer left in it
	"ec2:DeleteSecurityGroup", "ec2:DeleteSubnet", "ec2:DeleteVpc", "ec2:DetachInternetGateway",
	"ec2:DetachNetworkInterface",
	"ec2:DisassociateAddress", "ec2:DisassociateRouteTable", "ec2:ModifyLaunchTemplate", "ec2:ModifySecurityGroupRules",
	"ec2:ModifySubnetAttribute", "ec2:ModifyVpcAttribute", "ec2:ModifyVpcEndpoint", "ec2:ReleaseAddress", "ec2:ReplaceRoute",
	"ec2:ReplaceRouteTableAssociation", "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
	"ec2:RunInstances", // CreateAutoScalingGroup checks that the caller could launch the template
	"ec2:UpdateSecurityGroupRuleDescriptionsEgress", "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
}

// ec2Creates maps groups of create calls to the resource types they create; no group lists a
// type that one of its calls takes as a parent (CreateSubnet's VPC, RunInstances' subnet).
var ec2Creates = []struct {
	sid     string
	actions []string
	types   []string
}{
	{"NewNetwork", []string{"ec2:AllocateAddress", "ec2:CreateInternetGateway", "ec2:CreateLaunchTemplate", "ec2:CreateVpc"},
		[]string{"elastic-ip", "internet-gateway", "launch-template", "vpc"}},
	{"NewInVpc", []string{"ec2:CreateFlowLogs", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup", "ec2:CreateSubnet"},
		[]string{"route-table", "security-group", "subnet", "vpc-flow-log"}},
	{"NewRules", []string{"ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress"}, []string{"security-group-rule"}},
	{"NewInSubnet", []string{"ec2:CreateNatGateway", "ec2:CreateVpcEndpoint", "ec2:RunInstances"},
		[]string{"instance", "natgateway", "network-interface", "volume", "vpc-endpoint"}},
}

// ec2Statements are the EC2 grants of the compute policy: create tagged, change only the own.
func (s scope) ec2Statements() []iampolicy.Statement {
	var sts []iampolicy.Statement
	for _, c := range ec2Creates {
		var res []string
		for _, t := range c.types {
			res = append(res, s.arn("ec2", s.Region, t+"/*"))
		}
		sts = append(sts, allow(c.sid, c.actions, res, s.created()))
	}
	return append(sts,
		allow("OwnNetwork", ec2Own, all, s.owned()),
		// Launching reads the image, whichever stack's channel built it (prod runs dev's).
		allow("LaunchImages", []string{"ec2:RunInstances"}, []string{"arn:" + s.Partition + ":ec2:" + s.Region + "::image/*"}, s.inRegion()),
		s.retagOwn("ec2:CreateTags", "ec2:DeleteTags"),
		// Tags in a create call (TagSpecifications) are authorised as ec2:CreateTags with
		// ec2:CreateAction (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html).
		allow("TagOnCreate", []string{"ec2:CreateTags"}, all, cond{
			"StringEquals": {"aws:RequestTag/Stack": s.Stack.Name, "aws:RequestedRegion": s.Region, "ec2:CreateAction": ec2CreateActions()},
		}),
	)
}

// ec2CreateActions are the create calls' names, as ec2:CreateAction spells them.
func ec2CreateActions() []string {
	var out []string
	for _, c := range ec2Creates {
		for _, a := range c.actions {
			out = append(out, strings.TrimPrefix(a, "ec2:"))
		}
	}
	return append(out, "CopyImage", "CreateImage", "CreateKeyPair")
}

// retagOwn lets the stack tag and untag what is already its own, and never tag it another's.
func (s scope) retagOwn(actions ...string) iampolicy.Statement {
	c := s.owned()
	c["StringEqualsIfExists"] = map[string]any{"aws:RequestTag/Stack": s.Stack.Name}
	return allow("RetagOwn"+strings.Split(actions[0], ":")[0], actions, all, c)
}

// owned is the condition of a call on an existing resource: this stack's tag, in its region.
func (s scope) owned() cond {
	return cond{"StringEquals": {"aws:ResourceTag/Stack": s.Stack.Name, "aws:RequestedRegion": s.Region}}
}

// PinTag is the tag images/promote.sh puts on the image a stack's parameter names.
func PinTag(stack string) string { return "Pinned-" + stack }

// unpinned adds to c that no stack promoting from this one has pinned the image.
func (s scope) unpinned(c cond) cond {
	pins := map[string]any{}
	for _, t := range s.Stacks {
		if t.PromotesFrom == s.Stack.Name {
			pins["aws:ResourceTag/"+PinTag(t.Name)] = "true"
		}
	}
	if len(pins) == 0 {
		return c
	}
	out := cond{"Null": pins}
	for op, keys := range c {
		out[op] = keys
	}
	return out
}

// created is the condition of a create call: the request tags the new resource this stack's.
func (s scope) created() cond {
	return cond{"StringEquals": {"aws:RequestTag/Stack": s.Stack.Name, "aws:RequestedRegion": s.Region}}
}

// imageOwn are what Packer's amazon-ebs builder (its documented minimum, less password and
// Windows calls) does to what it made: the build instance, its volumes, key pair and image.
var imageOwn = []string{
	"ec2:AttachVolume", "ec2:CopyImage", "ec2:CreateImage", "ec2:CreateSnapshot", "ec2:DeleteKeyPair", "ec2:DeleteVolume",
	"ec2:DetachVolume", "ec2:ModifyImageAttribute", "ec2:ModifyInstanceAttribute", "ec2:ModifySnapshotAttribute",
	"ec2:StopInstances", "ec2:TerminateInstances",
}

// networkPolicy is the stack's EC2: its network, security groups, launch templates, instances.
func (s scope) networkPolicy() iampolicy.Document { return iampolicy.New(s.ec2Statements()...) }

// computePolicy covers the other region-scoped services: Auto Scaling, load balancing, ACM.
func (s scope) computePolicy() iampolicy.Document {
	sts := []iampolicy.Statement{
		readEverywhere(),
		allow("AutoScaling", []string{
			"autoscaling:AttachTrafficSources", "autoscaling:CreateAutoScalingGroup", "autoscaling:CreateOrUpdateTags",
			"autoscaling:DeleteAutoScalingGroup", "autoscaling:DeleteLifecycleHook", "autoscaling:DeleteTags",
			"autoscaling:DetachTrafficSources", "autoscaling:DisableMetricsCollection", "autoscaling:EnableMetricsCollection",
			"autoscaling:PutLifecycleHook", "autoscaling:ResumeProcesses", "autoscaling:SetInstanceProtection",
			"autoscaling:StartInstanceRefresh", "autoscaling:CancelInstanceRefresh", "autoscaling:RollbackInstanceRefresh",
			"autoscaling:SuspendProcesses", "autoscaling:UpdateAutoScalingGroup", "autoscaling:PutScalingPolicy", "autoscaling:DeletePolicy",
			"autoscaling:AttachLoadBalancerTargetGroups", "autoscaling:DetachLoadBalancerTargetGroups",
		}, []string{s.arn("autoscaling", s.Region, "autoScalingGroup:*:autoScalingGroupName/"+s.Stack.Name+"-*")}, nil),
		allow("LoadBalancing", []string{
			"elasticloadbalancing:AddTags", "elasticloadbalancing:CreateListener", "elasticloadbalancing:CreateLoadBalancer",
			"elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:DeleteLoadBalancer",
			"elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:ModifyLoadBalancerAttributes",
			"elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:RemoveTags",
			"elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
		}, []string{
			s.arn("elasticloadbalancing", s.Region, "loadbalancer/app/"+s.Stack.Name+"-*"),
			s.arn("elasticloadbalancing", s.Region, "targetgroup/"+s.Stack.Name+"-*"),
			s.arn("elasticloadbalancing", s.Region, "listener/app/"+s.Stack.Name+"-*"),
		}, nil),
		allow("ServiceLinkedRoles", []string{"iam:CreateServiceLinkedRole"},
			[]string{"arn:" + s.Partition + ":iam::" + s.Account + ":role/aws-service-role/*"},
			cond{"StringEquals": {"iam:AWSServiceName": []string{"autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com"}}}),
	}
	if s.Stack.LoadBalanced() {
		sts = append(sts, s.certificateStatements()...)
	}
	return iampolicy.New(sts...)
}

// certificateStatements let an alb stack request, tag and retire its ACM certificate. ACM lists
// aws:RequestTag on RequestCertificate and aws:ResourceTag on a certificate
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscertificatemanager.html).
// Tagging outside a request only on the stack's own certificates (RetagOwnacm). The grant for
// tags that come with RequestCertificate, should ACM authorise them as AddTagsToCertificate
// before the certificate exists (its permissions page does not say:
// https://docs.aws.amazon.com/acm/latest/userguide/authen-apipermissions.html; a user of
// terraform-provider-aws saw AccessDenied once tags moved into the request, #11903), takes only
// certificates without a Stack tag. That leaves an untagged certificate of the account to the
// role to tag and then delete (unless a load balancer uses it: ACM refuses to delete those);
// ACM has no resource policy to tie a certificate to its stack otherwise, so these grants go
// only to stacks that request certificates (edge alb), whose deploys are reviewed.
func (s scope) certificateStatements() []iampolicy.Statement {
	return []iampolicy.Statement{
		allow("NewCertificate", []string{"acm:RequestCertificate"}, all, s.created()),
		allow("TagNewCertificate", []string{"acm:AddTagsToCertificate"}, all, cond{
			"StringEquals": {"aws:RequestTag/Stack": s.Stack.Name, "aws:RequestedRegion": s.Region},
			"Null":         {"aws:ResourceTag/Stack": "true"},
		}),
		allow("OwnCertificates", []string{"acm:DeleteCertificate", "acm:UpdateCertificateOptions"}, all, s.owned()),
		s.retagOwn("acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate"),
	}
}

// imagePolicy lets a stack that builds the golden AMI run Packer (launch the build instance
// with the builder's profile, reach it through Session Manager, snapshot it) and retire the
// channel's images: read which images every stack's parameter names, and deregister images
// and delete snapshots that carry the project's and this channel's tags, as Packer's template
// tags them, and nothing else (EC2 evaluates aws:ResourceTag on both, per the Service
// Authorization Reference's DeregisterImage and DeleteSnapshot rows).
func (s scope) imagePolicy() iampolicy.Document {
	channel := cond{"StringEquals": {"aws:ResourceTag/Project": s.Project, "aws:ResourceTag/Channel": s.Stack.Name,
		"aws:ResourceTag/Stack": s.Stack.Name, "aws:RequestedRegion": s.Region}}
	images := []string{"arn:" + s.Partition + ":ec2:" + s.Region + "::image/*", "arn:" + s.Partition + ":ec2:" + s.Region + "::snapshot/*"}
	return iampolicy.New(
		// CreateImage's and CopyImage's source (an instance, an image) is an existing resource:
		// only the stack's own, through BuildOwn.
		allow("NewImages", []string{"ec2:CopyImage", "ec2:CreateImage", "ec2:CreateSnapshot", "ec2:RegisterImage"}, images, s.created()),
		allow("NewBuildParts", []string{"ec2:CreateKeyPair", "ec2:CreateVolume"},
			[]string{s.arn("ec2", s.Region, "key-pair/*"), s.arn("ec2", s.Region, "volume/*")}, s.created()),
		allow("BuildOwn", imageOwn, all, s.owned()),
		// An image a promoting stack pinned (images/promote.sh tags it Pinned-<stack>) is the
		// one that stack's parameter names: no deregistering it from here, whatever its tags.
		allow("RetireChannelImages", []string{"ec2:DeregisterImage"}, images[:1], s.unpinned(channel)),
		allow("RetireChannelSnapshots", []string{"ec2:DeleteSnapshot"}, images[1:], channel),
		// The AMI ids of every stack's channel parameter: authorised against the path itself
		// (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-retrieval-authorization.html).
		// prune.sh asks for String parameters only; SecureString values would stay encrypted
		// without a key grant, which this role has not.
		allow("ImagesInUse", []string{"ssm:GetParametersByPath"}, []string{s.arn("ssm", s.Region, "parameter/"+s.Project)}, nil),
		allow("BuilderSession", []string{"ssm:StartSession"}, []string{
			s.arn("ec2", s.Region, "instance/*"),
			"arn:" + s.Partition + ":ssm:" + s.Region + "::document/AWS-StartPortForwardingSession",
		}, nil),
		allow("BuilderSessionEnd", []string{"ssm:TerminateSession"}, []string{s.arn("ssm", s.Region, "session/*")}, nil),
		// Packer waits for the build instance's agent to register; this call takes no resource.
		allow("BuilderAgent", []string{"ssm:DescribeInstanceInformation"}, all, nil),
		allow("PassBuilderRole", []string{"iam:PassRole"}, []string{s.BuilderRole},
			cond{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
	)
}

// namedPolicy covers what the main program names after the stack: records in its zone, its
// buckets (never their objects), repositories, parameters, log groups, topic, alarms,
// dashboard, rules, budget and key.
func (s scope) namedPolicy() iampolicy.Document {
	p := s.prefix()
	params := []string{s.arn("ssm", s.Region, "parameter/"+s.Project+"/"+s.Stack.Name+"/*")}
	sts := []iampolicy.Statement{
		allow("Records", []string{"route53:ChangeResourceRecordSets", "route53:ChangeTagsForResource"},
			[]string{"arn:" + s.Partition + ":route53:::hostedzone/" + s.Stack.HostedZoneID}, nil),
		// CreateHealthCheck takes no resource; the rest act on health-check ids, unknown before.
		allow("NewHealthCheck", []string{"route53:CreateHealthCheck"}, all, nil),
		allow("HealthChecks", []string{"route53:ChangeTagsForResource", "route53:DeleteHealthCheck", "route53:UpdateHealthCheck"},
			[]string{"arn:" + s.Partition + ":route53:::healthcheck/*"}, nil),
		// Bucket-level actions only: an object ARN also matches the pattern, so no s3:*Object* here.
		allow("Buckets", []string{
			"s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:GetAccelerateConfiguration", "s3:GetBucket*",
			"s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
			"s3:ListBucket", "s3:PutBucket*", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
		}, []string{"arn:" + s.Partition + ":s3:::" + p + "-*"}, nil),
		allow("Repositories", []string{
			"ecr:CreateRepository", "ecr:DeleteLifecyclePolicy", "ecr:DeleteRepository", "ecr:PutImageScanningConfiguration",
			"ecr:PutImageTagMutability", "ecr:PutLifecyclePolicy", "ecr:TagResource", "ecr:UntagResource",
		}, []string{s.arn("ecr", s.Region, "repository/"+s.Project+"/"+s.Stack.Name+"/*")}, nil),
		// The jobs' firings table, by the stack's name prefix (the main program names it
		// <project>-<stack>-job-firings).
		allow("Tables", []string{
			"dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable",
			"dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource",
			"dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive",
		}, []string{s.arn("dynamodb", s.Region, "table/"+p+"-*")}, nil),
		allow("Parameters", []string{
			"ssm:AddTagsToResource", "ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:PutParameter",
			"ssm:RemoveTagsFromResource",
		}, params, nil),
		allow("LogGroups", []string{
			"logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
			"logs:DisassociateKmsKey", "logs:PutRetentionPolicy", "logs:TagLogGroup", "logs:TagResource",
			"logs:UntagLogGroup", "logs:UntagResource",
		}, []string{s.arn("logs", s.Region, "log-group:/"+s.Project+"/"+s.Stack.Name+"/*")}, nil),
		allow("Topic", []string{
			"sns:CreateTopic", "sns:DeleteTopic", "sns:SetSubscriptionAttributes", "sns:SetTopicAttributes", "sns:Subscribe",
			"sns:TagResource", "sns:Unsubscribe", "sns:UntagResource",
		}, []string{s.arn("sns", s.Region, p+"-*")}, nil),
		allow("Alarms", []string{"cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"},
			s.inRegions("cloudwatch", "alarm:"+p+"-*"), nil),
		allow("Dashboard", []string{"cloudwatch:DeleteDashboards", "cloudwatch:PutDashboard"},
			[]string{s.arn("cloudwatch", "", "dashboard/"+p)}, nil),
		allow("Rules", []string{
			"events:DeleteRule", "events:DisableRule", "events:EnableRule", "events:PutRule", "events:PutTargets",
			"events:RemoveTargets", "events:TagResource", "events:UntagResource",
		}, s.inRegions("events", "rule/"+p+"-*"), nil),
		allow("Budget", []string{"budgets:ModifyBudget", "budgets:TagResource", "budgets:UntagResource"},
			[]string{s.arn("budgets", "", "budget/"+p+"-*")}, nil),
		// Tags given to CreateKey need kms:TagResource "in an IAM policy that isn't restricted
		// to particular KMS keys" (https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html),
		// so the tag-on-create grant takes every key without a Stack tag: a key tagged another
		// stack's (every key of the account program carries Stack=account) cannot be retagged,
		// but an untagged key of the account can be tagged this stack's. So no grant here
		// rests on a key's Stack tag: the stack's key is managed through its own key policy,
		// which names this role (components/observability), and no identity policy grants
		// anything on an existing key but reads. The key side of CreateAlias comes from there
		// too, so no role can put its alias on a key it does not administer.
		allow("CreateKey", []string{"kms:CreateKey"}, all, s.created()),
		allow("TagNewKey", []string{"kms:TagResource"}, all, cond{
			"StringEquals": {"aws:RequestTag/Stack": s.Stack.Name, "aws:RequestedRegion": s.Region},
			"Null":         {"aws:ResourceTag/Stack": "true"},
		}),
		allow("KeyAlias", []string{"kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"},
			[]string{s.arn("kms", s.Region, "alias/"+p+"-*")}, nil),
	}
	if s.Stack.Disposable() {
		// Its destroy empties its buckets (force_destroy): every object version and delete
		// marker, whatever its key. Deletes only: the certificate's private key stays unreadable.
		sts = append(sts,
			allow("EmptyBuckets", []string{"s3:ListBucketVersions"}, []string{"arn:" + s.Partition + ":s3:::" + p + "-*"}, nil),
			allow("EmptyBucketObjects", []string{"s3:DeleteObject", "s3:DeleteObjectVersion"},
				[]string{"arn:" + s.Partition + ":s3:::" + p + "-*/*"}, nil))
	}
	if from := s.Stack.PromotesFrom; from != "" {
		sts = append(sts, allow("PromoteFrom", []string{"ssm:GetParameter"},
			[]string{s.arn("ssm", s.Region, "parameter/"+s.Project+"/"+from+"/*")}, nil),
			// images/promote.sh pins the image it promotes and unpins the one it replaces: one tag
			// key, its own, on an image of the source channel and nothing else (aws:TagKeys is
			// the request's keys; ForAllValues alone would also pass a request with none).
			allow("PinPromotedImage", []string{"ec2:CreateTags", "ec2:DeleteTags"},
				[]string{"arn:" + s.Partition + ":ec2:" + s.Region + "::image/*"},
				cond{"StringEquals": {"aws:ResourceTag/Project": s.Project, "aws:ResourceTag/Channel": from, "aws:RequestedRegion": s.Region},
					"ForAllValues:StringEquals": {"aws:TagKeys": PinTag(s.Stack.Name)}, "Null": {"aws:TagKeys": "false"}}))
	}
	return iampolicy.New(sts...)
}

// identityPolicy lets the stack create its roles only under its path and only with its
// boundary, and reach its own state in the S3 backend.
func (s scope) identityPolicy() iampolicy.Document {
	roles := []string{"arn:" + s.Partition + ":iam::" + s.Account + ":role" + s.path() + "*"}
	bounded := cond{"StringEquals": {"iam:PermissionsBoundary": s.Boundary}}
	sts := []iampolicy.Statement{
		allow("BoundedRoles", []string{"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"}, roles, bounded),
		allow("ManagedPolicies", []string{"iam:AttachRolePolicy"}, roles, cond{"StringEquals": {
			"iam:PermissionsBoundary": s.Boundary,
			"iam:PolicyARN":           "arn:" + s.Partition + ":iam::aws:policy/AmazonSSMManagedInstanceCore",
		}}),
		allow("RoleUpkeep", []string{
			"iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:TagRole", "iam:UntagRole",
			"iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
		}, roles, nil),
		allow("InstanceProfiles", []string{
			"iam:AddRoleToInstanceProfile", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile",
			"iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile",
		}, []string{"arn:" + s.Partition + ":iam::" + s.Account + ":instance-profile" + s.path() + "*"}, nil),
		allow("PassRoles", []string{"iam:PassRole"}, roles, cond{"StringEquals": {"iam:PassedToService": []string{
			"ec2.amazonaws.com", "events.amazonaws.com", "vpc-flow-logs.amazonaws.com",
		}}}),
		deny("KeepTheBoundary", []string{"iam:DeleteRolePermissionsBoundary"}, roles, nil),
		// The account program's roles (this one, its siblings, the preview role) and their
		// policies are the administrator's: no trust, policy or boundary change from a stack.
		deny("AccountRolesAreFixed", []string{
			"iam:AttachRolePolicy", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary", "iam:DeleteRolePolicy",
			"iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole",
			"iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
		}, []string{s.accountRoles()}, nil),
		deny("BoundaryIsFixed", []string{
			"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
		}, []string{s.Boundary}, nil),
	}
	return iampolicy.New(append(sts, s.stateStatements(true)...)...)
}

// stateStatements reach the stack's files in the S3 backend (layout version 1:
// .pulumi/{stacks,history,backups,locks}/<project>/<stack>); read-only for previews, which
// read the main program's checkpoints only, never the account stack's. The state key is
// usable only through S3 (kms:ViaService), so it opens no object the role cannot read, and
// the account stack's secrets, encrypted with it, stay closed
// (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
func (s scope) stateStatements(write bool) []iampolicy.Statement {
	if s.StateBucket == "" {
		return nil
	}
	bucket := "arn:" + s.Partition + ":s3:::" + s.StateBucket
	objects := []string{bucket + "/.pulumi/meta.yaml", bucket + "/.pulumi/stacks/" + s.Project + "/*"}
	actions, key := []string{"s3:GetObject"}, []string{"kms:Decrypt"}
	var more []iampolicy.Statement
	if write {
		stack := s.Project + "/" + s.Stack.Name
		objects = nil
		for _, dir := range []string{"stacks/" + stack + ".json*", "history/" + stack + "/*", "backups/" + stack + "/*", "locks/*" + stack + "/*"} {
			objects = append(objects, bucket+"/.pulumi/"+dir)
		}
		actions = []string{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"}
		key = []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
		// The backend's layout file is the account program's (it writes it once); stacks read it.
		more = append(more, allow("StateLayout", []string{"s3:GetObject"}, []string{bucket + "/.pulumi/meta.yaml"}, nil))
		if k := s.SecretsKeys[s.Stack.Name]; k != "" {
			more = append(more, allow("Secrets", []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, []string{k}, nil))
		}
	}
	return append([]iampolicy.Statement{
		allow("StateList", []string{"s3:ListBucket"}, []string{bucket}, nil),
		allow("StateObjects", actions, objects, nil),
		allow("StateKey", key, []string{s.StateKey}, cond{"StringEquals": {"kms:ViaService": "s3." + s.Region + ".amazonaws.com"}}),
	}, more...)
}

// previewPolicy is the pull-request role: reads, the project's parameters, and the state.
func (s scope) previewPolicy() iampolicy.Document {
	sts := []iampolicy.Statement{
		readEverywhere(),
		allow("Parameters", []string{"ssm:GetParameter", "ssm:GetParameters"},
			[]string{s.arn("ssm", s.Region, "parameter/"+s.Project+"/*")}, nil),
	}
	if keys := s.previewSecrets(); len(keys) > 0 {
		sts = append(sts, allow("Secrets", []string{"kms:Decrypt"}, keys, nil))
	}
	return iampolicy.New(append(sts, s.stateStatements(false)...)...)
}

// previewSecrets are the secrets keys of the stacks whose previews may decrypt (previewSecrets).
// A GitHub token's claims reach only the trust policy, not the role's policies, so "from main"
// cannot be a condition here: a stack's secrets are either open to every pull request's
// preview or to none, and prod's are to none.
func (s scope) previewSecrets() []string {
	var out []string
	for _, st := range s.Stacks {
		if k := s.SecretsKeys[st.Name]; st.PreviewSecrets && k != "" {
			out = append(out, k)
		}
	}
	return out
}

// boundaryPolicy is the most any role of the stack may do, whatever its own policy says: what
// the instance, flow-log and alarm-forwarding roles need, on the stack's resources.
func (s scope) boundaryPolicy() iampolicy.Document {
	p := s.prefix()
	stackTag := cond{"StringEquals": {"aws:ResourceTag/Stack": s.Stack.Name}}
	return iampolicy.New(
		allow("Unscoped", []string{
			"autoscaling:DescribeAutoScalingInstances", "ec2:DescribeAddresses", "ec2:DescribeTags",
			"ecr:GetAuthorizationToken", "route53:ListHostedZones",
		}, all, nil),
		allow("Metrics", []string{"cloudwatch:PutMetricData"}, all, cond{"StringEquals": {"cloudwatch:namespace": config.MetricNamespace(s.Stack.Name)}}),
		allow("Pull", []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
			[]string{s.arn("ecr", s.Region, "repository/"+s.Project+"/"+s.Stack.Name+"/*")}, nil),
		allow("Logs", []string{"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"},
			[]string{s.arn("logs", s.Region, "log-group:/"+s.Project+"/"+s.Stack.Name+"/*")}, nil),
		allow("FindLogGroups", []string{"logs:DescribeLogGroups"}, []string{s.arn("logs", s.Region, "log-group:*")}, nil),
		allow("Lifecycle", []string{"autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat", "autoscaling:SetInstanceHealth"},
			[]string{s.arn("autoscaling", s.Region, "autoScalingGroup:*:autoScalingGroupName/*")}, stackTag),
		allow("Address", []string{"ec2:AssociateAddress"}, []string{
			s.arn("ec2", s.Region, "elastic-ip/*"), s.arn("ec2", s.Region, "instance/*"), s.arn("ec2", s.Region, "network-interface/*"),
		}, stackTag),
		allow("CertState", []string{"s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"},
			[]string{"arn:" + s.Partition + ":s3:::" + p + "-*"}, nil),
		// The certificate state is SSE-KMS with the stack's key: S3 uses it on the caller's behalf.
		allow("CertStateKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{s.arn("kms", s.Region, "key/*")},
			cond{"StringEquals": {"aws:ResourceTag/Stack": s.Stack.Name, "kms:ViaService": "s3." + s.Region + ".amazonaws.com"}}),
		allow("Acme", []string{"route53:ChangeResourceRecordSets"},
			[]string{"arn:" + s.Partition + ":route53:::hostedzone/" + s.Stack.HostedZoneID}, nil),
		allow("AcmeWait", []string{"route53:GetChange"}, []string{"arn:" + s.Partition + ":route53:::change/*"}, nil),
		allow("Forward", []string{"events:PutEvents"}, []string{s.arn("events", s.Region, "event-bus/default")}, nil),
		allow("Parameters", []string{"ssm:GetParameter", "ssm:GetParameters"},
			[]string{s.arn("ssm", s.Region, "parameter/"+s.Project+"/"+s.Stack.Name+"/*")}, nil),
		// The services' secrets (secrets.sh): only the stack's own, by name prefix (the main
		// program's config refuses references outside it), decrypted with the stack's key
		// through SSM and Secrets Manager only.
		allow("Secrets", []string{"secretsmanager:GetSecretValue"},
			[]string{s.arn("secretsmanager", s.Region, "secret:"+s.Project+"/"+s.Stack.Name+"/*")}, nil),
		// job.sh's claims on the firings table (<project>-<stack>-job-firings).
		// The database's password, in the secret RDS manages for it: RDS tags it with the
		// instance it belongs to (rds-secrets-manager.html), the stack's by name.
		allow("DatabaseSecret", []string{"secretsmanager:GetSecretValue"}, []string{s.arn("secretsmanager", s.Region, "secret:rds!db-*")},
			cond{"StringEquals": {"aws:ResourceTag/aws:rds:primaryDBInstanceArn": s.arn("rds", s.Region, "db:"+s.Project+"-"+s.Stack.Name)}}),
		allow("JobFirings", []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
			[]string{s.arn("dynamodb", s.Region, "table/"+s.Project+"-"+s.Stack.Name+"-*")}, nil),
		allow("JobFiringsKey", []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, []string{s.arn("kms", s.Region, "key/*")},
			cond{"StringEquals": {"aws:ResourceTag/Stack": s.Stack.Name, "kms:ViaService": "dynamodb." + s.Region + ".amazonaws.com"}}),
		allow("SecretsKey", []string{"kms:Decrypt"}, []string{s.arn("kms", s.Region, "key/*")},
			cond{"StringEquals": {"aws:ResourceTag/Stack": s.Stack.Name, "kms:ViaService": []string{
				"secretsmanager." + s.Region + ".amazonaws.com", "ssm." + s.Region + ".amazonaws.com"}}}),
		allow("SessionManager", sessionActions, all, nil),
	)
}

// sessionActions are what the SSM agent calls for Session Manager (AmazonSSMManagedInstanceCore
// without its parameter reads, which the boundary keeps to the stack's own).
var sessionActions = []string{
	"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint",
	"ec2messages:GetMessages", "ec2messages:SendReply",
	"ssm:DescribeAssociation", "ssm:DescribeDocument", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument",
	"ssm:GetManifest", "ssm:ListAssociations", "ssm:ListInstanceAssociations", "ssm:PutComplianceItems",
	"ssm:PutConfigurePackageResult", "ssm:PutInventory", "ssm:UpdateAssociationStatus",
	"ssm:UpdateInstanceAssociationStatus", "ssm:UpdateInstanceInformation",
	"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
	"ssmmessages:OpenDataChannel",
}
