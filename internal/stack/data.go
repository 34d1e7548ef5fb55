package stack

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/immutable-edge/immutable-edge/components/cache"
	"github.com/immutable-edge/immutable-edge/components/database"
	"github.com/immutable-edge/immutable-edge/components/identity"
	"github.com/immutable-edge/immutable-edge/components/network"
	"github.com/immutable-edge/immutable-edge/components/security"
	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/config"
)

// dataTier is the stack's database and cache, each nil when the config has none.
type dataTier struct {
	db    *database.Database
	cache *cache.Cache
}

// DataIdentifier names the stack's database and cache in the account: its name prefix, under
// which the deploy role and the boundary reach them.
func DataIdentifier(cfg *config.Config) string { return cfg.NamePrefix() }

// CacheTokenSecret names the cache's auth-token secret, under the stack's Secrets Manager prefix.
func CacheTokenSecret(cfg *config.Config) string { return cfg.SecretsPrefix() + "cache-token" }

// rdsLogGroups are the log groups RDS writes the database's PostgreSQL log to, which the stack
// key encrypts.
func rdsLogGroups(cfg *config.Config) []string {
	if cfg.Database == nil {
		return nil
	}
	return []string{"/aws/rds/instance/" + DataIdentifier(cfg) + "/postgresql"}
}

// newDataTier builds the data tier in the private subnets, each part behind its own group.
func newDataTier(ctx *pulumi.Context, cfg *config.Config, net *network.Network, sg *security.Groups, key pulumi.StringOutput) (*dataTier, error) {
	t := &dataTier{}
	var err error
	if d := cfg.Database; d != nil {
		t.db, err = database.NewDatabase(ctx, cfg.Stack, &database.DatabaseArgs{
			Identifier: DataIdentifier(cfg), Version: d.Version, InstanceClass: d.InstanceClass,
			StorageGB: d.StorageGB, MaxStorageGB: d.MaxStorageGB, MultiAZ: *d.MultiAZ, BackupDays: d.BackupDays,
			Name: d.Name, Username: d.Username, SubnetIDs: net.PrivateSubnetIDs, GroupID: sg.DatabaseGroupID,
			KeyARN: key, Protect: cfg.Protect, LogDays: cfg.LogRetention, Tags: cfg.Tags(),
		})
		if err != nil {
			return nil, err
		}
	}
	if c := cfg.Cache; c != nil {
		t.cache, err = cache.NewCache(ctx, cfg.Stack, &cache.CacheArgs{
			ID: DataIdentifier(cfg), Version: c.Version, NodeType: c.NodeType, Nodes: *c.Nodes, SnapshotDays: *c.SnapshotDays,
			SubnetIDs: net.PrivateSubnetIDs, GroupID: sg.CacheGroupID, KeyARN: key,
			SecretName: CacheTokenSecret(cfg), Disposable: !cfg.Protect, Tags: cfg.Tags(),
		})
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

// grant gives the instance role the data tier's secrets: the cache's token by ARN, and the
// RDS-managed secret by ARN and by the database it belongs to.
func (t *dataTier) grant(a *identity.InstanceIdentityArgs) {
	if t.db != nil {
		a.DatabaseSecretARN, a.DatabaseARN = t.db.SecretARN, t.db.InstanceARN
	}
	if t.cache != nil {
		a.CacheSecretARN = t.cache.SecretARN
	}
}

// outputs are the values the instances' description needs from the data tier, in the order
// fill reads them: "" and 0 for a part the stack does not have.
func (t *dataTier) outputs() []any {
	empty, zero := pulumi.String("").ToStringOutput(), pulumi.Int(0).ToIntOutput()
	out := []any{empty, zero, empty, empty, zero, empty}
	if t.db != nil {
		out[0], out[1], out[2] = t.db.Address, t.db.Port, t.db.SecretARN
	}
	if t.cache != nil {
		out[3], out[4], out[5] = t.cache.Address, t.cache.Port, t.cache.SecretARN
	}
	return out
}

// fill writes the data tier's resolved outputs into the instances' stack description.
func fill(s *bootstrap.Stack, cfg *config.Config, v []any) {
	if cfg.Database != nil {
		s.Database = &bootstrap.Endpoint{Host: v[0].(string), Port: v[1].(int), Name: cfg.Database.Name, SecretARN: v[2].(string)}
	}
	if cfg.Cache != nil {
		s.Cache = &bootstrap.Endpoint{Host: v[3].(string), Port: v[4].(int), SecretARN: v[5].(string)}
	}
}
