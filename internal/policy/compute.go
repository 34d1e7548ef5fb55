package policy

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// secretPatterns are what a secret in user-data looks like: AWS keys, private keys, and
// password or token assignments.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`),
	regexp.MustCompile(`(?i)aws_secret_access_key`),
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
	regexp.MustCompile(`(?i)"?(password|passwd|secret|api[_-]?key|token)"?\s*[:=]\s*"?[^\s"]{6,}`),
}

// arnRE is an ARN, which names a secret without holding it (…:secret:<name>); blanked before
// the patterns look, so a reference is not taken for a value.
var arnRE = regexp.MustCompile(`arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:[A-Za-z0-9!/_+=.@:-]+`)

var computeRules = []Rule{
	{ID: "CKV_AWS_79", Ref: "checkov CKV_AWS_79; FSBP EC2.8", Severity: High,
		Rationale: "IMDSv2 tokens stop SSRF-style credential theft through the metadata service.",
		check: each([]string{tLaunchTemplate}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("metadataOptions.httpTokens") == "required", "IMDSv2 required", "IMDSv1 allowed")
		})},
	{ID: "CKV_AWS_341", Ref: "checkov CKV_AWS_341", Severity: Medium,
		Rationale: "A hop limit of 1 keeps containers (one hop further) away from the instance's credentials.",
		check: each([]string{tLaunchTemplate}, func(c *Context, r plan.Resource) (bool, string) {
			n := r.Num("metadataOptions.httpPutResponseHopLimit")
			return verdict(n == 1, "hop limit 1", fmt.Sprintf("hop limit %v lets containers reach IMDS", n))
		})},
	{ID: "CKV_AWS_8", Ref: "checkov CKV_AWS_8 (applied to launch templates); FSBP EC2.7", Severity: High,
		Rationale: "Every volume an instance starts with is encrypted at rest.",
		check: each([]string{tLaunchTemplate}, func(c *Context, r plan.Resource) (bool, string) {
			mappings := r.Len("blockDeviceMappings")
			if mappings == 0 {
				return false, "no block device mapping: the root volume follows the AMI's encryption"
			}
			for i := range mappings {
				if !r.Bool(fmt.Sprintf("blockDeviceMappings.%d.ebs.encrypted", i)) {
					return false, fmt.Sprintf("volume %d is not encrypted", i)
				}
			}
			return true, "all volumes encrypted"
		})},
	{ID: "CKV_AWS_46", Ref: "checkov CKV_AWS_46", Severity: High,
		Rationale: "User-data is readable by anyone who can describe the instance: no secrets in it.",
		check: each([]string{tLaunchTemplate}, func(c *Context, r plan.Resource) (bool, string) {
			ud, err := base64.StdEncoding.DecodeString(r.Str("userData"))
			if err != nil {
				return false, "user-data is not base64"
			}
			ud = arnRE.ReplaceAllFunc(ud, func(m []byte) []byte { return bytes.Repeat([]byte("a"), len(m)) })
			for _, re := range secretPatterns {
				if loc := re.FindIndex(ud); loc != nil {
					return false, fmt.Sprintf("user-data looks like it holds a secret at byte %d", loc[0])
				}
			}
			return true, fmt.Sprintf("%d bytes of user-data, no secret patterns", len(ud))
		})},
	{ID: "CKV_AWS_88", Ref: "checkov CKV_AWS_88; FSBP EC2.9", Severity: Medium,
		Rationale: "Instances stay off the internet unless they are the edge themselves.",
		check: each([]string{tLaunchTemplate}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(!r.Bool("networkInterfaces.0.associatePublicIpAddress"), "no public IP", "instances get a public IP")
		})},
	{ID: "CKV_AWS_126", Ref: "checkov CKV_AWS_126", Severity: Low,
		Rationale: "One-minute metrics make alarms react in minutes, not five.",
		check: each([]string{tLaunchTemplate}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("monitoring.enabled"), "detailed monitoring on", "detailed monitoring off")
		})},
	{ID: "CKV_AWS_135", Ref: "checkov CKV_AWS_135", Severity: Low,
		Rationale: "EBS-optimized instances keep disk and network traffic from starving each other.",
		check: each([]string{tLaunchTemplate}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Bool("ebsOptimized"), "EBS optimized", "not EBS optimized")
		})},
	{ID: "CKV2_AWS_41", Ref: "checkov CKV2_AWS_41", Severity: Medium,
		Rationale: "Instances get credentials from a role, never from keys on disk.",
		check: each([]string{tLaunchTemplate}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("iamInstanceProfile.arn") != "" || r.Str("iamInstanceProfile.name") != "", "instance profile set", "no instance profile")
		})},
	{ID: "IE_NO_SSH_KEY", Ref: "design: no SSH; FSBP SSM.1 (managed by Session Manager)", Severity: Medium,
		Rationale: "No key pair: shell access is Session Manager, audited and without open ports.",
		check: each([]string{tLaunchTemplate}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("keyName") == "", "no key pair", "key pair "+r.Str("keyName"))
		})},
	{ID: "CKV_AWS_315", Ref: "checkov CKV_AWS_315; FSBP AutoScaling.9", Severity: Medium,
		Rationale: "Launch templates, not launch configurations: versioned, and the only way to IMDSv2 and refreshes.",
		check: each([]string{tGroup}, func(c *Context, r plan.Resource) (bool, string) {
			return verdict(r.Str("launchTemplate.id") != "" && r.Get("launchConfiguration").IsNull(), "launch template", "no launch template")
		})},
	{ID: "IE_ASG_PINNED", Ref: "peers: instance refresh does not start on $Latest", Severity: High,
		Rationale: "A pinned launch template version makes every change a visible diff that starts a refresh.",
		check: each([]string{tGroup}, func(c *Context, r plan.Resource) (bool, string) {
			v := r.Str("launchTemplate.version")
			return verdict(v != "" && v != "$Latest" && v != "$Default", "pinned to version "+v, "version "+v+" is not pinned")
		})},
	{ID: "IE_ASG_REFRESH", Ref: "design: rollout; terraform-provider-aws #34189; FSBP AutoScaling.1 spirit", Severity: High,
		Rationale: "The program's own refresh moves the group (the provider's would set the new version first, so a rollback would keep it): launch before terminate, auto-rollback on alarms, room in MaxSize.",
		check: each([]string{tGroup}, func(c *Context, r plan.Resource) (bool, string) {
			roll, ok := c.Plan.CommandWith("ROLLOUT_TEMPLATE_ID", r.Str("launchTemplate.id"))
			env := func(k string) float64 { n, _ := strconv.ParseFloat(roll.Str("environment."+k), 64); return n }
			switch {
			case !r.Get("instanceRefresh").IsNull():
				return false, "the provider's instance refresh would set the new version before refreshing"
			case !slices.Contains(r.IgnoreChanges, "launchTemplate"):
				return false, "the group's launch template is not left to the rollout"
			case !ok:
				return false, "no rollout command refreshes the group"
			case env("ROLLOUT_MIN_HEALTHY") < 100:
				return false, "min healthy below 100% lets a refresh drop capacity"
			case roll.Str("environment.ROLLOUT_ALARMS") == "":
				return false, "no alarm rolls the refresh back"
			case r.Num("maxSize") < r.Num("desiredCapacity")*env("ROLLOUT_MAX_HEALTHY")/100:
				return false, "MaxSize leaves no room to launch before terminating"
			}
			return true, "refresh by the program, launch before terminate, rollback on " + roll.Str("environment.ROLLOUT_ALARMS")
		})},
	{ID: "IE_ASG_SCALING", Ref: "immutable-edge: a fleet.max nothing uses is a promise the stack does not keep; terraform-provider-aws #470", Severity: Medium,
		Rationale: "A group configured with room above its minimum has a scaling policy to grow into it, and leaves its desired capacity to the policies so an up does not undo a scale-out.",
		check:     each([]string{tGroup}, scalingVerdict)},
	{ID: "CKV2_AWS_15", Ref: "checkov CKV2_AWS_15; FSBP AutoScaling.1", Severity: Medium,
		Rationale: "A group behind a load balancer replaces instances the load balancer finds unhealthy.",
		check: each([]string{tGroup}, func(c *Context, r plan.Resource) (bool, string) {
			if len(r.Strings("targetGroupArns")) == 0 {
				return true, "no load balancer"
			}
			return verdict(r.Str("healthCheckType") == "ELB", "ELB health checks", "EC2 health checks behind a load balancer")
		})},
	{ID: "AutoScaling.2", Ref: "FSBP AutoScaling.2", Severity: Medium,
		Rationale: "A group spans at least two Availability Zones, so a zone outage is a replacement, not an outage.",
		check: each([]string{tGroup}, func(c *Context, r plan.Resource) (bool, string) {
			n := len(r.Strings("vpcZoneIdentifiers"))
			return verdict(n >= 2, fmt.Sprintf("%d subnets", n), fmt.Sprintf("%d subnet", n))
		})},
}

// tScalingPolicy is a group's scaling policy.
const tScalingPolicy = "aws:autoscaling/policy:Policy"

// scalingVerdict judges one group against the configured range: a fixed fleet has nothing to
// scale (a maxSize above fleet.max is a rollout's room), a ranged one needs target tracking on it
// and its desired capacity left out of every up.
func scalingVerdict(c *Context, r plan.Resource) (bool, string) {
	if c.Fleet.Max <= c.Fleet.Min {
		return true, fmt.Sprintf("fleet.max equals fleet.min (%d): nothing to scale; maxSize %v is a rollout's room", c.Fleet.Min, r.Num("maxSize"))
	}
	var metrics []string
	for _, p := range c.Plan.ScalingPolicies(r) {
		if p.Str("policyType") == "TargetTrackingScaling" {
			metrics = append(metrics, p.Str("targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType"))
		}
	}
	slices.Sort(metrics)
	switch {
	case len(metrics) == 0:
		return false, fmt.Sprintf("fleet %d..%d but no scaling policy: the group stays at %v", c.Fleet.Min, c.Fleet.Max, r.Num("desiredCapacity"))
	case !slices.Contains(r.IgnoreChanges, "desiredCapacity"):
		return false, "an up would reset the desired capacity its policies set"
	case r.Num("maxSize") != float64(c.Fleet.Max):
		return false, fmt.Sprintf("maxSize %v is not fleet.max %d: the policies would scale past it", r.Num("maxSize"), c.Fleet.Max)
	}
	return true, fmt.Sprintf("target tracking on %s between %d and %d", strings.Join(metrics, " and "), c.Fleet.Min, c.Fleet.Max)
}
