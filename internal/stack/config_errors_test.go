package stack_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// badConfigs each break one rule; the run must fail naming wantKey and register nothing.
var badConfigs = []struct {
	name    string
	stack   string
	edit    func(plan.Config) plan.Config
	wantKey string
}{
	{"typo in a key", "dev", func(c plan.Config) plan.Config { return c.With("azCuont", "2") }, "immutable-edge:azCuont"},
	{"typo in a nested key", "dev", func(c plan.Config) plan.Config { return c.Set("fleet.maxx", 1) }, "immutable-edge:fleet.maxx"},
	{"eip edge cannot scale out", "dev", func(c plan.Config) plan.Config { return c.Set("fleet.max", 2) }, "immutable-edge:fleet.max"},
	{"eip edge takes no scaling", "dev", func(c plan.Config) plan.Config { return c.With("scaling", map[string]any{"cpuPercent": 50}) }, "immutable-edge:scaling"},
	{"scaling with no range", "prod", func(c plan.Config) plan.Config {
		return c.Set("fleet.max", 2).With("scaling", map[string]any{"enabled": true})
	}, "immutable-edge:scaling"},
	{"scaling where the cpu alarm pages", "prod", func(c plan.Config) plan.Config { return c.Set("scaling.cpuPercent", 80) }, "immutable-edge:scaling.cpuPercent"},
	{"scaling requests below one", "prod", func(c plan.Config) plan.Config { return c.Set("scaling.requestsPerTarget", -5) }, "immutable-edge:scaling.requestsPerTarget"},
	{"at max past a day", "prod", func(c plan.Config) plan.Config { return c.Set("scaling.atMaxMinutes", 1441) }, "immutable-edge:scaling.atMaxMinutes"},
	{"typo in scaling", "prod", func(c plan.Config) plan.Config { return c.Set("scaling.cpuPercnt", 50) }, "immutable-edge:scaling.cpuPercnt"},
	{"unknown edge", "dev", func(c plan.Config) plan.Config { return c.With("edge", "nlb") }, "immutable-edge:edge"},
	{"missing edge", "dev", func(c plan.Config) plan.Config { return c.Without("edge") }, "immutable-edge:edge"},
	{"missing region", "dev", func(c plan.Config) plan.Config { return c.Without("aws:region") }, "aws:region"},
	{"malformed region", "dev", func(c plan.Config) plan.Config { return c.With("aws:region", "Frankfurt") }, "aws:region"},
	{"CIDR syntax", "prod", func(c plan.Config) plan.Config { return c.With("vpcCidr", "10.20.0.0/33") }, "immutable-edge:vpcCidr"},
	{"CIDR with host bits", "prod", func(c plan.Config) plan.Config { return c.With("vpcCidr", "10.20.1.0/16") }, "immutable-edge:vpcCidr"},
	{"CIDR too small for the subnets", "prod", func(c plan.Config) plan.Config { return c.With("vpcCidr", "10.20.0.0/26") }, "immutable-edge:vpcCidr"},
	{"public CIDR", "prod", func(c plan.Config) plan.Config { return c.With("vpcCidr", "8.8.0.0/16") }, "immutable-edge:vpcCidr"},
	{"azCount zero", "dev", func(c plan.Config) plan.Config { return c.With("azCount", "0") }, "immutable-edge:azCount"},
	{"azCount seven", "prod", func(c plan.Config) plan.Config { return c.With("azCount", "7") }, "immutable-edge:azCount"},
	{"azCount not a number", "prod", func(c plan.Config) plan.Config { return c.With("azCount", "two") }, "immutable-edge:azCount"},
	{"alb in one zone", "prod", func(c plan.Config) plan.Config { return c.With("azCount", "1") }, "immutable-edge:azCount"},
	{"min above desired", "prod", func(c plan.Config) plan.Config { return c.Set("fleet.min", 3) }, "immutable-edge:fleet.desired"},
	{"desired above max", "prod", func(c plan.Config) plan.Config { return c.Set("fleet.desired", 5) }, "immutable-edge:fleet.desired"},
	{"fleet max not a number", "prod", func(c plan.Config) plan.Config { return c.Set("fleet.max", "four") }, "immutable-edge:fleet.max"},
	{"unknown NAT layout", "prod", func(c plan.Config) plan.Config { return c.With("natGateways", "double") }, "immutable-edge:natGateways"},
	{"S3 endpoint as a word", "prod", func(c plan.Config) plan.Config { return c.With("s3Endpoint", "yes") }, "immutable-edge:s3Endpoint"},
	{"detailed monitoring as a number", "prod", func(c plan.Config) plan.Config { return c.With("detailedMonitoring", "1") }, "immutable-edge:detailedMonitoring"},
	{"private instances without NAT", "prod", func(c plan.Config) plan.Config { return c.With("natGateways", "none") }, "immutable-edge:natGateways"},
	{"eip instances in private subnets", "dev", func(c plan.Config) plan.Config {
		return c.With("instanceSubnets", "private").With("natGateways", "single")
	}, "immutable-edge:instanceSubnets"},
	{"cpu alarm above 100 percent", "dev", func(c plan.Config) plan.Config { return c.Set("alarms.cpuPercent", 120) }, "immutable-edge:alarms.cpuPercent"},
	{"5xx alarm at zero", "prod", func(c plan.Config) plan.Config { return c.Set("alarms.http5xxPercent", -1) }, "immutable-edge:alarms.http5xxPercent"},
	{"certificate alarm after renewal starts", "dev", func(c plan.Config) plan.Config { return c.Set("alarms.certificateDays", 30) }, "immutable-edge:alarms.certificateDays"},
	{"alarm minutes as text", "prod", func(c plan.Config) plan.Config { return c.Set("alarms.minutes", "five") }, "immutable-edge:alarms.minutes"},
	{"typo in an alarm key", "prod", func(c plan.Config) plan.Config { return c.Set("alarms.cpuPercnt", 70) }, "immutable-edge:alarms.cpuPercnt"},
	{"instance type shape", "dev", func(c plan.Config) plan.Config { return c.With("instanceType", "micro") }, "immutable-edge:instanceType"},
	{"x86 type for the arm64 image", "prod", func(c plan.Config) plan.Config { return c.With("instanceType", "t3.small") }, "immutable-edge:instanceType"},
	{"SSM parameter without a path", "dev", func(c plan.Config) plan.Config { return c.Set("image.parameter", "ami-id") }, "immutable-edge:image.parameter"},
	{"SSM parameter in the aws namespace", "dev", func(c plan.Config) plan.Config { return c.Set("image.parameter", "/aws/service/ami") }, "immutable-edge:image.parameter"},
	{"SSM parameter outside the project", "prod", func(c plan.Config) plan.Config { return c.Set("image.parameter", "/other/prod/ami-id") }, "immutable-edge:image.parameter"},
	{"keeping no image", "dev", func(c plan.Config) plan.Config { return c.Set("image.keep", 0) }, "immutable-edge:image.keep"},
	{"keeping too many images", "dev", func(c plan.Config) plan.Config { return c.Set("image.keep", 101) }, "immutable-edge:image.keep"},
	{"image.keep as text", "dev", func(c plan.Config) plan.Config { return c.Set("image.keep", "three") }, "immutable-edge:image.keep"},
	{"no services", "dev", func(c plan.Config) plan.Config { return c.With("services", []any{}) }, "immutable-edge:services"},
	{"service name not a DNS label", "dev", func(c plan.Config) plan.Config { return c.Set("services.0.name", "Web_1") }, "immutable-edge:services[0].name"},
	{"duplicate service names", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.1.name", "web").Set("services.1.image", "web:2.0.1")
	}, "immutable-edge:services[1].name"},
	{"duplicate ports", "dev", func(c plan.Config) plan.Config { return c.Set("services.1.port", 3000) }, "immutable-edge:services[1].port"},
	{"privileged port", "dev", func(c plan.Config) plan.Config { return c.Set("services.0.port", 80) }, "immutable-edge:services[0].port"},
	{"port taken by HAProxy", "prod", func(c plan.Config) plan.Config { return c.Set("services.0.port", config.ProxyPort) }, "immutable-edge:services[0].port"},
	{"image without tag", "dev", func(c plan.Config) plan.Config { return c.Set("services.0.image", "web") }, "immutable-edge:services[0].image"},
	{"image tagged latest", "dev", func(c plan.Config) plan.Config { return c.Set("services.0.image", "web:latest") }, "immutable-edge:services[0].image"},
	{"image from another registry", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.0.image", "docker.io/library/web:1.0")
	}, "immutable-edge:services[0].image"},
	{"image of another repository", "dev", func(c plan.Config) plan.Config { return c.Set("services.0.image", "api:1.0.0") }, "immutable-edge:services[0].image"},
	{"host outside the domain", "dev", func(c plan.Config) plan.Config { return c.Set("services.1.host", "api.example.org") }, "immutable-edge:services[1].host"},
	{"host not a DNS name", "dev", func(c plan.Config) plan.Config { return c.Set("services.1.host", "api dev.example.com") }, "immutable-edge:services[1].host"},
	{"health path without slash", "dev", func(c plan.Config) plan.Config { return c.Set("services.0.healthPath", "ready") }, "immutable-edge:services[0].healthPath"},
	{"same host and prefix twice", "dev", func(c plan.Config) plan.Config { return c.Set("services.1.host", "dev.example.com") }, "immutable-edge:services[1].host"},
	{"email syntax", "dev", func(c plan.Config) plan.Config { return c.With("alertEmail", "ops at example.com") }, "immutable-edge:alertEmail"},
	{"budget zero", "dev", func(c plan.Config) plan.Config { return c.With("monthlyBudgetUsd", "0") }, "immutable-edge:monthlyBudgetUsd"},
	{"waiver without reason", "dev", func(c plan.Config) plan.Config {
		return c.With("policyWaivers", []map[string]string{{"rule": "CKV_AWS_88", "reason": ""}})
	}, "immutable-edge:policyWaivers[0].reason"},
	{"waiver without rule", "dev", func(c plan.Config) plan.Config {
		return c.With("policyWaivers", []map[string]string{{"rule": "", "reason": "the node must hold the address"}})
	}, "immutable-edge:policyWaivers[0].rule"},
	{"hosted zone id shape", "dev", func(c plan.Config) plan.Config { return c.With("hostedZoneId", "example.com") }, "immutable-edge:hostedZoneId"},
	{"log retention not a CloudWatch period", "dev", func(c plan.Config) plan.Config { return c.With("logRetentionDays", "42") }, "immutable-edge:logRetentionDays"},
	{"pre-TLS 1.3 listener policy", "prod", func(c plan.Config) plan.Config { return c.Set("alb.sslPolicy", "ELBSecurityPolicy-2016-08") }, "immutable-edge:alb.sslPolicy"},
	{"TLS 1.3 policy that still allows TLS 1.1", "prod", func(c plan.Config) plan.Config {
		return c.Set("alb.sslPolicy", "ELBSecurityPolicy-TLS13-1-1-2021-06")
	}, "immutable-edge:alb.sslPolicy"},
	{"slow start too short", "prod", func(c plan.Config) plan.Config { return c.Set("alb.slowStartSeconds", 10) }, "immutable-edge:alb.slowStartSeconds"},
	{"idle timeout above the ALB maximum", "prod", func(c plan.Config) plan.Config { return c.Set("alb.idleTimeoutSeconds", 5000) }, "immutable-edge:alb.idleTimeoutSeconds"},
	{"SAN outside the domain", "prod", func(c plan.Config) plan.Config {
		return c.With("subjectAlternativeNames", []string{"www.example.org"})
	}, "immutable-edge:subjectAlternativeNames[0]"},
	{"wildcard SAN", "prod", func(c plan.Config) plan.Config {
		return c.With("subjectAlternativeNames", []string{"*.example.com"})
	}, "immutable-edge:subjectAlternativeNames[0]"},
	{"more names than ACM allows", "prod", func(c plan.Config) plan.Config {
		var names []string
		for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"} {
			names = append(names, n+".example.com")
		}
		return c.With("subjectAlternativeNames", names)
	}, "immutable-edge:subjectAlternativeNames"},
	{"boundary that is not a policy ARN", "dev", func(c plan.Config) plan.Config {
		return c.With("permissionsBoundary", "immutable-edge-dev-boundary")
	}, "immutable-edge:permissionsBoundary"},
	{"boundary as a role ARN", "prod", func(c plan.Config) plan.Config {
		return c.With("permissionsBoundary", "arn:aws:iam::123456789012:role/immutable-edge/deploy")
	}, "immutable-edge:permissionsBoundary"},
	{"protect as text", "prod", func(c plan.Config) plan.Config { return c.With("protect", "yes") }, "immutable-edge:protect"},
	{"healing after a negative time", "dev", func(c plan.Config) plan.Config {
		return c.With("healing", map[string]any{"unhealthyMinutes": -1})
	}, "immutable-edge:healing.unhealthyMinutes"},
	{"healing only after a person was paged long ago", "prod", func(c plan.Config) plan.Config {
		return c.With("healing", map[string]any{"unhealthyMinutes": 61})
	}, "immutable-edge:healing.unhealthyMinutes"},
	{"typo in a healing key", "dev", func(c plan.Config) plan.Config {
		return c.With("healing", map[string]any{"unhealthySeconds": 300})
	}, "immutable-edge:healing.unhealthySeconds"},
	{"secret outside the stack's SSM prefix", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.0.secrets", map[string]any{"API_TOKEN": map[string]any{"ssm": "/immutable-edge/prod/api-token"}})
	}, "immutable-edge:services[0].secrets.API_TOKEN.ssm"},
	{"secret outside the stack's Secrets Manager prefix", "prod", func(c plan.Config) plan.Config {
		return c.Set("services.1.secrets", map[string]any{"STRIPE": map[string]any{"secretsManager": "billing/stripe"}})
	}, "immutable-edge:services[1].secrets.STRIPE.secretsManager"},
	{"secret ARN in another region", "prod", func(c plan.Config) plan.Config {
		return c.Set("services.1.secrets", map[string]any{"STRIPE": map[string]any{
			"secretsManager": "arn:aws:secretsmanager:us-east-1:123456789012:secret:immutable-edge/prod/stripe-AbCdEf"}})
	}, "immutable-edge:services[1].secrets.STRIPE.secretsManager"},
	{"secret ARN in another account", "prod", func(c plan.Config) plan.Config {
		return c.Set("services.1.secrets", map[string]any{"STRIPE": map[string]any{
			"secretsManager": "arn:aws:secretsmanager:eu-central-1:999999999999:secret:immutable-edge/prod/stripe-AbCdEf"}})
	}, "immutable-edge:services[1].secrets.STRIPE.secretsManager"},
	{"secret with both sources", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.0.secrets", map[string]any{"T": map[string]any{"ssm": "/immutable-edge/dev/t", "secretsManager": "immutable-edge/dev/t"}})
	}, "immutable-edge:services[0].secrets.T"},
	{"secret with a typo in its source", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.0.secrets", map[string]any{"T": map[string]any{"smm": "/immutable-edge/dev/t"}})
	}, "immutable-edge:services[0].secrets.T.smm"},
	{"JSON key of an SSM parameter", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.0.secrets", map[string]any{"T": map[string]any{"ssm": "/immutable-edge/dev/t", "key": "password"}})
	}, "immutable-edge:services[0].secrets.T.key"},
	{"secret name that is no file name", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.0.secrets", map[string]any{"../etc": map[string]any{"ssm": "/immutable-edge/dev/t"}})
	}, "immutable-edge:services[0].secrets.../etc"},
	{"environment name with a space", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.0.environment", map[string]any{"LOG LEVEL": "info"})
	}, "immutable-edge:services[0].environment.LOG LEVEL"},
	{"environment value over two lines", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.0.environment", map[string]any{"GREETING": "hello\nworld"})
	}, "immutable-edge:services[0].environment.GREETING"},
	{"environment sets the port", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.0.environment", map[string]any{"PORT": "80"})
	}, "immutable-edge:services[0].environment.PORT"},
	{"a name both plain and secret", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.0.environment", map[string]any{"T": "x"}).Set("services.0.secrets", map[string]any{"T": map[string]any{"ssm": "/immutable-edge/dev/t"}})
	}, "immutable-edge:services[0].secrets.T"},
	{"worker with a host", "dev", func(c plan.Config) plan.Config { return c.Set("services.1.port", 0) }, "immutable-edge:services[1].host"},
	{"web service without a host", "dev", func(c plan.Config) plan.Config { return c.Set("services.1.host", "") }, "immutable-edge:services[1].host"},
	{"worker with a health path", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.1.port", 0).Set("services.1.host", "")
	}, "immutable-edge:services[1].healthPath"},
	{"health command on a web service", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.1.healthCommand", []any{"/bin/true"})
	}, "immutable-edge:services[1].healthCommand"},
	{"only workers", "dev", func(c plan.Config) plan.Config {
		return c.With("services", []any{map[string]any{"name": "worker", "image": "worker:1.0.0"}})
	}, "immutable-edge:services"},
	{"a schedule that does not parse", "voting", func(c plan.Config) plan.Config { return c.Set("jobs.0.schedule", "0 25 * * *") }, "immutable-edge:jobs[0].schedule"},
	{"a schedule that never fires", "voting", func(c plan.Config) plan.Config { return c.Set("jobs.0.schedule", "0 0 31 2 *") }, "immutable-edge:jobs[0].schedule"},
	{"@reboot", "voting", func(c plan.Config) plan.Config { return c.Set("jobs.0.schedule", "@reboot") }, "immutable-edge:jobs[0].schedule"},
	{"a job named like a service", "voting", func(c plan.Config) plan.Config { return c.Set("jobs.0.name", "worker") }, "immutable-edge:jobs[0].name"},
	{"a job running another stack's image", "voting", func(c plan.Config) plan.Config { return c.Set("jobs.0.image", "other:1.0.0") }, "immutable-edge:jobs[0].image"},
	{"a job's timeout over a day", "voting", func(c plan.Config) plan.Config { return c.Set("jobs.0.timeoutMinutes", 1441) }, "immutable-edge:jobs[0].timeoutMinutes"},
	{"a job's secret outside the prefix", "voting", func(c plan.Config) plan.Config {
		return c.Set("jobs.0.secrets", map[string]any{"DATABASE_URL": map[string]any{"ssm": "/immutable-edge/prod/database-url"}})
	}, "immutable-edge:jobs[0].secrets.DATABASE_URL.ssm"},
	{"a database in a stack with one zone", "voting", func(c plan.Config) plan.Config { return c.With("azCount", 1) }, "immutable-edge:database"},
	{"a database secret without a database", "dev", func(c plan.Config) plan.Config {
		return c.Set("services.0.secrets", map[string]any{"DATABASE_URL": map[string]any{"database": "url"}})
	}, "immutable-edge:services[0].secrets.DATABASE_URL.database"},
	{"a database secret that is neither url nor password", "voting", func(c plan.Config) plan.Config {
		return c.Set("services.1.secrets.DATABASE_URL", map[string]any{"database": "host"})
	}, "immutable-edge:services[1].secrets.DATABASE_URL.database"},
	{"two sources for one secret", "voting", func(c plan.Config) plan.Config {
		return c.Set("services.1.secrets.DATABASE_URL", map[string]any{"database": "url", "ssm": "/immutable-edge/voting/x"})
	}, "immutable-edge:services[1].secrets.DATABASE_URL"},
	{"a PostgreSQL version RDS does not run", "voting", func(c plan.Config) plan.Config { return c.Set("database.version", "9.6") }, "immutable-edge:database.version"},
	{"a reserved master user", "voting", func(c plan.Config) plan.Config { return c.Set("database.username", "rdsadmin") }, "immutable-edge:database.username"},
	{"storage under gp3's minimum", "voting", func(c plan.Config) plan.Config { return c.Set("database.storageGb", 10) }, "immutable-edge:database.storageGb"},
	{"backups off", "voting", func(c plan.Config) plan.Config { return c.Set("database.backupDays", 36) }, "immutable-edge:database.backupDays"},
	{"a cache replica with one zone", "voting", func(c plan.Config) plan.Config {
		return c.Set("cache.nodes", 2).With("azCount", 1).With("database", nil)
	}, "immutable-edge:cache.nodes"},
	{"a cache engine version without TLS and tokens", "voting", func(c plan.Config) plan.Config { return c.Set("cache.version", "5.0") }, "immutable-edge:cache.version"},
	{"an unknown database key", "voting", func(c plan.Config) plan.Config { return c.Set("database.password", "hunter2") }, "immutable-edge:database.password"},
	{"Stack tag of another stack", "dev", func(c plan.Config) plan.Config {
		return c.With("aws:defaultTags", map[string]any{"tags": map[string]string{"Stack": "prod"}})
	}, "aws:defaultTags"},
}

func TestBadConfigRegistersNothing(t *testing.T) {
	for _, tc := range badConfigs {
		t.Run(tc.name, func(t *testing.T) {
			base, err := plan.StackConfig(tc.stack)
			require.NoError(t, err)
			p, err := plan.RunConfig(tc.stack, tc.edit(base), nil)
			require.Error(t, err)
			require.Contains(t, config.ErrorKeys(err), tc.wantKey, "error: %v", err)
			require.Contains(t, err.Error(), tc.wantKey+": ", "the message names the key")
			require.Empty(t, p.Resources, "a bad config must fail before any resource is registered")
		})
	}
}

func TestBadConfigReportsEveryKeyAtOnce(t *testing.T) {
	base, err := plan.StackConfig("dev")
	require.NoError(t, err)
	// What a new user might write: a typo'd key and a second node on the eip edge.
	cfg := base.With("instanceTyp", "t4g.small").Set("fleet.max", 2).Set("services.0.port", 80)
	_, err = plan.RunConfig("dev", cfg, nil)
	require.ElementsMatch(t, []string{
		"immutable-edge:instanceTyp", "immutable-edge:fleet.max", "immutable-edge:services[0].port",
	}, config.ErrorKeys(err))
	require.Contains(t, err.Error(), "did you mean instanceType?")
}

func TestStackNameTooLongForBucketNames(t *testing.T) {
	base, err := plan.StackConfig("dev")
	require.NoError(t, err)
	cfg := base.With("aws:defaultTags", map[string]any{"tags": map[string]string{"Owner": "o", "CostCenter": "c"}}).
		Set("image.parameter", "/immutable-edge/feature-login-redesign/ami-id")
	p, err := plan.RunConfig("feature-login-redesign", cfg, nil)
	require.Equal(t, []string{"stack"}, config.ErrorKeys(err))
	require.ErrorContains(t, err, "immutable-edge-feature-login-redesign")
	require.Empty(t, p.Resources)
}

func TestBoundaryFromAnotherAccount(t *testing.T) {
	base, err := plan.StackConfig("dev")
	require.NoError(t, err)
	p, err := plan.RunConfig("dev", base.With("permissionsBoundary", "arn:aws:iam::210987654321:policy/immutable-edge/immutable-edge-dev-boundary"), nil)
	require.ErrorContains(t, err, "immutable-edge:permissionsBoundary arn:aws:iam::210987654321:")
	require.ErrorContains(t, err, "another account than "+plan.Account)
	require.Empty(t, p.Resources)
}

func TestZonesTheRegionDoesNotHave(t *testing.T) {
	cfg, err := plan.StackConfig("prod")
	require.NoError(t, err)
	env := &plan.Environment{Region: "eu-central-1", Zones: []string{"eu-central-1a", "eu-central-1b"},
		Parameters: map[string]string{"/immutable-edge/prod/ami-id": plan.DefaultAMI}}
	p, err := plan.RunConfig("prod", cfg, env)
	require.Equal(t, []string{"immutable-edge:azCount"}, config.ErrorKeys(err))
	require.Empty(t, p.Resources)
}

func TestMissingAMIParameterFailsBeforeResources(t *testing.T) {
	cfg, err := plan.StackConfig("prod")
	require.NoError(t, err)
	env := &plan.Environment{Region: "eu-central-1", Zones: []string{"eu-central-1a", "eu-central-1b", "eu-central-1c"},
		Parameters: map[string]string{"/immutable-edge/prod/ami-id": plan.DefaultAMI}}
	p, err := plan.RunConfig("prod", cfg.Set("image.parameter", "/immutable-edge/nowhere/ami-id"), env)
	require.ErrorContains(t, err, "/immutable-edge/nowhere/ami-id")
	require.Empty(t, p.Resources)
}

// TestFirstProdDeployNamesTheParameterAndThePromotion: before any image was promoted, prod's
// up stops before it creates anything, with one message that says what to run.
func TestFirstProdDeployNamesTheParameterAndThePromotion(t *testing.T) {
	cfg, err := plan.StackConfig("prod")
	require.NoError(t, err)
	env := &plan.Environment{Region: "eu-central-1", Zones: []string{"eu-central-1a", "eu-central-1b", "eu-central-1c"}}
	p, err := plan.RunConfig("prod", cfg, env)
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, "immutable-edge:image.parameter /immutable-edge/prod/ami-id does not exist yet")
	require.Contains(t, msg, "images/promote.sh dev prod")
	require.Equal(t, 1, strings.Count(msg, "immutable-edge:image.parameter"), "one message")
	require.Empty(t, p.Resources, "nothing is created")
}
