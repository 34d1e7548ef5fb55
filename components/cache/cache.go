// Package cache builds a stack's Redis-compatible cache: an ElastiCache (Redis OSS) replication
// group in the private subnets behind its own security group, TLS only, encrypted at rest with
// the stack's key, behind an auth token that lives in Secrets Manager.
package cache

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/internal/tags"
)

// CacheArgs configures the cache.
type CacheArgs struct {
	// ID names the replication group: unique in the account and region, at most 40 characters.
	ID       string
	Version  string // Redis OSS engine version
	NodeType string
	Nodes    int // the primary and its replicas
	// SnapshotDays keeps daily snapshots; 0 for none.
	SnapshotDays int
	SubnetIDs    pulumi.StringArrayInput
	GroupID      pulumi.StringInput // the cache's own security group
	KeyARN       pulumi.StringInput // the stack key: data at rest and the token's secret
	// SecretName is the token's secret, under the stack's Secrets Manager prefix.
	SecretName string
	// Disposable deletes the token's secret at once on destroy, instead of after seven days.
	Disposable bool
	Tags       map[string]string
}

// Cache is the Redis OSS replication group of one stack.
type Cache struct {
	pulumi.ResourceState
	Address pulumi.StringOutput `pulumi:"address"` // the primary endpoint
	Port    pulumi.IntOutput    `pulumi:"port"`
	// SecretARN is the auth token's secret (the token alone, as a string).
	SecretARN pulumi.StringOutput `pulumi:"secretArn"`
}

func (a *CacheArgs) validate() error {
	switch {
	case a == nil:
		return errors.New("args are required")
	case a.ID == "" || len(a.ID) > 40:
		return fmt.Errorf("ID %q must be 1..40 characters", a.ID)
	case a.Nodes < 1 || a.Nodes > 6:
		return fmt.Errorf("Nodes %d must be 1..6", a.Nodes)
	case a.SubnetIDs == nil || a.GroupID == nil || a.KeyARN == nil || a.SecretName == "":
		return errors.New("SubnetIDs, GroupID, KeyARN and SecretName are required")
	}
	return nil
}

// NewCache creates the auth token and its secret, the subnet group and the replication group.
func NewCache(ctx *pulumi.Context, name string, args *CacheArgs, opts ...pulumi.ResourceOption) (*Cache, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("cache %s: %w", name, err)
	}
	c := &Cache{}
	if err := ctx.RegisterComponentResource("immutable-edge:cache:Cache", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	// ElastiCache takes 16 to 128 printable characters without @, " or /, and no spaces
	// (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html). Letters and digits
	// only: 64 of them are 380 bits. Pulumi keeps the result as a secret in its state.
	token, err := random.NewRandomPassword(ctx, name+"-cache-token", &random.RandomPasswordArgs{
		Length: pulumi.Int(64), Special: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", name, err)
	}
	recovery := 7
	if args.Disposable {
		recovery = 0
	}
	secret, err := secretsmanager.NewSecret(ctx, name+"-cache-token", &secretsmanager.SecretArgs{
		Name:                 pulumi.String(args.SecretName),
		Description:          pulumi.String("auth token of " + name + "'s cache, read by its instances at container start"),
		KmsKeyId:             args.KeyARN,
		RecoveryWindowInDays: pulumi.Int(recovery),
		Tags:                 tags.Named(args.Tags, name+"-cache-token"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", name, err)
	}
	if _, err := secretsmanager.NewSecretVersion(ctx, name+"-cache-token", &secretsmanager.SecretVersionArgs{
		SecretId: secret.ID(), SecretString: token.Result,
	}, parent); err != nil {
		return nil, fmt.Errorf("cache %s: %w", name, err)
	}
	subnets, err := elasticache.NewSubnetGroup(ctx, name+"-cache", &elasticache.SubnetGroupArgs{
		Name:        pulumi.String(args.ID),
		Description: pulumi.String("private subnets of " + name + "'s cache"),
		SubnetIds:   args.SubnetIDs,
		Tags:        tags.Named(args.Tags, name+"-cache"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", name, err)
	}
	many := args.Nodes > 1
	group, err := elasticache.NewReplicationGroup(ctx, name+"-cache", &elasticache.ReplicationGroupArgs{
		ReplicationGroupId: pulumi.String(args.ID),
		Description:        pulumi.String("cache of " + name),
		Engine:             pulumi.String("redis"),
		EngineVersion:      pulumi.String(args.Version),
		NodeType:           pulumi.String(args.NodeType),
		NumCacheClusters:   pulumi.Int(args.Nodes),
		Port:               pulumi.Int(6379),
		SubnetGroupName:    subnets.Name,
		SecurityGroupIds:   pulumi.StringArray{args.GroupID},
		// A replica takes over the primary's name in another zone when it fails.
		AutomaticFailoverEnabled: pulumi.Bool(many),
		MultiAzEnabled:           pulumi.Bool(many),
		AtRestEncryptionEnabled:  pulumi.Bool(true),
		KmsKeyId:                 args.KeyARN,
		TransitEncryptionEnabled: pulumi.Bool(true),
		AuthToken:                token.Result,
		AutoMinorVersionUpgrade:  pulumi.Bool(true),
		SnapshotRetentionLimit:   pulumi.Int(args.SnapshotDays),
		SnapshotWindow:           pulumi.String("01:00-02:00"),
		MaintenanceWindow:        pulumi.String("sun:04:00-sun:05:00"),
		Tags:                     tags.Named(args.Tags, name+"-cache"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", name, err)
	}
	c.Address, c.SecretARN = group.PrimaryEndpointAddress, secret.Arn
	c.Port = group.Port.Elem()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"address": c.Address, "port": c.Port, "secretArn": c.SecretARN})
}
