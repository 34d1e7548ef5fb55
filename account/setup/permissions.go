package setup

import (
	"fmt"

	"github.com/immutable-edge/immutable-edge/components/observability"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
)

// scope is what one stack's policies are scoped by. The main program names what it creates
// after it: IAM path /<project>/<stack>/, physical names <project>-<stack>-*, repositories and
// parameters and log groups under <project>/<stack>/, ASGs, load balancers and target groups
// <stack>-*, and the Stack tag on everything taggable.
type scope struct {
	Partition, Account, Region string
	Project                    string
	Stack                      Stack
	Boundary                   string // ARN of the stack's permissions boundary policy
	BuilderRole                string // ARN of the image builder role; needed when the stack builds
	StateBucket, StateKey      string // state bucket name and KMS key ARN; empty without the S3 backend
	// SecretsKeys are the main stacks' secrets keys' ARNs by stack; empty without the backend.
	SecretsKeys map[string]string
	Stacks      []Stack // every main stack, for the preview role
}

func (s scope) prefix() string { return s.Project + "-" + s.Stack.Name }
func (s scope) path() string   { return "/" + s.Project + "/" + s.Stack.Name + "/" }

// accountRoles matches every role the account program makes (deploy, preview, image builder):
// they sit on the project's path with names starting <project>-, the stacks' own roles one
// level down under /<project>/<stack>/.
func (s scope) accountRoles() string {
	return "arn:" + s.Partition + ":iam::" + s.Account + ":role/" + s.Project + "/" + s.Project + "-*"
}
func (s scope) deployRole() string {
	return config.DeployRoleARN(s.Partition, s.Account, s.Project, s.Stack.Name)
}
func (s scope) previewRole() string {
	return "arn:" + s.Partition + ":iam::" + s.Account + ":role/" + s.Project + "/" + s.Project + "-preview"
}
func (s scope) arn(service, region, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", s.Partition, service, region, s.Account, resource)
}

// regions are where the stack creates alarms and rules: its own, and the one Route 53 health
// check metrics live in.
func (s scope) regions() []string {
	if s.Region == observability.HealthCheckRegion {
		return []string{s.Region}
	}
	return []string{s.Region, observability.HealthCheckRegion}
}

// inRegions applies one resource pattern in each of the stack's regions.
func (s scope) inRegions(service, resource string) []string {
	var out []string
	for _, r := range s.regions() {
		out = append(out, s.arn(service, r, resource))
	}
	return out
}

type cond = map[string]map[string]any

func allow(sid string, actions, resources []string, c cond) iampolicy.Statement {
	return iampolicy.Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources, Condition: c}
}

func deny(sid string, actions, resources []string, c cond) iampolicy.Statement {
	return iampolicy.Statement{Sid: sid, Effect: "Deny", Action: actions, Resource: resources, Condition: c}
}

var all = []string{"*"}

// readActions are what refresh and preview read. They reveal configuration, never data: no
// object reads, no parameter values outside the project, no secrets.
var readActions = []string{
	"acm:DescribeCertificate", "acm:ListTagsForCertificate",
	"autoscaling:Describe*", "budgets:ListTagsForResource", "budgets:ViewBudget",
	"cloudwatch:DescribeAlarms", "cloudwatch:GetDashboard", "cloudwatch:ListTagsForResource",
	"ec2:Describe*", "ec2:GetLaunchTemplateData", "ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:ListTagsForResource",
	"elasticloadbalancing:Describe*", "events:DescribeRule", "events:ListTagsForResource", "events:ListTargetsByRule",
	"iam:GetInstanceProfile", "iam:GetOpenIDConnectProvider", "iam:GetRole", "iam:GetRolePolicy",
	"iam:ListAttachedRolePolicies", "iam:ListInstanceProfileTags", "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies",
	"iam:ListRoleTags",
	"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags",
	"logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
	"route53:GetChange", "route53:GetHealthCheck", "route53:GetHostedZone", "route53:ListHostedZones",
	"route53:ListResourceRecordSets", "route53:ListTagsForResource",
	"sns:GetSubscriptionAttributes", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource",
	"ssm:DescribeParameters", "ssm:ListTagsForResource", "sts:GetCallerIdentity",
}

// readEverywhere is the one statement on Resource "*": listed reads only.
func readEverywhere() iampolicy.Statement { return allow("Read", readActions, all, nil) }

func (s scope) inRegion() cond { return cond{"StringEquals": {"aws:RequestedRegion": s.Region}} }
