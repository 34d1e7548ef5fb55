// Package identity builds the instance role and profile: EC2 may assume it, and it may do
// only what an instance of this stack needs, on this stack's resources.
package identity

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// InstanceIdentityArgs configures the instance role.
type InstanceIdentityArgs struct {
	Partition string // "aws" unless in another partition
	Region    string
	AccountID string
	// RepositoryARNs are the ECR repositories the instances pull from.
	RepositoryARNs pulumi.StringArrayInput
	// LogGroupPrefix is the name prefix of the log groups the CloudWatch agent writes to.
	LogGroupPrefix string
	// MetricNamespaces are the CloudWatch namespaces the agent and scripts may publish to.
	MetricNamespaces []string
	// ClaimAllocationID is the Elastic IP the instance may associate with itself (eip edge); nil for none.
	ClaimAllocationID pulumi.StringInput
	// CertBucketARN and CertPrefix locate the certificate state the instance keeps in S3; nil for none.
	CertBucketARN pulumi.StringInput
	CertPrefix    string
	// CertKeyARN is the key the certificate state is encrypted with; the role may use it only
	// through S3 in its region.
	CertKeyARN pulumi.StringInput
	// ChallengeZoneID is the Route 53 zone in which the instance may write ACME DNS-01 TXT
	// records (eip edge); empty for none.
	ChallengeZoneID string
	// ReportReady lets the instance complete its launch lifecycle hook, on groups tagged with StackTag.
	ReportReady bool
	// HealGroupPrefix lets the instance mark instances of the groups whose names start with it
	// (and that are tagged with StackTag) unhealthy: self-healing. Empty for none.
	HealGroupPrefix string
	// SecretParameterARNs are the SSM parameters the services' secrets are read from, and
	// SecretARNs the Secrets Manager secrets (each an ARN, or a name's ARN ending in -??????, the
	// random suffix Secrets Manager appends). Empty for none.
	SecretParameterARNs []string
	SecretARNs          []string
	// SecretKeyARN is the customer managed key the secrets may be encrypted with (the stack's):
	// the role may decrypt with it through SSM and Secrets Manager only. Secrets under the AWS
	// managed keys (aws/ssm, aws/secretsmanager) need no grant: their key policies allow the
	// account's principals through the service.
	SecretKeyARN pulumi.StringInput
	// DatabaseSecretARN is the RDS-managed master secret, readable only while it belongs to
	// DatabaseARN; CacheSecretARN is the cache's auth token. Both are encrypted with SecretKeyARN;
	// nil without a database or cache.
	DatabaseSecretARN, DatabaseARN pulumi.StringInput
	CacheSecretARN                 pulumi.StringInput
	// JobTableARN is the table the instances race in for each job firing; nil without jobs.
	JobTableARN pulumi.StringInput
	// StackTag is the value of the Stack tag on this stack's instances; the EIP claim is limited to them.
	StackTag string
	// Roles places the role and profile under the stack's IAM path, bounded by its boundary.
	Roles iampolicy.RoleScope
	Tags  map[string]string
}

// InstanceIdentity is the role and instance profile of one stack's instances.
type InstanceIdentity struct {
	pulumi.ResourceState
	RoleName           pulumi.StringOutput `pulumi:"roleName"`
	RoleARN            pulumi.StringOutput `pulumi:"roleArn"`
	InstanceProfileARN pulumi.StringOutput `pulumi:"instanceProfileArn"`
}

func (a *InstanceIdentityArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.Partition == "" || a.Region == "" || a.AccountID == "":
		return errors.New("Partition, Region and AccountID are required to scope the policies")
	case a.RepositoryARNs == nil:
		return errors.New("RepositoryARNs is required")
	case !strings.HasPrefix(a.LogGroupPrefix, "/") || !strings.HasSuffix(a.LogGroupPrefix, "/"):
		return fmt.Errorf("LogGroupPrefix %q must start and end with /", a.LogGroupPrefix)
	case len(a.MetricNamespaces) == 0:
		return errors.New("MetricNamespaces needs at least one namespace")
	case a.StackTag == "":
		return errors.New("StackTag is required")
	case strings.ContainsAny(a.CertPrefix, "*?"):
		return fmt.Errorf("CertPrefix %q must be a plain key prefix", a.CertPrefix)
	case strings.ContainsAny(a.HealGroupPrefix, "*?:/"):
		return fmt.Errorf("HealGroupPrefix %q must be a plain group name prefix", a.HealGroupPrefix)
	case (len(a.SecretParameterARNs) > 0 || len(a.SecretARNs) > 0 || a.DatabaseSecretARN != nil || a.CacheSecretARN != nil) && a.SecretKeyARN == nil:
		return errors.New("secrets need SecretKeyARN, the key they may be encrypted with")
	}
	return nil
}

// NewInstanceIdentity creates the role, its policies and the instance profile.
func NewInstanceIdentity(ctx *pulumi.Context, name string, args *InstanceIdentityArgs, opts ...pulumi.ResourceOption) (*InstanceIdentity, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("identity %s: %w", name, err)
	}
	id := &InstanceIdentity{}
	if err := ctx.RegisterComponentResource("immutable-edge:identity:InstanceIdentity", name, id, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(id)
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		Description:         pulumi.String("instances of " + name),
		AssumeRolePolicy:    pulumi.String(iampolicy.AssumeRole("ec2.amazonaws.com").JSON()),
		Path:                args.Roles.PathInput(),
		PermissionsBoundary: args.Roles.BoundaryInput(),
		Tags:                tags.Named(args.Tags, name+"-role"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("identity %s: role: %w", name, err)
	}
	// Session Manager replaces SSH; this AWS-managed policy is the documented minimum for it.
	if _, err := iam.NewRolePolicyAttachment(ctx, name+"-ssm-core", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String("arn:" + args.Partition + ":iam::aws:policy/AmazonSSMManagedInstanceCore"),
	}, parent); err != nil {
		return nil, fmt.Errorf("identity %s: SSM core policy: %w", name, err)
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-runtime", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: runtimePolicy(args),
	}, parent); err != nil {
		return nil, fmt.Errorf("identity %s: runtime policy: %w", name, err)
	}
	profile, err := iam.NewInstanceProfile(ctx, name+"-profile", &iam.InstanceProfileArgs{
		Role: role.Name,
		Path: args.Roles.PathInput(),
		Tags: tags.Named(args.Tags, name+"-profile"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("identity %s: instance profile: %w", name, err)
	}
	id.RoleName = role.Name
	id.RoleARN = role.Arn
	id.InstanceProfileARN = profile.Arn
	return id, ctx.RegisterResourceOutputs(id, pulumi.Map{
		"roleName":           id.RoleName,
		"roleArn":            id.RoleARN,
		"instanceProfileArn": id.InstanceProfileARN,
	})
}

// runtimePolicy is everything the instance does besides Session Manager: pull its images,
// ship metrics and logs, and (eip edge) claim the address and keep certificate state.
func runtimePolicy(a *InstanceIdentityArgs) pulumi.StringOutput {
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", a.Partition, service, a.Region, a.AccountID, resource)
	}
	claim, bucket, key, secretKey := optional(a.ClaimAllocationID), optional(a.CertBucketARN), optional(a.CertKeyARN), optional(a.SecretKeyARN)
	table, dbSecret, db, cacheSecret := optional(a.JobTableARN), optional(a.DatabaseSecretARN), optional(a.DatabaseARN), optional(a.CacheSecretARN)
	return pulumi.All(a.RepositoryARNs, claim, bucket, key, secretKey, table, dbSecret, db, cacheSecret).ApplyT(func(in []any) (string, error) {
		repos, allocation, bucketARN, keyARN := in[0].([]string), in[1].(string), in[2].(string), in[3].(string)
		st := []iampolicy.Statement{
			// GetAuthorizationToken has no resource type: "*" is the only resource it accepts.
			{Sid: "EcrLogin", Effect: "Allow", Action: []string{"ecr:GetAuthorizationToken"}, Resource: []string{"*"}},
			{Sid: "EcrPull", Effect: "Allow", Resource: repos, Action: []string{
				"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}},
			{Sid: "AgentLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"},
				Resource: []string{arn("logs", "log-group:"+a.LogGroupPrefix+"*"), arn("logs", "log-group:"+a.LogGroupPrefix+"*:log-stream:*")}},
			// PutMetricData has no resource type; the namespace condition is what scopes it.
			{Sid: "AgentMetrics", Effect: "Allow", Action: []string{"cloudwatch:PutMetricData"}, Resource: []string{"*"},
				Condition: map[string]map[string]any{"StringEquals": {"cloudwatch:namespace": a.MetricNamespaces}}},
			// The agent reads the instance's own tags (its Auto Scaling group name); a list call.
			{Sid: "AgentTags", Effect: "Allow", Action: []string{"ec2:DescribeTags"}, Resource: []string{"*"}},
		}
		if a.ReportReady {
			st = append(st,
				// The boot script looks up its own group; a read of the caller's instance, no resource type.
				iampolicy.Statement{Sid: "FindGroup", Effect: "Allow", Action: []string{"autoscaling:DescribeAutoScalingInstances"}, Resource: []string{"*"}},
				iampolicy.Statement{Sid: "ReportReady", Effect: "Allow",
					Action:    []string{"autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"},
					Resource:  []string{arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/*")},
					Condition: map[string]map[string]any{"StringEquals": {"aws:ResourceTag/Stack": a.StackTag}}},
			)
		}
		if a.HealGroupPrefix != "" {
			// SetInstanceHealth acts on the group (its only resource type, required) and takes
			// aws:ResourceTag condition keys (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html):
			// the stack's groups by name and by tag. No key names the instance, so any instance
			// of the stack's group could mark a sibling; the group then replaces it, launching first.
			st = append(st, iampolicy.Statement{Sid: "MarkUnhealthy", Effect: "Allow",
				Action:    []string{"autoscaling:SetInstanceHealth"},
				Resource:  []string{arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/"+a.HealGroupPrefix+"*")},
				Condition: map[string]map[string]any{"StringEquals": {"aws:ResourceTag/Stack": a.StackTag}}})
		}
		if allocation != "" {
			st = append(st,
				iampolicy.Statement{Sid: "FindAddress", Effect: "Allow", Action: []string{"ec2:DescribeAddresses"}, Resource: []string{"*"}},
				iampolicy.Statement{Sid: "ClaimAddress", Effect: "Allow", Action: []string{"ec2:AssociateAddress"},
					Resource: []string{arn("ec2", "elastic-ip/"+allocation)}},
				// AssociateAddress also authorizes the instance; only this stack's instances qualify.
				iampolicy.Statement{Sid: "ClaimForOwnInstance", Effect: "Allow", Action: []string{"ec2:AssociateAddress"},
					Resource:  []string{arn("ec2", "instance/*"), arn("ec2", "network-interface/*")},
					Condition: map[string]map[string]any{"StringEquals": {"aws:ResourceTag/Stack": a.StackTag}}},
			)
		}
		if bucketARN != "" {
			if a.CertPrefix == "" {
				return "", errors.New("identity: a certificate bucket needs CertPrefix")
			}
			prefix := strings.Trim(a.CertPrefix, "/") + "/"
			st = append(st,
				iampolicy.Statement{Sid: "CertStateList", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{bucketARN},
					Condition: map[string]map[string]any{"StringLike": {"s3:prefix": []string{prefix + "*"}}}},
				iampolicy.Statement{Sid: "CertStateObjects", Effect: "Allow", Resource: []string{bucketARN + "/" + prefix + "*"},
					Action: []string{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"}},
			)
			if keyARN == "" {
				return "", errors.New("identity: a certificate bucket needs CertKeyARN, the key its objects are encrypted with")
			}
			// SSE-KMS: S3 asks the key for a data key on PutObject and to decrypt on GetObject,
			// with the caller's permissions; only through S3 in this region.
			st = append(st, iampolicy.Statement{Sid: "CertStateKey", Effect: "Allow", Resource: []string{keyARN},
				Action:    []string{"kms:Decrypt", "kms:GenerateDataKey"},
				Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "s3." + a.Region + ".amazonaws.com"}}})
		}
		if a.ChallengeZoneID != "" {
			st = append(st, dnsChallenge(a.Partition, a.ChallengeZoneID)...)
		}
		st = append(st, secretReads(a, in[4].(string), in[8].(string))...)
		if secret := in[6].(string); secret != "" {
			// RDS tags the secret it manages with the instance it belongs to
			// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html), and
			// GetSecretValue takes aws:ResourceTag conditions: the role reads the database's
			// password only while the secret is that database's.
			st = append(st, iampolicy.Statement{Sid: "DatabaseSecret", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"},
				Resource:  []string{secret},
				Condition: map[string]map[string]any{"StringEquals": {"aws:ResourceTag/aws:rds:primaryDBInstanceArn": in[7].(string)}}})
		}
		if t := in[5].(string); t != "" {
			// job.sh claims a firing, reads who holds it and records its end. The table is
			// encrypted with the stack key, which the role may use through DynamoDB only.
			st = append(st, iampolicy.Statement{Sid: "JobFirings", Effect: "Allow", Resource: []string{t},
				Action: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}})
			if keyARN := in[4].(string); keyARN != "" {
				st = append(st, iampolicy.Statement{Sid: "JobFiringsKey", Effect: "Allow", Resource: []string{keyARN},
					Action:    []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"},
					Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "dynamodb." + a.Region + ".amazonaws.com"}}})
			}
		}
		return iampolicy.New(st...).JSON(), nil
	}).(pulumi.StringOutput)
}

// secretReads lets secrets.sh read exactly the secrets the services reference, and decrypt them
// with the stack's key through the two services that hold them. GetParameter of a SecureString
// and GetSecretValue both need kms:Decrypt on a customer managed key
// (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html,
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
func secretReads(a *InstanceIdentityArgs, keyARN, cacheSecret string) []iampolicy.Statement {
	var st []iampolicy.Statement
	secrets := a.SecretARNs
	if cacheSecret != "" {
		secrets = append(slices.Clone(secrets), cacheSecret)
		slices.Sort(secrets)
	}
	if len(a.SecretParameterARNs) > 0 {
		st = append(st, iampolicy.Statement{Sid: "SecretParameters", Effect: "Allow", Action: []string{"ssm:GetParameter"},
			Resource: a.SecretParameterARNs})
	}
	if len(secrets) > 0 {
		st = append(st, iampolicy.Statement{Sid: "Secrets", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"},
			Resource: secrets})
	}
	if len(st) > 0 || a.DatabaseSecretARN != nil {
		st = append(st, iampolicy.Statement{Sid: "SecretsKey", Effect: "Allow", Action: []string{"kms:Decrypt"},
			Resource: []string{keyARN},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": []string{
				"secretsmanager." + a.Region + ".amazonaws.com", "ssm." + a.Region + ".amazonaws.com"}}}})
	}
	return st
}

// optional is an input's output, or "" when it is nil.
func optional(in pulumi.StringInput) pulumi.StringOutput {
	if in == nil {
		return pulumi.String("").ToStringOutput()
	}
	return in.ToStringOutput()
}

// dnsChallenge lets certbot's Route 53 plugin answer DNS-01: TXT records named _acme-challenge
// in one zone, and nothing else in it.
func dnsChallenge(partition, zoneID string) []iampolicy.Statement {
	return []iampolicy.Statement{
		{Sid: "AcmeChallengeRecords", Effect: "Allow", Action: []string{"route53:ChangeResourceRecordSets"},
			Resource: []string{"arn:" + partition + ":route53:::hostedzone/" + zoneID},
			Condition: map[string]map[string]any{
				"ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": []string{"TXT"}},
				"ForAllValues:StringLike":   {"route53:ChangeResourceRecordSetsNormalizedRecordNames": []string{"_acme-challenge.*"}},
			}},
		{Sid: "AcmeChallengeWait", Effect: "Allow", Action: []string{"route53:GetChange"},
			Resource: []string{"arn:" + partition + ":route53:::change/*"}},
		// The plugin finds the zone by listing; ListHostedZones has no resource type.
		{Sid: "AcmeChallengeFindZone", Effect: "Allow", Action: []string{"route53:ListHostedZones"}, Resource: []string{"*"}},
	}
}
