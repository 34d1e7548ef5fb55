package policy_test

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

// Type tokens, as the program registers them.
const (
	tVpc, tSubnet, tFlowLog        = "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/flowLog:FlowLog"
	tDefaultSG, tLogGroup          = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "aws:cloudwatch/logGroup:LogGroup"
	tSG, tIngress, tEgress         = "aws:ec2/securityGroup:SecurityGroup", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	tEIP, tNAT                     = "aws:ec2/eip:Eip", "aws:ec2/natGateway:NatGateway"
	tLT, tGroup                    = "aws:ec2/launchTemplate:LaunchTemplate", "aws:autoscaling/group:Group"
	tLB, tListener, tTG            = "aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener", "aws:lb/targetGroup:TargetGroup"
	tCert, tRecord                 = "aws:acm/certificate:Certificate", "aws:route53/record:Record"
	tBucket, tBucketPolicy         = "aws:s3/bucketV2:BucketV2", "aws:s3/bucketPolicy:BucketPolicy"
	tPAB, tOwnership, tEncryption  = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	tVersioning, tLifecycle, tLogs = "aws:s3/bucketVersioningV2:BucketVersioningV2", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "aws:s3/bucketLoggingV2:BucketLoggingV2"
	tRepo, tRepoLifecycle          = "aws:ecr/repository:Repository", "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	tRole, tRolePolicy, tAttach    = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	tKey, tTopic, tTopicPolicy     = "aws:kms/key:Key", "aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy"
	tAlarm, tBudget                = "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:budgets/budget:Budget"
	tCommand                       = "command:local:Command"
	tDB, tCache, tSecret           = "aws:rds/instance:Instance", "aws:elasticache/replicationGroup:ReplicationGroup", "aws:secretsmanager/secret:Secret"
)

var r = plan.NewResource

// Good resources: each passes every rule that reads it. A failing plan changes one input.
func vpc() plan.Resource { return r(tVpc, "v", map[string]any{"cidrBlock": "10.0.0.0/16"}) }
func flowLog() plan.Resource {
	return r(tFlowLog, "f", map[string]any{"vpcId": "v-id", "trafficType": "ALL"})
}
func defaultSG() plan.Resource { return r(tDefaultSG, "d", map[string]any{"vpcId": "v-id"}) }
func logGroup() plan.Resource {
	return r(tLogGroup, "l", map[string]any{"retentionInDays": 365, "kmsKeyId": "arn:aws:kms:eu-central-1:1:key/k"})
}

// table is a jobs' firings table as the program plans it.
func table() plan.Resource {
	return r("aws:dynamodb/table:Table", "firings", map[string]any{"billingMode": "PAY_PER_REQUEST", "deletionProtectionEnabled": true,
		"pointInTimeRecovery":  map[string]any{"enabled": true},
		"serverSideEncryption": map[string]any{"enabled": true, "kmsKeyArn": "arn:aws:kms:eu-central-1:123456789012:key/k"}})
}

// dbInstance is the database as components/database plans it for a stack that keeps its data.
func dbInstance() plan.Resource {
	return r(tDB, "db", map[string]any{"engine": "postgres", "storageEncrypted": true,
		"kmsKeyId": "arn:aws:kms:eu-central-1:123456789012:key/k", "publiclyAccessible": false,
		"backupRetentionPeriod": 7, "deletionProtection": true, "skipFinalSnapshot": false,
		"finalSnapshotIdentifier": "db-final", "multiAz": true, "autoMinorVersionUpgrade": true,
		"iamDatabaseAuthenticationEnabled": true, "enabledCloudwatchLogsExports": []any{"postgresql"},
		"copyTagsToSnapshot": true, "manageMasterUserPassword": true,
		"masterUserSecretKmsKeyId": "arn:aws:kms:eu-central-1:123456789012:key/k",
		"vpcSecurityGroupIds":      []any{"db-sg-id"}})
}

// cacheGroup is the cache as components/cache plans it with a replica.
func cacheGroup() plan.Resource {
	return r(tCache, "cache", map[string]any{"engine": "redis", "atRestEncryptionEnabled": true,
		"kmsKeyId": "arn:aws:kms:eu-central-1:123456789012:key/k", "transitEncryptionEnabled": true,
		"authToken": plan.Redacted, "autoMinorVersionUpgrade": true, "snapshotRetentionLimit": 7,
		"automaticFailoverEnabled": true, "multiAzEnabled": true, "securityGroupIds": []any{"cache-sg-id"}})
}

// secret is the cache token's secret, under the stack key.
func secret() plan.Resource {
	return r(tSecret, "token", map[string]any{"name": "immutable-edge/test/cache-token",
		"kmsKeyId": "arn:aws:kms:eu-central-1:123456789012:key/k", "recoveryWindowInDays": 7})
}

func sg() plan.Resource { return r(tSG, "sg", map[string]any{"description": "the edge"}) }
func ingress(port int) plan.Resource {
	return r(tIngress, "in", map[string]any{"securityGroupId": "sg-id", "cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp",
		"fromPort": port, "toPort": port, "description": "web"})
}
func egress() plan.Resource {
	return r(tEgress, "out", map[string]any{"securityGroupId": "sg-id", "cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp",
		"fromPort": 443, "toPort": 443, "description": "https out"})
}
func launchTemplate() plan.Resource {
	return r(tLT, "lt", map[string]any{
		"networkInterfaces":   []any{map[string]any{"securityGroups": []any{"sg-id"}, "associatePublicIpAddress": "false"}},
		"metadataOptions":     map[string]any{"httpTokens": "required", "httpPutResponseHopLimit": 1},
		"blockDeviceMappings": []any{map[string]any{"ebs": map[string]any{"encrypted": "true"}}},
		"userData":            base64.StdEncoding.EncodeToString([]byte("#cloud-config\nwrite_files: []\n")),
		"monitoring":          map[string]any{"enabled": true},
		"ebsOptimized":        "true",
		"iamInstanceProfile":  map[string]any{"arn": "arn:aws:iam::1:instance-profile/p"},
	})
}
func group() plan.Resource {
	g := r(tGroup, "g", map[string]any{
		"launchTemplate": map[string]any{"id": "lt-id", "version": "3"},
		"minSize":        1, "desiredCapacity": 1, "maxSize": 2,
		"vpcZoneIdentifiers": []any{"a", "b"},
		"healthCheckType":    "ELB", "targetGroupArns": []any{"tg-arn"},
	})
	g.IgnoreChanges = []string{"launchTemplate"}
	return g
}
func rollout() plan.Resource {
	return r(tCommand, "refresh", map[string]any{"environment": map[string]any{
		"ROLLOUT_TEMPLATE_ID": "lt-id", "ROLLOUT_TEMPLATE_VERSION": "3", "ROLLOUT_MIN_HEALTHY": "100",
		"ROLLOUT_MAX_HEALTHY": "200", "ROLLOUT_ALARMS": "x-http-5xx"}})
}
func loadBalancer() plan.Resource {
	return r(tLB, "alb", map[string]any{"securityGroups": []any{"sg-id"}, "dropInvalidHeaderFields": true,
		"desyncMitigationMode": "defensive", "accessLogs": map[string]any{"enabled": true, "bucket": "logs"},
		"enableDeletionProtection": true, "internal": true})
}
func listener(port int) plan.Resource {
	if port == 80 {
		return r(tListener, "http", map[string]any{"port": 80, "protocol": "HTTP", "defaultActions": []any{
			map[string]any{"type": "redirect", "redirect": map[string]any{"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}}})
	}
	return r(tListener, "https", map[string]any{"port": 443, "protocol": "HTTPS",
		"sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "routingHttpResponseStrictTransportSecurityHeaderValue": "max-age=63072000"})
}
func targetGroup() plan.Resource {
	return r(tTG, "tg", map[string]any{"protocol": "HTTPS", "healthCheck": map[string]any{"enabled": true, "path": "/.edge/health"}})
}
func certificate() plan.Resource {
	return r(tCert, "cert", map[string]any{"domainName": "example.com", "subjectAlternativeNames": []any{"api.example.com"},
		"options": map[string]any{"certificateTransparencyLoggingPreference": "ENABLED"}})
}
func record(target plan.Resource) plan.Resource {
	rec := r(tRecord, "a", map[string]any{"type": "A", "name": "example.com"})
	rec.DependsOn = []string{target.URN}
	return rec
}

func key() plan.Resource {
	return r(tKey, "key", map[string]any{"enableKeyRotation": true, "policy": iampolicy.New(iampolicy.Statement{
		Sid: "Account", Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::123456789012:root"},
		Action: []string{"kms:*"}, Resource: []string{"*"}}).JSON()})
}
func topic() plan.Resource {
	return r(tTopic, "alerts", map[string]any{"name": "alerts", "kmsMasterKeyId": "arn:aws:kms:eu-central-1:123456789012:key/k"})
}
func topicPolicy() plan.Resource {
	return r(tTopicPolicy, "alerts", map[string]any{"policy": iampolicy.New(iampolicy.Statement{
		Sid: "Alarms", Effect: "Allow", Principal: map[string]any{"Service": "cloudwatch.amazonaws.com"},
		Action: []string{"sns:Publish"}, Resource: []string{"arn:aws:sns:eu-central-1:123456789012:alerts"}}).JSON()})
}

// open is a resource policy that lets everyone do action.
func open(action string) string {
	return iampolicy.New(iampolicy.Statement{Sid: "Everyone", Effect: "Allow", Principal: map[string]any{"AWS": "*"},
		Action: []string{action}, Resource: []string{"*"}}).JSON()
}
func alarm() plan.Resource {
	topic := "arn:aws:sns:eu-central-1:123456789012:alerts"
	return r(tAlarm, "cpu", map[string]any{"name": "cpu", "alarmActions": []any{topic}, "okActions": []any{topic}})
}

// forwarded is an alarm without actions whose state changes an EventBridge rule sends to the topic.
func forwarded(name string) []plan.Resource {
	pattern := `{"resources":["arn:aws:cloudwatch:us-east-1:123456789012:alarm:` + name + `"]}`
	return []plan.Resource{
		r(tAlarm, name, map[string]any{"name": name}),
		r("aws:cloudwatch/eventRule:EventRule", name, map[string]any{"name": name, "eventPattern": pattern}),
		r("aws:cloudwatch/eventTarget:EventTarget", name, map[string]any{"rule": name, "arn": "arn:aws:sns:eu-central-1:123456789012:alerts"}),
	}
}
func budget() plan.Resource {
	return r(tBudget, "budget", map[string]any{
		"costFilters": []any{map[string]any{"name": "TagKeyValue", "values": []any{"user:Stack$test"}}},
		"limitAmount": "100.00",
		"notifications": []any{
			map[string]any{"notificationType": "ACTUAL", "threshold": 80, "thresholdType": "PERCENTAGE", "subscriberSnsTopicArns": []any{"t"}},
			map[string]any{"notificationType": "FORECASTED", "subscriberSnsTopicArns": []any{"t"}},
		}})
}

// loggingALB is a load balancer logging to a bucket whose policy lets log delivery write, with
// the regional ELB account's statement too when account is set.
func loggingALB(account string) []plan.Resource {
	lb := loadBalancer().With("accessLogs.bucket", "b-id").With("accessLogs.prefix", "alb")
	st := []iampolicy.Statement{{Sid: "ALBAccessLogs", Effect: "Allow", Principal: map[string]any{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
		Action: []string{"s3:PutObject"}, Resource: []string{"arn:aws:s3:::b-id/alb/AWSLogs/123456789012/*"}}}
	if account != "" {
		st = append(st, iampolicy.Statement{Sid: "Regional", Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
			Action: []string{"s3:PutObject"}, Resource: []string{"arn:aws:s3:::b-id/alb/AWSLogs/123456789012/*"}})
	}
	return append(replaceIn(bucket(), tBucketPolicy, "pol", set("policy", iampolicy.New(st...).JSON())), lb)
}

// bucket is a bucket with every part the storage rules look for.
func bucket() []plan.Resource {
	on := map[string]any{"bucket": "b-id"}
	with := func(token, name string, extra map[string]any) plan.Resource {
		in := map[string]any{}
		for k, v := range on {
			in[k] = v
		}
		for k, v := range extra {
			in[k] = v
		}
		return r(token, name, in)
	}
	policy := iampolicy.New(iampolicy.Statement{Sid: "DenyPlainHTTP", Effect: "Deny", Principal: map[string]any{"AWS": "*"},
		Action: []string{"s3:*"}, Resource: []string{"arn:aws:s3:::b", "arn:aws:s3:::b/*"},
		Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}}})
	return []plan.Resource{
		r(tBucket, "b", map[string]any{"bucketPrefix": "b-"}),
		with(tPAB, "pab", map[string]any{"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}),
		with(tOwnership, "own", map[string]any{"rule": map[string]any{"objectOwnership": "BucketOwnerEnforced"}}),
		with(tEncryption, "enc", map[string]any{"rules": []any{map[string]any{"applyServerSideEncryptionByDefault": map[string]any{"sseAlgorithm": "aws:kms"}}}}),
		with(tVersioning, "ver", map[string]any{"versioningConfiguration": map[string]any{"status": "Enabled"}}),
		with(tLifecycle, "lc", map[string]any{"rules": []any{map[string]any{"status": "Enabled", "abortIncompleteMultipartUpload": map[string]any{"daysAfterInitiation": 1}}}}),
		with(tLogs, "logs", map[string]any{"targetBucket": "audit"}),
		with(tBucketPolicy, "pol", map[string]any{"policy": policy.JSON()}),
	}
}

// replaceIn swaps the resource of a type and name for a changed copy.
func replaceIn(rs []plan.Resource, token, name string, change func(plan.Resource) plan.Resource) []plan.Resource {
	out := append([]plan.Resource(nil), rs...)
	for i, x := range out {
		if x.Type == token && x.Name == name {
			out[i] = change(x)
		}
	}
	return out
}

func repo() []plan.Resource {
	repo := r(tRepo, "web", map[string]any{"imageTagMutability": "IMMUTABLE",
		"imageScanningConfiguration": map[string]any{"scanOnPush": true},
		"encryptionConfigurations":   []any{map[string]any{"encryptionType": "KMS"}}})
	lc := r(tRepoLifecycle, "web-lc", map[string]any{"policy": "{}"})
	lc.DependsOn = []string{repo.URN}
	return []plan.Resource{repo, lc}
}
func role(service string) plan.Resource {
	return r(tRole, "role", map[string]any{
		"assumeRolePolicy": iampolicy.AssumeRole(service).JSON(), "path": "/p/s/",
		"permissionsBoundary": "arn:aws:iam::123456789012:policy/p/p-s-boundary",
	})
}
func rolePolicy(statements ...iampolicy.Statement) plan.Resource {
	return r(tRolePolicy, "rp", map[string]any{"policy": iampolicy.New(statements...).JSON()})
}

var pull = iampolicy.Statement{Sid: "Pull", Effect: "Allow", Action: []string{"ecr:BatchGetImage"}, Resource: []string{"arn:aws:ecr:eu-central-1:1:repository/web"}}

// protected marks a resource pulumi.Protect.
func protected(x plan.Resource) plan.Resource { x.Protect = true; return x }

// set returns a change that sets one input.
func set(path string, v any) func(plan.Resource) plan.Resource {
	return func(x plan.Resource) plan.Resource { return x.With(path, v) }
}

type ruleCase struct {
	edge       string
	pass, fail []plan.Resource
}

// serviceCases are the configured services, passing then failing, of the rules that read them.
var serviceCases = map[string][2][]config.Service{
	"IE_ENV_SECRETS": {
		{{Name: "web", Environment: map[string]string{"LOG_LEVEL": "info"}}},
		{{Name: "web", Environment: map[string]string{"DB_PASSWORD": "hunter22"}}},
	},
}

// cases has one passing and one failing plan per rule.
var cases = map[string]ruleCase{
	"CKV2_AWS_11": {"alb", []plan.Resource{vpc(), flowLog()}, []plan.Resource{vpc(), flowLog().With("trafficType", "REJECT")}},
	"CKV2_AWS_12": {"alb", []plan.Resource{vpc(), defaultSG()}, []plan.Resource{vpc()}},
	"CKV_AWS_130": {"alb", []plan.Resource{r(tSubnet, "s", map[string]any{"mapPublicIpOnLaunch": false})}, []plan.Resource{r(tSubnet, "s", map[string]any{"mapPublicIpOnLaunch": true})}},
	"CKV_AWS_66":  {"alb", []plan.Resource{logGroup()}, []plan.Resource{logGroup().With("retentionInDays", nil)}},
	"CKV_AWS_338": {"alb", []plan.Resource{logGroup()}, []plan.Resource{logGroup().With("retentionInDays", 30)}},
	"CKV_AWS_158": {"alb", []plan.Resource{logGroup()}, []plan.Resource{logGroup().With("kmsKeyId", nil)}},
	"CKV_AWS_23":  {"alb", []plan.Resource{sg(), egress()}, []plan.Resource{sg(), egress().With("description", nil)}},
	"CKV_AWS_24":  {"eip", []plan.Resource{sg(), launchTemplate(), ingress(443)}, []plan.Resource{sg(), launchTemplate(), ingress(22)}},
	"CKV_AWS_25":  {"eip", []plan.Resource{sg(), launchTemplate(), ingress(443)}, []plan.Resource{sg(), launchTemplate(), ingress(3389)}},
	"CKV_AWS_260": {"alb", []plan.Resource{sg(), loadBalancer(), listener(80), ingress(80)}, []plan.Resource{sg(), loadBalancer(), listener(80), ingress(80).With("securityGroupId", "other-id")}},
	"EC2.18": {"eip", []plan.Resource{sg(), launchTemplate(), ingress(443)},
		[]plan.Resource{sg(), launchTemplate(), ingress(8080)}},
	"CKV_AWS_277":     {"eip", []plan.Resource{sg(), launchTemplate(), ingress(443)}, []plan.Resource{sg(), launchTemplate(), ingress(443).With("ipProtocol", "-1")}},
	"CKV_AWS_382":     {"alb", []plan.Resource{egress()}, []plan.Resource{egress().With("ipProtocol", "-1")}},
	"IE_SG_REFERENCE": {"alb", []plan.Resource{egress(), egress().With("cidrIpv4", nil).With("referencedSecurityGroupId", "x")}, []plan.Resource{egress().With("cidrIpv4", "10.0.0.0/16")}},
	"CKV2_AWS_5":      {"alb", []plan.Resource{sg(), launchTemplate()}, []plan.Resource{sg()}},

	"CKV_AWS_28":  {"eip", []plan.Resource{table()}, []plan.Resource{table().With("pointInTimeRecovery.enabled", false)}},
	"CKV_AWS_119": {"eip", []plan.Resource{table()}, []plan.Resource{table().With("serverSideEncryption.kmsKeyArn", nil)}},
	"DynamoDB.6":  {"eip", []plan.Resource{table()}, []plan.Resource{table().With("deletionProtectionEnabled", false)}},
	"CKV2_AWS_19": {"alb", []plan.Resource{r(tEIP, "e", nil), r(tNAT, "n", map[string]any{"allocationId": "e-id"})}, []plan.Resource{r(tEIP, "e", nil)}},

	"CKV_AWS_79":     {"alb", []plan.Resource{launchTemplate()}, []plan.Resource{launchTemplate().With("metadataOptions.httpTokens", "optional")}},
	"CKV_AWS_341":    {"alb", []plan.Resource{launchTemplate()}, []plan.Resource{launchTemplate().With("metadataOptions.httpPutResponseHopLimit", 2)}},
	"CKV_AWS_8":      {"alb", []plan.Resource{launchTemplate()}, []plan.Resource{launchTemplate().With("blockDeviceMappings.0.ebs.encrypted", "false")}},
	"CKV_AWS_46":     {"alb", []plan.Resource{launchTemplate()}, []plan.Resource{launchTemplate().With("userData", base64.StdEncoding.EncodeToString([]byte("#cloud-config\nruncmd: [export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP]\n")))}},
	"CKV_AWS_88":     {"alb", []plan.Resource{launchTemplate()}, []plan.Resource{launchTemplate().With("networkInterfaces.0.associatePublicIpAddress", "true")}},
	"CKV_AWS_126":    {"alb", []plan.Resource{launchTemplate()}, []plan.Resource{launchTemplate().With("monitoring.enabled", false)}},
	"CKV_AWS_135":    {"alb", []plan.Resource{launchTemplate()}, []plan.Resource{launchTemplate().With("ebsOptimized", "false")}},
	"CKV2_AWS_41":    {"alb", []plan.Resource{launchTemplate()}, []plan.Resource{launchTemplate().With("iamInstanceProfile", nil)}},
	"IE_NO_SSH_KEY":  {"alb", []plan.Resource{launchTemplate()}, []plan.Resource{launchTemplate().With("keyName", "ops")}},
	"CKV_AWS_315":    {"alb", []plan.Resource{group()}, []plan.Resource{group().With("launchTemplate", nil).With("launchConfiguration", "lc")}},
	"IE_ASG_PINNED":  {"alb", []plan.Resource{group()}, []plan.Resource{group().With("launchTemplate.version", "$Latest")}},
	"IE_ASG_REFRESH": {"alb", []plan.Resource{group(), rollout()}, []plan.Resource{group().With("maxSize", 1), rollout()}},
	"CKV2_AWS_15":    {"alb", []plan.Resource{group()}, []plan.Resource{group().With("healthCheckType", "EC2")}},
	"AutoScaling.2":  {"alb", []plan.Resource{group()}, []plan.Resource{group().With("vpcZoneIdentifiers", []any{"a"})}},

	"CKV_AWS_2":   {"alb", []plan.Resource{listener(80), listener(443)}, []plan.Resource{listener(80).With("defaultActions", []any{map[string]any{"type": "forward"}})}},
	"CKV2_AWS_20": {"alb", []plan.Resource{listener(80)}, []plan.Resource{listener(80).With("defaultActions.0.redirect.protocol", "HTTP")}},
	"CKV_AWS_103": {"alb", []plan.Resource{listener(443)}, []plan.Resource{listener(443).With("sslPolicy", "ELBSecurityPolicy-2016-08")}},
	"CKV2_AWS_74": {"alb", []plan.Resource{listener(443)}, []plan.Resource{listener(443).With("sslPolicy", "ELBSecurityPolicy-TLS-1-2-Ext-2018-06")}},
	"IE_HSTS":     {"alb", []plan.Resource{listener(443)}, []plan.Resource{listener(443).With("routingHttpResponseStrictTransportSecurityHeaderValue", nil)}},
	"CKV_AWS_131": {"alb", []plan.Resource{loadBalancer()}, []plan.Resource{loadBalancer().With("dropInvalidHeaderFields", false)}},
	"CKV_AWS_328": {"alb", []plan.Resource{loadBalancer()}, []plan.Resource{loadBalancer().With("desyncMitigationMode", "monitor")}},
	"CKV_AWS_91":  {"alb", loggingALB(""), replaceIn(loggingALB(""), tLB, "alb", set("accessLogs.enabled", false))},
	"CKV_AWS_150": {"alb", []plan.Resource{loadBalancer()}, []plan.Resource{loadBalancer().With("enableDeletionProtection", false)}},
	"AWS-0053":    {"alb", []plan.Resource{loadBalancer()}, []plan.Resource{loadBalancer().With("internal", false)}},
	"CKV2_AWS_28": {"alb", []plan.Resource{loadBalancer(), r("aws:wafv2/webAclAssociation:WebAclAssociation", "waf", map[string]any{"resourceArn": "alb-arn"})}, []plan.Resource{loadBalancer()}},
	"CKV_AWS_261": {"alb", []plan.Resource{targetGroup()}, []plan.Resource{targetGroup().With("healthCheck.path", nil)}},
	"CKV_AWS_378": {"alb", []plan.Resource{targetGroup()}, []plan.Resource{targetGroup().With("protocol", "HTTP")}},
	"CKV_AWS_234": {"alb", []plan.Resource{certificate()}, []plan.Resource{certificate().With("options.certificateTransparencyLoggingPreference", "DISABLED")}},
	"CKV2_AWS_71": {"alb", []plan.Resource{certificate()}, []plan.Resource{certificate().With("subjectAlternativeNames", []any{"*.example.com"})}},
	"CKV_AWS_233": {"alb", []plan.Resource{certificate()}, []plan.Resource{func() plan.Resource { c := certificate(); c.DeleteBeforeReplace = true; return c }()}},
	"CKV2_AWS_23": {"alb", []plan.Resource{loadBalancer(), record(loadBalancer())}, []plan.Resource{record(vpc())}},

	"CKV2_AWS_6":  {"alb", bucket(), replaceIn(bucket(), tPAB, "pab", set("restrictPublicBuckets", false))},
	"CKV2_AWS_65": {"alb", bucket(), replaceIn(bucket(), tOwnership, "own", set("rule.objectOwnership", "ObjectWriter"))},
	"CKV_AWS_19":  {"alb", bucket(), replaceIn(bucket(), tEncryption, "enc", set("bucket", "other"))},
	"CKV_AWS_145": {"alb", bucket(), replaceIn(bucket(), tEncryption, "enc", set("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "AES256"))},
	"CKV_AWS_21":  {"alb", bucket(), replaceIn(bucket(), tVersioning, "ver", set("versioningConfiguration.status", "Suspended"))},
	"CKV2_AWS_61": {"alb", bucket(), replaceIn(bucket(), tLifecycle, "lc", set("rules.0.abortIncompleteMultipartUpload", nil))},
	"CKV_AWS_18":  {"alb", bucket(), replaceIn(bucket(), tLogs, "logs", set("bucket", "other"))},
	"S3.5":        {"alb", bucket(), replaceIn(bucket(), tBucketPolicy, "pol", set("policy", iampolicy.New().JSON()))},
	"CKV_AWS_70": {"alb", bucket(), replaceIn(bucket(), tBucketPolicy, "pol", set("policy", iampolicy.New(iampolicy.Statement{
		Sid: "Everyone", Effect: "Allow", Principal: map[string]any{"AWS": "*"}, Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::b/*"}}).JSON()))},
	"CKV_AWS_163": {"alb", repo(), replaceIn(repo(), tRepo, "web", set("imageScanningConfiguration.scanOnPush", false))},
	"CKV_AWS_51":  {"alb", repo(), replaceIn(repo(), tRepo, "web", set("imageTagMutability", "MUTABLE"))},
	"CKV_AWS_136": {"alb", repo(), replaceIn(repo(), tRepo, "web", set("encryptionConfigurations.0.encryptionType", "AES256"))},
	"ECR.3":       {"alb", repo(), repo()[:1]},
	"IE_PROTECT": {"eip", []plan.Resource{protected(r(tEIP, "eip", nil)), protected(bucket()[0]), protected(repo()[0])},
		[]plan.Resource{protected(r(tEIP, "eip", nil)), protected(bucket()[0].With("forceDestroy", true)),
			protected(repo()[0].With("forceDelete", true)), r(tEIP, "unprotected", nil)}},

	"CKV_AWS_16":  {"alb", []plan.Resource{dbInstance()}, []plan.Resource{dbInstance().With("kmsKeyId", nil)}},
	"CKV_AWS_17":  {"alb", []plan.Resource{dbInstance()}, []plan.Resource{dbInstance().With("publiclyAccessible", true)}},
	"CKV_AWS_133": {"alb", []plan.Resource{dbInstance()}, []plan.Resource{dbInstance().With("backupRetentionPeriod", 1)}},
	"CKV_AWS_293": {"alb", []plan.Resource{dbInstance()}, []plan.Resource{dbInstance().With("deletionProtection", false)}},
	"CKV_AWS_157": {"alb", []plan.Resource{dbInstance()}, []plan.Resource{dbInstance().With("multiAz", false)}},
	"CKV_AWS_226": {"alb", []plan.Resource{dbInstance(), cacheGroup()}, []plan.Resource{dbInstance(), cacheGroup().With("autoMinorVersionUpgrade", false)}},
	"CKV_AWS_161": {"alb", []plan.Resource{dbInstance()}, []plan.Resource{dbInstance().With("iamDatabaseAuthenticationEnabled", false)}},
	"CKV_AWS_129": {"alb", []plan.Resource{dbInstance()}, []plan.Resource{dbInstance().With("enabledCloudwatchLogsExports", []any{"upgrade"})}},
	"CKV2_AWS_60": {"alb", []plan.Resource{dbInstance()}, []plan.Resource{dbInstance().With("copyTagsToSnapshot", false)}},
	"IE_DB_MANAGED_PASSWORD": {"alb", []plan.Resource{dbInstance()},
		[]plan.Resource{dbInstance().With("password", plan.Redacted)}},
	"CKV_AWS_29":    {"alb", []plan.Resource{cacheGroup()}, []plan.Resource{cacheGroup().With("atRestEncryptionEnabled", false)}},
	"CKV_AWS_31":    {"alb", []plan.Resource{cacheGroup()}, []plan.Resource{cacheGroup().With("authToken", nil)}},
	"ElastiCache.1": {"alb", []plan.Resource{cacheGroup()}, []plan.Resource{cacheGroup().With("snapshotRetentionLimit", 0)}},
	"ElastiCache.3": {"alb", []plan.Resource{cacheGroup()}, []plan.Resource{cacheGroup().With("multiAzEnabled", false)}},
	"CKV_AWS_149":   {"alb", []plan.Resource{secret()}, []plan.Resource{secret().With("kmsKeyId", nil)}},

	"IE_IAM_BOUNDARY": {"alb", []plan.Resource{role("ec2.amazonaws.com")}, []plan.Resource{role("ec2.amazonaws.com").With("permissionsBoundary", nil)}},
	"CKV_AWS_60":      {"alb", []plan.Resource{role("ec2.amazonaws.com")}, []plan.Resource{role("ec2.amazonaws.com").With("assumeRolePolicy", iampolicy.New(iampolicy.Statement{Effect: "Allow", Principal: map[string]any{"AWS": "*"}, Action: []string{"sts:AssumeRole"}}).JSON())}},
	"CKV_AWS_62":      {"alb", []plan.Resource{rolePolicy(pull)}, []plan.Resource{rolePolicy(iampolicy.Statement{Sid: "All", Effect: "Allow", Action: []string{"s3:*"}, Resource: []string{"arn:aws:s3:::b"}})}},
	"CKV_AWS_355":     {"alb", []plan.Resource{rolePolicy(pull, iampolicy.Statement{Sid: "Login", Effect: "Allow", Action: []string{"ecr:GetAuthorizationToken"}, Resource: []string{"*"}})}, []plan.Resource{rolePolicy(iampolicy.Statement{Sid: "Any", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{"*"}})}},
	"CKV_AWS_274":     {"alb", []plan.Resource{r(tAttach, "ssm", map[string]any{"policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"})}, []plan.Resource{r(tAttach, "admin", map[string]any{"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})}},
	"CKV_AWS_7":       {"alb", []plan.Resource{key()}, []plan.Resource{key().With("enableKeyRotation", false)}},
	"CKV_AWS_33":      {"alb", []plan.Resource{key()}, []plan.Resource{key().With("policy", open("kms:Decrypt"))}},
	"CKV_AWS_26":      {"alb", []plan.Resource{topic()}, []plan.Resource{topic().With("kmsMasterKeyId", "alias/aws/sns")}},
	"CKV_AWS_169":     {"alb", []plan.Resource{topicPolicy()}, []plan.Resource{topicPolicy().With("policy", open("sns:Publish"))}},
	"CKV_AWS_319":     {"alb", []plan.Resource{alarm()}, []plan.Resource{alarm().With("actionsEnabled", false)}},
	"IE_ALARM_NOTIFIES": {"eip",
		append([]plan.Resource{topic(), alarm()}, forwarded("external")...),
		[]plan.Resource{topic(), alarm().With("okActions", nil), r(tAlarm, "external", map[string]any{"name": "external"})}},
	"IE_ASG_SCALING": {"alb", []plan.Resource{scalingGroup(), scalingPolicy("ASGAverageCPUUtilization")}, []plan.Resource{scalingGroup()}},
	"IE_BUDGET":      {"alb", []plan.Resource{budget()}, []plan.Resource{budget().With("costFilters.0.values", []any{"user:Stack$prod"})}},
	"IE_TAGS": {"alb", []plan.Resource{vpc().With("tags", map[string]any{"Project": "p", "Stack": "s"})},
		[]plan.Resource{vpc().With("tags", map[string]any{"Project": "p"})}},
	"IE_ENV_SECRETS": {"alb", []plan.Resource{launchTemplate()}, []plan.Resource{launchTemplate()}},
}

// fleetCases are the configured capacities a rule's cases run with (none: 0/0/0).
var fleetCases = map[string]config.Fleet{"IE_ASG_SCALING": {Min: 2, Max: 4, Desired: 2}}

// scalingGroup is a group of 2..4 that leaves desired capacity to its policies.
func scalingGroup() plan.Resource {
	g := group().With("namePrefix", "g-").With("minSize", 2).With("desiredCapacity", 2).With("maxSize", 4)
	g.IgnoreChanges = []string{"launchTemplate", "desiredCapacity"}
	return g
}
func scalingPolicy(metric string) plan.Resource {
	return r("aws:autoscaling/policy:Policy", "p-"+metric, map[string]any{
		"autoscalingGroupName": "g-" + plan.UniqueSuffix, "policyType": "TargetTrackingScaling",
		"targetTrackingConfiguration": map[string]any{"predefinedMetricSpecification": map[string]any{"predefinedMetricType": metric}, "targetValue": 60},
	})
}

// TestScalingRuleFailsEachWayTheRangeGoesUnused: no policy, a policy on another group, desired
// capacity reset by every up, a maxSize past the configured ceiling; a fixed fleet passes.
func TestScalingRuleFailsEachWayTheRangeGoesUnused(t *testing.T) {
	cpu := scalingPolicy("ASGAverageCPUUtilization")
	resets := scalingGroup()
	resets.IgnoreChanges = []string{"launchTemplate"}
	for _, tc := range []struct {
		name   string
		fleet  config.Fleet
		rs     []plan.Resource
		status string
		reason string
	}{
		{"two policies", config.Fleet{Min: 2, Max: 4, Desired: 2}, []plan.Resource{scalingGroup(), cpu, scalingPolicy("ALBRequestCountPerTarget")}, policy.Pass,
			"target tracking on ALBRequestCountPerTarget and ASGAverageCPUUtilization between 2 and 4"},
		{"no policy", config.Fleet{Min: 2, Max: 4, Desired: 2}, []plan.Resource{scalingGroup()}, policy.Fail, "fleet 2..4 but no scaling policy: the group stays at 2"},
		{"another group's policy", config.Fleet{Min: 2, Max: 4, Desired: 2}, []plan.Resource{scalingGroup(), cpu.With("autoscalingGroupName", "other")}, policy.Fail, "fleet 2..4 but no scaling policy: the group stays at 2"},
		{"desired reset", config.Fleet{Min: 2, Max: 4, Desired: 2}, []plan.Resource{resets, cpu}, policy.Fail, "an up would reset the desired capacity its policies set"},
		{"ceiling raised", config.Fleet{Min: 2, Max: 3, Desired: 2}, []plan.Resource{scalingGroup(), cpu}, policy.Fail, "maxSize 4 is not fleet.max 3: the policies would scale past it"},
		{"fixed fleet", config.Fleet{Min: 1, Max: 1, Desired: 1}, []plan.Resource{group()}, policy.Pass, "fleet.max equals fleet.min (1): nothing to scale; maxSize 2 is a rollout's room"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := onlyResult(t, "IE_ASG_SCALING", tc.rs, &config.Config{Edge: "alb", Fleet: tc.fleet})
			require.Equal(t, tc.status, got.Status)
			require.Equal(t, tc.reason, got.Reason)
		})
	}
}

func results(t *testing.T, rule, edge string, rs []plan.Resource, services ...config.Service) []policy.Result {
	t.Helper()
	return ruleResults(t, rule, rs, &config.Config{Edge: edge, Services: services, Fleet: fleetCases[rule]})
}

// ruleResults evaluates a plan of rs under cfg and keeps one rule's results.
func ruleResults(t *testing.T, rule string, rs []plan.Resource, cfg *config.Config) []policy.Result {
	t.Helper()
	all, err := policy.Evaluate(plan.Of(rs...), cfg)
	require.NoError(t, err)
	var out []policy.Result
	for _, res := range all {
		if res.Rule == rule {
			out = append(out, res)
		}
	}
	return out
}

// onlyResult is a rule's one result on a plan of rs under cfg.
func onlyResult(t *testing.T, rule string, rs []plan.Resource, cfg *config.Config) policy.Result {
	t.Helper()
	got := ruleResults(t, rule, rs, cfg)
	require.Len(t, got, 1)
	return got[0]
}

// tagTests: IE_TAGS asks each resource for Project, Stack and the stack's requiredTags, no more.
var tagTests = []struct {
	name       string
	required   []string // the stack's requiredTags
	tags       map[string]any
	wantStatus string
	wantReason string
}{
	{"Project and Stack without requiredTags", nil, map[string]any{"Project": "p", "Stack": "s"}, policy.Pass, "carries Project, Stack"},
	{"Stack whatever the list says", []string{"Owner"}, map[string]any{"Project": "p", "Owner": "o"}, policy.Fail, "missing tags Stack"},
	{"a required tag the resource lacks", []string{"Owner", "CostCenter"}, map[string]any{"Project": "p", "Stack": "s", "Owner": "o"}, policy.Fail, "missing tags CostCenter"},
	{"an empty value is no tag", []string{"Owner"}, map[string]any{"Project": "p", "Stack": "s", "Owner": ""}, policy.Fail, "missing tags Owner"},
	{"Project listed again", []string{"Project", "Owner"}, map[string]any{"Project": "p", "Stack": "s", "Owner": "o"}, policy.Pass, "carries Project, Stack, Owner"},
	{"the committed stacks' set", []string{"Owner", "CostCenter"}, map[string]any{"Project": "p", "Stack": "s", "Owner": "o", "CostCenter": "c"}, policy.Pass, "carries Project, Stack, Owner, CostCenter"},
}

func TestTagRuleAsksForTheStacksRequiredTags(t *testing.T) {
	for _, tc := range tagTests {
		t.Run(tc.name, func(t *testing.T) {
			got := onlyResult(t, "IE_TAGS", []plan.Resource{vpc().With("tags", tc.tags)}, &config.Config{Edge: "alb", RequiredTags: tc.required})
			require.Equal(t, tc.wantStatus, got.Status)
			require.Equal(t, tc.wantReason, got.Reason)
		})
	}
}

func TestEveryRulePassesAGoodPlanAndFailsABadOne(t *testing.T) {
	for _, rule := range policy.Rules() {
		t.Run(rule.ID, func(t *testing.T) {
			tc, ok := cases[rule.ID]
			require.True(t, ok, "rule %s has no test case", rule.ID)
			good := results(t, rule.ID, tc.edge, tc.pass, serviceCases[rule.ID][0]...)
			require.NotEmpty(t, good, "the passing plan must give the rule something to judge")
			for _, res := range good {
				require.Equal(t, policy.Pass, res.Status, "%s: %s", res.Resource, res.Reason)
			}
			failed := false
			for _, res := range results(t, rule.ID, tc.edge, tc.fail, serviceCases[rule.ID][1]...) {
				failed = failed || res.Status == policy.Fail
			}
			require.True(t, failed, "the failing plan must fail %s", rule.ID)
		})
	}
	require.Len(t, cases, len(policy.Rules()), "a case for a rule that no longer exists")
}

// TestRolloutRuleFailsEachWayARollbackCouldKeepTheBadVersion: the provider's own refresh, a
// group whose template Pulumi still sets, no rollout, capacity dropped during it, no alarms.
func TestRolloutRuleFailsEachWayARollbackCouldKeepTheBadVersion(t *testing.T) {
	providerRefresh := group().With("instanceRefresh", map[string]any{"strategy": "Rolling"})
	pulumiSetsIt := group()
	pulumiSetsIt.IgnoreChanges = nil
	for name, rs := range map[string][]plan.Resource{
		"the provider's refresh":     {providerRefresh, rollout()},
		"the template is not left":   {pulumiSetsIt, rollout()},
		"no rollout":                 {group()},
		"a rollout of another group": {group(), rollout().With("environment.ROLLOUT_TEMPLATE_ID", "lt-other")},
		"capacity drops":             {group(), rollout().With("environment.ROLLOUT_MIN_HEALTHY", "90")},
		"no alarms":                  {group(), rollout().With("environment.ROLLOUT_ALARMS", "")},
	} {
		res := results(t, "IE_ASG_REFRESH", "alb", rs)
		require.Len(t, res, 1, name)
		require.Equal(t, policy.Fail, res[0].Status, name)
	}
}

func TestRulesAreDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, rule := range policy.Rules() {
		require.False(t, seen[rule.ID], "duplicate id %s", rule.ID)
		seen[rule.ID] = true
		require.NotEmpty(t, rule.Ref, rule.ID)
		require.NotEmpty(t, rule.Rationale, rule.ID)
		require.Contains(t, []policy.Severity{policy.High, policy.Medium, policy.Low}, rule.Severity, rule.ID)
	}
	require.GreaterOrEqual(t, len(seen), 40)
}

// TestAccessLogsNeedTheRegionsDeliverer: in eu-central-1 (opened before August 2022) the log
// bucket must also let the region's ELB account write; the service principal alone fails.
func TestAccessLogsNeedTheRegionsDeliverer(t *testing.T) {
	inRegion := func(rs []plan.Resource) []plan.Resource {
		for i := range rs {
			rs[i].Region = "eu-central-1"
		}
		return rs
	}
	for _, tc := range []struct {
		name string
		plan []plan.Resource
		want string
	}{
		{"both principals", inRegion(loggingALB("054676820928")), policy.Pass},
		{"service principal only", inRegion(loggingALB("")), policy.Fail},
		{"another account", inRegion(loggingALB("111111111111")), policy.Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := verdictOf(t, "CKV_AWS_91", "alb", tc.plan)
			require.Equal(t, tc.want, got.Status, got.Reason)
		})
	}
}

// verdictOf evaluates one rule over a plan and returns its single result.
func verdictOf(t *testing.T, rule, edge string, rs []plan.Resource) policy.Result {
	t.Helper()
	got := results(t, rule, edge, rs)
	require.Len(t, got, 1)
	return got[0]
}

// TestProtectRuleNamesWhatDestroyWouldTake: each way a destroy could take data is its own
// failure, so protect alone does not pass a bucket that destroy would still empty.
func TestProtectRuleNamesWhatDestroyWouldTake(t *testing.T) {
	for _, tc := range []struct {
		name   string
		res    plan.Resource
		status string
		reason string
	}{
		{"protected address", protected(r(tEIP, "eip", nil)), policy.Pass, "protected, never force-emptied"},
		{"unprotected address", r(tEIP, "eip", nil), policy.Fail, "not protected: pulumi destroy removes it"},
		{"protected bucket destroy empties", protected(bucket()[0].With("forceDestroy", true)), policy.Fail, "forceDestroy: destroy deletes every object version first"},
		{"protected repository destroy empties", protected(repo()[0].With("forceDelete", true)), policy.Fail, "forceDelete: destroy deletes the images with it"},
		{"bucket with forceDestroy false", protected(bucket()[0].With("forceDestroy", false)), policy.Pass, "protected, never force-emptied"},
		{"a NAT gateway's address", r(tEIP, "nat", nil), policy.Pass, "outbound address of NAT gateway n: nothing points at it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := []plan.Resource{tc.res}
			if tc.res.Name == "nat" {
				rs = append(rs, r(tNAT, "n", map[string]any{"allocationId": "nat-id"}))
			}
			got := verdictOf(t, "IE_PROTECT", "eip", rs)
			require.Equal(t, tc.status, got.Status)
			require.Equal(t, tc.reason, got.Reason)
		})
	}
}

// TestDataTierGroupsAreAttached: CKV2_AWS_5 takes a security group that only the database
// (vpcSecurityGroupIds) or only the cache (securityGroupIds) uses as attached, and still fails
// one that neither names.
func TestDataTierGroupsAreAttached(t *testing.T) {
	group := func(name string) plan.Resource { return r(tSG, name, map[string]any{"description": "the " + name}) }
	for _, tc := range []struct {
		name   string
		plan   []plan.Resource
		status string
		reason string
	}{
		{"used by the database", []plan.Resource{group("db-sg"), dbInstance()}, policy.Pass, "used by database db"},
		{"used by the cache", []plan.Resource{group("cache-sg"), cacheGroup()}, policy.Pass, "used by cache cache"},
		{"named by neither", []plan.Resource{group("db-sg"), dbInstance().With("vpcSecurityGroupIds", []any{"other-id"}),
			cacheGroup().With("securityGroupIds", []any{"other-id"})}, policy.Fail, "attached to nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := verdictOf(t, "CKV2_AWS_5", "alb", tc.plan)
			require.Equal(t, tc.status, got.Status, got.Reason)
			require.Equal(t, tc.reason, got.Reason)
		})
	}
}
