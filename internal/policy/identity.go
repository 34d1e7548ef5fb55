package policy

import (
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

const (
	tRole       = "aws:iam/role:Role"
	tRolePolicy = "aws:iam/rolePolicy:RolePolicy"
	tAttachment = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
)

// Unscopable are the actions AWS gives no resource type: "*" is the only resource they take.
var Unscopable = []string{
	"autoscaling:DescribeAutoScalingInstances", "cloudwatch:PutMetricData", "ec2:DescribeAddresses",
	"ec2:DescribeTags", "ecr:GetAuthorizationToken", "route53:ListHostedZones",
}

// Taggable and Untaggable classify every AWS type this program creates; an unclassified type
// fails the tag rule, so adding a type forces the decision.
var (
	Taggable = []string{
		tVpc, tDefaultSG, "aws:ec2/internetGateway:InternetGateway", "aws:ec2/routeTable:RouteTable", tSubnet,
		"aws:ec2/vpcEndpoint:VpcEndpoint",
		tEIP, tNAT, tFlowLog, tLogGroup, tRole, tSecurityGroup, tIngress, tEgress, tRepository,
		"aws:iam/instanceProfile:InstanceProfile", tLaunchTemplate, tGroup,
		tLoadBalancer, tListener, tTargetGroup, tCertificate, tBucket, "aws:ssm/parameter:Parameter",
		tKey, tTopic, tAlarm, tEventRule, tHealthCheck, tBudget, tTable,
		tDBInstance, tDBSubnetGroup, tReplicationGroup, tCacheSubnetGroup, tSecret,
	}
	Untaggable = []string{
		"aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation", tRolePolicy, tAttachment,
		tRepoLifecycle, tRecord, "aws:acm/certificateValidation:CertificateValidation",
		tBucketPolicy, tPublicAccessBlock, tOwnership, tEncryption, tVersioning, tLifecycle,
		"command:local:Command", // runs on the deployer's machine, not in AWS
		tKeyAlias, tTopicPolicy, tTopicSub, tEventTarget, tDashboard,
		tScalingPolicy, // aws_autoscaling_policy has no tags argument
		tProvider,      // its default tags are the stack's tags
		tSecretVersion,
		tRandomPassword, "pulumi:providers:random", // made on the deployer's machine, kept in Pulumi's state
	}
)

// adminPolicies are AWS-managed policies no role of this program may hold.
var adminPolicies = []string{"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"}

var identityRules = []Rule{
	{ID: "CKV_AWS_60", Ref: "checkov CKV_AWS_60/61; FSBP IAM.21 spirit", Severity: High,
		Rationale: "Roles trust one AWS service principal, never an account, a user or everyone.",
		check: each([]string{tRole}, func(c *Context, r plan.Resource) (bool, string) {
			doc, err := iampolicy.Parse(r.Str("assumeRolePolicy"))
			if err != nil {
				return false, "trust policy does not parse"
			}
			for _, st := range doc.Statement {
				svc, _ := st.Principal["Service"].(string)
				if len(st.Principal) != 1 || !strings.HasSuffix(svc, ".amazonaws.com") {
					return false, "trusts a principal that is not one AWS service"
				}
			}
			return true, "trusts " + doc.Statement[0].Principal["Service"].(string)
		})},
	{ID: "CKV_AWS_62", Ref: "checkov CKV_AWS_62/63/286/287/288/289; FSBP IAM.1", Severity: High,
		Rationale: "No wildcard actions: every permission is named.",
		check: eachStatement(func(st iampolicy.Statement) (bool, string) {
			for _, a := range st.Action {
				if strings.Contains(a, "*") {
					return false, "statement " + st.Sid + " grants " + a
				}
			}
			return true, ""
		}, "named actions only")},
	{ID: "CKV_AWS_355", Ref: "checkov CKV_AWS_355/290", Severity: High,
		Rationale: "Resource * only for actions AWS gives no resource type; everything else names its resources.",
		check: eachStatement(func(st iampolicy.Statement) (bool, string) {
			if !slices.Contains(st.Resource, "*") {
				return true, ""
			}
			for _, a := range st.Action {
				if !slices.Contains(Unscopable, a) {
					return false, "statement " + st.Sid + " grants " + a + " on *"
				}
			}
			return true, ""
		}, "scoped resources")},
	{ID: "CKV_AWS_274", Ref: "checkov CKV_AWS_274; FSBP IAM.1", Severity: High,
		Rationale: "No role holds an administrator-style managed policy.",
		check: each([]string{tAttachment}, func(c *Context, r plan.Resource) (bool, string) {
			arn := r.Str("policyArn")
			for _, p := range adminPolicies {
				if strings.HasSuffix(arn, ":policy/"+p) {
					return false, "attaches " + p
				}
			}
			return true, "attaches " + arn[strings.LastIndex(arn, "/")+1:]
		})},
	{ID: "IE_IAM_BOUNDARY", Ref: "AWS IAM: permissions boundaries for delegated role creation", Severity: High,
		Rationale: "Every role sits under the stack's IAM path with a permissions boundary, so the deploy role that creates it cannot create a role stronger than the boundary.",
		check: each([]string{tRole}, func(c *Context, r plan.Resource) (bool, string) {
			path, boundary := r.Str("path"), r.Str("permissionsBoundary")
			switch {
			case path == "" || path == "/":
				return false, "role is at the account's root path"
			case boundary == "":
				return false, "role has no permissions boundary (config permissionsBoundary)"
			}
			return true, "under " + path + ", bounded by " + boundary[strings.LastIndex(boundary, "/")+1:]
		})},
	{ID: "IE_TAGS", Ref: "design: cost tags; AWS tagging best practices", Severity: Medium,
		Rationale: "Every taggable resource carries Project, Stack and the stack's requiredTags (Owner and CostCenter in dev and prod), so cost and ownership are traceable.",
		check: func(c *Context) []Finding {
			var out []Finding
			for _, r := range c.Plan.Resources {
				if !r.Custom || slices.Contains(Untaggable, r.Type) {
					continue
				}
				if !slices.Contains(Taggable, r.Type) {
					out = append(out, Finding{Resource: r, Reason: "type not classified as taggable or not in internal/policy"})
					continue
				}
				tags := r.Tags()
				var missing []string
				for _, k := range c.RequiredTags {
					if tags[k] == "" {
						missing = append(missing, k)
					}
				}
				out = append(out, Finding{Resource: r, OK: len(missing) == 0, Reason: tagReason(c.RequiredTags, missing)})
			}
			return out
		}},
}

func tagReason(required, missing []string) string {
	if len(missing) == 0 {
		return "carries " + strings.Join(required, ", ")
	}
	return "missing tags " + strings.Join(missing, ", ")
}

// eachStatement judges every statement of every inline role policy; a policy passes with
// passReason when all its statements do, and fails with the first failing statement's reason.
func eachStatement(judge func(iampolicy.Statement) (bool, string), passReason string) func(*Context) []Finding {
	return each([]string{tRolePolicy}, func(c *Context, r plan.Resource) (bool, string) {
		doc, err := iampolicy.Parse(r.Str("policy"))
		if err != nil {
			return false, "policy does not parse"
		}
		for _, st := range doc.Statement {
			if ok, why := judge(st); !ok {
				return false, why
			}
		}
		return true, passReason
	})
}
