package policy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

const (
	tCertificate = "aws:acm/certificate:Certificate"
	tRecord      = "aws:route53/record:Record"
)

// strongPolicyRE: TLS 1.3 policies whose minimum is TLS 1.2 or 1.3 offer only AEAD ciphers with
// forward secrecy (Mozilla intermediate or modern).
var strongPolicyRE = regexp.MustCompile(`^ELBSecurityPolicy-TLS13-1-[23]-`)

var loadBalancerRules = []Rule{
	{ID: "CKV_AWS_2", Ref: "checkov CKV_AWS_2; FSBP ELB.1", Severity: High,
		Rationale: "Every listener either speaks HTTPS or redirects to it.",
		check: each([]string{tListener}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("protocol") == "HTTPS" || isRedirect(r), r.Str("protocol")+" listener", "plain HTTP listener that does not redirect")
		})},
	{ID: "CKV2_AWS_20", Ref: "checkov CKV2_AWS_20", Severity: Medium,
		Rationale: "Port 80 exists only to send clients to HTTPS.",
		check: each([]string{tListener}, func(c *Context, r plan.Resource) (bool, string) {
			if r.Num("port") != 80 {
				return true, "not port 80"
			}
			return verdict(isRedirect(r), "redirects to HTTPS", "port 80 does not redirect to HTTPS")
		})},
	{ID: "CKV_AWS_103", Ref: "checkov CKV_AWS_103; FSBP ELB.17", Severity: High,
		Rationale: "HTTPS listeners name a policy with TLS 1.2 or newer; the API default is the 2016 policy.",
		check: each([]string{tListener}, func(c *Context, r plan.Resource) (bool, string) {
			if r.Str("protocol") != "HTTPS" {
				return true, "not HTTPS"
			}
			p := r.Str("sslPolicy")
			return verdict(strongPolicyRE.MatchString(p) || strings.Contains(p, "TLS-1-2"), "policy "+p, "policy "+p+" allows TLS below 1.2 (or is unset)")
		})},
	{ID: "CKV2_AWS_74", Ref: "checkov CKV2_AWS_74; Mozilla TLS guidelines 6.0", Severity: Medium,
		Rationale: "Only TLS 1.3 policies with AEAD, forward-secret ciphers.",
		check: each([]string{tListener}, func(c *Context, r plan.Resource) (bool, string) {
			if r.Str("protocol") != "HTTPS" {
				return true, "not HTTPS"
			}
			return verdict(strongPolicyRE.MatchString(r.Str("sslPolicy")), "strong policy "+r.Str("sslPolicy"), "policy "+r.Str("sslPolicy")+" includes weak ciphers")
		})},
	{ID: "IE_HSTS", Ref: "Mozilla TLS guidelines 6.0 (HSTS max-age=63072000)", Severity: Medium,
		Rationale: "HSTS keeps browsers on HTTPS after the first visit.",
		check: each([]string{tListener}, func(c *Context, r plan.Resource) (bool, string) {
			if r.Str("protocol") != "HTTPS" {
				return true, "not HTTPS"
			}
			v := r.Str("routingHttpResponseStrictTransportSecurityHeaderValue")
			return verdict(strings.HasPrefix(v, "max-age=") && v != "max-age=0", "HSTS "+v, "no HSTS header")
		})},
	{ID: "CKV_AWS_131", Ref: "checkov CKV_AWS_131; FSBP ELB.4", Severity: Medium,
		Rationale: "Headers with invalid names are dropped instead of reaching HAProxy and the apps.",
		check: each([]string{tLoadBalancer}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("dropInvalidHeaderFields"), "drops invalid headers", "passes invalid headers on")
		})},
	{ID: "CKV_AWS_328", Ref: "checkov CKV_AWS_328; FSBP ELB.12", Severity: Medium,
		Rationale: "Desync mitigation blocks HTTP request smuggling.",
		check: each([]string{tLoadBalancer}, func(c *Context, r plan.Resource) (bool, string) {
			m := r.Str("desyncMitigationMode")
			return verdict(m == "defensive" || m == "strictest", "desync mitigation "+m, "desync mitigation "+m)
		})},
	{ID: "CKV_AWS_91", Ref: "checkov CKV_AWS_91; FSBP ELB.5; AWS ELB access-log bucket permissions", Severity: Medium,
		Rationale: "Access logs are the record of who asked for what at the edge; the bucket lets the region's log deliverer write them.",
		check:     each([]string{tLoadBalancer}, accessLogs)},
	{ID: "CKV_AWS_150", Ref: "checkov CKV_AWS_150; FSBP ELB.6", Severity: Low,
		Rationale: "Deletion protection keeps a mistaken destroy from taking the product offline.",
		check: each([]string{tLoadBalancer}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("enableDeletionProtection"), "deletion protection on", "deletion protection off")
		})},
	{ID: "AWS-0053", Ref: "Trivy AWS-0053", Severity: Low,
		Rationale: "A load balancer is internal unless it is meant to be the public edge.",
		check: each([]string{tLoadBalancer}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("internal"), "internal", "internet-facing")
		})},
	{ID: "CKV2_AWS_28", Ref: "checkov CKV2_AWS_28", Severity: Low,
		Rationale: "A web application firewall in front of a public load balancer filters known attacks.",
		check: each([]string{tLoadBalancer}, func(c *Context, r plan.Resource) (bool, string) {
			for _, a := range c.Plan.OfType("aws:wafv2/webAclAssociation:WebAclAssociation") {
				if a.Str("resourceArn") != "" {
					return true, "web ACL " + a.Name
				}
			}
			return false, "no web ACL"
		})},
	{ID: "CKV_AWS_261", Ref: "checkov CKV_AWS_261", Severity: Medium,
		Rationale: "Targets are checked on an endpoint that means 'can serve', not just 'port open'.",
		check: each([]string{tTargetGroup}, func(c *Context, r plan.Resource) (bool, string) {
			ok := !r.Get("healthCheck").IsNull() && (r.Get("healthCheck.enabled").IsNull() || r.Bool("healthCheck.enabled")) && r.Str("healthCheck.path") != ""
			return verdict(ok, "health check on "+r.Str("healthCheck.path"), "no HTTP health check path")
		})},
	{ID: "CKV_AWS_378", Ref: "checkov CKV_AWS_378", Severity: Low,
		Rationale: "Traffic from the load balancer to targets is encrypted too.",
		check: each([]string{tTargetGroup}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("protocol") != "HTTP", "protocol "+r.Str("protocol"), "plain HTTP to the targets")
		})},
	{ID: "CKV_AWS_234", Ref: "checkov CKV_AWS_234", Severity: Medium,
		Rationale: "Certificates are logged to Certificate Transparency, so a mis-issued one is noticed.",
		check: each([]string{tCertificate}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("options.certificateTransparencyLoggingPreference") != "DISABLED", "CT logging on", "CT logging disabled")
		})},
	{ID: "CKV2_AWS_71", Ref: "checkov CKV2_AWS_71", Severity: Low,
		Rationale: "Certificates name each host; a wildcard covers hosts nobody reviewed.",
		check: each([]string{tCertificate}, func(c *Context, r plan.Resource) (bool, string) {
			names := append([]string{r.Str("domainName")}, r.Strings("subjectAlternativeNames")...)
			for _, n := range names {
				if strings.HasPrefix(n, "*") {
					return false, "wildcard name " + n
				}
			}
			return true, "explicit names only"
		})},
	{ID: "CKV_AWS_233", Ref: "checkov CKV_AWS_233; FSBP ACM.1 spirit", Severity: Medium,
		Rationale: "A replaced certificate exists before the old one goes, so listeners never lose theirs.",
		check: each([]string{tCertificate}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(!r.DeleteBeforeReplace, "create before replace", "delete before replace")
		})},
	{ID: "CKV2_AWS_23", Ref: "checkov CKV2_AWS_23", Severity: Low,
		Rationale: "A records point at something this stack owns (its load balancer or Elastic IP), never a stray address.",
		check: each([]string{tRecord}, func(c *Context, r plan.Resource) (bool, string) {
			if r.Str("type") != "A" {
				return true, r.Str("type") + " record"
			}
			// The record's value comes from the resource it points at, so it depends on it.
			for _, urn := range r.DependsOn {
				if owner, ok := c.Plan.ByURN(urn); ok && (owner.Type == tLoadBalancer || owner.Type == tEIP) {
					return true, "points at " + owner.Name
				}
			}
			return false, "points at an address this stack does not own"
		})},
}

func isRedirect(r plan.Resource) bool {
	return r.Str("defaultActions.0.type") == "redirect" && r.Str("defaultActions.0.redirect.protocol") == "HTTPS"
}

// accessLogs passes a load balancer whose access logs are on and whose log bucket lets Elastic
// Load Balancing deliver them, as AWS documents it
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html):
// the log-delivery service principal everywhere, and in a region opened before August 2022 the
// region's ELB account too (internal/awsapi's table, from the provider's aws_elb_service_account).
func accessLogs(c *Context, r plan.Resource) (bool, string) {
	bucket := r.Str("accessLogs.bucket")
	if !r.Bool("accessLogs.enabled") || bucket == "" {
		return false, "no access logs"
	}
	b, ok := c.Plan.ByID(bucket)
	if !ok || b.Type != tBucket {
		return false, "logs to " + bucket + ", which the stack does not create"
	}
	doc, ok := bucketPolicy(c, b)
	if !ok {
		return false, "logs to " + bucket + ", which has no bucket policy for log delivery"
	}
	objects := "arn:" + partitionOf(b) + ":s3:::" + bucket + "/" + r.Str("accessLogs.prefix") + "/AWSLogs/"
	principals := []map[string]any{{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}}
	table, err := awsapi.Load()
	if err != nil {
		return false, err.Error()
	}
	if account := table.ELBAccounts[r.Region]; account != "" {
		principals = append(principals, map[string]any{"AWS": "arn:" + partitionOf(b) + ":iam::" + account + ":root"})
	}
	for _, want := range principals {
		if !grantsPut(doc, want, objects) {
			return false, fmt.Sprintf("log bucket %s does not let %v write under %s*", bucket, want, objects)
		}
	}
	return true, fmt.Sprintf("logs to %s, delivered by %d principals", bucket, len(principals))
}

// grantsPut reports an Allow of s3:PutObject to a principal on objects under a prefix.
func grantsPut(doc iampolicy.Document, principal map[string]any, prefix string) bool {
	for _, st := range doc.Statement {
		if st.Effect != "Allow" || !slices.Contains(st.Action, "s3:PutObject") || !maps.EqualFunc(st.Principal, principal, func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
			continue
		}
		if slices.ContainsFunc(st.Resource, func(res string) bool { return strings.HasPrefix(res, prefix) }) {
			return true
		}
	}
	return false
}

// partitionOf reads a bucket's partition from its ARN.
func partitionOf(b plan.Resource) string {
	if _, rest, ok := strings.Cut(b.Str("arn"), "arn:"); ok {
		if p, _, ok := strings.Cut(rest, ":"); ok {
			return p
		}
	}
	return "aws"
}
