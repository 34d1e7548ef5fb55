package setup

import (
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
)

// dataPolicy lets a stack with a data tier (the main program's database and cache) create and
// retire them, by the stack's name prefix: the RDS instance, its subnet group and the log group
// RDS writes to; the ElastiCache replication group, its member clusters and subnet group; the
// cache's auth-token secret under the stack's Secrets Manager prefix. The calls are what the
// AWS provider sends for them (internal/awsapi's table, derived from its source); the key they
// encrypt with is the stack's, whose key policy lets this role use it through those services
// (components/observability).
func (s scope) dataPolicy() iampolicy.Document {
	p := s.Project + "-" + s.Stack.Name
	rds := func(kind string) string { return s.arn("rds", s.Region, kind+":"+p+"*") }
	cache := func(kind string) string { return s.arn("elasticache", s.Region, kind+":"+p+"*") }
	return iampolicy.New(
		allow("Databases", []string{
			"rds:AddTagsToResource", "rds:CreateDBInstance", "rds:CreateDBSubnetGroup", "rds:DeleteDBInstance",
			"rds:DeleteDBSubnetGroup", "rds:ModifyDBInstance", "rds:ModifyDBSubnetGroup", "rds:RebootDBInstance",
			"rds:RemoveTagsFromResource",
		}, []string{rds("db"), rds("subgrp")}, nil),
		// RDS's own calls for a managed master password: it creates and tags the secret with the
		// caller's permissions (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-permissions).
		allow("DatabaseSecret", []string{"secretsmanager:CreateSecret", "secretsmanager:TagResource"},
			[]string{s.arn("secretsmanager", s.Region, "secret:rds!db-*")},
			cond{"StringEquals": {"aws:RequestedRegion": s.Region}}),
		// A new instance's default parameter and option groups are AWS's (default.postgres17).
		allow("DatabaseDefaults", []string{"rds:CreateDBInstance"},
			[]string{s.arn("rds", s.Region, "pg:default.*"), s.arn("rds", s.Region, "og:default:*")}, nil),
		allow("DatabaseLogs", []string{
			"logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
			"logs:DisassociateKmsKey", "logs:PutRetentionPolicy", "logs:TagLogGroup", "logs:TagResource",
			"logs:UntagLogGroup", "logs:UntagResource",
		}, []string{s.arn("logs", s.Region, "log-group:/aws/rds/instance/"+p+"/*")}, nil),
		allow("Caches", []string{
			"elasticache:AddTagsToResource", "elasticache:CreateCacheSubnetGroup", "elasticache:CreateReplicationGroup",
			"elasticache:DecreaseReplicaCount", "elasticache:DeleteCacheSubnetGroup", "elasticache:DeleteReplicationGroup",
			"elasticache:IncreaseReplicaCount", "elasticache:ModifyCacheSubnetGroup", "elasticache:ModifyReplicationGroup",
			"elasticache:RemoveTagsFromResource",
		}, []string{cache("replicationgroup"), cache("cluster"), cache("subnetgroup")}, nil),
		// CreateReplicationGroup also names the parameter group, AWS's default for the engine.
		allow("CacheDefaults", []string{"elasticache:CreateReplicationGroup"},
			[]string{s.arn("elasticache", s.Region, "parametergroup:default.*")}, nil),
		allow("CacheToken", []string{
			"secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret",
			"secretsmanager:GetResourcePolicy", "secretsmanager:GetSecretValue", "secretsmanager:ListSecretVersionIds",
			"secretsmanager:PutSecretValue", "secretsmanager:TagResource", "secretsmanager:UntagResource",
			"secretsmanager:UpdateSecret", "secretsmanager:UpdateSecretVersionStage",
		}, []string{s.arn("secretsmanager", s.Region, "secret:"+s.Project+"/"+s.Stack.Name+"/*")}, nil),
		allow("DataReads", []string{
			"elasticache:DescribeCacheClusters", "elasticache:DescribeCacheSubnetGroups", "elasticache:DescribeReplicationGroups",
			"elasticache:ListTagsForResource", "rds:DescribeDBInstances", "rds:DescribeDBSubnetGroups", "rds:ListTagsForResource",
		}, all, s.inRegion()),
		allow("DataServiceRoles", []string{"iam:CreateServiceLinkedRole"},
			[]string{"arn:" + s.Partition + ":iam::" + s.Account + ":role/aws-service-role/*"},
			cond{"StringEquals": {"iam:AWSServiceName": []string{"elasticache.amazonaws.com", "rds.amazonaws.com"}}}),
	)
}
