package config

// Ports on the instance that belong to HAProxy, so no service may take them.
const (
	ProxyPort = 8080 // plain HTTP listener the ALB targets (alb edge)
	StatsPort = 8404 // stats and Prometheus exporter, bound to 127.0.0.1
	// NodeExporterPort is where the AMI's prometheus-node-exporter listens (its Debian default).
	NodeExporterPort = 9100
)

// reservedPorts are the instance's own listeners above 1024, by what holds them: a service
// published on one would fail to start or, worse, answer HAProxy's or the agent's requests.
var reservedPorts = map[int]string{
	ProxyPort: "HAProxy's load-balancer listener", StatsPort: "HAProxy's stats and metrics",
	NodeExporterPort: "the node exporter",
}

// EdgeHealthPath is HAProxy's own health endpoint: 200 only while HAProxy runs and every
// service has a healthy server, 503 otherwise; the body names each service's state. The boot
// gate (before the EIP claim), the ALB target group and self-healing all check it.
const EdgeHealthPath = "/.edge/health"

// LaunchHook is the Auto Scaling launch lifecycle hook a new instance completes once it is ready.
const LaunchHook = "instance-ready"

// DefaultSSLPolicy is the ALB's HTTPS policy unless alb.sslPolicy says otherwise: TLS 1.2 and 1.3
// with the Mozilla-intermediate cipher set and post-quantum key exchange.
const DefaultSSLPolicy = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"

// MetricNamespace is the CloudWatch namespace of a stack's instance metrics. One per stack: the
// instance role can fence PutMetricData only by namespace (cloudwatch:namespace is the action's
// one condition key; a dimension such as Stack cannot be required,
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html),
// so a shared namespace would let dev's instances write prod's alarm metrics.
func MetricNamespace(stack string) string { return MetricNamespacePrefix + stack }

// MetricNamespacePrefix starts every stack's metric namespace.
const MetricNamespacePrefix = "ImmutableEdge/"

// DefaultUnhealthyMinutes is how long an instance's edge health may fail before the instance
// marks itself unhealthy, unless healing.unhealthyMinutes says otherwise. A container that
// crashes is restarted by its unit within seconds (Restart=always, RestartSec=5) and HAProxy by
// systemd; five minutes without a break means the instance cannot heal itself, and the
// service-down alarm pages after the same five minutes (alarms.minutes), so the replacement is
// already booting when someone looks.
const DefaultUnhealthyMinutes = 5

// MaxUnhealthyMinutes bounds healing.unhealthyMinutes: beyond an hour a person has long been paged.
const MaxUnhealthyMinutes = 60

// DefaultImageKeep is how many images of its channel a building stack keeps unless image.keep
// says otherwise: the current one and two to roll back to, besides every referenced image.
const DefaultImageKeep = 3

// DefaultHealthPath is where a service answers 200 once it can take traffic.
const DefaultHealthPath = "/ready"

// applyDefaults fills every key the stack did not set. This is the only place defaults live;
// several depend on the edge, so they are chosen after it is known. set holds the full keys read.
func (c *Config) applyDefaults(set map[string]bool) {
	has := func(k string) bool { return set[key(k)] }
	c.applyNetworkDefaults(has)
	if !has("detailedMonitoring") {
		c.DetailedMonitoring = true // 1-minute EC2 metrics (CKV_AWS_126)
	}
	if !has("instanceType") {
		c.InstanceType = "t4g.micro"
	}
	if !has("rootVolumeGb") {
		c.RootVolumeGB = 16
	}
	if !has("fleet") {
		c.Fleet = Fleet{Min: 2, Max: 4, Desired: 2}
		if c.Edge == EdgeEIP {
			c.Fleet = Fleet{Min: 1, Max: 1, Desired: 1}
		}
	} else if c.Fleet.Desired == 0 {
		c.Fleet.Desired = c.Fleet.Min
	}
	c.applyScalingDefaults()
	if c.Image.Parameter == "" {
		c.Image.Parameter = "/" + c.Project + "/" + c.Stack + "/ami-id" // the project's prefix, which retention reads
	}
	if c.Image.Architecture == "" {
		c.Image.Architecture = ArchARM64
	}
	if c.Image.Keep == nil {
		keep := DefaultImageKeep
		c.Image.Keep = &keep
	}
	for i := range c.Services {
		if c.Services[i].HealthPath == "" && !c.Services[i].Worker() {
			c.Services[i].HealthPath = DefaultHealthPath
		}
	}
	for i := range c.Jobs {
		if c.Jobs[i].TimeoutMinutes == 0 {
			c.Jobs[i].TimeoutMinutes = DefaultJobTimeout
		}
	}
	if c.ALB.SSLPolicy == "" {
		c.ALB.SSLPolicy = DefaultSSLPolicy
	}
	if !has("protect") {
		c.Protect = true
	}
	if c.ALB.DeletionProtection == nil {
		on := c.Protect
		c.ALB.DeletionProtection = &on
	}
	if c.ALB.IdleTimeout == 0 {
		c.ALB.IdleTimeout = 60
	}
	if c.ALB.DeregistrationDelay == nil {
		d := 30 // HAProxy closes idle keep-alive connections well within this
		c.ALB.DeregistrationDelay = &d
	}
	if c.ALB.AccessLogDays == 0 {
		c.ALB.AccessLogDays = 90
	}
	c.applyDataDefaults()
	c.Alarms.applyDefaults()
	if c.Healing.UnhealthyMinutes == nil {
		m := DefaultUnhealthyMinutes
		c.Healing.UnhealthyMinutes = &m
	}
	if !has("keepImages") {
		c.KeepImages = 20
	}
	if !has("logRetentionDays") {
		c.LogRetention = 365
	}
}

// applyNetworkDefaults fills the network keys: where instances run follows the edge, and NAT
// and the S3 endpoint follow where instances run.
func (c *Config) applyNetworkDefaults(has func(string) bool) {
	if !has("vpcCidr") {
		c.VpcCIDR = "10.0.0.0/16"
	}
	if !has("azCount") {
		c.AZCount = 2 // an ALB needs two; an EIP node may be replaced into either
	}
	if !has("instanceSubnets") {
		c.InstanceSubnets = SubnetsPrivate
		if c.Edge == EdgeEIP {
			c.InstanceSubnets = SubnetsPublic // the node holds the public address itself
		}
	}
	if !has("natGateways") {
		c.NATGateways = NATSingle
		if c.InstanceSubnets == SubnetsPublic {
			c.NATGateways = NATNone // nothing private needs a way out
		}
	}
	if !has("s3Endpoint") {
		// Free, and it takes S3 traffic (ECR image layers) off the NAT gateway's per-GB charge;
		// without a NAT gateway there is nothing to save.
		c.S3Endpoint = c.NATGateways != NATNone
	}
}

// applyDefaults fills each threshold the stack left out.
func (a *Alarms) applyDefaults() {
	if a.CPUPercent == 0 {
		a.CPUPercent = 80
	}
	if a.DiskPercent == 0 {
		a.DiskPercent = 80
	}
	if a.HTTP5xxPercent == 0 {
		a.HTTP5xxPercent = 5
	}
	if a.LatencyP95Seconds == 0 {
		a.LatencyP95Seconds = 1
	}
	if a.CertificateDays == 0 {
		// certbot renews at 30 days left and ACM at 60: 21 means renewal has failed for over a week.
		a.CertificateDays = 21
	}
	if a.Minutes == 0 {
		a.Minutes = 5
	}
}
