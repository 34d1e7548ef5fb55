package network

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// newFlowLogRole is the role VPC Flow Logs assumes; it may write to the one log group only.
func newFlowLogRole(ctx *pulumi.Context, name string, group *cloudwatch.LogGroup, scope iampolicy.RoleScope,
	stackTags map[string]string, parent pulumi.ResourceOption) (*iam.Role, error) {
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		Description:         pulumi.String("VPC flow logs of " + name + " write to their log group"),
		AssumeRolePolicy:    pulumi.String(iampolicy.AssumeRole("vpc-flow-logs.amazonaws.com").JSON()),
		Path:                scope.PathInput(),
		PermissionsBoundary: scope.BoundaryInput(),
		Tags:                tags.Named(stackTags, name+"-flow-logs"),
	}, parent)
	if err != nil {
		return nil, err
	}
	policy := group.Arn.ApplyT(func(arn string) string {
		return iampolicy.New(
			iampolicy.Statement{
				Sid:      "WriteFlowLogs",
				Effect:   "Allow",
				Action:   []string{"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"},
				Resource: []string{arn, arn + ":*"},
			},
			iampolicy.Statement{
				// DescribeLogGroups acts on the account's group list, so it is scoped to groups, not one group.
				Sid:      "FindLogGroup",
				Effect:   "Allow",
				Action:   []string{"logs:DescribeLogGroups"},
				Resource: []string{logGroupsIn(arn)},
			},
		).JSON()
	}).(pulumi.StringOutput)
	_, err = iam.NewRolePolicy(ctx, name+"-flow-logs", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, parent)
	return role, err
}

// logGroupsIn turns a log group ARN into the ARN pattern of all log groups in its account and region.
func logGroupsIn(groupARN string) string {
	parts := strings.SplitN(groupARN, ":", 6)
	if len(parts) < 6 {
		return groupARN // unknown during preview; the real ARN arrives on up
	}
	return strings.Join(parts[:5], ":") + ":log-group:*"
}
