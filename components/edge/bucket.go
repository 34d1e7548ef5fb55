package edge

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// bucketArgs describes a private bucket. Every bucket here blocks all public access, enforces
// bucket-owner ownership (no ACLs), is versioned, encrypted, refuses plain HTTP and aborts
// incomplete uploads; the fields choose only what differs between the two uses.
type bucketArgs struct {
	// Prefix starts the bucket's name; AWS appends a unique suffix.
	Prefix string
	// KeyARN encrypts with that customer managed key; nil means SSE-S3 (ALB logs accept only that).
	KeyARN pulumi.StringInput
	// ExpireDays expires current objects (logs); 0 keeps them (certificate state).
	ExpireDays int
	// NoncurrentDays expires old versions.
	NoncurrentDays int
	// Allow are extra policy statements; the bucket ARN is passed in when it is known.
	Allow func(bucketARN string) []iampolicy.Statement
	// Disposable sets forceDestroy, so destroy empties the bucket (every version and delete
	// marker) before deleting it; otherwise the bucket is protected.
	Disposable bool
	Tags       map[string]string
}

// newBucket creates the bucket and its hardening; the returned policy is what writers must wait for.
func newBucket(ctx *pulumi.Context, name string, a bucketArgs, parent pulumi.ResourceOption) (*s3.BucketV2, *s3.BucketPolicy, error) {
	// A versioned bucket that still holds versions refuses DeleteBucket (BucketNotEmpty); the
	// provider empties it first only with force_destroy (hashicorp/terraform-provider-aws at
	// 1a5174b1, internal/service/s3/bucket.go, resourceBucketDelete).
	// A kept bucket is protected instead, so a destroy stops before it starts
	// (https://www.pulumi.com/docs/iac/concepts/resources/options/protect/).
	b, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		BucketPrefix: pulumi.String(a.Prefix + "-"),
		ForceDestroy: pulumi.Bool(a.Disposable),
		Tags:         tags.Named(a.Tags, name),
	}, parent, pulumi.Protect(!a.Disposable))
	if err != nil {
		return nil, nil, fmt.Errorf("bucket %s: %w", name, err)
	}
	pab, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:          b.ID(),
		BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("bucket %s: public access block: %w", name, err)
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: b.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("bucket %s: ownership: %w", name, err)
	}
	sse := &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")}
	if a.KeyARN != nil {
		sse = &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm: pulumi.String("aws:kms"), KmsMasterKeyId: a.KeyARN,
		}
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: b.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: sse,
			BucketKeyEnabled:                   pulumi.Bool(a.KeyARN != nil),
		}},
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("bucket %s: encryption: %w", name, err)
	}
	if _, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  b.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("bucket %s: versioning: %w", name, err)
	}
	rule := &s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:                             pulumi.String("expire"),
		Status:                         pulumi.String("Enabled"),
		Filter:                         &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
		AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(1)},
		NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
			NoncurrentDays: pulumi.Int(a.NoncurrentDays),
		},
	}
	if a.ExpireDays > 0 {
		rule.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(a.ExpireDays)}
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: b.ID(),
		Rules:  s3.BucketLifecycleConfigurationV2RuleArray{rule},
	}, parent); err != nil {
		return nil, nil, fmt.Errorf("bucket %s: lifecycle: %w", name, err)
	}
	policy := b.Arn.ApplyT(func(arn string) string {
		st := []iampolicy.Statement{{
			Sid: "DenyPlainHTTP", Effect: "Deny", Principal: map[string]any{"AWS": "*"},
			Action: []string{"s3:*"}, Resource: []string{arn, arn + "/*"},
			Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
		}}
		if a.Allow != nil {
			st = append(st, a.Allow(arn)...)
		}
		return iampolicy.New(st...).JSON()
	}).(pulumi.StringOutput)
	// The public access block goes first: a policy put before it may be judged public.
	bp, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{Bucket: b.ID(), Policy: policy},
		parent, pulumi.DependsOn([]pulumi.Resource{pab}))
	if err != nil {
		return nil, nil, fmt.Errorf("bucket %s: policy: %w", name, err)
	}
	return b, bp, nil
}
