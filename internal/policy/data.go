package policy

import (
	"fmt"
	"slices"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

const (
	tDBInstance        = "aws:rds/instance:Instance"
	tDBSubnetGroup     = "aws:rds/subnetGroup:SubnetGroup"
	tReplicationGroup  = "aws:elasticache/replicationGroup:ReplicationGroup"
	tCacheSubnetGroup  = "aws:elasticache/subnetGroup:SubnetGroup"
	tSecret            = "aws:secretsmanager/secret:Secret"
	tSecretVersion     = "aws:secretsmanager/secretVersion:SecretVersion"
	tRandomPassword    = "random:index/randomPassword:RandomPassword"
	minDBBackupDays    = 7 // FSBP RDS.11's default minimum
	postgresLogsExport = "postgresql"
)

// dataRules are checkov's and Security Hub's (FSBP) checks of the data tier: the database and
// the cache. Where the stack keeps no data (protect false), deletion
// protection and a standby fail and are waived in its config with the reason.
var dataRules = []Rule{
	{ID: "CKV_AWS_16", Ref: "checkov CKV_AWS_16; FSBP RDS.3", Severity: High,
		Rationale: "The database's storage, snapshots and backups are encrypted with the stack's key.",
		check: each([]string{tDBInstance}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("storageEncrypted") && r.Str("kmsKeyId") != "", "encrypted with "+r.Str("kmsKeyId"), "storage not encrypted with a customer managed key")
		})},
	{ID: "CKV_AWS_17", Ref: "checkov CKV_AWS_17; FSBP RDS.2", Severity: High,
		Rationale: "The database has no public address: only the instances reach it, through its security group.",
		check: each([]string{tDBInstance}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(!r.Bool("publiclyAccessible"), "private", "publicly accessible")
		})},
	{ID: "CKV_AWS_133", Ref: "checkov CKV_AWS_133; FSBP RDS.11", Severity: Medium,
		Rationale: fmt.Sprintf("Automated backups are kept at least %d days, so a bad deploy or a deleted row can be undone to the second.", minDBBackupDays),
		check: each([]string{tDBInstance}, func(c *Context, r plan.Resource) (bool, string) {
			days := int(r.Num("backupRetentionPeriod"))
			return verdict(days >= minDBBackupDays, fmt.Sprintf("backups kept %d days", days), fmt.Sprintf("backups kept %d days, under %d", days, minDBBackupDays))
		})},
	{ID: "CKV_AWS_293", Ref: "checkov CKV_AWS_293; FSBP RDS.8", Severity: Medium,
		Rationale: "Deletion protection and a final snapshot keep the data through a mistaken destroy.",
		check: each([]string{tDBInstance}, func(c *Context, r plan.Resource) (bool, string) {
			switch {
			case !r.Bool("deletionProtection"):
				return false, "no deletion protection"
			case r.Bool("skipFinalSnapshot") || r.Str("finalSnapshotIdentifier") == "":
				return false, "deleted without a final snapshot"
			}
			return true, "deletion protection, final snapshot " + r.Str("finalSnapshotIdentifier")
		})},
	{ID: "CKV_AWS_157", Ref: "checkov CKV_AWS_157; FSBP RDS.5", Severity: Medium,
		Rationale: "A standby in a second zone takes over when the primary's zone fails.",
		check: each([]string{tDBInstance}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("multiAz"), "multi-AZ", "single-AZ")
		})},
	{ID: "CKV_AWS_226", Ref: "checkov CKV_AWS_226; FSBP RDS.13", Severity: Low,
		Rationale: "Minor versions (security fixes) are applied in the maintenance window.",
		check: each([]string{tDBInstance, tReplicationGroup}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("autoMinorVersionUpgrade"), "minor versions upgraded automatically", "minor versions not upgraded")
		})},
	{ID: "CKV_AWS_161", Ref: "checkov CKV_AWS_161; FSBP RDS.10", Severity: Medium,
		Rationale: "IAM database authentication is on, so roles can be given tokens instead of passwords.",
		check: each([]string{tDBInstance}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("iamDatabaseAuthenticationEnabled"), "IAM authentication on", "IAM authentication off")
		})},
	{ID: "CKV_AWS_129", Ref: "checkov CKV_AWS_129; FSBP RDS.9", Severity: Medium,
		Rationale: "The PostgreSQL log goes to CloudWatch, kept and encrypted like the stack's other logs.",
		check: each([]string{tDBInstance}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(slices.Contains(r.Strings("enabledCloudwatchLogsExports"), postgresLogsExport), "exports the postgresql log", "exports no postgresql log")
		})},
	{ID: "CKV2_AWS_60", Ref: "checkov CKV2_AWS_60; FSBP RDS.17", Severity: Low,
		Rationale: "Snapshots carry the stack's tags, so their cost and owner are traceable.",
		check: each([]string{tDBInstance}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("copyTagsToSnapshot"), "tags copied to snapshots", "snapshots untagged")
		})},
	{ID: "IE_DB_MANAGED_PASSWORD", Ref: "immutable-edge: no database password in the program, the plan or state", Severity: High,
		Rationale: "RDS generates and keeps the master password in Secrets Manager, encrypted with the stack's key; the program never holds it.",
		check: each([]string{tDBInstance}, func(c *Context, r plan.Resource) (bool, string) {
			switch {
			case r.Str("password") != "":
				return false, "the program sets the master password"
			case !r.Bool("manageMasterUserPassword") || r.Str("masterUserSecretKmsKeyId") == "":
				return false, "the master password is not managed by RDS under the stack's key"
			}
			return true, "managed by RDS in Secrets Manager"
		})},
	{ID: "CKV_AWS_29", Ref: "checkov CKV_AWS_29/191; FSBP ElastiCache.4", Severity: High,
		Rationale: "The cache's data at rest is encrypted with the stack's key.",
		check: each([]string{tReplicationGroup}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("atRestEncryptionEnabled") && r.Str("kmsKeyId") != "", "encrypted at rest with "+r.Str("kmsKeyId"), "not encrypted at rest with a customer managed key")
		})},
	{ID: "CKV_AWS_31", Ref: "checkov CKV_AWS_30/31; FSBP ElastiCache.5/6", Severity: High,
		Rationale: "The cache takes TLS only and an auth token, which the instances read from Secrets Manager.",
		check: each([]string{tReplicationGroup}, func(c *Context, r plan.Resource) (bool, string) {
			switch {
			case !r.Bool("transitEncryptionEnabled"):
				return false, "accepts plain-text connections"
			case r.Str("authToken") == "":
				return false, "no auth token"
			}
			return true, "TLS and an auth token"
		})},
	{ID: "ElastiCache.1", Ref: "FSBP ElastiCache.1", Severity: Medium,
		Rationale: "Daily snapshots of the cache are kept.",
		check: each([]string{tReplicationGroup}, func(c *Context, r plan.Resource) (bool, string) {
			days := int(r.Num("snapshotRetentionLimit"))
			return verdict(days >= 1, fmt.Sprintf("snapshots kept %d days", days), "no snapshots")
		})},
	{ID: "ElastiCache.3", Ref: "FSBP ElastiCache.3", Severity: Medium,
		Rationale: "A replica in another zone takes over when the primary fails.",
		check: each([]string{tReplicationGroup}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("automaticFailoverEnabled") && r.Bool("multiAzEnabled"), "automatic failover across zones", "one node: no failover")
		})},
	{ID: "CKV_AWS_149", Ref: "checkov CKV_AWS_149", Severity: Medium,
		Rationale: "Secrets the stack creates are encrypted with its key, which only its roles may use.",
		check: each([]string{tSecret}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("kmsKeyId") != "", "encrypted with "+r.Str("kmsKeyId"), "encrypted with the AWS managed key")
		})},
}

// attachedTo says which database or cache uses security group id, if any.
func attachedTo(c *Context, id string) (string, bool) {
	for _, r := range c.Plan.OfType(tDBInstance) {
		if slices.Contains(r.Strings("vpcSecurityGroupIds"), id) {
			return "database " + r.Name, true
		}
	}
	for _, r := range c.Plan.OfType(tReplicationGroup) {
		if slices.Contains(r.Strings("securityGroupIds"), id) {
			return "cache " + r.Name, true
		}
	}
	return "", false
}
