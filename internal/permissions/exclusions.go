package permissions

import (
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// exclusion is an action the provider can reach for a type that the deploy role is meant not to
// have, with why the program never makes the provider send it. holds checks that reason on
// the planned resource.
type exclusion struct {
	reason string
	holds  func(r plan.Resource) bool
}

// exclusions are keyed by provider type and action: paths of the provider's code that only an
// argument the program never sets opens, so the deploy role does not grant them. Each guard
// checks that argument on every planned resource of the type.
var exclusions = map[[2]string]exclusion{
	{"aws_iam_role", "iam:DeleteRolePermissionsBoundary"}: {"the provider removes a boundary only when permissions_boundary is dropped; every role keeps the stack's, and the deploy role denies the call",
		func(r plan.Resource) bool { return r.Str("permissionsBoundary") != "" }},
	{"aws_iam_role", "iam:AttachRolePolicy"}: {"the role resource attaches policies only for managed_policy_arns, which no role sets (attachments are their own resources)",
		unset("managedPolicyArns")},
	{"aws_acm_certificate", "acm:ImportCertificate"}: {"only for an imported certificate (private_key)", unset("privateKey")},
	{"aws_acm_certificate", "acm:RenewCertificate"}: {"only when ACM reports pending_renewal, which private-CA certificates with early_renewal_duration do",
		unset("certificateAuthorityArn", "earlyRenewalDuration")},
	{"aws_autoscaling_group", "autoscaling:PutWarmPool"}:                                          {"only with warm_pool", unset("warmPool")},
	{"aws_autoscaling_group", "autoscaling:DeleteWarmPool"}:                                       {"only with warm_pool", unset("warmPool")},
	{"aws_autoscaling_group", "autoscaling:AttachLoadBalancers"}:                                  {"only for Classic Load Balancers (load_balancers)", unset("loadBalancers")},
	{"aws_autoscaling_group", "autoscaling:DetachLoadBalancers"}:                                  {"only for Classic Load Balancers (load_balancers)", unset("loadBalancers")},
	{"aws_eip", "ec2:AssociateAddress"}:                                                           {"only with instance or network_interface; the dev node claims its address itself, with the instance role", unset("instance", "networkInterface")},
	{"aws_subnet", "ec2:AssociateSubnetCidrBlock"}:                                                {"only for IPv6 (ipv6_cidr_block)", unset("ipv6CidrBlock")},
	{"aws_subnet", "ec2:DisassociateSubnetCidrBlock"}:                                             {"only for IPv6 (ipv6_cidr_block)", unset("ipv6CidrBlock")},
	{"aws_vpc", "ec2:AssociateVpcCidrBlock"}:                                                      {"only for IPv6 blocks", unset("assignGeneratedIpv6CidrBlock", "ipv6CidrBlock", "ipv6IpamPoolId")},
	{"aws_vpc", "ec2:DisassociateVpcCidrBlock"}:                                                   {"only for IPv6 blocks", unset("assignGeneratedIpv6CidrBlock", "ipv6CidrBlock", "ipv6IpamPoolId")},
	{"aws_vpc", "ec2:ModifyVpcTenancy"}:                                                           {"only when instance_tenancy changes from the default", unset("instanceTenancy")},
	{"aws_vpc", "ec2:GetIpamPoolAllocations"}:                                                     {"only for a VPC from an IPAM pool", unset("ipv4IpamPoolId")},
	{"aws_vpc_endpoint", "ec2:AcceptVpcEndpointConnections"}:                                      {"only with auto_accept, for an endpoint service of this account; the S3 gateway endpoint is AWS's", unset("autoAccept")},
	{"aws_route_table", "ec2:EnableVgwRoutePropagation"}:                                          {"only with propagating_vgws", unset("propagatingVgws")},
	{"aws_route_table", "ec2:DisableVgwRoutePropagation"}:                                         {"only with propagating_vgws", unset("propagatingVgws")},
	{"aws_nat_gateway", "ec2:AssignPrivateNatGatewayAddress"}:                                     {"only with secondary addresses", unset(natSecondaries...)},
	{"aws_nat_gateway", "ec2:UnassignPrivateNatGatewayAddress"}:                                   {"only with secondary addresses", unset(natSecondaries...)},
	{"aws_nat_gateway", "ec2:AssociateNatGatewayAddress"}:                                         {"only with secondary addresses", unset(natSecondaries...)},
	{"aws_nat_gateway", "ec2:DisassociateNatGatewayAddress"}:                                      {"only with secondary addresses", unset(natSecondaries...)},
	{"aws_kms_key", "kms:EnableKey"}:                                                              {"only when is_enabled is set false and back; keys stay enabled", unset("isEnabled")},
	{"aws_kms_key", "kms:DisableKey"}:                                                             {"only when is_enabled is set false; keys stay enabled", unset("isEnabled")},
	{"aws_s3_bucket", "s3:DeleteBucketWebsite"}:                                                   {"only for the legacy inline website block", unset("websites", "website")},
	{"aws_s3_bucket", "s3:PutAccelerateConfiguration"}:                                            {"only for the legacy acceleration_status", unset("accelerationStatus")},
	{"aws_s3_bucket", "s3:PutReplicationConfiguration"}:                                           {"only for the legacy inline replication_configuration", unset("replicationConfiguration", "replicationConfigurations")},
	{"aws_s3_bucket", "s3:DeleteObject"}:                                                          {emptiedOnlyIfDisposable, notTrue("forceDestroy")},
	{"aws_s3_bucket", "s3:ListBucketVersions"}:                                                    {emptiedOnlyIfDisposable, notTrue("forceDestroy")},
	{"aws_s3_bucket", "s3:PutObjectLegalHold"}:                                                    {objectLockOnly, unset(objectLock...)},
	{"aws_s3_bucket", "s3:BypassGovernanceRetention"}:                                             {objectLockOnly, unset(objectLock...)},
	{"aws_dynamodb_table", "dynamodb:ImportTable"}:                                                {"only with import_table", unset("importTable")},
	{"aws_dynamodb_table", "dynamodb:DescribeImport"}:                                             {"only with import_table", unset("importTable")},
	{"aws_dynamodb_table", "dynamodb:RestoreTableToPointInTime"}:                                  {"only for a table restored from another (restore_source_name)", unset("restoreSourceName", "restoreSourceTableArn", "restoreDateTime", "restoreToLatestTime")},
	{"aws_db_instance", "rds:CreateDBInstanceReadReplica"}:                                        {"only for a read replica (replicate_source_db)", unset("replicateSourceDb")},
	{"aws_db_instance", "rds:PromoteReadReplica"}:                                                 {"only for a read replica (replicate_source_db)", unset("replicateSourceDb")},
	{"aws_db_instance", "rds:RestoreDBInstanceFromDBSnapshot"}:                                    {"only with snapshot_identifier", unset("snapshotIdentifier")},
	{"aws_db_instance", "rds:RestoreDBInstanceFromS3"}:                                            {"only with s3_import", unset("s3Import")},
	{"aws_db_instance", "rds:RestoreDBInstanceToPointInTime"}:                                     {"only with restore_to_point_in_time", unset("restoreToPointInTime")},
	{"aws_db_instance", "rds:DescribeBlueGreenDeployments"}:                                       {"only with blue_green_update", unset("blueGreenUpdate")},
	{"aws_db_instance", "rds:DeleteBlueGreenDeployment"}:                                          {"only with blue_green_update", unset("blueGreenUpdate")},
	{"aws_elasticache_replication_group", "elasticache:DescribeGlobalReplicationGroups"}:          {"only for a member of a global datastore (global_replication_group_id)", unset("globalReplicationGroupId")},
	{"aws_elasticache_replication_group", "elasticache:DisassociateGlobalReplicationGroup"}:       {"only for a member of a global datastore (global_replication_group_id)", unset("globalReplicationGroupId")},
	{"aws_elasticache_replication_group", "elasticache:DeleteCacheParameterGroup"}:                {"only for a global datastore member's parameter group (global_replication_group_id)", unset("globalReplicationGroupId")},
	{"aws_elasticache_replication_group", "elasticache:ModifyReplicationGroupShardConfiguration"}: {"only in cluster mode (num_node_groups)", unset("numNodeGroups")},
	{"aws_secretsmanager_secret", "secretsmanager:PutResourcePolicy"}:                             {"only with policy", unset("policy")},
	{"aws_secretsmanager_secret", "secretsmanager:DeleteResourcePolicy"}:                          {"only with policy", unset("policy")},
	{"aws_secretsmanager_secret", "secretsmanager:ReplicateSecretToRegions"}:                      {"only with replica", unset("replicas")},
	{"aws_secretsmanager_secret", "secretsmanager:RemoveRegionsFromReplication"}:                  {"only with replica", unset("replicas")},
	{"aws_lb", "elasticloadbalancing:SetIpAddressType"}:                                           {"only when ip_address_type is set", unset("ipAddressType")},
}

// opened are the exclusions a resource may lift on purpose: where the guard fails, the action is
// needed for that resource, and its deploy role must grant it, instead of an error.
var opened = map[[2]string]bool{
	{"aws_s3_bucket", "s3:DeleteObject"}:       true,
	{"aws_s3_bucket", "s3:ListBucketVersions"}: true,
}

// emptiedOnlyIfDisposable: resourceBucketDelete empties a bucket that refuses DeleteBucket only
// with force_destroy, which a stack with protect false sets; its deploy role is granted these
// on its own buckets' objects.
const emptiedOnlyIfDisposable = "only force_destroy empties a bucket before deleting it; only a disposable stack (protect false) sets it, and its deploy role has these"

// objectLockOnly: emptyBucket bypasses governance retention and lifts legal holds only for a
// bucket with object lock (its force argument is object_lock_configuration's), which no bucket has.
const objectLockOnly = "only for a bucket with object lock, whose force_destroy bypasses retention and lifts legal holds; no bucket has object lock"

var objectLock = []string{"objectLockEnabled", "objectLockConfiguration"}

var natSecondaries = []string{"secondaryAllocationIds", "secondaryPrivateIpAddresses", "secondaryPrivateIpAddressCount"}

// unset holds when none of the inputs is set.
func unset(inputs ...string) func(plan.Resource) bool {
	return func(r plan.Resource) bool {
		for _, in := range inputs {
			if !r.Get(in).IsNull() {
				return false
			}
		}
		return true
	}
}

// notTrue holds when a boolean input is unset or false.
func notTrue(input string) func(plan.Resource) bool {
	return func(r plan.Resource) bool { return !r.Bool(input) }
}

// Exclusion is one provider code path the deploy roles do not grant, and why.
type Exclusion struct{ Type, Action, Reason string }

// ExclusionList lists the exclusions, sorted by type and action.
func ExclusionList() []Exclusion {
	var out []Exclusion
	for k, e := range exclusions {
		out = append(out, Exclusion{k[0], k[1], e.reason})
	}
	slices.SortFunc(out, func(a, b Exclusion) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.Action, b.Action)
	})
	return out
}
