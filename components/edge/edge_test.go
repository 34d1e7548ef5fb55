package edge_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/components/edge"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

var site = edge.Site{
	Domain: "example.com", HostedZoneID: "Z123", NamePrefix: "immutable-edge-t",
	CertificateNames: []string{"example.com", "api.example.com"}, RecordNames: []string{"api.example.com", "example.com"},
}

func albArgs() *edge.ALBArgs {
	return &edge.ALBArgs{
		Site: site, Partition: "aws", AccountID: plan.Account,
		VpcID: pulumi.String("vpc-1"), SubnetIDs: pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}),
		SecurityGroupID: pulumi.String("sg-edge"), TargetPort: 8080, HealthPath: "/.edge/health",
	}
}

func runEdge(build func(ctx *pulumi.Context) error) (*plan.Plan, error) {
	return plan.RunProgram("test", plan.Config{}, nil, build)
}

func TestALBZeroValuesAreTheSafeChoices(t *testing.T) {
	p, err := runEdge(func(ctx *pulumi.Context) error { _, err := edge.NewALB(ctx, "t", albArgs()); return err })
	require.NoError(t, err)
	alb, _ := p.Find("aws:lb/loadBalancer:LoadBalancer", "t-alb")
	require.True(t, alb.Get("enableDeletionProtection").BoolValue())
	require.Equal(t, 60.0, alb.Get("idleTimeout").NumberValue())
	https, _ := p.Find("aws:lb/listener:Listener", "t-https")
	require.Equal(t, edge.DefaultSSLPolicy, https.Str("sslPolicy"))
	lifecycle, _ := p.Find("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "t-alb-logs")
	require.Equal(t, 90.0, lifecycle.Get("rules.0.expiration.days").NumberValue())
}

func TestALBWeakerChoicesAreExplicit(t *testing.T) {
	a := albArgs()
	a.AllowDelete = true
	a.SSLPolicy = "ELBSecurityPolicy-TLS13-1-3-2021-06"
	p, err := runEdge(func(ctx *pulumi.Context) error { _, err := edge.NewALB(ctx, "t", a); return err })
	require.NoError(t, err)
	alb, _ := p.Find("aws:lb/loadBalancer:LoadBalancer", "t-alb")
	require.False(t, alb.Get("enableDeletionProtection").BoolValue())
	https, _ := p.Find("aws:lb/listener:Listener", "t-https")
	require.Equal(t, "ELBSecurityPolicy-TLS13-1-3-2021-06", https.Str("sslPolicy"))
}

func TestEdgesRejectBadArgs(t *testing.T) {
	for name, build := range map[string]func(ctx *pulumi.Context) error{
		"2016 policy": func(ctx *pulumi.Context) error {
			a := albArgs()
			a.SSLPolicy = "ELBSecurityPolicy-2016-08"
			_, err := edge.NewALB(ctx, "t", a)
			return err
		},
		"no zone": func(ctx *pulumi.Context) error {
			a := albArgs()
			a.HostedZoneID = ""
			_, err := edge.NewALB(ctx, "t", a)
			return err
		},
		"certificate not led by the domain": func(ctx *pulumi.Context) error {
			s := site
			s.CertificateNames = []string{"api.example.com"}
			_, err := edge.NewEIP(ctx, "t", &edge.EIPArgs{Site: s, StateKeyARN: stateKey})
			return err
		},
		"certificate state without a key": func(ctx *pulumi.Context) error {
			_, err := edge.NewEIP(ctx, "t", &edge.EIPArgs{Site: site})
			return err
		},
	} {
		p, err := runEdge(build)
		require.ErrorContains(t, err, "edge t: ", name)
		require.Empty(t, p.Resources, name)
	}
}

// stateKey stands for the stack's customer managed key.
var stateKey = pulumi.String("arn:aws:kms:eu-central-1:123456789012:key/0123")

// TestEdgesKeepTheirDataUnlessDisposable: the address and the buckets are protected and never
// force-emptied by default; a disposable site lets destroy take all of it.
func TestEdgesKeepTheirDataUnlessDisposable(t *testing.T) {
	for _, disposable := range []bool{false, true} {
		s := site
		s.Disposable = disposable
		p, err := runEdge(func(ctx *pulumi.Context) error {
			_, err := edge.NewEIP(ctx, "t", &edge.EIPArgs{Site: s, StateKeyARN: stateKey})
			return err
		})
		require.NoError(t, err)
		eip, ok := p.Find("aws:ec2/eip:Eip", "t-eip")
		require.True(t, ok)
		require.Equal(t, !disposable, eip.Protect)
		a := albArgs()
		a.Site = s
		alb, err := runEdge(func(ctx *pulumi.Context) error { _, err := edge.NewALB(ctx, "t", a); return err })
		require.NoError(t, err)
		for _, b := range append(p.OfType("aws:s3/bucketV2:BucketV2"), alb.OfType("aws:s3/bucketV2:BucketV2")...) {
			require.Equal(t, !disposable, b.Protect, b.Name)
			require.Equal(t, disposable, b.Bool("forceDestroy"), b.Name)
		}
		require.Len(t, append(p.OfType("aws:s3/bucketV2:BucketV2"), alb.OfType("aws:s3/bucketV2:BucketV2")...), 2)
	}
}
