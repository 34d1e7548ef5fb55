package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

const region = "eu-central-1"

// policies returns the parsed documents of the account plan's managed policies with the given names.
func policies(t *testing.T, names ...string) []iampolicy.Document {
	t.Helper()
	var out []iampolicy.Document
	for _, n := range names {
		out = append(out, doc(t, find(t, accountPlan(t), tPolicy, n).Str("policy")))
	}
	return out
}

func deployDocs(t *testing.T, stack string) []iampolicy.Document {
	p := "immutable-edge-" + stack + "-deploy-"
	names := []string{p + "compute", p + "named", p + "identity"}
	if _, ok := accountPlan(t).Find(tPolicy, p+"image"); ok {
		names = append(names, p+"image")
	}
	return policies(t, names...)
}

var mainPlans = struct {
	sync.Mutex
	m map[string]*plan.Plan
}{m: map[string]*plan.Plan{}}

// mainPlan plans a stack of the main program from its committed Pulumi.<stack>.yaml; the
// program finds images/ from the working directory, so it runs from the repository root.
func mainPlan(t *testing.T, stack string) *plan.Plan {
	t.Helper()
	mainPlans.Lock()
	defer mainPlans.Unlock()
	if p, ok := mainPlans.m[stack]; ok {
		return p
	}
	t.Chdir(filepath.Join(here, ".."))
	p, err := plan.Run(stack, "")
	require.NoError(t, err)
	mainPlans.m[stack] = p
	return p
}

func allows(t *testing.T, r iampolicy.Request, docs []iampolicy.Document) bool {
	t.Helper()
	ok, err := iampolicy.Allows(r, docs...)
	require.NoError(t, err)
	return ok
}

// TestDeployRoleCoversWhatTheStackCreates plans each committed stack of the main program and
// asks, for every resource in it, whether the stack's deploy role may make the calls that
// create it, on that resource's ARN and in its region. A new resource type fails here until it
// is modelled below and granted in policies.go.
func TestDeployRoleCoversWhatTheStackCreates(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			p := mainPlan(t, stack)
			docs := deployDocs(t, stack)
			checked := 0
			for _, r := range p.Resources {
				if !r.Custom || r.Type == "pulumi:providers:aws" {
					continue
				}
				reqs, err := creates(p, r)
				require.NoError(t, err, "%s %s", r.Type, r.Name)
				for _, req := range reqs {
					require.True(t, allows(t, req, docs), "%s deploy role may not %s on %s for %s %s (context %v)",
						stack, req.Action, req.Resource, r.Type, r.Name, req.Context)
					checked++
				}
			}
			t.Logf("%s: %d calls for %d resources allowed", stack, checked, len(p.Resources))
			// Pulumi writes the stack's checkpoint and history, and takes its lock.
			for _, key := range []string{"stacks/immutable-edge/" + stack + ".json", "history/immutable-edge/" + stack + "/" + stack + "-1.history.json",
				"locks/organization/immutable-edge/" + stack + "/x.json", "backups/immutable-edge/" + stack + "/" + stack + ".1.json"} {
				require.True(t, allows(t, iampolicy.Request{Action: "s3:PutObject", Resource: stateObject(key)}, docs), key)
			}
			require.True(t, allows(t, iampolicy.Request{Action: "kms:Decrypt", Resource: stateKey}, docs))
		})
	}
}

const stateKey = "arn:aws:kms:eu-central-1:" + plan.Account + ":key/0123abcd-immutable-edge-state"

func stateObject(key string) string {
	return "arn:aws:s3:::immutable-edge-state-" + plan.UniqueSuffix + "/.pulumi/" + key
}

// TestDeployRoleRefuses is what least privilege means here: each call is one a compromised or
// mistaken dev workflow might make.
func TestDeployRoleRefuses(t *testing.T) {
	acct := plan.Account
	arn := func(service, resource string) string {
		return "arn:aws:" + service + ":" + region + ":" + acct + ":" + resource
	}
	boundary := "arn:aws:iam::" + acct + ":policy/immutable-edge/immutable-edge-dev-boundary"
	inRegion := map[string]string{"aws:RequestedRegion": region}
	for _, tc := range []struct {
		name  string
		stack string
		req   iampolicy.Request
	}{
		{"a role without the boundary", "dev", iampolicy.Request{Action: "iam:CreateRole",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/dev/admin"}},
		{"a role with another boundary", "dev", iampolicy.Request{Action: "iam:CreateRole",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/dev/admin",
			Context:  map[string]string{"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}}},
		{"a role under prod's path", "dev", iampolicy.Request{Action: "iam:CreateRole",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/prod/x", Context: map[string]string{"iam:PermissionsBoundary": boundary}}},
		{"an administrator policy on its role", "dev", iampolicy.Request{Action: "iam:AttachRolePolicy",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/dev/dev-role",
			Context:  map[string]string{"iam:PermissionsBoundary": boundary, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}},
		{"dropping the boundary", "dev", iampolicy.Request{Action: "iam:DeleteRolePermissionsBoundary",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/dev/dev-role"}},
		{"rewriting the boundary", "dev", iampolicy.Request{Action: "iam:CreatePolicyVersion", Resource: boundary}},
		{"changing its own deploy role", "dev", iampolicy.Request{Action: "iam:PutRolePolicy",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/immutable-edge-dev-deploy", Context: map[string]string{"iam:PermissionsBoundary": boundary}}},
		{"passing a role to Lambda", "dev", iampolicy.Request{Action: "iam:PassRole",
			Resource: "arn:aws:iam::" + acct + ":role/immutable-edge/dev/dev-role", Context: map[string]string{"iam:PassedToService": "lambda.amazonaws.com"}}},
		{"deleting prod's VPC", "dev", iampolicy.Request{Action: "ec2:DeleteVpc", Resource: arn("ec2", "vpc/vpc-1"),
			Context: map[string]string{"aws:RequestedRegion": region, "aws:ResourceTag/Stack": "prod"}}},
		{"retagging prod's instances", "dev", iampolicy.Request{Action: "ec2:CreateTags", Resource: arn("ec2", "instance/i-1"),
			Context: map[string]string{"aws:RequestedRegion": region, "aws:ResourceTag/Stack": "prod"}}},
		{"a VPC in another region", "dev", iampolicy.Request{Action: "ec2:CreateVpc", Resource: "arn:aws:ec2:us-west-2:" + acct + ":vpc/*",
			Context: map[string]string{"aws:RequestedRegion": "us-west-2"}}},
		{"reading the certificate's private key", "dev", iampolicy.Request{Action: "s3:GetObject",
			Resource: "arn:aws:s3:::immutable-edge-dev-certs-20261123000000000001/letsencrypt/live/privkey.pem"}},
		{"prod's AMI parameter", "dev", iampolicy.Request{Action: "ssm:PutParameter", Resource: arn("ssm", "parameter/immutable-edge/prod/ami-id")}},
		{"records in prod's zone", "dev", iampolicy.Request{Action: "route53:ChangeResourceRecordSets", Resource: "arn:aws:route53:::hostedzone/Z0123456789PRODEXAMPLE"}},
		{"prod's state", "dev", iampolicy.Request{Action: "s3:PutObject", Resource: stateObject("stacks/immutable-edge/prod.json")}},
		{"the account stack's state", "dev", iampolicy.Request{Action: "s3:GetObject", Resource: stateObject("stacks/immutable-edge-account/account.json")}},
		{"prod's alarms", "dev", iampolicy.Request{Action: "cloudwatch:DeleteAlarms", Resource: arn("cloudwatch", "alarm:immutable-edge-prod-cpu")}},
		{"a key for another stack", "dev", iampolicy.Request{Action: "kms:CreateKey", Resource: "*",
			Context: map[string]string{"aws:RequestedRegion": region, "aws:RequestTag/Stack": "prod"}}},
		{"building images (prod only promotes)", "prod", iampolicy.Request{Action: "ec2:CreateImage", Resource: arn("ec2", "instance/i-1"), Context: inRegion}},
		{"writing dev's AMI parameter", "prod", iampolicy.Request{Action: "ssm:PutParameter", Resource: arn("ssm", "parameter/immutable-edge/dev/ami-id")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.False(t, allows(t, tc.req, deployDocs(t, tc.stack)), "%s deploy role may %s on %s", tc.stack, tc.req.Action, tc.req.Resource)
		})
	}
	// What prod may do with dev's channel: read it, to promote (images/promote.sh).
	require.True(t, allows(t, iampolicy.Request{Action: "ssm:GetParameter", Resource: arn("ssm", "parameter/immutable-edge/dev/ami-id")}, deployDocs(t, "prod")))
}

func TestPreviewRoleOnlyReads(t *testing.T) {
	docs := policies(t, "immutable-edge-preview")
	for _, st := range docs[0].Statement {
		require.Equal(t, "Allow", st.Effect)
		for _, a := range st.Action {
			_, verb, _ := strings.Cut(a, ":")
			require.True(t, slices.ContainsFunc([]string{"Describe", "Get", "List", "View", "Decrypt"}, func(p string) bool {
				return strings.HasPrefix(verb, p)
			}), "preview role may %s", a)
		}
	}
	require.True(t, allows(t, iampolicy.Request{Action: "s3:GetObject", Resource: stateObject("stacks/immutable-edge/prod.json")}, docs))
	require.True(t, allows(t, iampolicy.Request{Action: "ssm:GetParameter", Resource: "arn:aws:ssm:eu-central-1:" + plan.Account + ":parameter/immutable-edge/prod/ami-id"}, docs))
	require.False(t, allows(t, iampolicy.Request{Action: "s3:PutObject", Resource: stateObject("stacks/immutable-edge/prod.json")}, docs))
	require.False(t, allows(t, iampolicy.Request{Action: "ssm:GetParameter", Resource: "arn:aws:ssm:eu-central-1:" + plan.Account + ":parameter/other/secret"}, docs))
}

// TestBoundaryCoversTheStacksRoles checks every statement of every inline role policy the main
// program plans against the stack's boundary: a runtime permission the boundary lacks would
// fail silently on AWS (the instance's call is denied), so it fails here instead.
func TestBoundaryCoversTheStacksRoles(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		boundary := policies(t, "immutable-edge-"+stack+"-boundary")
		ctx := map[string]string{"aws:RequestedRegion": region, "aws:ResourceTag/Stack": stack, "cloudwatch:namespace": "ImmutableEdge"}
		n := 0
		for _, rp := range mainPlan(t, stack).OfType("aws:iam/rolePolicy:RolePolicy") {
			for _, st := range doc(t, rp.Str("policy")).Statement {
				for _, a := range st.Action {
					for _, res := range st.Resource {
						require.True(t, allows(t, iampolicy.Request{Action: a, Resource: res, Context: ctx}, boundary),
							"%s boundary lacks %s on %s (%s %s)", stack, a, res, rp.Name, st.Sid)
						n++
					}
				}
			}
		}
		require.Greater(t, n, 20)
		require.False(t, allows(t, iampolicy.Request{Action: "iam:CreateUser", Resource: "*"}, boundary))
		require.False(t, allows(t, iampolicy.Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::immutable-edge-other-certs/x"}, boundary))
	}
}

// TestStacksMatchTheMainProgram keeps account/Pulumi.account.yaml and Pulumi.<stack>.yaml in
// step: the zone, the region, who builds images, and the boundary each stack names.
func TestStacksMatchTheMainProgram(t *testing.T) {
	acct := committed(t)
	var stacks []Stack
	require.NoError(t, json.Unmarshal([]byte(acct["immutable-edge-account:stacks"]), &stacks))
	boundaries := accountPlan(t).Outputs["permissionsBoundaries"].(map[string]string)
	for _, st := range stacks {
		main, err := plan.ReadConfigFile(filepath.Join(here, "..", "Pulumi."+st.Name+".yaml"))
		require.NoError(t, err)
		require.Equal(t, acct["aws:region"], main["aws:region"], st.Name)
		require.Equal(t, main["immutable-edge:hostedZoneId"], st.HostedZoneID, st.Name)
		var image struct {
			Build bool `json:"build"`
		}
		require.NoError(t, json.Unmarshal([]byte(main["immutable-edge:image"]), &image))
		require.Equal(t, image.Build, st.BuildsImage, st.Name)
		require.Equal(t, main["immutable-edge:permissionsBoundary"], boundaries[st.Name], st.Name)
		require.Equal(t, boundaries[st.Name], "arn:aws:iam::"+plan.Account+":policy/immutable-edge/"+find(t, accountPlan(t), tPolicy, "immutable-edge-"+st.Name+"-boundary").Str("name"))
	}
}

// TestPoliciesFitIAMLimits: a customer managed policy may hold 6,144 characters without
// whitespace; IAM rejects a larger one only at deploy time.
func TestPoliciesFitIAMLimits(t *testing.T) {
	for _, pol := range accountPlan(t).OfType(tPolicy) {
		n := len(strings.Join(strings.Fields(pol.Str("policy")), ""))
		require.LessOrEqual(t, n, 6144, pol.Name)
		t.Logf("%-36s %5d of 6144 characters", pol.Name, n)
	}
	require.LessOrEqual(t, len(accountPlan(t).OfType(tAttachment)), 10*3, "at most 10 managed policies per role")
}

// autoname stands in for the random suffix Pulumi adds to a logical name it names a resource by.
const autoname = "-1a2b3c4"

// creates models the calls that create one resource of the main program, on its ARN.
func creates(p *plan.Plan, r plan.Resource) ([]iampolicy.Request, error) {
	acct, stack := plan.Account, p.Stack
	arn := func(service, resource string) string {
		return "arn:aws:" + service + ":" + r.Region + ":" + acct + ":" + resource
	}
	ctx := map[string]string{"aws:RequestedRegion": r.Region, "aws:RequestTag/Stack": stack, "aws:ResourceTag/Stack": stack}
	req := func(action, resource string, extra ...string) iampolicy.Request {
		c := map[string]string{}
		for k, v := range ctx {
			c[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			c[extra[i]] = extra[i+1]
		}
		return iampolicy.Request{Action: action, Resource: resource, Context: c}
	}
	ec2 := func(actions ...string) []iampolicy.Request {
		var out []iampolicy.Request
		for _, a := range actions {
			out = append(out, req("ec2:"+a, arn("ec2", "*")))
		}
		return out
	}
	role := func(name string) (string, string) { // ARN and boundary of a planned role by its physical name
		rr, ok := p.Find("aws:iam/role:Role", name)
		if !ok {
			return "", ""
		}
		return "arn:aws:iam::" + acct + ":role" + rr.Str("path") + name, rr.Str("permissionsBoundary")
	}
	pass := func(roleARN, service string) iampolicy.Request {
		return req("iam:PassRole", roleARN, "iam:PassedToService", service)
	}
	name := func() string {
		if n := r.GivenName(); n != "" {
			return n
		}
		return r.Name + autoname
	}
	bucket := func() string { return "arn:aws:s3:::" + r.Str("bucket") }
	s3 := func(action string) []iampolicy.Request { return []iampolicy.Request{req(action, bucket())} }
	switch r.Type {
	case "aws:ec2/vpc:Vpc":
		return ec2("CreateVpc", "ModifyVpcAttribute", "CreateTags"), nil
	case "aws:ec2/subnet:Subnet":
		return ec2("CreateSubnet", "ModifySubnetAttribute"), nil
	case "aws:ec2/internetGateway:InternetGateway":
		return ec2("CreateInternetGateway", "AttachInternetGateway"), nil
	case "aws:ec2/routeTable:RouteTable":
		return ec2("CreateRouteTable"), nil
	case "aws:ec2/route:Route":
		return ec2("CreateRoute"), nil
	case "aws:ec2/routeTableAssociation:RouteTableAssociation":
		return ec2("AssociateRouteTable"), nil
	case "aws:ec2/eip:Eip":
		return ec2("AllocateAddress"), nil
	case "aws:ec2/natGateway:NatGateway":
		return ec2("CreateNatGateway"), nil
	case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
		return ec2("RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateTags"), nil
	case "aws:ec2/securityGroup:SecurityGroup":
		return ec2("CreateSecurityGroup", "RevokeSecurityGroupEgress"), nil
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
		return ec2("AuthorizeSecurityGroupIngress"), nil
	case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		return ec2("AuthorizeSecurityGroupEgress"), nil
	case "aws:ec2/flowLog:FlowLog":
		roleARN, _ := role(strings.TrimPrefix(r.Str("iamRoleArn"), "arn:aws:iam::"+acct+":role/immutable-edge/"+stack+"/"))
		return append(ec2("CreateFlowLogs"), pass(roleARN, "vpc-flow-logs.amazonaws.com")), nil
	case "aws:ec2/launchTemplate:LaunchTemplate":
		return ec2("CreateLaunchTemplate", "CreateLaunchTemplateVersion", "ModifyLaunchTemplate"), nil
	case "aws:autoscaling/group:Group":
		instanceRole, _ := role(stack + "-role")
		return append(ec2("RunInstances"),
			req("autoscaling:CreateAutoScalingGroup", arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/"+name())),
			req("autoscaling:PutLifecycleHook", arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/"+name())),
			req("autoscaling:StartInstanceRefresh", arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/"+name())),
			pass(instanceRole, "ec2.amazonaws.com"),
			req("iam:CreateServiceLinkedRole", "arn:aws:iam::"+acct+":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
				"iam:AWSServiceName", "autoscaling.amazonaws.com")), nil
	case "aws:lb/loadBalancer:LoadBalancer":
		return []iampolicy.Request{
			req("elasticloadbalancing:CreateLoadBalancer", arn("elasticloadbalancing", "loadbalancer/app/"+name()+"/0123456789abcdef")),
			req("elasticloadbalancing:ModifyLoadBalancerAttributes", arn("elasticloadbalancing", "loadbalancer/app/"+name()+"/0123456789abcdef")),
		}, nil
	case "aws:lb/targetGroup:TargetGroup":
		return []iampolicy.Request{req("elasticloadbalancing:CreateTargetGroup", arn("elasticloadbalancing", "targetgroup/"+name()+"/0123456789abcdef"))}, nil
	case "aws:lb/listener:Listener":
		lb, _ := p.Find("aws:lb/loadBalancer:LoadBalancer", stack+"-alb")
		return []iampolicy.Request{req("elasticloadbalancing:CreateListener",
			arn("elasticloadbalancing", "listener/app/"+lb.Name+autoname+"/0123456789abcdef/0123456789abcdef"))}, nil
	case "aws:acm/certificate:Certificate":
		return []iampolicy.Request{req("acm:RequestCertificate", "*"), req("acm:AddTagsToCertificate", arn("acm", "certificate/0123"))}, nil
	case "aws:acm/certificateValidation:CertificateValidation":
		return []iampolicy.Request{req("acm:DescribeCertificate", arn("acm", "certificate/0123"))}, nil
	case "aws:route53/record:Record":
		return []iampolicy.Request{req("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/"+r.Str("zoneId")),
			req("route53:GetChange", "arn:aws:route53:::change/C123")}, nil
	case "aws:route53/healthCheck:HealthCheck":
		return []iampolicy.Request{req("route53:CreateHealthCheck", "*"), req("route53:ChangeTagsForResource", "arn:aws:route53:::healthcheck/0123")}, nil
	case "aws:s3/bucketV2:BucketV2":
		return []iampolicy.Request{req("s3:CreateBucket", "arn:aws:s3:::"+name()), req("s3:PutBucketTagging", "arn:aws:s3:::"+name()),
			req("s3:GetBucketPolicy", "arn:aws:s3:::"+name()), req("s3:GetAccelerateConfiguration", "arn:aws:s3:::"+name())}, nil
	case "aws:s3/bucketPolicy:BucketPolicy":
		return s3("s3:PutBucketPolicy"), nil
	case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
		return s3("s3:PutBucketPublicAccessBlock"), nil
	case "aws:s3/bucketOwnershipControls:BucketOwnershipControls":
		return s3("s3:PutBucketOwnershipControls"), nil
	case "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2":
		return s3("s3:PutEncryptionConfiguration"), nil
	case "aws:s3/bucketVersioningV2:BucketVersioningV2":
		return s3("s3:PutBucketVersioning"), nil
	case "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":
		return s3("s3:PutLifecycleConfiguration"), nil
	case "aws:ecr/repository:Repository":
		return []iampolicy.Request{req("ecr:CreateRepository", arn("ecr", "repository/"+name()))}, nil
	case "aws:ecr/lifecyclePolicy:LifecyclePolicy":
		return []iampolicy.Request{req("ecr:PutLifecyclePolicy", arn("ecr", "repository/"+r.Str("repository")))}, nil
	case "aws:iam/role:Role":
		roleARN, boundary := role(r.Name)
		return []iampolicy.Request{req("iam:CreateRole", roleARN, "iam:PermissionsBoundary", boundary),
			req("iam:TagRole", roleARN)}, nil
	case "aws:iam/rolePolicy:RolePolicy":
		roleARN, boundary := role(r.Str("role"))
		return []iampolicy.Request{req("iam:PutRolePolicy", roleARN, "iam:PermissionsBoundary", boundary)}, nil
	case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		roleARN, boundary := role(r.Str("role"))
		return []iampolicy.Request{req("iam:AttachRolePolicy", roleARN, "iam:PermissionsBoundary", boundary, "iam:PolicyARN", r.Str("policyArn"))}, nil
	case "aws:iam/instanceProfile:InstanceProfile":
		profile := "arn:aws:iam::" + acct + ":instance-profile" + r.Str("path") + r.Name
		roleARN, _ := role(r.Str("role"))
		return []iampolicy.Request{req("iam:CreateInstanceProfile", profile), req("iam:AddRoleToInstanceProfile", profile),
			pass(roleARN, "ec2.amazonaws.com")}, nil
	case "aws:kms/key:Key":
		key := arn("kms", "key/0123abcd-"+r.Name)
		return []iampolicy.Request{req("kms:CreateKey", "*"), req("kms:EnableKeyRotation", key), req("kms:PutKeyPolicy", key)}, nil
	case "aws:kms/alias:Alias":
		return []iampolicy.Request{req("kms:CreateAlias", arn("kms", r.Str("name"))), req("kms:CreateAlias", arn("kms", "key/0123abcd-"+stack+"-key"))}, nil
	case "aws:sns/topic:Topic":
		return []iampolicy.Request{req("sns:CreateTopic", arn("sns", name())), req("sns:TagResource", arn("sns", name()))}, nil
	case "aws:sns/topicPolicy:TopicPolicy":
		return []iampolicy.Request{req("sns:SetTopicAttributes", r.Str("arn"))}, nil
	case "aws:sns/topicSubscription:TopicSubscription":
		return []iampolicy.Request{req("sns:Subscribe", r.Str("topic"))}, nil
	case "aws:budgets/budget:Budget":
		return []iampolicy.Request{req("budgets:ModifyBudget", "arn:aws:budgets::"+acct+":budget/"+name())}, nil
	case "aws:cloudwatch/logGroup:LogGroup":
		group := arn("logs", "log-group:"+name())
		return []iampolicy.Request{req("logs:CreateLogGroup", group), req("logs:PutRetentionPolicy", group), req("logs:TagResource", group)}, nil
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		return []iampolicy.Request{req("cloudwatch:PutMetricAlarm", arn("cloudwatch", "alarm:"+name()))}, nil
	case "aws:cloudwatch/dashboard:Dashboard":
		return []iampolicy.Request{req("cloudwatch:PutDashboard", "arn:aws:cloudwatch::"+acct+":dashboard/"+r.Str("dashboardName"))}, nil
	case "aws:cloudwatch/eventRule:EventRule":
		return []iampolicy.Request{req("events:PutRule", arn("events", "rule/"+name()))}, nil
	case "aws:cloudwatch/eventTarget:EventTarget":
		out := []iampolicy.Request{req("events:PutTargets", arn("events", "rule/"+r.Str("rule")))}
		if rn := r.Str("roleArn"); rn != "" {
			roleARN, _ := role(rn[strings.LastIndex(rn, "/")+1:])
			out = append(out, pass(roleARN, "events.amazonaws.com"))
		}
		return out, nil
	case "aws:ssm/parameter:Parameter":
		return []iampolicy.Request{req("ssm:PutParameter", arn("ssm", "parameter"+r.Str("name")))}, nil
	case "command:local:Command": // images/build.sh runs Packer with the deploy role's credentials
		builder := "arn:aws:iam::" + acct + ":role/immutable-edge/immutable-edge-image-builder"
		return append(ec2("RunInstances", "CreateKeyPair", "CreateImage", "CreateTags", "StopInstances", "TerminateInstances", "DeleteKeyPair", "DeregisterImage", "DeleteSnapshot"),
			pass(builder, "ec2.amazonaws.com"),
			req("ssm:StartSession", arn("ec2", "instance/i-0123")),
			req("ssm:StartSession", "arn:aws:ssm:"+r.Region+"::document/AWS-StartPortForwardingSession"),
			req("ssm:TerminateSession", arn("ssm", "session/botocore-session-1")),
			req("ssm:DescribeInstanceInformation", "*")), nil
	}
	return nil, fmt.Errorf("no model of the calls that create %s: add one here and grant them in policies.go", r.Type)
}
