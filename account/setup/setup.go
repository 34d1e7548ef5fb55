// Package setup is the account bootstrap program (account/): the GitHub OIDC provider, per stack
// a deploy role and the permissions boundary its roles carry, a read-only role for pull-request
// previews, the instance profile Packer builds with, and the S3 state backend with its KMS key.
package setup

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
)

// Project is the account program's Pulumi project name, as in account/Pulumi.yaml.
const Project = "immutable-edge-account"

// AccountStack is the account program's stack (docs/deploying.md); its resources carry
// Stack=account, which no main stack may be called.
const AccountStack = "account"

// GitHubIssuer is the OIDC issuer of GitHub Actions' tokens.
const GitHubIssuer = "token.actions.githubusercontent.com"

// Deploy is the account program.
func Deploy(ctx *pulumi.Context) error {
	s, err := load(config.Raw(ctx))
	if err != nil {
		return err
	}
	if slices.ContainsFunc(s.Stacks, func(st Stack) bool { return st.Name == ctx.Stack() }) {
		return &config.KeyError{Key: key("stacks"), Reason: fmt.Sprintf("%q is the account stack's own name: its resources carry that Stack tag", ctx.Stack())}
	}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return fmt.Errorf("caller identity: %w", err)
	}
	partition, err := aws.GetPartition(ctx, nil)
	if err != nil {
		return fmt.Errorf("partition: %w", err)
	}
	base := scope{Partition: partition.Partition, Account: caller.AccountId, Region: s.Region, Project: s.Project, Stacks: s.Stacks}
	tags := pulumi.StringMap{"Project": pulumi.String(s.Project), "Stack": pulumi.String(ctx.Stack())}

	provider := pulumi.String(s.OIDCProviderARN).ToStringOutput()
	if s.OIDCProviderARN == "" {
		p, err := iam.NewOpenIdConnectProvider(ctx, "github", &iam.OpenIdConnectProviderArgs{
			Url:           pulumi.String("https://" + GitHubIssuer),
			ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
			Tags:          tags,
		})
		if err != nil {
			return fmt.Errorf("oidc provider: %w", err)
		}
		provider = p.Arn
	}
	st := &state{}
	if s.StateBucket {
		if st, err = newState(ctx, base, tags); err != nil {
			return err
		}
		ctx.Export("backendUrl", pulumi.Sprintf("s3://%s?region=%s", st.bucket, s.Region))
		ctx.Export("secretsProvider", pulumi.Sprintf("awskms://%s?region=%s", st.alias, s.Region))
		providers := pulumi.StringMap{}
		for _, stack := range s.Stacks {
			sc := base
			sc.Stack = stack
			key, err := newSecretsKey(ctx, sc, base.previewRole(), tags)
			if err != nil {
				return err
			}
			st.stacks, st.secrets = append(st.stacks, stack.Name), append(st.secrets, key)
			providers[stack.Name] = pulumi.Sprintf("awskms://%s?region=%s", secretsAlias(s.Project, stack.Name), s.Region)
		}
		ctx.Export("stackSecretsProviders", providers)
	}
	if s.buildsImages() {
		builder, err := newImageBuilder(ctx, base, tags)
		if err != nil {
			return err
		}
		base.BuilderRole = builder.roleARN
		ctx.Export("imageBuilderProfile", pulumi.String(builder.profile))
	}
	deployRoles, boundaries := pulumi.StringMap{}, pulumi.StringMap{}
	for _, stack := range s.Stacks {
		sc := base
		sc.Stack = stack
		sc.Boundary = fmt.Sprintf("arn:%s:iam::%s:policy/%s/%s-boundary", sc.Partition, sc.Account, s.Project, sc.prefix())
		role, err := newDeployRole(ctx, sc, st, provider, subject(s.Repository, "environment:"+stack.Name), tags)
		if err != nil {
			return fmt.Errorf("stack %s: %w", stack.Name, err)
		}
		deployRoles[stack.Name] = role
		boundaries[stack.Name] = pulumi.String(sc.Boundary)
	}
	ctx.Export("oidcProviderArn", provider)
	ctx.Export("deployRoleArns", deployRoles)
	ctx.Export("permissionsBoundaries", boundaries)
	if s.PreviewRole {
		role, err := newPreviewRole(ctx, base, st, provider, subject(s.Repository, "pull_request"), tags)
		if err != nil {
			return err
		}
		ctx.Export("previewRoleArn", role)
	}
	return nil
}

// subject is the sub claim of a GitHub Actions token: jobs in an environment present
// repo:<owner>/<name>:environment:<env>, pull-request jobs repo:<owner>/<name>:pull_request.
func subject(repository, what string) string { return "repo:" + repository + ":" + what }

// githubTrust lets workflows of one repository with one sub claim assume a role.
func githubTrust(providerARN, sub string) string {
	return iampolicy.New(iampolicy.Statement{
		Effect:    "Allow",
		Principal: map[string]any{"Federated": providerARN},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: map[string]map[string]any{"StringEquals": {
			GitHubIssuer + ":aud": "sts.amazonaws.com",
			GitHubIssuer + ":sub": sub,
		}},
	}).JSON()
}
