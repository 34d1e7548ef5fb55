package stack_test

import (
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/components/image"
	"github.com/immutable-edge/immutable-edge/components/rollout"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

// Type tokens the assertions refer to.
const (
	tLaunchTemplate = "aws:ec2/launchTemplate:LaunchTemplate"
	tGroup          = "aws:autoscaling/group:Group"
	tScalingPolicy  = "aws:autoscaling/policy:Policy"
	tIngress        = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	tEgress         = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	tSecurityGroup  = "aws:ec2/securityGroup:SecurityGroup"
	tSubnet         = "aws:ec2/subnet:Subnet"
	tRoute          = "aws:ec2/route:Route"
	tNAT            = "aws:ec2/natGateway:NatGateway"
	tEndpoint       = "aws:ec2/vpcEndpoint:VpcEndpoint"
	tRolePolicy     = "aws:iam/rolePolicy:RolePolicy"
	tRole           = "aws:iam/role:Role"
	tRepository     = "aws:ecr/repository:Repository"
	tEIP            = "aws:ec2/eip:Eip"
	tLoadBalancer   = "aws:lb/loadBalancer:LoadBalancer"
	tListener       = "aws:lb/listener:Listener"
	tTargetGroup    = "aws:lb/targetGroup:TargetGroup"
	tCertificate    = "aws:acm/certificate:Certificate"
	tRecord         = "aws:route53/record:Record"
	tBucket         = "aws:s3/bucketV2:BucketV2"
	tBucketPolicy   = "aws:s3/bucketPolicy:BucketPolicy"

	tPublicAccessBlock = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	tOwnership         = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	tEncryption        = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	tVersioning        = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	tLifecycle         = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"

	tKey         = "aws:kms/key:Key"
	tTopic       = "aws:sns/topic:Topic"
	tBudget      = "aws:budgets/budget:Budget"
	tAlarm       = "aws:cloudwatch/metricAlarm:MetricAlarm"
	tEventRule   = "aws:cloudwatch/eventRule:EventRule"
	tEventTarget = "aws:cloudwatch/eventTarget:EventTarget"
	tDashboard   = "aws:cloudwatch/dashboard:Dashboard"
	tHealthCheck = "aws:route53/healthCheck:HealthCheck"
)

var stacks = []string{"dev", "prod"}

// planned caches one plan per stack: the plans are read-only and every test reads them.
var planned = struct {
	sync.Mutex
	m map[string]*plan.Plan
}{m: map[string]*plan.Plan{}}

func stackPlan(t *testing.T, name string) *plan.Plan {
	t.Helper()
	planned.Lock()
	defer planned.Unlock()
	if p, ok := planned.m[name]; ok {
		return p
	}
	p, err := plan.Run(name, "")
	require.NoError(t, err)
	planned.m[name] = p
	return p
}

// one returns the only resource of a type.
func one(t *testing.T, p *plan.Plan, token string) plan.Resource {
	t.Helper()
	rs := p.OfType(token)
	require.Len(t, rs, 1, "%s: want exactly one %s", p.Stack, token)
	return rs[0]
}

// owners maps each AWS resource type to the component types that may parent it.
var owners = map[string][]string{}

func init() {
	for component, types := range map[string][]string{
		"immutable-edge:network:Network": {"aws:ec2/vpc:Vpc", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
			"aws:ec2/internetGateway:InternetGateway", "aws:ec2/routeTable:RouteTable", "aws:ec2/routeTableAssociation:RouteTableAssociation",
			tRoute, tSubnet, tEIP, tNAT, tEndpoint, "aws:ec2/flowLog:FlowLog", "aws:cloudwatch/logGroup:LogGroup", tRole, tRolePolicy},
		"immutable-edge:security:Groups":           {tSecurityGroup, tIngress, tEgress},
		"immutable-edge:registry:Registry":         {tRepository, "aws:ecr/lifecyclePolicy:LifecyclePolicy"},
		"immutable-edge:identity:InstanceIdentity": {tRole, tRolePolicy, "aws:iam/instanceProfile:InstanceProfile", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"},
		"immutable-edge:fleet:Fleet":               {tLaunchTemplate, tGroup, tScalingPolicy},
		"immutable-edge:image:GoldenImage":         {"command:local:Command", "aws:ssm/parameter:Parameter"},
		"immutable-edge:edge:ALB": {tLoadBalancer, tListener, tTargetGroup, tCertificate, "aws:acm/certificateValidation:CertificateValidation",
			tRecord, tBucket, tBucketPolicy, tPublicAccessBlock, tOwnership, tEncryption, tVersioning, tLifecycle},
		"immutable-edge:edge:EIP": {tEIP, tRecord, tBucket, tBucketPolicy, tPublicAccessBlock, tOwnership, tEncryption, tVersioning, tLifecycle},
		"immutable-edge:observability:Alerts": {tKey, "aws:kms/alias:Alias", tTopic, "aws:sns/topicPolicy:TopicPolicy",
			"aws:sns/topicSubscription:TopicSubscription", tBudget, "aws:cloudwatch/logGroup:LogGroup"},
		"immutable-edge:observability:Monitor": {tAlarm, tEventRule, tEventTarget, tDashboard, tHealthCheck, tRole, tRolePolicy,
			"pulumi:providers:aws"},
		"immutable-edge:rollout:Rollout": {"command:local:Command"},
	} {
		for _, typ := range types {
			owners[typ] = append(owners[typ], component)
		}
	}
}

// findAlarm is the planned alarm of a name.
func findAlarm(p *plan.Plan, name string) (plan.Resource, bool) {
	for _, a := range p.OfType(tAlarm) {
		if a.Str("name") == name {
			return a, true
		}
	}
	return plan.Resource{}, false
}

func TestEveryResourceHasItsComponentAsParent(t *testing.T) {
	for _, s := range stacks {
		p := stackPlan(t, s)
		for _, r := range p.Resources {
			if !r.Custom {
				require.Truef(t, strings.HasSuffix(r.Parent, "::"+p.Project+"-"+s), "%s %s: components sit under the stack", s, r.Name)
				continue
			}
			parent, ok := p.ByURN(r.Parent)
			require.Truef(t, ok, "%s %s %s: parent %q is not a registered component", s, r.Type, r.Name, r.Parent)
			require.Containsf(t, owners[r.Type], parent.Type, "%s %s %s: parented by %s", s, r.Type, r.Name, parent.Type)
			require.Truef(t, strings.HasPrefix(r.Name, s+"-"), "%s %s: child names derive from the component name", s, r.Name)
		}
	}
}

func TestLaunchTemplateIsHardened(t *testing.T) {
	for _, s := range stacks {
		lt := one(t, stackPlan(t, s), tLaunchTemplate)
		want := map[string]string{"dev": plan.BuiltAMI, "prod": plan.DefaultAMI}[s] // dev builds, prod reads its parameter
		require.Equal(t, want, lt.Str("imageId"), "%s: the AMI id is known at deploy time, so previews show it", s)
		require.Equal(t, "required", lt.Str("metadataOptions.httpTokens"), "%s: IMDSv2 must be required", s)
		require.Equal(t, 1.0, lt.Get("metadataOptions.httpPutResponseHopLimit").NumberValue(), "%s: containers must not reach IMDS", s)
		// The golden image's root device (Debian's AMIs, images/golden.pkr.hcl): another name would
		// attach a second, empty volume and leave the root at the image's size.
		require.Equal(t, "/dev/xvda", lt.Str("blockDeviceMappings.0.deviceName"), s)
		require.Equal(t, "gp3", lt.Str("blockDeviceMappings.0.ebs.volumeType"), s)
		require.Equal(t, "true", lt.Str("blockDeviceMappings.0.ebs.encrypted"), "%s: root volume encrypted", s)
		require.Equal(t, "true", lt.Str("blockDeviceMappings.0.ebs.deleteOnTermination"), s)
		require.True(t, lt.Get("monitoring.enabled").BoolValue(), "%s: detailed monitoring", s)
		require.NotEmpty(t, lt.Str("iamInstanceProfile.arn"), "%s: instance profile", s)
		require.Empty(t, lt.Str("keyName"), "%s: no SSH key", s)
		ud, err := base64.StdEncoding.DecodeString(lt.Str("userData"))
		require.NoError(t, err, "%s: user-data is base64", s)
		require.True(t, strings.HasPrefix(string(ud), "#cloud-config\n"), "%s: user-data is a cloud-config", s)
		require.Less(t, len(ud), 16*1024, s)
		var kinds []string
		for _, spec := range lt.Get("tagSpecifications").ArrayValue() {
			kinds = append(kinds, spec.ObjectValue()["resourceType"].StringValue())
		}
		require.ElementsMatch(t, []string{"instance", "volume", "network-interface"}, kinds, s)
	}
}

func TestAutoScalingGroupRollsOutSafely(t *testing.T) {
	for _, s := range stacks {
		p := stackPlan(t, s)
		asg, lt := one(t, p, tGroup), one(t, p, tLaunchTemplate)
		require.Equal(t, lt.ID, asg.Str("launchTemplate.id"), s)
		require.Equal(t, "1", asg.Str("launchTemplate.version"), "%s: pinned to latestVersion, never $Latest", s)
		require.True(t, asg.Get("instanceRefresh").IsNull(), "%s: the provider's refresh would set the new version before refreshing", s)
		require.Contains(t, asg.IgnoreChanges, "launchTemplate", "%s: after creation only the rollout moves the group's template", s)
		roll, ok := p.Find("command:local:Command", s+"-refresh")
		require.True(t, ok, s)
		env := func(k string) string { return roll.Str("environment." + k) }
		require.Equal(t, lt.ID, env("ROLLOUT_TEMPLATE_ID"), s)
		require.Equal(t, "1", env("ROLLOUT_TEMPLATE_VERSION"), "%s: the template's latestVersion: each new version is an update of the rollout", s)
		require.Equal(t, "100", env("ROLLOUT_MIN_HEALTHY"), s)
		require.Equal(t, "200", env("ROLLOUT_MAX_HEALTHY"), s)
		require.Equal(t, rollout.Command, roll.Str("create"), s)
		require.Equal(t, rollout.Command, roll.Str("update"), s)
		require.True(t, roll.Get("dir").IsNull(), "%s: no checkout path in the state", s)
		require.Contains(t, roll.DependsOn, asg.URN, "%s: the rollout follows the group", s)
		alarms := strings.Split(env("ROLLOUT_ALARMS"), ",")
		for _, a := range alarms {
			alarm, ok := findAlarm(p, a)
			require.True(t, ok, "%s: rollback alarm %s is planned", s, a)
			require.Contains(t, roll.DependsOn, alarm.URN, "%s: the alarm exists before the refresh names it", s)
		}
		wantAlarms := map[string][]string{"dev": {"http-5xx", "service-down"}, "prod": {"http-5xx", "service-down", "alb-5xx", "target-5xx", "unhealthy-hosts"}}[s]
		for i, w := range wantAlarms {
			wantAlarms[i] = "immutable-edge-" + s + "-" + w
		}
		require.Equal(t, wantAlarms, alarms, "%s: 5xx, edge health and unhealthy hosts roll a refresh back", s)
		require.Equal(t, "300", env("ROLLOUT_BAKE"), "%s: the refresh bakes as long as the alarms take to fire", s)
		require.Positive(t, asg.Get("defaultInstanceWarmup").NumberValue(), s)
		require.Equal(t, 100.0, asg.Get("instanceMaintenancePolicy.minHealthyPercentage").NumberValue(), "%s: health replacements launch first", s)
		require.Equal(t, 200.0, asg.Get("instanceMaintenancePolicy.maxHealthyPercentage").NumberValue(), s)
		hook := asg.Get("initialLifecycleHooks.0").ObjectValue()
		require.Equal(t, config.LaunchHook, hook["name"].StringValue(), s)
		require.Equal(t, "autoscaling:EC2_INSTANCE_LAUNCHING", hook["lifecycleTransition"].StringValue(), s)
		require.Equal(t, "ABANDON", hook["defaultResult"].StringValue(), "%s: an instance that never reports ready is not put in service", s)
		require.GreaterOrEqual(t, asg.Get("maxSize").NumberValue(), 2*asg.Get("desiredCapacity").NumberValue(),
			"%s: max healthy 200%% needs twice the desired capacity within MaxSize", s)
	}
	dev, prod := one(t, stackPlan(t, "dev"), tGroup), one(t, stackPlan(t, "prod"), tGroup)
	require.Equal(t, []float64{1, 1, 2}, []float64{dev.Get("minSize").NumberValue(), dev.Get("desiredCapacity").NumberValue(), dev.Get("maxSize").NumberValue()})
	require.Equal(t, []float64{2, 2, 4}, []float64{prod.Get("minSize").NumberValue(), prod.Get("desiredCapacity").NumberValue(), prod.Get("maxSize").NumberValue()})
}

func TestInstancesRunInTheSubnetsOfTheirMode(t *testing.T) {
	for _, tc := range []struct {
		stack, kind, publicIP string
		zones                 int
	}{
		{"dev", "public", "true", 2},
		{"prod", "private", "false", 3},
	} {
		p := stackPlan(t, tc.stack)
		var want []string
		for _, sn := range p.OfType(tSubnet) {
			require.False(t, sn.Get("mapPublicIpOnLaunch").BoolValue(), "%s %s: no automatic public IPs", tc.stack, sn.Name)
			if strings.HasPrefix(sn.Name, tc.stack+"-"+tc.kind+"-") {
				want = append(want, sn.Name+"-id")
			}
		}
		require.Len(t, want, tc.zones, tc.stack)
		require.Equal(t, want, one(t, p, tGroup).Strings("vpcZoneIdentifiers"), "%s: instances in %s subnets", tc.stack, tc.kind)
		require.Equal(t, tc.publicIP, one(t, p, tLaunchTemplate).Str("networkInterfaces.0.associatePublicIpAddress"), tc.stack)
	}
}

func TestNATLayouts(t *testing.T) {
	dev := stackPlan(t, "dev")
	require.Empty(t, dev.OfType(tNAT), "dev runs without NAT")
	for _, r := range dev.OfType(tRoute) {
		require.Empty(t, r.Str("natGatewayId"), "dev: %s", r.Name)
	}
	prod := stackPlan(t, "prod")
	nat := one(t, prod, tNAT)
	require.Equal(t, "prod-public-eu-central-1a-id", nat.Str("subnetId"), "the single NAT sits in the first public subnet")
	privateRoutes := 0
	for _, r := range prod.OfType(tRoute) {
		if strings.HasPrefix(r.Name, "prod-private-") {
			privateRoutes++
			require.Equal(t, nat.Name+"-id", r.Str("natGatewayId"), r.Name)
		}
	}
	require.Equal(t, 3, privateRoutes)

	cfg, err := plan.StackConfig("prod")
	require.NoError(t, err)
	perAZ, err := plan.RunConfig("prod", cfg.With("natGateways", config.NATPerAZ), nil)
	require.NoError(t, err)
	require.Len(t, perAZ.OfType(tNAT), 3)
	for _, r := range perAZ.OfType(tRoute) {
		if zone, ok := strings.CutPrefix(r.Name, "prod-private-"); ok {
			zone = strings.TrimSuffix(zone, "-default")
			require.Equal(t, "prod-nat-"+zone+"-id", r.Str("natGatewayId"), "perAz: each zone uses its own NAT")
		}
	}
}

func TestS3EndpointTakesThePrivateRouteTables(t *testing.T) {
	prod := stackPlan(t, "prod")
	ep := one(t, prod, tEndpoint)
	require.Equal(t, "com.amazonaws.eu-central-1.s3", ep.Str("serviceName"))
	require.Equal(t, "Gateway", ep.Str("vpcEndpointType"), "gateway endpoints are free; interface endpoints bill by the hour")
	require.Equal(t, one(t, prod, "aws:ec2/vpc:Vpc").ID, ep.Str("vpcId"))
	var private []string
	for _, rt := range prod.OfType("aws:ec2/routeTable:RouteTable") {
		if strings.HasPrefix(rt.Name, "prod-private-") {
			private = append(private, rt.ID)
		}
	}
	require.Len(t, private, 3)
	require.Equal(t, private, ep.Strings("routeTableIds"), "every private route table, in zone order, and no public one")

	require.Empty(t, stackPlan(t, "dev").OfType(tEndpoint), "dev has no NAT gateway to save on: off by default")
	cfg, err := plan.StackConfig("prod")
	require.NoError(t, err)
	off, err := plan.RunConfig("prod", cfg.With("s3Endpoint", false), nil)
	require.NoError(t, err)
	require.Empty(t, off.OfType(tEndpoint))
	dev, err := plan.StackConfig("dev")
	require.NoError(t, err)
	on, err := plan.RunConfig("dev", dev.With("s3Endpoint", true), nil)
	require.NoError(t, err)
	require.Len(t, on.OfType(tEndpoint), 1, "the config decides, whatever the NAT layout")
}

func TestDetailedMonitoringIsAWaivableChoice(t *testing.T) {
	cfg, err := plan.StackConfig("prod")
	require.NoError(t, err)
	for _, tc := range []struct {
		on     bool
		period float64
		rule   string // CKV_AWS_126's verdict
		extra  []map[string]string
	}{
		{true, 60, policy.Pass, nil},
		{false, 300, policy.Fail, nil},
		{false, 300, policy.Waived, []map[string]string{{"rule": "CKV_AWS_126", "reason": "Five-minute EC2 metrics are enough for this site."}}},
	} {
		c := cfg.With("detailedMonitoring", tc.on)
		if tc.extra != nil {
			var waivers []map[string]string
			require.NoError(t, json.Unmarshal([]byte(c["immutable-edge:policyWaivers"]), &waivers))
			c = c.With("policyWaivers", append(waivers, tc.extra...))
		}
		p, err := plan.RunConfig("prod", c, nil)
		require.NoError(t, err)
		require.Equal(t, tc.on, one(t, p, tLaunchTemplate).Bool("monitoring.enabled"))
		cpu, ok := p.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "prod-cpu")
		require.True(t, ok)
		require.Equal(t, tc.period, cpu.Num("period"), "detailed=%v: the cpu alarm follows EC2's reporting interval", tc.on)
		_, results, err := policy.EvaluatePlan(p)
		require.NoError(t, err)
		for _, r := range results {
			if r.Rule == "CKV_AWS_126" {
				require.Equal(t, tc.rule, r.Status, "detailed=%v waived=%v", tc.on, tc.extra != nil)
			}
		}
	}
}

func TestNetworkBasics(t *testing.T) {
	for _, s := range stacks {
		p := stackPlan(t, s)
		vpc := one(t, p, "aws:ec2/vpc:Vpc")
		require.True(t, vpc.Get("enableDnsHostnames").BoolValue(), s)
		dsg := one(t, p, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
		require.True(t, dsg.Get("ingress").IsNull() || len(dsg.Get("ingress").ArrayValue()) == 0, "%s: default SG has no rules", s)
		require.True(t, dsg.Get("egress").IsNull() || len(dsg.Get("egress").ArrayValue()) == 0, "%s: default SG has no rules", s)
		fl := one(t, p, "aws:ec2/flowLog:FlowLog")
		require.Equal(t, "ALL", fl.Str("trafficType"), s)
		group, ok := p.Find("aws:cloudwatch/logGroup:LogGroup", s+"-flow-logs")
		require.True(t, ok, s)
		require.Equal(t, map[string]float64{"dev": 30, "prod": 365}[s], group.Get("retentionInDays").NumberValue(), s)
		require.Contains(t, group.Str("kmsKeyId"), ":key/", "%s: flow logs are encrypted with the stack key", s)
		require.Equal(t, one(t, p, tTopic).Str("kmsMasterKeyId"), group.Str("kmsKeyId"), s)
		require.Contains(t, fl.Str("logDestination"), "log-group:/immutable-edge/"+s+"/flow-logs-", s)
	}
}

func TestImageBuildFollowsTheConfig(t *testing.T) {
	dev := stackPlan(t, "dev")
	build, ok := dev.Find("command:local:Command", "dev-build")
	require.True(t, ok, "dev builds its image")
	root, err := plan.Root()
	require.NoError(t, err)
	want, err := image.ContentHash(filepath.Join(root, "images"))
	require.NoError(t, err)
	require.Equal(t, want, build.Str("environment.CONTENT_HASH"), "the build re-runs exactly when images/ changes")
	require.Equal(t, "images/build.sh", build.Str("create"), "relative to the project directory pulumi runs from")
	require.True(t, build.Get("dir").IsNull())
	subnet, ok := dev.Find(tSubnet, "dev-public-"+dev.Config["aws:region"]+"a")
	require.True(t, ok)
	require.Equal(t, subnet.ID, build.Str("environment.SUBNET_ID"), "Packer builds in the stack's first public subnet, not a default VPC")
	prune, ok := dev.Find("command:local:Command", "dev-retention")
	require.True(t, ok)
	require.Equal(t, "3", prune.Str("environment.KEEP"), "image.keep's default")
	param := one(t, dev, "aws:ssm/parameter:Parameter")
	require.Equal(t, "/immutable-edge/dev/ami-id", param.Str("name"))
	require.Equal(t, "aws:ec2:image", param.Str("dataType"))
	require.Equal(t, param.Str("insecureValue"), one(t, dev, tLaunchTemplate).Str("imageId"), "the launch template follows the parameter")

	prod := stackPlan(t, "prod")
	_, built := prod.Find("command:local:Command", "prod-build")
	require.False(t, built, "image.build false: nothing is built")
	require.Empty(t, prod.OfType("aws:ssm/parameter:Parameter"), "and the parameter is only read")
}
