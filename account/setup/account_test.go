package setup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

const (
	tRole       = "aws:iam/role:Role"
	tPolicy     = "aws:iam/policy:Policy"
	tAttachment = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
)

// here is account/, fixed before any test changes the working directory (mainPlan does).
var here = func() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(dir) // the tests run in account/setup
}()

// committed reads the committed account stack config.
func committed(t *testing.T) plan.Config {
	t.Helper()
	cfg, err := plan.ReadConfigFile(filepath.Join(here, "Pulumi.account.yaml"))
	require.NoError(t, err)
	return cfg
}

var planned struct {
	sync.Mutex
	p *plan.Plan
}

// accountPlan plans the committed config once per test binary.
func accountPlan(t *testing.T) *plan.Plan {
	t.Helper()
	planned.Lock()
	defer planned.Unlock()
	if planned.p == nil {
		p, err := run(committed(t))
		require.NoError(t, err)
		planned.p = p
	}
	return planned.p
}

func run(cfg plan.Config) (*plan.Plan, error) {
	return plan.RunProject(Project, "account", cfg, nil, Deploy)
}

func find(t *testing.T, p *plan.Plan, token, name string) plan.Resource {
	t.Helper()
	r, ok := p.Find(token, name)
	require.True(t, ok, "no %s %s", token, name)
	return r
}

func doc(t *testing.T, s string) iampolicy.Document {
	t.Helper()
	d, err := iampolicy.Parse(s)
	require.NoError(t, err)
	return d
}

func TestRolesTrustOneRepositoryAndOneSubject(t *testing.T) {
	p := accountPlan(t)
	provider := find(t, p, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github")
	require.Equal(t, "https://token.actions.githubusercontent.com", provider.Str("url"))
	require.Equal(t, []string{"sts.amazonaws.com"}, provider.Strings("clientIdLists"))
	providerARN := "arn:aws:iam::" + plan.Account + ":oidc-provider/token.actions.githubusercontent.com"
	require.Equal(t, providerARN, p.Outputs["oidcProviderArn"])

	for name, sub := range map[string]string{
		"immutable-edge-dev-deploy":  "repo:your-org/immutable-edge:environment:dev",
		"immutable-edge-prod-deploy": "repo:your-org/immutable-edge:environment:prod",
		"immutable-edge-preview":     "repo:your-org/immutable-edge:pull_request",
	} {
		role := find(t, p, tRole, name)
		require.Equal(t, name, role.Str("name"))
		require.Equal(t, "/immutable-edge/", role.Str("path"), "outside every stack's path, so no deploy role can change one")
		trust := doc(t, role.Str("assumeRolePolicy"))
		require.Len(t, trust.Statement, 1, name)
		st := trust.Statement[0]
		require.Equal(t, map[string]any{"Federated": providerARN}, st.Principal, name)
		require.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, st.Action, name)
		require.Equal(t, map[string]map[string]any{"StringEquals": {
			"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
			"token.actions.githubusercontent.com:sub": sub,
		}}, st.Condition, "%s: exact sub, no wildcard", name)
	}
	require.EqualValues(t, maxSession, find(t, p, tRole, "immutable-edge-dev-deploy").Num("maxSessionDuration"))
	require.Equal(t, map[string]string{
		"dev":    "arn:aws:iam::" + plan.Account + ":role/immutable-edge/immutable-edge-dev-deploy",
		"prod":   "arn:aws:iam::" + plan.Account + ":role/immutable-edge/immutable-edge-prod-deploy",
		"voting": "arn:aws:iam::" + plan.Account + ":role/immutable-edge/immutable-edge-voting-deploy",
	}, p.Outputs["deployRoleArns"])
}

func TestEachRoleHoldsItsOwnPolicies(t *testing.T) {
	p := accountPlan(t)
	attached := map[string][]string{}
	for _, a := range p.OfType(tAttachment) {
		role := a.Str("role")
		attached[role] = append(attached[role], strings.TrimPrefix(a.Str("policyArn"), "arn:aws:iam::"+plan.Account+":policy/immutable-edge/"))
	}
	for _, names := range attached {
		slices.Sort(names)
	}
	require.Equal(t, map[string][]string{
		"immutable-edge-dev-deploy":    {"immutable-edge-dev-deploy-compute", "immutable-edge-dev-deploy-identity", "immutable-edge-dev-deploy-image", "immutable-edge-dev-deploy-named", "immutable-edge-dev-deploy-network"},
		"immutable-edge-prod-deploy":   {"immutable-edge-prod-deploy-compute", "immutable-edge-prod-deploy-identity", "immutable-edge-prod-deploy-named", "immutable-edge-prod-deploy-network"},
		"immutable-edge-voting-deploy": {"immutable-edge-voting-deploy-compute", "immutable-edge-voting-deploy-data", "immutable-edge-voting-deploy-identity", "immutable-edge-voting-deploy-named", "immutable-edge-voting-deploy-network"},
		"immutable-edge-preview":       {"immutable-edge-preview"},
	}, attached)
	// The boundary is a policy for the stack's roles, never attached to a deploy role.
	_, ok := attached["immutable-edge-dev-boundary"]
	require.False(t, ok)
}

func TestStateBackendIsPrivateVersionedAndEncrypted(t *testing.T) {
	p := accountPlan(t)
	bucket := find(t, p, "aws:s3/bucketV2:BucketV2", "immutable-edge-state")
	key := find(t, p, "aws:kms/key:Key", "immutable-edge-state")
	require.True(t, bucket.Protect, "losing the bucket loses every stack's state")
	require.True(t, key.Protect)
	require.True(t, key.Bool("enableKeyRotation"))
	keyARN := "arn:aws:kms:eu-central-1:" + plan.Account + ":key/0123abcd-immutable-edge-state"

	pab := find(t, p, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "immutable-edge-state")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		require.True(t, pab.Bool(k), k)
	}
	require.Equal(t, "Enabled", find(t, p, "aws:s3/bucketVersioningV2:BucketVersioningV2", "immutable-edge-state").Str("versioningConfiguration.status"))
	sse := find(t, p, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "immutable-edge-state")
	require.Equal(t, "aws:kms", sse.Str("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"))
	require.Equal(t, keyARN, sse.Str("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"))
	require.Equal(t, "BucketOwnerEnforced", find(t, p, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "immutable-edge-state").Str("rule.objectOwnership"))
	policy := doc(t, find(t, p, "aws:s3/bucketPolicy:BucketPolicy", "immutable-edge-state").Str("policy"))
	require.Equal(t, "Deny", policy.Statement[0].Effect)
	require.Equal(t, map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}}, policy.Statement[0].Condition)

	meta := find(t, p, "aws:s3/bucketObjectv2:BucketObjectv2", "immutable-edge-state-meta")
	require.Equal(t, ".pulumi/meta.yaml", meta.Str("key"))
	require.Equal(t, "version: 1\n", meta.Str("content"), "the project-scoped layout the deploy roles' object paths assume")

	require.Equal(t, "s3://immutable-edge-state-20261123000000000001?region=eu-central-1", p.Outputs["backendUrl"])
	require.Equal(t, "awskms://alias/immutable-edge-state?region=eu-central-1", p.Outputs["secretsProvider"])
}

func TestWithoutTheS3BackendNoBucketAndNoStateGrants(t *testing.T) {
	p, err := run(committed(t).With("immutable-edge-account:stateBucket", "false"))
	require.NoError(t, err)
	require.Empty(t, p.OfType("aws:s3/bucketV2:BucketV2"))
	require.Empty(t, p.OfType("aws:kms/key:Key"))
	require.NotContains(t, p.Outputs, "backendUrl")
	for _, pol := range p.OfType(tPolicy) {
		require.NotContains(t, pol.Str("policy"), ".pulumi/", pol.Name)
		require.NotContains(t, pol.Str("policy"), "immutable-edge-state", pol.Name)
	}
}

func TestImageBuilderProfileOnlyWhenAStackBuilds(t *testing.T) {
	p := accountPlan(t)
	profile := find(t, p, "aws:iam/instanceProfile:InstanceProfile", "immutable-edge-image-builder")
	require.Equal(t, "immutable-edge-image-builder", profile.Str("name"))
	require.Equal(t, "immutable-edge-image-builder", p.Outputs["imageBuilderProfile"])
	inline := doc(t, find(t, p, "aws:iam/rolePolicy:RolePolicy", "immutable-edge-image-builder").Str("policy"))
	require.Equal(t, builderActions, inline.Statement[0].Action)

	var stacks []map[string]any
	require.NoError(t, json.Unmarshal([]byte(committed(t)["immutable-edge-account:stacks"]), &stacks))
	stacks[0]["buildsImage"] = false
	p, err := run(committed(t).With("immutable-edge-account:stacks", stacks))
	require.NoError(t, err)
	require.Empty(t, p.OfType("aws:iam/instanceProfile:InstanceProfile"))
}

func TestExistingOIDCProviderIsReused(t *testing.T) {
	arn := "arn:aws:iam::" + plan.Account + ":oidc-provider/token.actions.githubusercontent.com"
	p, err := run(committed(t).With("immutable-edge-account:oidcProviderArn", arn))
	require.NoError(t, err)
	require.Empty(t, p.OfType("aws:iam/openIdConnectProvider:OpenIdConnectProvider"))
	require.Contains(t, find(t, p, tRole, "immutable-edge-dev-deploy").Str("assumeRolePolicy"), arn)
}

func TestBadAccountConfigRegistersNothing(t *testing.T) {
	k := func(s string) string { return "immutable-edge-account:" + s }
	for _, tc := range []struct {
		name, key string
		edit      func(plan.Config) plan.Config
	}{
		{"missing repository", k("repository"), func(c plan.Config) plan.Config { return c.Without(k("repository")) }},
		{"repository as a URL", k("repository"), func(c plan.Config) plan.Config {
			return c.With(k("repository"), "https://github.com/your-org/immutable-edge")
		}},
		{"typo in a key", k("stateBuckt"), func(c plan.Config) plan.Config { return c.With(k("stateBuckt"), "true") }},
		{"no stacks", k("stacks"), func(c plan.Config) plan.Config { return c.With(k("stacks"), []any{}) }},
		{"unknown stack field", k("stacks"), func(c plan.Config) plan.Config {
			return c.With(k("stacks"), []map[string]any{{"name": "dev", "hostedZoneId": "Z1", "region": "us-east-1"}})
		}},
		{"zone id shape", k("stacks[0].hostedZoneId"), func(c plan.Config) plan.Config {
			return c.With(k("stacks"), []map[string]any{{"name": "dev", "hostedZoneId": "dev.example.com"}})
		}},
		{"promotes from nowhere", k("stacks[0].promotesFrom"), func(c plan.Config) plan.Config {
			return c.With(k("stacks"), []map[string]any{{"name": "prod", "hostedZoneId": "Z1", "promotesFrom": "staging"}})
		}},
		{"stack listed twice", k("stacks[1].name"), func(c plan.Config) plan.Config {
			return c.With(k("stacks"), []map[string]any{{"name": "dev", "hostedZoneId": "Z1"}, {"name": "dev", "hostedZoneId": "Z2"}})
		}},
		{"stack name too long for bucket names", k("stacks[0].name"), func(c plan.Config) plan.Config {
			return c.With(k("stacks"), []map[string]any{{"name": "feature-login-redesign", "hostedZoneId": "Z1"}})
		}},
		{"a stack named like the state bucket", k("stacks[0].name"), func(c plan.Config) plan.Config {
			return c.With(k("stacks"), []map[string]any{{"name": "state", "hostedZoneId": "Z1"}})
		}},
		{"protect as text", k("stacks"), func(c plan.Config) plan.Config {
			return c.With(k("stacks"), []map[string]any{{"name": "dev", "hostedZoneId": "Z1", "protect": "no"}})
		}},
		{"boolean as text", k("previewRole"), func(c plan.Config) plan.Config { return c.With(k("previewRole"), "yes") }},
		{"provider of another issuer", k("oidcProviderArn"), func(c plan.Config) plan.Config {
			return c.With(k("oidcProviderArn"), "arn:aws:iam::123456789012:oidc-provider/gitlab.com")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := run(tc.edit(committed(t)))
			require.Error(t, err)
			require.Contains(t, config.ErrorKeys(err), tc.key, "error: %v", err)
			require.Empty(t, p.Resources)
		})
	}
}
