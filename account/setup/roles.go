package setup

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
)

// maxSession covers the longest deploy job: a Packer build (about 15 minutes) plus an instance
// refresh the workflow waits up to 45 minutes for.
const maxSession = 2 * 60 * 60

// newDeployRole creates the stack's permissions boundary and the role its environment's
// workflows assume, with one managed policy per concern (each stays under IAM's 6,144
// characters, see TestPoliciesFitIAMLimits).
func newDeployRole(ctx *pulumi.Context, sc scope, st *state, provider pulumi.StringOutput, sub string,
	tags pulumi.StringMap) (pulumi.StringOutput, error) {
	name, path := sc.prefix(), "/"+sc.Project+"/"
	if _, err := iam.NewPolicy(ctx, name+"-boundary", &iam.PolicyArgs{
		Name: pulumi.String(name + "-boundary"), Path: pulumi.String(path),
		Description: pulumi.String("The most any role of stack " + sc.Stack.Name + " may do"),
		Policy:      pulumi.String(sc.boundaryPolicy().JSON()),
		Tags:        tags,
	}); err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("boundary: %w", err)
	}
	rolePath, roleName := config.DeployRole(sc.Project, sc.Stack.Name)
	role, err := iam.NewRole(ctx, roleName, &iam.RoleArgs{
		Name: pulumi.String(roleName), Path: pulumi.String(rolePath),
		Description:        pulumi.String("pulumi up of stack " + sc.Stack.Name + " from its GitHub environment"),
		AssumeRolePolicy:   trust(provider, sub),
		MaxSessionDuration: pulumi.Int(maxSession),
		Tags:               tags,
	})
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("deploy role: %w", err)
	}
	type part struct {
		name string
		doc  func(scope) iampolicy.Document
	}
	parts := []part{{"compute", scope.computePolicy}, {"network", scope.networkPolicy}, {"named", scope.namedPolicy}, {"identity", scope.identityPolicy}}
	if sc.Stack.BuildsImage {
		parts = append(parts, part{"image", scope.imagePolicy})
	}
	if sc.Stack.Data {
		parts = append(parts, part{"data", scope.dataPolicy})
	}
	for _, part := range parts {
		if err := attach(ctx, name+"-deploy-"+part.name, path, role, st.document(sc, part.doc), tags); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	return role.Arn, nil
}

// newPreviewRole creates the read-only role pull requests of the repository preview with.
func newPreviewRole(ctx *pulumi.Context, sc scope, st *state, provider pulumi.StringOutput, sub string,
	tags pulumi.StringMap) (pulumi.StringOutput, error) {
	name, path := sc.Project+"-preview", "/"+sc.Project+"/"
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name: pulumi.String(name), Path: pulumi.String(path),
		Description:      pulumi.String("pulumi preview of pull requests: reads only"),
		AssumeRolePolicy: trust(provider, sub),
		Tags:             tags,
	})
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("preview role: %w", err)
	}
	if err := attach(ctx, name, path, role, st.document(sc, scope.previewPolicy), tags); err != nil {
		return pulumi.StringOutput{}, err
	}
	return role.Arn, nil
}

func trust(provider pulumi.StringOutput, sub string) pulumi.StringOutput {
	return provider.ApplyT(func(arn string) string { return githubTrust(arn, sub) }).(pulumi.StringOutput)
}

// attach creates a customer managed policy and attaches it to the role.
func attach(ctx *pulumi.Context, name, path string, role *iam.Role, doc pulumi.StringOutput, tags pulumi.StringMap) error {
	policy, err := iam.NewPolicy(ctx, name, &iam.PolicyArgs{
		Name: pulumi.String(name), Path: pulumi.String(path), Policy: doc, Tags: tags,
	})
	if err != nil {
		return fmt.Errorf("policy %s: %w", name, err)
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, name, &iam.RolePolicyAttachmentArgs{Role: role.Name, PolicyArn: policy.Arn}); err != nil {
		return fmt.Errorf("attach %s: %w", name, err)
	}
	return nil
}

// imageBuilder is the instance profile Packer's build instance runs with (images/golden.pkr.hcl
// var.instance_profile). It is made here, not by Packer, because Packer's temporary roles
// carry no permissions boundary and the deploy roles may create no role without one.
type imageBuilder struct {
	roleARN, profile string
}

// builderActions are what the build instance needs for Session Manager, Packer's communicator.
var builderActions = []string{
	"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint",
	"ec2messages:GetMessages", "ec2messages:SendReply", "ssm:UpdateInstanceInformation",
	"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
	"ssmmessages:OpenDataChannel",
}

func newImageBuilder(ctx *pulumi.Context, sc scope, tags pulumi.StringMap) (*imageBuilder, error) {
	name, path := sc.Project+"-image-builder", "/"+sc.Project+"/"
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name: pulumi.String(name), Path: pulumi.String(path),
		Description:      pulumi.String("Packer build instances: Session Manager only"),
		AssumeRolePolicy: pulumi.String(iampolicy.AssumeRole("ec2.amazonaws.com").JSON()),
		Tags:             tags,
	})
	if err != nil {
		return nil, fmt.Errorf("image builder role: %w", err)
	}
	if _, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: pulumi.String(iampolicy.New(allow("SessionManager", builderActions, all, nil)).JSON()),
	}); err != nil {
		return nil, fmt.Errorf("image builder policy: %w", err)
	}
	if _, err := iam.NewInstanceProfile(ctx, name, &iam.InstanceProfileArgs{
		Name: pulumi.String(name), Path: pulumi.String(path), Role: role.Name, Tags: tags,
	}); err != nil {
		return nil, fmt.Errorf("image builder profile: %w", err)
	}
	return &imageBuilder{roleARN: fmt.Sprintf("arn:%s:iam::%s:role%s%s", sc.Partition, sc.Account, path, name), profile: name}, nil
}
