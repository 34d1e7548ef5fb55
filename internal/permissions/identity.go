package permissions

import (
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// autoname stands in for the random suffix Pulumi adds to a logical name it names a resource by.
const autoname = "-1a2b3c4"

// Physical is the name AWS would show for a planned resource.
func Physical(r plan.Resource) string {
	if n := r.GivenName(); n != "" {
		return n
	}
	return r.Name + autoname
}

// Identity is how IAM names a planned resource: its Service Authorization Reference resource
// type and its ARN. Related resources (a route's table, a rule's group) answer for the ones
// that have no ARN of their own.
func Identity(p *plan.Plan, r plan.Resource) (string, string) {
	acct, region := plan.Account, r.Region
	arn := func(service, resource string) string {
		return "arn:aws:" + service + ":" + region + ":" + acct + ":" + resource
	}
	ec2 := func(kind, id string) (string, string) { return "ec2:" + kind, arn("ec2", kind+"/"+id) }
	bucket := func(name string) (string, string) { return "s3:bucket", "arn:aws:s3:::" + name }
	switch r.Type {
	case "aws:ec2/vpc:Vpc":
		return ec2("vpc", r.ID)
	case "aws:ec2/subnet:Subnet":
		return ec2("subnet", r.ID)
	case "aws:ec2/internetGateway:InternetGateway":
		return ec2("internet-gateway", r.ID)
	case "aws:ec2/routeTable:RouteTable":
		return ec2("route-table", r.ID)
	case "aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation":
		return ec2("route-table", r.Str("routeTableId"))
	case "aws:ec2/eip:Eip":
		return ec2("elastic-ip", "eipalloc-"+r.Name)
	case "aws:ec2/natGateway:NatGateway":
		return ec2("natgateway", r.ID)
	case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "aws:ec2/securityGroup:SecurityGroup":
		return ec2("security-group", r.ID)
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		return ec2("security-group", r.Str("securityGroupId"))
	case "aws:ec2/flowLog:FlowLog":
		return ec2("vpc-flow-log", r.ID)
	case "aws:ec2/launchTemplate:LaunchTemplate":
		return ec2("launch-template", r.ID)
	case "aws:rds/instance:Instance":
		return "rds:db", arn("rds", "db:"+Physical(r))
	case "aws:rds/subnetGroup:SubnetGroup":
		return "rds:subgrp", arn("rds", "subgrp:"+Physical(r))
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		return "elasticache:replicationgroup", arn("elasticache", "replicationgroup:"+Physical(r))
	case "aws:elasticache/subnetGroup:SubnetGroup":
		return "elasticache:subnetgroup", arn("elasticache", "subnetgroup:"+Physical(r))
	case "aws:secretsmanager/secret:Secret":
		return "secretsmanager:Secret", arn("secretsmanager", "secret:"+Physical(r)+"-AbCdEf")
	case "aws:secretsmanager/secretVersion:SecretVersion":
		if s, ok := p.ByID(r.Str("secretId")); ok {
			return Identity(p, s)
		}
	case "aws:dynamodb/table:Table":
		return "dynamodb:table", arn("dynamodb", "table/"+Physical(r))
	case "aws:autoscaling/group:Group":
		return "autoscaling:autoScalingGroup", arn("autoscaling", "autoScalingGroup:0123-uuid:autoScalingGroupName/"+Physical(r))
	case "aws:lb/loadBalancer:LoadBalancer":
		return "elasticloadbalancing:loadbalancer/app/", arn("elasticloadbalancing", "loadbalancer/app/"+Physical(r)+"/0123456789abcdef")
	case "aws:lb/targetGroup:TargetGroup":
		return "elasticloadbalancing:targetgroup", arn("elasticloadbalancing", "targetgroup/"+Physical(r)+"/0123456789abcdef")
	case "aws:lb/listener:Listener":
		lbName := ""
		// The mocks give a load balancer the ARN .../loadbalancer/app/<logical name>/<id>.
		if parts := strings.Split(r.Str("loadBalancerArn"), "/"); len(parts) >= 3 {
			if lb, ok := p.Find("aws:lb/loadBalancer:LoadBalancer", parts[2]); ok {
				lbName = Physical(lb)
			}
		}
		return "elasticloadbalancing:listener/app", arn("elasticloadbalancing", "listener/app/"+lbName+"/0123456789abcdef/fedcba9876543210")
	case "aws:acm/certificate:Certificate":
		return "acm:certificate", arn("acm", "certificate/"+r.Name)
	case "aws:acm/certificateValidation:CertificateValidation":
		return "acm:certificate", r.Str("certificateArn")
	case "aws:route53/record:Record":
		return "route53:hostedzone", "arn:aws:route53:::hostedzone/" + r.Str("zoneId")
	case "aws:route53/healthCheck:HealthCheck":
		return "route53:healthcheck", "arn:aws:route53:::healthcheck/" + r.ID
	case "aws:s3/bucketV2:BucketV2":
		return bucket(Physical(r))
	case "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
		"aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketVersioningV2:BucketVersioningV2",
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":
		return bucket(r.Str("bucket"))
	case "aws:s3/bucketObjectv2:BucketObjectv2":
		return "s3:object", "arn:aws:s3:::" + r.Str("bucket") + "/" + r.Str("key")
	case "aws:ecr/repository:Repository":
		return "ecr:repository", arn("ecr", "repository/"+Physical(r))
	case "aws:ecr/lifecyclePolicy:LifecyclePolicy":
		return "ecr:repository", arn("ecr", "repository/"+r.Str("repository"))
	case "aws:iam/role:Role":
		return "iam:role", "arn:aws:iam::" + acct + ":role" + r.Str("path") + Physical(r)
	case "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		if role, ok := roleNamed(p, r.Str("role")); ok {
			return Identity(p, role)
		}
		return "iam:role", "arn:aws:iam::" + acct + ":role/" + r.Str("role")
	case "aws:iam/instanceProfile:InstanceProfile":
		return "iam:instance-profile", "arn:aws:iam::" + acct + ":instance-profile" + r.Str("path") + Physical(r)
	case "aws:iam/policy:Policy":
		return "iam:policy", "arn:aws:iam::" + acct + ":policy" + r.Str("path") + Physical(r)
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		return "iam:oidc-provider", "arn:aws:iam::" + acct + ":oidc-provider/" + strings.TrimPrefix(r.Str("url"), "https://")
	case "aws:kms/key:Key":
		return "kms:key", arn("kms", "key/0123abcd-"+r.Name)
	case "aws:kms/alias:Alias":
		return "kms:alias", arn("kms", r.Str("name"))
	case "aws:sns/topic:Topic":
		return "sns:topic", arn("sns", Physical(r))
	case "aws:sns/topicPolicy:TopicPolicy":
		return "sns:topic", r.Str("arn")
	case "aws:sns/topicSubscription:TopicSubscription":
		return "sns:topic", r.Str("topic")
	case "aws:budgets/budget:Budget":
		return "budgets:budget", "arn:aws:budgets::" + acct + ":budget/" + Physical(r)
	case "aws:cloudwatch/logGroup:LogGroup":
		return "logs:log-group", arn("logs", "log-group:"+Physical(r))
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		return "cloudwatch:alarm", arn("cloudwatch", "alarm:"+Physical(r))
	case "aws:cloudwatch/dashboard:Dashboard":
		return "cloudwatch:dashboard", "arn:aws:cloudwatch::" + acct + ":dashboard/" + r.Str("dashboardName")
	case "aws:cloudwatch/eventRule:EventRule":
		return "events:rule-on-default-event-bus", arn("events", "rule/"+Physical(r))
	case "aws:cloudwatch/eventTarget:EventTarget":
		return "events:rule-on-default-event-bus", arn("events", "rule/"+r.Str("rule"))
	case "aws:ssm/parameter:Parameter":
		return "ssm:parameter", arn("ssm", "parameter"+r.Str("name"))
	}
	return "", ""
}

// roleNamed finds a planned role by the name other resources refer to it by (its logical name,
// which the mocks hand out as its name).
func roleNamed(p *plan.Plan, name string) (plan.Resource, bool) {
	for _, r := range p.OfType("aws:iam/role:Role") {
		if r.Name == name || Physical(r) == name {
			return r, true
		}
	}
	return plan.Resource{}, false
}
