package config

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
)

var (
	labelRE        = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	serviceNameRE  = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$`)
	hostedZoneRE   = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	namePrefixRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,25}[a-z0-9]$`)
	boundaryRE     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[\w+=,.@/-]{1,512}$`)
	regionRE       = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)
	instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[0-9]*(nano|micro|small|medium|large|xlarge|metal)(-[0-9]+xl)?$`)
	// Graviton families carry a "g" after the generation digit (t4g, m7g, c7gn); a1 is the first.
	armFamilyRE  = regexp.MustCompile(`^(a1|[a-z]+[0-9]+g[a-z0-9-]*)\.`)
	ssmSegmentRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	// URL paths as HAProxy reads them unquoted: RFC 3986 path characters without the ones its
	// configuration parser treats specially (quotes, backslash, $ for variables, # for comments,
	// spaces) or that the ACLs' braces would end, and %-escapes only when complete.
	urlPathRE     = regexp.MustCompile(`^/([A-Za-z0-9._~!*+,;=:@/-]|%[0-9A-Fa-f]{2})*$`)
	healthPathRE  = regexp.MustCompile(`^/([A-Za-z0-9._~!*+,;=:@/?&-]|%[0-9A-Fa-f]{2})*$`)
	ruleIDRE      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*([_.-][A-Za-z0-9]+)*$`)
	tagDigestRE   = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	imageTagRE    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	imagePathRE   = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)
	retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

// problems collects KeyErrors.
type problems []error

func (p *problems) add(k, format string, a ...any) {
	*p = append(*p, &KeyError{Key: k, Reason: fmt.Sprintf(format, a...)})
}

// MaxServices is the most containers one instance runs.
const MaxServices = 20

// Size limits of single values; with the limits on raw input (load.go) they keep hostile
// input from costing more than a moment.
const (
	MaxPathLength    = 256     // pathPrefix and healthPath
	MaxDomainLength  = 64      // ACM's limit on the certificate's first name
	MaxMonthlyBudget = 1000000 // USD: a typo guard, far above any stack of this shape
)

// MaxAZs is the most Availability Zones a stack spreads over (and so the most subnets of each kind).
const MaxAZs = 6

// Validate checks every key and cross-key rule and returns all problems joined.
func (c *Config) Validate() error {
	var errs problems
	fail := errs.add
	if !regionRE.MatchString(c.Region) {
		fail(KeyRegion, "%q is not an AWS region name (like eu-central-1)", c.Region)
	}
	errs = append(errs, flatten(c.validateTags())...)
	// S3 bucket names start with NamePrefix: lower-case letters, digits and hyphens. Its length is
	// bounded by what the provider accepts for the names derived from it (validateNames).
	if !namePrefixRE.MatchString(c.NamePrefix()) {
		fail("stack", "project and stack name %q must be lower-case letters, digits and hyphens, at most 27 characters with the hyphen between them, as S3 bucket names start with it", c.NamePrefix())
	} else {
		errs = append(errs, c.validateNames()...)
	}
	if c.Edge != EdgeEIP && c.Edge != EdgeALB {
		fail(key("edge"), "must be %q or %q, got %q", EdgeEIP, EdgeALB, c.Edge)
	}
	switch {
	case !isDNSName(c.Domain) || !strings.Contains(c.Domain, "."):
		fail(key("domain"), "%q is not a DNS name like example.com", c.Domain)
	case len(c.Domain) > MaxDomainLength:
		// The domain is the certificate's common name, which ACM and RFC 5280 cap at 64 octets
		// (RequestCertificate, DomainName: https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html).
		fail(key("domain"), "%q is %d characters; a certificate's first name (its common name) may have at most %d", c.Domain, len(c.Domain), MaxDomainLength)
	}
	if !hostedZoneRE.MatchString(c.HostedZoneID) {
		fail(key("hostedZoneId"), "%q is not a Route 53 hosted zone id (Z followed by capitals and digits)", c.HostedZoneID)
	}
	errs = append(errs, flatten(c.validateNetwork())...)
	errs = append(errs, flatten(c.validateFleet())...)
	errs = append(errs, flatten(c.validateScaling())...)
	errs = append(errs, flatten(c.validateServices())...)
	errs = append(errs, flatten(c.validateData())...)
	errs = append(errs, flatten(c.validateEdge())...)
	errs = append(errs, flatten(c.validateAlarms())...)
	if m := c.UnhealthyMinutes(); m < 0 || m > MaxUnhealthyMinutes {
		fail(key("healing.unhealthyMinutes"), "must be 0 (off) or 1..%d minutes, got %d", MaxUnhealthyMinutes, m)
	}
	if c.KeepImages < 1 || c.KeepImages > 1000 {
		fail(key("keepImages"), "must be 1..1000, got %d", c.KeepImages)
	}
	if !slices.Contains(retentionDays, c.LogRetention) {
		fail(key("logRetentionDays"), "must be one of CloudWatch's retention periods %v, got %d", retentionDays, c.LogRetention)
	}
	if addr, err := mail.ParseAddress(c.AlertEmail); err != nil || addr.Address != c.AlertEmail ||
		!strings.Contains(c.AlertEmail[strings.LastIndex(c.AlertEmail, "@")+1:], ".") {
		fail(key("alertEmail"), "%q is not an email address like ops@example.com", c.AlertEmail)
	}
	if c.PermissionsBoundary != "" && !boundaryRE.MatchString(c.PermissionsBoundary) {
		fail(key("permissionsBoundary"), "%q is not an IAM policy ARN like arn:aws:iam::123456789012:policy/immutable-edge/immutable-edge-dev-boundary", c.PermissionsBoundary)
	}
	if !(c.MonthlyBudget > 0 && c.MonthlyBudget <= MaxMonthlyBudget) { // also refuses NaN and infinities
		fail(key("monthlyBudgetUsd"), "must be more than 0 and at most %d, got %v", MaxMonthlyBudget, c.MonthlyBudget)
	}
	seen := map[string]bool{}
	for i, w := range c.PolicyWaivers {
		k := fmt.Sprintf("%s[%d]", key("policyWaivers"), i)
		switch {
		case !ruleIDRE.MatchString(w.Rule):
			fail(k+".rule", "needs a policy rule id like CKV_AWS_260, got %q", w.Rule)
		case seen[w.Rule]:
			fail(k+".rule", "%s is waived twice", w.Rule)
		}
		seen[w.Rule] = true
		if len(strings.Fields(w.Reason)) < 3 {
			fail(k+".reason", "must say why the rule is waived (a sentence), got %q", w.Reason)
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validateNetwork() error {
	var errs problems
	fail := func(k, format string, a ...any) { errs.add(key(k), format, a...) }
	if _, _, err := Subnets(c.VpcCIDR, make([]string, min(max(c.AZCount, 1), MaxAZs))); err != nil {
		fail("vpcCidr", "%v", err)
	}
	switch {
	case c.AZCount < 1 || c.AZCount > MaxAZs:
		fail("azCount", "must be 1..%d, got %d", MaxAZs, c.AZCount)
	case c.Edge == EdgeALB && c.AZCount < 2:
		fail("azCount", "must be at least 2 when edge is alb (a load balancer spans two zones)")
	}
	if !slices.Contains([]string{NATNone, NATSingle, NATPerAZ}, c.NATGateways) {
		fail("natGateways", "must be %q, %q or %q, got %q", NATNone, NATSingle, NATPerAZ, c.NATGateways)
	}
	switch c.InstanceSubnets {
	case SubnetsPublic, SubnetsPrivate:
	default:
		fail("instanceSubnets", "must be %q or %q, got %q", SubnetsPublic, SubnetsPrivate, c.InstanceSubnets)
	}
	if c.InstanceSubnets == SubnetsPrivate && c.NATGateways == NATNone {
		fail("natGateways", "cannot be none while instanceSubnets is private: instances could not reach ECR, SSM or S3")
	}
	if c.Edge == EdgeEIP && c.InstanceSubnets == SubnetsPrivate {
		fail("instanceSubnets", "must be public when edge is eip: the instance holds the Elastic IP itself")
	}
	return errors.Join(errs...)
}

func (c *Config) validateFleet() error {
	var errs problems
	fail := func(k, format string, a ...any) { errs.add(key(k), format, a...) }
	if !instanceTypeRE.MatchString(c.InstanceType) {
		fail("instanceType", "%q is not an EC2 instance type like t4g.micro", c.InstanceType)
	} else if arm := armFamilyRE.MatchString(c.InstanceType); arm != (c.Image.Architecture == ArchARM64) {
		fail("instanceType", "%s cannot run the %s image (set image.architecture to match)", c.InstanceType, c.Image.Architecture)
	}
	if c.RootVolumeGB < 8 || c.RootVolumeGB > 1024 {
		fail("rootVolumeGb", "must be 8..1024, got %d", c.RootVolumeGB)
	}
	f := c.Fleet
	if c.Edge == EdgeEIP {
		for k, v := range map[string]int{"fleet.min": f.Min, "fleet.max": f.Max, "fleet.desired": f.Desired} {
			if v != 1 {
				fail(k, "must be 1 when edge is eip (one node holds the address), got %d", v)
			}
		}
	}
	switch {
	case f.Min < 1:
		fail("fleet.min", "must be at least 1, got %d", f.Min)
	case f.Max > 20:
		fail("fleet.max", "must be at most 20, got %d", f.Max)
	case f.Min > f.Desired:
		fail("fleet.desired", "must be at least fleet.min (%d), got %d", f.Min, f.Desired)
	case f.Desired > f.Max:
		fail("fleet.desired", "must be at most fleet.max (%d), got %d", f.Max, f.Desired)
	}
	if c.Image.Architecture != ArchARM64 && c.Image.Architecture != ArchAMD64 {
		fail("image.architecture", "must be %q or %q, got %q", ArchARM64, ArchAMD64, c.Image.Architecture)
	}
	if err := validSSMName(c.Image.Parameter); err != nil {
		fail("image.parameter", "%v", err)
	} else if prefix := c.SSMPrefix(); c.Project != "" && !strings.HasPrefix(c.Image.Parameter, prefix) {
		// Image retention protects every AMI a parameter under the project names (images/prune.sh),
		// and a stack reads (or, building, writes) only its own channel: another stack's would let
		// dev's build replace prod's image. The trailing slash keeps dev-eu out of dev's.
		fail("image.parameter", "%q must be under %s, this stack's own channel", c.Image.Parameter, prefix)
	}
	if k := c.Image.Keep; k != nil && (*k < 1 || *k > 100) {
		fail("image.keep", "must be 1..100 (images of the channel kept besides the referenced ones), got %d", *k)
	}
	return errors.Join(errs...)
}

func (c *Config) validateEdge() error {
	var errs problems
	fail := func(k, format string, a ...any) { errs.add(key(k), format, a...) }
	for i, n := range c.SubjectAlternativeNames {
		if !isDNSName(n) || (n != c.Domain && !strings.HasSuffix(n, "."+c.Domain)) {
			fail(fmt.Sprintf("subjectAlternativeNames[%d]", i), "%q must be a DNS name equal to or under %q (no wildcards)", n, c.Domain)
		}
	}
	if n := len(c.CertificateNames()); n > 10 {
		fail("subjectAlternativeNames", "the certificate would cover %d names (domain, service hosts and these); ACM allows 10", n)
	}
	a := c.ALB
	if !allowedSSLPolicy(a.SSLPolicy) {
		fail("alb.sslPolicy", "%q is not one of the ALB policies with TLS 1.3 and no CBC, SHA-1 or RSA key exchange: %s", a.SSLPolicy, strings.Join(SSLPolicyNames(), ", "))
	}
	if a.IdleTimeout < 1 || a.IdleTimeout > 4000 {
		fail("alb.idleTimeoutSeconds", "must be 1..4000, got %d", a.IdleTimeout)
	}
	if d := *a.DeregistrationDelay; d < 0 || d > 3600 {
		fail("alb.deregistrationDelaySeconds", "must be 0..3600, got %d", d)
	}
	if a.SlowStart != 0 && (a.SlowStart < 30 || a.SlowStart > 900) {
		fail("alb.slowStartSeconds", "must be 0 (off) or 30..900, got %d", a.SlowStart)
	}
	if a.AccessLogDays < 1 || a.AccessLogDays > 3650 {
		fail("alb.accessLogDays", "must be 1..3650, got %d", a.AccessLogDays)
	}
	return errors.Join(errs...)
}

// validImage checks an image reference. Images come from the stack's own ECR repository for
// the service (one per service), so the reference is <service>:<tag> or <service>@sha256:<hex>.
func validImage(service, ref string) error {
	if ref == "" {
		return errors.New("is required, like " + service + ":1.0.0")
	}
	name, digest, hasDigest := strings.Cut(ref, "@")
	name, tag, hasTag := strings.Cut(name, ":")
	if strings.Contains(name, ".") && strings.Contains(name, "/") || strings.Contains(tag, "/") {
		return fmt.Errorf("%q names a registry; images come from this stack's ECR repository, write %s:<tag>", ref, service)
	}
	switch {
	case !imagePathRE.MatchString(name):
		return fmt.Errorf("%q is not an image reference (name[:tag][@sha256:digest])", ref)
	case name != service:
		return fmt.Errorf("%q must name the service's own repository %q", ref, service)
	case hasDigest && !tagDigestRE.MatchString(digest):
		return fmt.Errorf("%q has a malformed digest (want sha256: and 64 hex digits)", ref)
	case hasTag && !imageTagRE.MatchString(tag):
		return fmt.Errorf("%q has a malformed tag", ref)
	case !hasTag && !hasDigest:
		return fmt.Errorf("%q needs a tag or digest: a rollout is a new immutable tag", ref)
	case tag == "latest":
		return fmt.Errorf("%q: latest is mutable; the repository has immutable tags, name a version", ref)
	}
	return nil
}

// validSSMName checks an SSM parameter name as AWS does for hierarchical names.
func validSSMName(name string) error {
	if !strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
		return fmt.Errorf("%q must be a path like /immutable-edge/dev/ami-id", name)
	}
	if len(name) > 1011 {
		return fmt.Errorf("is longer than 1011 characters")
	}
	segs := strings.Split(name[1:], "/")
	if len(segs) > 15 {
		return fmt.Errorf("%q has more than 15 levels", name)
	}
	for _, s := range segs {
		if !ssmSegmentRE.MatchString(s) {
			return fmt.Errorf("%q: each level is letters, digits, '.', '_' or '-'", name)
		}
	}
	if first := strings.ToLower(segs[0]); strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		return fmt.Errorf("%q: names starting with aws or ssm are reserved", name)
	}
	return nil
}

// isDNSName reports whether s is a lowercase, fully qualified-style DNS name without a trailing dot.
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !labelRE.MatchString(l) {
			return false
		}
	}
	return true
}

// CheckZones checks azCount against the zones the region offers; Deploy calls it once the
// zones are known, still before any resource is registered.
func (c *Config) CheckZones(available []string) error {
	if c.AZCount > len(available) {
		return &KeyError{Key: key("azCount"), Reason: fmt.Sprintf("is %d but %s offers %d zones (%s)",
			c.AZCount, c.Region, len(available), strings.Join(available, ", "))}
	}
	return nil
}

func (c *Config) validateAlarms() error {
	var errs problems
	fail := func(k, format string, a ...any) { errs.add(key("alarms."+k), format, a...) }
	a := c.Alarms
	for _, p := range []struct {
		key string
		v   float64
	}{{"cpuPercent", a.CPUPercent}, {"diskPercent", a.DiskPercent}, {"http5xxPercent", a.HTTP5xxPercent}} {
		if p.v <= 0 || p.v >= 100 {
			fail(p.key, "must be a percentage above 0 and below 100, got %v", p.v)
		}
	}
	if a.LatencyP95Seconds <= 0 || a.LatencyP95Seconds > 60 {
		fail("latencyP95Seconds", "must be above 0 and at most 60, got %v", a.LatencyP95Seconds)
	}
	if a.CertificateDays < 1 || a.CertificateDays > 29 {
		// certbot renews at 30 days left: a threshold at or above it pages on every healthy certificate.
		fail("certificateDays", "must be 1..29 (certificates renew at 30 days left), got %d", a.CertificateDays)
	}
	if a.Minutes < 1 || a.Minutes > 60 {
		fail("minutes", "must be 1..60, got %d", a.Minutes)
	}
	return errors.Join(errs...)
}
