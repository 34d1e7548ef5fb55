package config

import (
	"errors"
	"regexp"
	"slices"
)

// The data tier: an optional managed PostgreSQL and an optional Redis-compatible cache, each in
// the private subnets behind its own security group.

// Database is a managed PostgreSQL (RDS) instance. Services reach it through a secret of source
// database: the connection URL composed at container start from the password RDS keeps in
// Secrets Manager.
type Database struct {
	// Version is the PostgreSQL major version (or major.minor); with minor-version upgrades on, RDS
	// picks and later upgrades the minor version.
	Version       string `json:"version"`
	InstanceClass string `json:"instanceClass"`
	StorageGB     int    `json:"storageGb"`
	// MaxStorageGB lets RDS grow the storage up to this (storage autoscaling); 0 means StorageGB×5.
	MaxStorageGB int `json:"maxStorageGb"`
	// MultiAZ keeps a standby in a second zone; nil means the stack's protect.
	MultiAZ *bool `json:"multiAz"`
	// BackupDays is how long automated backups are kept, 1..35.
	BackupDays int    `json:"backupDays"`
	Name       string `json:"name"`     // the database the URL names
	Username   string `json:"username"` // the master user
}

// Cache is a Redis OSS ElastiCache replication group, TLS only, with an auth token. Redis OSS,
// not Valkey (20% cheaper): the provider revision the deploy-permission table is derived from
// accepts only engine "redis" (docs/deploy-permissions.md).
type Cache struct {
	Version  string `json:"version"`  // Redis OSS engine version
	NodeType string `json:"nodeType"` // cache.t4g.micro ...
	// Nodes is the primary and its replicas, 1..6; nil means 2 where the stack protects data, else 1.
	Nodes *int `json:"nodes"`
	// SnapshotDays keeps daily snapshots, 0..35; nil means 7 where the stack protects data, else 1.
	SnapshotDays *int `json:"snapshotDays"`
}

// Ports the data tier listens on, which instance egress opens to exactly their groups.
const (
	DatabasePort = 5432
	CachePort    = 6379
)

var (
	pgVersionRE    = regexp.MustCompile(`^(1[3-9])(\.[0-9]{1,2})?$`)
	redisVersionRE = regexp.MustCompile(`^(6\.2|7\.[01])$`)
	dbClassRE      = regexp.MustCompile(`^db\.[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[0-9]*(micro|small|medium|large|xlarge)$`)
	cacheNodeRE    = regexp.MustCompile(`^cache\.[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[0-9]*(micro|small|medium|large|xlarge)$`)
	// pgIdentRE is what RDS takes as a database or master user name: a letter, then letters,
	// digits or underscores, at most 63 (CreateDBInstance, DBName and MasterUsername for postgres).
	pgIdentRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

// PostgreSQL's reserved role and database names that RDS refuses as the master user
// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.Constraints, "Master user name").
var reservedPGNames = []string{"admin", "postgres", "rdsadmin", "rdsrepladmin", "rds_superuser", "public", "template0", "template1", "user"}

func (c *Config) applyDataDefaults() {
	if d := c.Database; d != nil {
		if d.Version == "" {
			d.Version = "17"
		}
		if d.InstanceClass == "" {
			d.InstanceClass = "db.t4g.micro"
		}
		if d.StorageGB == 0 {
			d.StorageGB = 20
		}
		if d.MaxStorageGB == 0 {
			d.MaxStorageGB = d.StorageGB * 5
		}
		if d.MultiAZ == nil {
			on := c.Protect
			d.MultiAZ = &on
		}
		if d.BackupDays == 0 {
			d.BackupDays = 7
		}
		if d.Name == "" {
			d.Name = "app"
		}
		if d.Username == "" {
			d.Username = "app"
		}
	}
	if ch := c.Cache; ch != nil {
		if ch.Version == "" {
			ch.Version = "7.1"
		}
		if ch.NodeType == "" {
			ch.NodeType = "cache.t4g.micro"
		}
		if ch.Nodes == nil {
			n := map[bool]int{true: 2, false: 1}[c.Protect]
			ch.Nodes = &n
		}
		if ch.SnapshotDays == nil {
			n := map[bool]int{true: 7, false: 1}[c.Protect]
			ch.SnapshotDays = &n
		}
	}
}

func (c *Config) validateData() error {
	var errs problems
	fail := errs.add
	if d := c.Database; d != nil {
		k := key("database")
		// A DB subnet group must cover at least two Availability Zones, even for a Single-AZ
		// instance (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Subnets).
		if c.AZCount < 2 {
			fail(k, "needs azCount of at least 2: RDS places a database only in a subnet group that spans two Availability Zones (the stack has %d)", c.AZCount)
		}
		if !pgVersionRE.MatchString(d.Version) {
			fail(k+".version", "%q is not a PostgreSQL version RDS runs (13..19, as major or major.minor)", d.Version)
		}
		if !dbClassRE.MatchString(d.InstanceClass) {
			fail(k+".instanceClass", "%q is not an RDS instance class like db.t4g.micro", d.InstanceClass)
		}
		// gp3 takes 20 GiB to 64 TiB for PostgreSQL (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage).
		if d.StorageGB < 20 || d.StorageGB > 65536 {
			fail(k+".storageGb", "must be 20..65536 (gp3), got %d", d.StorageGB)
		}
		if d.MaxStorageGB < d.StorageGB || d.MaxStorageGB > 65536 {
			fail(k+".maxStorageGb", "must be storageGb (%d) .. 65536, got %d", d.StorageGB, d.MaxStorageGB)
		}
		if d.BackupDays < 1 || d.BackupDays > 35 {
			fail(k+".backupDays", "must be 1..35 (automated backups stay on), got %d", d.BackupDays)
		}
		if !pgIdentRE.MatchString(d.Name) {
			fail(k+".name", "%q must be a lowercase letter, then letters, digits or _, at most 63", d.Name)
		}
		switch {
		case !pgIdentRE.MatchString(d.Username):
			fail(k+".username", "%q must be a lowercase letter, then letters, digits or _, at most 63", d.Username)
		case slices.Contains(reservedPGNames, d.Username):
			fail(k+".username", "%q is reserved by PostgreSQL or RDS", d.Username)
		}
	}
	if ch := c.Cache; ch != nil {
		k := key("cache")
		if !redisVersionRE.MatchString(ch.Version) {
			fail(k+".version", "%q is not a Redis OSS version ElastiCache runs with auth tokens and TLS (6.2, 7.0, 7.1)", ch.Version)
		}
		if !cacheNodeRE.MatchString(ch.NodeType) {
			fail(k+".nodeType", "%q is not an ElastiCache node type like cache.t4g.micro", ch.NodeType)
		}
		// A replication group has a primary and up to five replicas.
		if *ch.Nodes < 1 || *ch.Nodes > 6 {
			fail(k+".nodes", "must be 1..6 (a primary and up to five replicas), got %d", *ch.Nodes)
		}
		if *ch.Nodes > 1 && c.AZCount < 2 {
			fail(k+".nodes", "is %d, which needs azCount of at least 2 to keep the replicas in another zone (the stack has %d)", *ch.Nodes, c.AZCount)
		}
		if *ch.SnapshotDays < 0 || *ch.SnapshotDays > 35 {
			fail(k+".snapshotDays", "must be 0..35, got %d", *ch.SnapshotDays)
		}
	}
	return errors.Join(errs...)
}
