package awsapi

// ResourceTypes maps each Pulumi type token the programs register to the provider resource
// type pulumi-aws bridges it to. The names are pulumi-aws's; cmd/apitable checks every pair
// by matching the SDK's property names against the provider schema's attributes, so a wrong
// pair fails the generator instead of pointing the table at another resource.
var ResourceTypes = map[string]string{
	"aws:acm/certificate:Certificate":                                      "aws_acm_certificate",
	"aws:acm/certificateValidation:CertificateValidation":                  "aws_acm_certificate_validation",
	"aws:autoscaling/group:Group":                                          "aws_autoscaling_group",
	"aws:autoscaling/policy:Policy":                                        "aws_autoscaling_policy",
	"aws:budgets/budget:Budget":                                            "aws_budgets_budget",
	"aws:cloudwatch/dashboard:Dashboard":                                   "aws_cloudwatch_dashboard",
	"aws:cloudwatch/eventRule:EventRule":                                   "aws_cloudwatch_event_rule",
	"aws:cloudwatch/eventTarget:EventTarget":                               "aws_cloudwatch_event_target",
	"aws:cloudwatch/logGroup:LogGroup":                                     "aws_cloudwatch_log_group",
	"aws:cloudwatch/metricAlarm:MetricAlarm":                               "aws_cloudwatch_metric_alarm",
	"aws:dynamodb/table:Table":                                             "aws_dynamodb_table",
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":                    "aws_default_security_group",
	"aws:ec2/eip:Eip":                                                      "aws_eip",
	"aws:ec2/flowLog:FlowLog":                                              "aws_flow_log",
	"aws:ec2/internetGateway:InternetGateway":                              "aws_internet_gateway",
	"aws:ec2/launchTemplate:LaunchTemplate":                                "aws_launch_template",
	"aws:ec2/natGateway:NatGateway":                                        "aws_nat_gateway",
	"aws:ec2/route:Route":                                                  "aws_route",
	"aws:ec2/routeTable:RouteTable":                                        "aws_route_table",
	"aws:ec2/routeTableAssociation:RouteTableAssociation":                  "aws_route_table_association",
	"aws:ec2/securityGroup:SecurityGroup":                                  "aws_security_group",
	"aws:ec2/subnet:Subnet":                                                "aws_subnet",
	"aws:ec2/vpc:Vpc":                                                      "aws_vpc",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                                      "aws_vpc_endpoint",
	"aws:ecr/lifecyclePolicy:LifecyclePolicy":                              "aws_ecr_lifecycle_policy",
	"aws:ecr/repository:Repository":                                        "aws_ecr_repository",
	"aws:elasticache/replicationGroup:ReplicationGroup":                    "aws_elasticache_replication_group",
	"aws:elasticache/subnetGroup:SubnetGroup":                              "aws_elasticache_subnet_group",
	"aws:iam/instanceProfile:InstanceProfile":                              "aws_iam_instance_profile",
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider":                  "aws_iam_openid_connect_provider",
	"aws:iam/policy:Policy":                                                "aws_iam_policy",
	"aws:iam/role:Role":                                                    "aws_iam_role",
	"aws:iam/rolePolicy:RolePolicy":                                        "aws_iam_role_policy",
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":                    "aws_iam_role_policy_attachment",
	"aws:kms/alias:Alias":                                                  "aws_kms_alias",
	"aws:kms/key:Key":                                                      "aws_kms_key",
	"aws:lb/listener:Listener":                                             "aws_lb_listener",
	"aws:lb/loadBalancer:LoadBalancer":                                     "aws_lb",
	"aws:lb/targetGroup:TargetGroup":                                       "aws_lb_target_group",
	"aws:rds/instance:Instance":                                            "aws_db_instance",
	"aws:rds/subnetGroup:SubnetGroup":                                      "aws_db_subnet_group",
	"aws:route53/healthCheck:HealthCheck":                                  "aws_route53_health_check",
	"aws:route53/record:Record":                                            "aws_route53_record",
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": "aws_s3_bucket_lifecycle_configuration",
	"aws:s3/bucketObjectv2:BucketObjectv2":                                 "aws_s3_object",
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":               "aws_s3_bucket_ownership_controls",
	"aws:s3/bucketPolicy:BucketPolicy":                                     "aws_s3_bucket_policy",
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":               "aws_s3_bucket_public_access_block",
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": "aws_s3_bucket_server_side_encryption_configuration",
	"aws:s3/bucketV2:BucketV2":                                  "aws_s3_bucket",
	"aws:s3/bucketVersioningV2:BucketVersioningV2":              "aws_s3_bucket_versioning",
	"aws:secretsmanager/secret:Secret":                          "aws_secretsmanager_secret",
	"aws:secretsmanager/secretVersion:SecretVersion":            "aws_secretsmanager_secret_version",
	"aws:sns/topic:Topic":                                       "aws_sns_topic",
	"aws:sns/topicPolicy:TopicPolicy":                           "aws_sns_topic_policy",
	"aws:sns/topicSubscription:TopicSubscription":               "aws_sns_topic_subscription",
	"aws:ssm/parameter:Parameter":                               "aws_ssm_parameter",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   "aws_vpc_security_group_egress_rule",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
}

// DataSources maps each invoke token the programs call to the provider data source behind it.
var DataSources = map[string]string{
	"aws:index/getAvailabilityZones:getAvailabilityZones": "aws_availability_zones",
	"aws:index/getCallerIdentity:getCallerIdentity":       "aws_caller_identity",
	"aws:index/getPartition:getPartition":                 "aws_partition",
	"aws:index/getRegion:getRegion":                       "aws_region",
	"aws:ssm/getParameter:getParameter":                   "aws_ssm_parameter",
}

// Renames are the properties pulumi-aws names differently from the provider's attribute, per
// token (pulumi-aws provider/resources.go maps them in each resource's Fields); everything else
// is the attribute in camel case, list blocks pluralised.
var Renames = map[string]map[string]string{
	"aws:cloudwatch/metricAlarm:MetricAlarm":      {"name": "alarm_name"},
	"aws:sns/topicSubscription:TopicSubscription": {"topic": "topic_arn"},
}
