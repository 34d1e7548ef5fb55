package stack_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/components/edge"
	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// childrenOf returns the resources of a type under the component of a type.
func childrenOf(p *plan.Plan, componentType, token string) []plan.Resource {
	var out []plan.Resource
	for _, r := range p.OfType(token) {
		if parent, ok := p.ByURN(r.Parent); ok && parent.Type == componentType {
			out = append(out, r)
		}
	}
	return out
}

func TestProdLoadBalancerIsHardened(t *testing.T) {
	p := stackPlan(t, "prod")
	alb := one(t, p, tLoadBalancer)
	require.Equal(t, "application", alb.Str("loadBalancerType"))
	require.False(t, alb.Get("internal").BoolValue(), "internet-facing")
	require.True(t, alb.Get("dropInvalidHeaderFields").BoolValue())
	require.Contains(t, []string{"defensive", "strictest"}, alb.Str("desyncMitigationMode"))
	require.Equal(t, "append", alb.Str("xffHeaderProcessingMode"), "HAProxy trusts the last X-Forwarded-For entry, the one the ALB appends")
	require.True(t, alb.Get("enableDeletionProtection").BoolValue(), "prod keeps deletion protection on")
	require.Equal(t, 60.0, alb.Get("idleTimeout").NumberValue())
	require.Equal(t, []string{"prod-edge-id"}, alb.Strings("securityGroups"), "the ALB has its own group")
	require.Len(t, alb.Strings("subnets"), 3)
	for _, sn := range alb.Strings("subnets") {
		require.Contains(t, sn, "prod-public-", "the ALB sits in the public subnets")
	}

	one(t, p, tBucket)
	require.True(t, alb.Get("accessLogs.enabled").BoolValue())
	require.Equal(t, "immutable-edge-prod-alb-logs-20261123000000000001", alb.Str("accessLogs.bucket"), "bucket names start with project-stack, which the deploy role is scoped to")
	require.Equal(t, "alb", alb.Str("accessLogs.prefix"))
	policy := one(t, p, tBucketPolicy)
	require.Contains(t, alb.DependsOn, policy.URN, "the ALB waits for the log bucket policy")
	doc, err := iampolicy.Parse(policy.Str("policy"))
	require.NoError(t, err)
	delivery := statement(t, doc, "ALBAccessLogs")
	require.Equal(t, "logdelivery.elasticloadbalancing.amazonaws.com", delivery.Principal["Service"])
	require.Equal(t, []string{"s3:PutObject"}, delivery.Action)
	require.Equal(t, []string{"arn:aws:s3:::" + alb.Str("accessLogs.bucket") + "/alb/AWSLogs/" + plan.Account + "/*"}, delivery.Resource,
		"log delivery may write only under the stack's prefix")
	regional := statement(t, doc, "ALBAccessLogsRegionalAccount")
	require.Equal(t, "arn:aws:iam::054676820928:root", regional.Principal["AWS"], "eu-central-1 predates August 2022: its ELB account delivers the logs")
	require.Equal(t, delivery.Resource, regional.Resource)
	requireTLSOnly(t, doc)
	requireHardenedBucket(t, p, "AES256", 90) // ALB logs accept only SSE-S3
}

// TestAccessLogsInANewerRegion: a region opened after August 2022 has no ELB account; only the
// log-delivery service principal is granted.
func TestAccessLogsInANewerRegion(t *testing.T) {
	cfg, err := plan.ReadConfigFile("../../Pulumi.prod.yaml")
	require.NoError(t, err)
	cfg["aws:region"] = "ca-west-1"
	p, err := plan.RunConfig("prod", cfg, nil)
	require.NoError(t, err)
	doc, err := iampolicy.Parse(one(t, p, tBucketPolicy).Str("policy"))
	require.NoError(t, err)
	require.Equal(t, "logdelivery.elasticloadbalancing.amazonaws.com", statement(t, doc, "ALBAccessLogs").Principal["Service"])
	for _, st := range doc.Statement {
		require.NotEqual(t, "ALBAccessLogsRegionalAccount", st.Sid, "ca-west-1 has no ELB account")
	}
}

func TestProdListenersRedirectAndTerminateTLS13(t *testing.T) {
	p := stackPlan(t, "prod")
	byPort := map[float64]plan.Resource{}
	for _, l := range p.OfType(tListener) {
		byPort[l.Get("port").NumberValue()] = l
	}
	require.Len(t, byPort, 2)
	http := byPort[80]
	require.Equal(t, "HTTP", http.Str("protocol"))
	require.Equal(t, "redirect", http.Str("defaultActions.0.type"))
	require.Equal(t, "HTTPS", http.Str("defaultActions.0.redirect.protocol"))
	require.Equal(t, "443", http.Str("defaultActions.0.redirect.port"))
	require.Equal(t, "HTTP_301", http.Str("defaultActions.0.redirect.statusCode"))

	https := byPort[443]
	tg := one(t, p, tTargetGroup)
	require.Equal(t, "HTTPS", https.Str("protocol"))
	require.Equal(t, config.DefaultSSLPolicy, https.Str("sslPolicy"), "an explicit TLS 1.3 policy, never the 2016 default")
	require.Equal(t, edge.HSTS, https.Str("routingHttpResponseStrictTransportSecurityHeaderValue"))
	require.Equal(t, "forward", https.Str("defaultActions.0.type"))
	require.Equal(t, "arn:aws:elasticloadbalancing:eu-central-1:"+plan.Account+":targetgroup/prod-tg/0123456789abcdef", https.Str("defaultActions.0.targetGroupArn"))
	cert := one(t, p, tCertificate)
	require.Equal(t, "arn:aws:acm:eu-central-1:"+plan.Account+":certificate/prod-cert", https.Str("certificateArn"),
		"the listener takes the ARN from the validation, so it waits for the certificate to be issued")
	require.Equal(t, "example.com", cert.Str("domainName"))
	require.Equal(t, []string{"api.example.com", "www.example.com"}, cert.Strings("subjectAlternativeNames"))
	require.Equal(t, "DNS", cert.Str("validationMethod"))
	require.Equal(t, "ENABLED", cert.Str("options.certificateTransparencyLoggingPreference"))

	require.Equal(t, "HTTP", tg.Str("protocol"))
	require.Equal(t, float64(config.ProxyPort), tg.Get("port").NumberValue())
	require.Equal(t, config.EdgeHealthPath, tg.Str("healthCheck.path"))
	require.Equal(t, "200", tg.Str("healthCheck.matcher"))
	require.Equal(t, 30.0, tg.Get("deregistrationDelay").NumberValue())
}

func TestProdDNS(t *testing.T) {
	p := stackPlan(t, "prod")
	validations, aliases := 0, map[string]plan.Resource{}
	for _, r := range p.OfType(tRecord) {
		require.Equal(t, "Z0123456789PRODEXAMPLE", r.Str("zoneId"), r.Name)
		if r.Str("type") == "CNAME" {
			validations++
			continue
		}
		aliases[r.Str("name")] = r
	}
	require.Equal(t, 3, validations, "one validation record per certificate name")
	fqdns := one(t, p, "aws:acm/certificateValidation:CertificateValidation").Strings("validationRecordFqdns")
	require.Len(t, fqdns, 3)
	require.ElementsMatch(t, []string{"example.com", "api.example.com", "www.example.com"}, keys(aliases),
		"the domain, each service host and www, which redirects to the domain")
	for n, r := range aliases {
		require.Equal(t, "A", r.Str("type"), n)
		require.Equal(t, "prod-alb-1234567890.eu-central-1.elb.amazonaws.com", r.Str("aliases.0.name"), n)
		require.Equal(t, "Z215JYRZR1TBD5", r.Str("aliases.0.zoneId"), n)
		require.True(t, r.Get("aliases.0.evaluateTargetHealth").BoolValue(), n)
	}
}

func TestProdFleetRegistersWithTheTargetGroup(t *testing.T) {
	p := stackPlan(t, "prod")
	asg := one(t, p, tGroup)
	require.Equal(t, "ELB", asg.Str("healthCheckType"))
	require.Equal(t, []string{"arn:aws:elasticloadbalancing:eu-central-1:" + plan.Account + ":targetgroup/prod-tg/0123456789abcdef"}, asg.Strings("targetGroupArns"))
	require.Empty(t, childrenOf(p, "immutable-edge:edge:ALB", tEIP), "no Elastic IP edge in prod")
	require.Empty(t, p.OfType("immutable-edge:edge:EIP"))
}

func TestDevClaimsAnElasticIP(t *testing.T) {
	p := stackPlan(t, "dev")
	require.Empty(t, p.OfType(tLoadBalancer))
	require.Empty(t, p.OfType(tTargetGroup))
	require.Empty(t, p.OfType(tListener))
	addr := one(t, p, tEIP)
	require.Equal(t, "vpc", addr.Str("domain"))
	require.Equal(t, "dev", addr.Tags()["Stack"])

	asg := one(t, p, tGroup)
	require.Equal(t, "EC2", asg.Str("healthCheckType"))
	require.True(t, asg.Get("targetGroupArns").IsNull())
	require.Equal(t, []float64{1, 1}, []float64{asg.Get("minSize").NumberValue(), asg.Get("desiredCapacity").NumberValue()}, "one node serves")
	require.Equal(t, 2.0, asg.Get("maxSize").NumberValue(), "room for the replacement to come up before the old node goes")

	records := p.OfType(tRecord)
	require.Len(t, records, 2)
	for _, r := range records {
		require.Equal(t, []string{"198.51.100.10"}, r.Strings("records"), r.Name)
		require.Equal(t, 60.0, r.Get("ttl").NumberValue(), r.Name)
	}
	requireHardenedBucket(t, p, "aws:kms", 0)
	doc, err := iampolicy.Parse(one(t, p, tBucketPolicy).Str("policy"))
	require.NoError(t, err)
	requireTLSOnly(t, doc)
}

func TestDevInstanceLearnsWhatToClaim(t *testing.T) {
	p := stackPlan(t, "dev")
	ud, err := base64.StdEncoding.DecodeString(one(t, p, tLaunchTemplate).Str("userData"))
	require.NoError(t, err)
	s := stackFile(t, string(ud))
	require.Equal(t, bootstrap.Edge{
		Mode: "eip", HealthPath: config.EdgeHealthPath,
		AllocationID: "eipalloc-dev-eip", HostedZoneID: "Z0123456789DEVEXAMPLE",
		CertificateNames: []string{"dev.example.com", "api.dev.example.com"}, ACMEEmail: "ops@example.com",
		CertBucket: "immutable-edge-dev-certs-20261123000000000001", CertPrefix: edge.CertPrefix,
	}, s.Edge)

	doc, err := iampolicy.Parse(findPolicy(t, p, "dev-runtime"))
	require.NoError(t, err)
	require.Equal(t, []string{"arn:aws:ec2:eu-central-1:" + plan.Account + ":elastic-ip/eipalloc-dev-eip"}, statement(t, doc, "ClaimAddress").Resource)
	require.Equal(t, []string{"arn:aws:s3:::immutable-edge-dev-certs-20261123000000000001/letsencrypt/*"}, statement(t, doc, "CertStateObjects").Resource)
	require.Equal(t, []string{"arn:aws:route53:::hostedzone/Z0123456789DEVEXAMPLE"}, statement(t, doc, "AcmeChallengeRecords").Resource)

	prod, err := iampolicy.Parse(findPolicy(t, stackPlan(t, "prod"), "prod-runtime"))
	require.NoError(t, err)
	for _, st := range prod.Statement {
		require.NotContains(t, []string{"ClaimAddress", "CertStateObjects", "AcmeChallengeRecords"}, st.Sid, "prod instances claim nothing")
	}
	ud, err = base64.StdEncoding.DecodeString(one(t, stackPlan(t, "prod"), tLaunchTemplate).Str("userData"))
	require.NoError(t, err)
	prodFile := stackFile(t, string(ud))
	require.Equal(t, bootstrap.Edge{Mode: "alb", HealthPath: config.EdgeHealthPath, ProxyPort: config.ProxyPort, VpcCIDR: "10.20.0.0/16"}, prodFile.Edge)
	require.Equal(t, config.LaunchHook, prodFile.LaunchHook, "the instance knows which hook to complete")
}

func TestSwitchingOnlyTheEdge(t *testing.T) {
	dev, err := plan.StackConfig("dev")
	require.NoError(t, err)
	p, err := plan.RunConfig("dev", dev.With("edge", "alb"), nil)
	require.NoError(t, err, "dev's other settings are valid behind a load balancer too")
	require.Len(t, p.OfType(tLoadBalancer), 1)
	require.Empty(t, childrenOf(p, "immutable-edge:edge:EIP", tEIP))
	require.Equal(t, "ELB", one(t, p, tGroup).Str("healthCheckType"))

	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	_, err = plan.RunConfig("prod", prod.With("edge", "eip"), nil)
	require.ElementsMatch(t, []string{
		"immutable-edge:fleet.min", "immutable-edge:fleet.max", "immutable-edge:fleet.desired", "immutable-edge:instanceSubnets",
		"immutable-edge:scaling",
	}, config.ErrorKeys(err), "only what a single public node cannot be")
}

func TestURLIsAnOutputOfBothEdges(t *testing.T) {
	require.Equal(t, "https://dev.example.com", stackPlan(t, "dev").Outputs["url"])
	require.Equal(t, "https://example.com", stackPlan(t, "prod").Outputs["url"])
	require.Equal(t, "198.51.100.10", stackPlan(t, "dev").Outputs["edgeAddress"])
}

func TestDefaultSSLPolicyIsDefinedOnce(t *testing.T) {
	require.Equal(t, config.DefaultSSLPolicy, edge.DefaultSSLPolicy, "the config default and the component default agree")
}

// requireHardenedBucket checks the one bucket of a plan: public access blocked four ways,
// ACLs off, encrypted with sse, versioned, incomplete uploads aborted, current objects expired
// after expireDays (0: kept).
func requireHardenedBucket(t *testing.T, p *plan.Plan, sse string, expireDays float64) {
	t.Helper()
	pab := one(t, p, tPublicAccessBlock)
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		require.True(t, pab.Get(k).BoolValue(), "%s %s", p.Stack, k)
	}
	require.Equal(t, "BucketOwnerEnforced", one(t, p, tOwnership).Str("rule.objectOwnership"))
	require.Equal(t, sse, one(t, p, tEncryption).Str("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"))
	require.Equal(t, "Enabled", one(t, p, tVersioning).Str("versioningConfiguration.status"))
	rule := one(t, p, tLifecycle)
	require.Equal(t, 1.0, rule.Get("rules.0.abortIncompleteMultipartUpload.daysAfterInitiation").NumberValue())
	if expireDays == 0 {
		require.True(t, rule.Get("rules.0.expiration").IsNull(), "%s: state is kept", p.Stack)
	} else {
		require.Equal(t, expireDays, rule.Get("rules.0.expiration.days").NumberValue())
	}
}

func requireTLSOnly(t *testing.T, doc iampolicy.Document) {
	t.Helper()
	deny := statement(t, doc, "DenyPlainHTTP")
	require.Equal(t, "Deny", deny.Effect)
	require.Equal(t, "false", deny.Condition["Bool"]["aws:SecureTransport"])
}

func findPolicy(t *testing.T, p *plan.Plan, name string) string {
	t.Helper()
	r, ok := p.Find(tRolePolicy, name)
	require.True(t, ok, name)
	return r.Str("policy")
}

// stackFile decodes the stack description the user-data writes for the instance (compressed or not).
func stackFile(t *testing.T, userData string) bootstrap.Stack {
	t.Helper()
	files, err := bootstrap.Files(userData)
	require.NoError(t, err)
	for _, f := range files {
		if f.Path == bootstrap.StackFile {
			var s bootstrap.Stack
			require.NoError(t, json.Unmarshal([]byte(f.Content), &s))
			return s
		}
	}
	t.Fatalf("user-data writes no %s", bootstrap.StackFile)
	return bootstrap.Stack{}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
