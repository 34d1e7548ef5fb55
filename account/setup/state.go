package setup

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
)

// state is the S3 backend: its bucket name, the KMS key that encrypts the bucket and the
// account stack's secrets, and one secrets key per main stack (Pulumi's awskms:// secrets
// provider). All are empty without the backend.
type state struct {
	bucket, key pulumi.StringOutput
	alias       string
	stacks      []string              // the main stacks, in config order
	secrets     []pulumi.StringOutput // their secrets keys' ARNs, in the same order
}

// document builds a policy that may name the state bucket and keys once they exist.
func (st *state) document(sc scope, doc func(scope) iampolicy.Document) pulumi.StringOutput {
	if st.alias == "" {
		return pulumi.String(doc(sc).JSON()).ToStringOutput()
	}
	in := []any{st.bucket, st.key}
	for _, k := range st.secrets {
		in = append(in, k)
	}
	return pulumi.All(in...).ApplyT(func(in []any) string {
		sc.StateBucket, sc.StateKey = in[0].(string), in[1].(string)
		sc.SecretsKeys = map[string]string{}
		for i, name := range st.stacks {
			sc.SecretsKeys[name] = in[2+i].(string)
		}
		return doc(sc).JSON()
	}).(pulumi.StringOutput)
}

// secretsAlias names a stack's secrets key. It is outside <project>-<stack>-*, which the
// stack's alias grant covers: no stack role can move it.
func secretsAlias(project, stack string) string { return "alias/" + project + "/" + stack + "/secrets" }

// newSecretsKey creates the key a main stack's secrets are encrypted with. It carries the
// account stack's tags, so no stack role can manage it (their key grants need their own Stack
// tag), and its policy refuses encryption and decryption to every role of the project but the
// stack's deploy role (and the preview role, for a stack whose previews may decrypt):
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html.
func newSecretsKey(ctx *pulumi.Context, sc scope, previewRole string, tags pulumi.StringMap) (pulumi.StringOutput, error) {
	name := sc.prefix() + "-secrets"
	readers := []string{sc.deployRole()}
	if sc.Stack.PreviewSecrets {
		readers = append(readers, previewRole)
	}
	keyTags := pulumi.StringMap{"SecretsOf": pulumi.String(sc.Stack.Name)}
	for k, v := range tags {
		keyTags[k] = v
	}
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:       pulumi.String("Pulumi secrets of stack " + sc.Stack.Name),
		EnableKeyRotation: pulumi.Bool(true),
		Policy:            pulumi.String(secretsKeyPolicy(sc, readers).JSON()),
		Tags:              keyTags,
	}, pulumi.Protect(true))
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("secrets key of %s: %w", sc.Stack.Name, err)
	}
	if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{Name: pulumi.String(secretsAlias(sc.Project, sc.Stack.Name)), TargetKeyId: key.KeyId}); err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("secrets key alias of %s: %w", sc.Stack.Name, err)
	}
	return key.Arn, nil
}

// secretsKeyPolicy delegates the key to the account's IAM policies and denies its use to every
// role of the project but the readers, whatever an IAM policy says.
func secretsKeyPolicy(sc scope, readers []string) iampolicy.Document {
	return iampolicy.New(
		iampolicy.Statement{
			Sid: "AccountAdministers", Effect: "Allow",
			Principal: map[string]any{"AWS": "arn:" + sc.Partition + ":iam::" + sc.Account + ":root"},
			Action:    []string{"kms:*"}, Resource: all,
		},
		iampolicy.Statement{
			Sid: "OnlyThisStacksRoles", Effect: "Deny", Principal: map[string]any{"AWS": "*"},
			Action:   []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"},
			Resource: all,
			Condition: cond{
				"ArnLike":      {"aws:PrincipalArn": "arn:" + sc.Partition + ":iam::" + sc.Account + ":role/" + sc.Project + "/*"},
				"ArnNotEquals": {"aws:PrincipalArn": readers},
			},
		},
	)
}

// metaYAML marks the bucket as a version 1 (project-scoped) Pulumi backend, the layout the
// deploy roles' object paths assume; the CLI writes the same file into an empty bucket.
const metaYAML = "version: 1\n"

// newState creates the key and the bucket. Both are protected: losing them loses every stack's
// record of what it created.
func newState(ctx *pulumi.Context, sc scope, tags pulumi.StringMap) (*state, error) {
	name := sc.Project + "-state"
	protect := pulumi.Protect(true)
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:       pulumi.String("Pulumi state and secrets of " + sc.Project),
		EnableKeyRotation: pulumi.Bool(true),
		// The account administers the key; the deploy and preview roles use it through IAM.
		Policy: pulumi.String(iampolicy.New(iampolicy.Statement{
			Sid: "AccountAdministers", Effect: "Allow",
			Principal: map[string]any{"AWS": "arn:" + sc.Partition + ":iam::" + sc.Account + ":root"},
			Action:    []string{"kms:*"}, Resource: all,
		}).JSON()),
		Tags: tags,
	}, protect)
	if err != nil {
		return nil, fmt.Errorf("state key: %w", err)
	}
	alias := "alias/" + name
	if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{Name: pulumi.String(alias), TargetKeyId: key.KeyId}); err != nil {
		return nil, fmt.Errorf("state key alias: %w", err)
	}
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{BucketPrefix: pulumi.String(name + "-"), Tags: tags}, protect)
	if err != nil {
		return nil, fmt.Errorf("state bucket: %w", err)
	}
	if err := harden(ctx, name, bucket, key); err != nil {
		return nil, fmt.Errorf("state bucket: %w", err)
	}
	if _, err := s3.NewBucketObjectv2(ctx, name+"-meta", &s3.BucketObjectv2Args{
		Bucket: bucket.ID(), Key: pulumi.String(".pulumi/meta.yaml"), Content: pulumi.String(metaYAML),
		ContentType: pulumi.String("application/yaml"), ServerSideEncryption: pulumi.String("aws:kms"), KmsKeyId: key.Arn,
	}); err != nil {
		return nil, fmt.Errorf("state layout marker: %w", err)
	}
	return &state{bucket: bucket.Bucket, key: key.Arn, alias: alias}, nil
}

// harden blocks public access, enforces bucket-owner ownership, versions every state write,
// encrypts with the key and refuses plain HTTP.
func harden(ctx *pulumi.Context, name string, bucket *s3.BucketV2, key *kms.Key) error {
	if _, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}); err != nil {
		return err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(), Rule: &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}); err != nil {
		return err
	}
	if _, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket: bucket.ID(), VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}); err != nil {
		return err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("aws:kms"), KmsMasterKeyId: key.Arn,
			},
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}); err != nil {
		return err
	}
	// Old versions are the undo history of every stack; a year of them is kept.
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id: pulumi.String("old-versions"), Status: pulumi.String("Enabled"),
			Filter:                         &s3.BucketLifecycleConfigurationV2RuleFilterArgs{},
			NoncurrentVersionExpiration:    &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(365)},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(7)},
		}},
	}); err != nil {
		return err
	}
	policy := bucket.Arn.ApplyT(func(arn string) string {
		return iampolicy.New(iampolicy.Statement{
			Sid: "TLSOnly", Effect: "Deny", Principal: map[string]any{"AWS": "*"}, Action: []string{"s3:*"},
			Resource:  []string{arn, arn + "/*"},
			Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
		}).JSON()
	}).(pulumi.StringOutput)
	_, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{Bucket: bucket.ID(), Policy: policy})
	return err
}
