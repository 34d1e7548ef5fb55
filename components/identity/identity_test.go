package identity_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/components/identity"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

func args() *identity.InstanceIdentityArgs {
	return &identity.InstanceIdentityArgs{
		Partition: "aws", Region: "eu-central-1", AccountID: plan.Account,
		RepositoryARNs:   pulumi.ToStringArray([]string{"arn:aws:ecr:eu-central-1:123456789012:repository/immutable-edge/dev/web"}),
		LogGroupPrefix:   "/immutable-edge/dev/instance/",
		MetricNamespaces: []string{"ImmutableEdge"},
		StackTag:         "dev",
	}
}

func runtimePolicy(t *testing.T, a *identity.InstanceIdentityArgs) iampolicy.Document {
	t.Helper()
	p, err := plan.RunProgram("dev", plan.Config{}, nil, func(ctx *pulumi.Context) error {
		_, err := identity.NewInstanceIdentity(ctx, "dev", a)
		return err
	})
	require.NoError(t, err)
	rp, ok := p.Find("aws:iam/rolePolicy:RolePolicy", "dev-runtime")
	require.True(t, ok)
	doc, err := iampolicy.Parse(rp.Str("policy"))
	require.NoError(t, err)
	return doc
}

func sids(d iampolicy.Document) map[string]iampolicy.Statement {
	m := map[string]iampolicy.Statement{}
	for _, st := range d.Statement {
		m[st.Sid] = st
	}
	return m
}

func TestAddressClaimIsScopedToTheAllocationAndOwnInstances(t *testing.T) {
	a := args()
	a.ClaimAllocationID = pulumi.String("eipalloc-0abc")
	st := sids(runtimePolicy(t, a))
	require.Equal(t, []string{"arn:aws:ec2:eu-central-1:123456789012:elastic-ip/eipalloc-0abc"}, st["ClaimAddress"].Resource)
	own := st["ClaimForOwnInstance"]
	require.Equal(t, []string{"ec2:AssociateAddress"}, own.Action)
	require.Equal(t, "dev", own.Condition["StringEquals"]["aws:ResourceTag/Stack"])
	require.Equal(t, []string{"ec2:DescribeAddresses"}, st["FindAddress"].Action)
}

func TestCertificateStateIsLimitedToItsPrefix(t *testing.T) {
	a := args()
	a.CertBucketARN = pulumi.String("arn:aws:s3:::dev-certs")
	a.CertPrefix = "/letsencrypt/"
	a.CertKeyARN = pulumi.String("arn:aws:kms:eu-central-1:123456789012:key/k")
	st := sids(runtimePolicy(t, a))
	require.Equal(t, []string{"arn:aws:s3:::dev-certs/letsencrypt/*"}, st["CertStateObjects"].Resource)
	require.Equal(t, []string{"arn:aws:kms:eu-central-1:123456789012:key/k"}, st["CertStateKey"].Resource)
	require.Equal(t, "s3.eu-central-1.amazonaws.com", st["CertStateKey"].Condition["StringEquals"]["kms:ViaService"], "the key only through S3")
	require.Equal(t, []string{"arn:aws:s3:::dev-certs"}, st["CertStateList"].Resource)
	require.Equal(t, []any{"letsencrypt/*"}, st["CertStateList"].Condition["StringLike"]["s3:prefix"])
}

// TestMarkingUnhealthyIsScopedToTheStacksGroups: the instance may set the health of
// instances of its own stack's groups only, by name prefix and by Stack tag.
func TestMarkingUnhealthyIsScopedToTheStacksGroups(t *testing.T) {
	a := args()
	a.HealGroupPrefix = "dev-"
	doc := runtimePolicy(t, a)
	group := "arn:aws:autoscaling:eu-central-1:123456789012:autoScalingGroup:0123-uuid:autoScalingGroupName/"
	for _, tc := range []struct {
		name, resource, tag string
		allow               bool
	}{
		{"its own group", group + "dev-20261123000000000001", "dev", true},
		{"a group of another name", group + "prod-20261123000000000001", "dev", false},
		{"a group named like its own but another stack's", group + "dev-2-1", "dev-2", false},
		{"another region", "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0123-uuid:autoScalingGroupName/dev-1", "dev", false},
	} {
		ok, err := iampolicy.Allows(iampolicy.Request{Action: "autoscaling:SetInstanceHealth", Resource: tc.resource,
			Context: map[string]string{"aws:ResourceTag/Stack": tc.tag}}, doc)
		require.NoError(t, err)
		require.Equal(t, tc.allow, ok, tc.name)
	}
	require.NotContains(t, sids(runtimePolicy(t, args())), "MarkUnhealthy", "no self-healing, no grant")
}

func TestWithoutEdgeInputsThereIsNoClaimOrBucketAccess(t *testing.T) {
	st := sids(runtimePolicy(t, args()))
	for _, sid := range []string{"ClaimAddress", "ClaimForOwnInstance", "FindAddress", "CertStateList", "CertStateObjects"} {
		require.NotContains(t, st, sid)
	}
}

func TestIdentityRejectsBadArgs(t *testing.T) {
	for name, edit := range map[string]func(*identity.InstanceIdentityArgs){
		"no account": func(a *identity.InstanceIdentityArgs) { a.AccountID = "" },
		"wildcard cert prefix": func(a *identity.InstanceIdentityArgs) {
			a.CertBucketARN = pulumi.String("arn:aws:s3:::b")
			a.CertPrefix = "*"
		},
		"claim without a stack": func(a *identity.InstanceIdentityArgs) { a.ClaimAllocationID = pulumi.String("x"); a.StackTag = "" },
		"relative log prefix":   func(a *identity.InstanceIdentityArgs) { a.LogGroupPrefix = "logs" },
		"wildcard group prefix": func(a *identity.InstanceIdentityArgs) { a.HealGroupPrefix = "*" },
	} {
		a := args()
		edit(a)
		p, err := plan.RunProgram("dev", plan.Config{}, nil, func(ctx *pulumi.Context) error {
			_, err := identity.NewInstanceIdentity(ctx, "dev", a)
			return err
		})
		require.ErrorContains(t, err, "identity dev: ", name)
		require.Empty(t, p.Resources, name)
	}
}
