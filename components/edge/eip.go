package edge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// CertPrefix is where an EIP node keeps its Let's Encrypt state in the certificate bucket.
const CertPrefix = "letsencrypt/"

// EIPArgs configures the Elastic IP edge. The zero value of each optional field is the safe choice.
type EIPArgs struct {
	Site
	// CertVersionDays keeps replaced certificate-state objects this long.
	CertVersionDays int
	// StateKeyARN is the stack's customer managed key the certificate state is encrypted with;
	// the instance role is granted its use through S3 only.
	StateKeyARN pulumi.StringInput
}

// EIP is the Elastic IP edge: one address that the stack's single instance claims once its
// local health gate passes, and the bucket that carries its certificate across replacements.
type EIP struct {
	pulumi.ResourceState
	URLOutput     pulumi.StringOutput `pulumi:"url"`
	PublicIP      pulumi.StringOutput `pulumi:"publicIp"`
	AllocationID  pulumi.StringOutput `pulumi:"allocationId"`
	CertBucket    pulumi.StringOutput `pulumi:"certBucket"`
	certBucketARN pulumi.StringOutput
	stateKeyARN   pulumi.StringOutput
}

// URL implements Edge.
func (e *EIP) URL() pulumi.StringOutput { return e.URLOutput }

// Address implements Edge.
func (e *EIP) Address() pulumi.StringOutput { return e.PublicIP }

// TargetGroupARNs implements Edge: there is no load balancer.
func (e *EIP) TargetGroupARNs() pulumi.StringArrayInput { return nil }

// Telemetry implements Edge: the EIP edge has no AWS-side metrics of its own; the instance
// publishes its certificate's days to expiry and an external check watches the domain.
func (e *EIP) Telemetry() Telemetry { return Telemetry{Mode: ModeEIP} }

// Instance implements Edge.
func (e *EIP) Instance() InstanceSide {
	return InstanceSide{Mode: ModeEIP, AllocationID: e.AllocationID, CertBucket: e.CertBucket,
		CertBucketARN: e.certBucketARN, CertPrefix: CertPrefix, CertKeyARN: e.stateKeyARN}
}

func (a *EIPArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if missing := a.Site.validate(); len(missing) > 0 {
		return fmt.Errorf("%s required", strings.Join(missing, ", "))
	}
	if a.CertVersionDays < 0 {
		return errors.New("CertVersionDays cannot be negative")
	}
	if a.StateKeyARN == nil {
		return errors.New("StateKeyARN is required: the certificate state is encrypted with the stack's key")
	}
	return nil
}

// NewEIP creates the address, the certificate-state bucket and the DNS records.
func NewEIP(ctx *pulumi.Context, name string, args *EIPArgs, opts ...pulumi.ResourceOption) (*EIP, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("edge %s: %w", name, err)
	}
	e := &EIP{}
	if err := ctx.RegisterComponentResource("immutable-edge:edge:EIP", name, e, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(e)
	// The address is the stack's public identity and DNS points at it: protected unless the
	// stack is disposable.
	addr, err := ec2.NewEip(ctx, name+"-eip", &ec2.EipArgs{
		Domain: pulumi.String("vpc"),
		Tags:   tags.Named(args.Tags, name+"-eip"),
	}, parent, pulumi.Protect(!args.Disposable))
	if err != nil {
		return nil, fmt.Errorf("edge %s: address: %w", name, err)
	}
	// Let's Encrypt allows 5 duplicate certificates a week: every replacement instance restores
	// the account and certificate from here instead of asking again.
	bucket, _, err := newBucket(ctx, name+"-certs", bucketArgs{
		Prefix: args.NamePrefix + "-certs", KeyARN: args.StateKeyARN, NoncurrentDays: orDefault(args.CertVersionDays, 30),
		Disposable: args.Disposable, Tags: args.Tags,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("edge %s: %w", name, err)
	}
	if err := addressRecords(ctx, name, args.Site, addr.PublicIp, parent); err != nil {
		return nil, fmt.Errorf("edge %s: %w", name, err)
	}
	e.URLOutput = pulumi.String("https://" + args.Domain).ToStringOutput()
	e.PublicIP = addr.PublicIp
	e.AllocationID = addr.AllocationId
	e.CertBucket = bucket.Bucket
	e.certBucketARN = bucket.Arn
	e.stateKeyARN = args.StateKeyARN.ToStringOutput()
	return e, ctx.RegisterResourceOutputs(e, pulumi.Map{
		"url": e.URLOutput, "publicIp": e.PublicIP, "allocationId": e.AllocationID, "certBucket": e.CertBucket,
	})
}
