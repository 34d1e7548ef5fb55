// Package config loads and validates the typed stack configuration of immutable-edge.
//
// Every key lives in the "immutable-edge:" namespace except aws:region and aws:defaultTags.
// Load collects every problem at once, each naming its key, so a stack with bad
// configuration fails before a single resource is registered.
package config

import (
	"maps"
	"slices"
)

// Namespace is the Pulumi config namespace of this project.
const Namespace = "immutable-edge"

// Edge modes.
const (
	EdgeEIP = "eip" // one instance claims an Elastic IP and terminates TLS itself
	EdgeALB = "alb" // an internet-facing ALB in front of 2+ instances
)

// NAT gateway layouts.
const (
	NATNone   = "none"
	NATSingle = "single"
	NATPerAZ  = "perAz"
)

// Where the instances run.
const (
	SubnetsPublic  = "public"
	SubnetsPrivate = "private"
)

// Tag keys the program sets on every taggable resource itself, from the project and stack names,
// so they are required of every stack whatever requiredTags says.
const (
	TagProject = "Project"
	TagStack   = "Stack"
)

// CPU architectures of the golden image.
const (
	ArchARM64 = "arm64"
	ArchAMD64 = "amd64"
)

// Config is the validated configuration of one stack.
type Config struct {
	Project string // Pulumi project name
	Stack   string // Pulumi stack name

	Region      string            // aws:region
	DefaultTags map[string]string // aws:defaultTags.tags
	// RequiredTags are the tag keys, besides Project and Stack, that aws:defaultTags must hold.
	RequiredTags []string

	Edge            string
	Domain          string
	HostedZoneID    string
	VpcCIDR         string
	AZCount         int
	NATGateways     string
	InstanceSubnets string
	InstanceType    string
	RootVolumeGB    int
	Fleet           Fleet
	// Scaling is nil on the eip edge (unless set, which is refused) and filled on the alb edge.
	Scaling  *Scaling
	Image    Image
	Services []Service
	// Jobs run a container to completion on a schedule, once per firing across the fleet.
	Jobs []Job
	// Database and Cache are the optional data tier; nil for none.
	Database *Database
	Cache    *Cache
	// SubjectAlternativeNames are extra certificate names beyond the domain and service hosts.
	SubjectAlternativeNames []string
	ALB                     ALB
	Alarms                  Alarms
	Healing                 Healing
	// Protect keeps what a mistaken destroy would lose: the edge's address and buckets and the
	// image repositories are protected and never force-emptied, and the load balancer's deletion
	// protection defaults on. False makes the stack disposable: `pulumi destroy` removes all of it.
	Protect       bool
	KeepImages    int
	LogRetention  int
	AlertEmail    string
	MonthlyBudget float64
	// FreeTier credits the account's always-free allowances to this stack's cost estimate.
	FreeTier bool
	// PermissionsBoundary is the policy ARN every role of the stack carries; empty for none.
	PermissionsBoundary string
	PolicyWaivers       []Waiver

	// S3Endpoint routes the private subnets' S3 traffic through a gateway endpoint, not the NAT gateway.
	S3Endpoint bool
	// DetailedMonitoring turns on EC2's 1-minute metrics (charged per metric); off, they come every 5 minutes.
	DetailedMonitoring bool
}

// ALB tunes the load-balancer edge; it is ignored by the eip edge, so a config can switch edges.
type ALB struct {
	SSLPolicy           string `json:"sslPolicy"`
	DeletionProtection  *bool  `json:"deletionProtection"` // nil means the stack's protect
	IdleTimeout         int    `json:"idleTimeoutSeconds"`
	DeregistrationDelay *int   `json:"deregistrationDelaySeconds"` // nil means 30
	SlowStart           int    `json:"slowStartSeconds"`
	AccessLogDays       int    `json:"accessLogDays"`
}

// Healing is how an instance takes itself out of service when its edge stays down.
type Healing struct {
	// UnhealthyMinutes is how long HAProxy's health endpoint must fail on the instance, without a
	// break and after it went into service, before the instance marks itself unhealthy; 0 turns
	// self-healing off. nil means DefaultUnhealthyMinutes.
	UnhealthyMinutes *int `json:"unhealthyMinutes"`
}

// Alarms holds the thresholds the stack's alarms page at.
type Alarms struct {
	CPUPercent        float64 `json:"cpuPercent"`        // average CPU of the group
	DiskPercent       float64 `json:"diskPercent"`       // root volume used, on the fullest instance
	HTTP5xxPercent    float64 `json:"http5xxPercent"`    // share of requests answered 5xx (HAProxy, ALB, targets)
	LatencyP95Seconds float64 `json:"latencyP95Seconds"` // alb: target response time, 95th percentile
	CertificateDays   int     `json:"certificateDays"`   // days left on the edge's certificate
	Minutes           int     `json:"minutes"`           // how long a condition lasts before it pages
}

// Fleet is the Auto Scaling group's capacity.
type Fleet struct {
	Min     int `json:"min"`
	Max     int `json:"max"`
	Desired int `json:"desired"`
}

// Image says where the golden AMI id comes from.
type Image struct {
	// Build makes this stack run Packer and publish the AMI id (the image issue); otherwise the id is read.
	Build bool `json:"build"`
	// Parameter is the SSM parameter that holds the AMI id of this stack's channel.
	Parameter string `json:"parameter"`
	// Architecture is the AMI's CPU architecture; the instance type must match it.
	Architecture string `json:"architecture"`
	// Keep is how many images of the channel the image pipeline keeps besides every image that
	// is still referenced (nil until defaults apply); only a stack that builds uses it.
	Keep *int `json:"keep"`
}

// Service is one container. A web service has a port and a host, and HAProxy routes to it by
// host (and optional path prefix); a worker has neither: it is not routed and does not gate the
// edge's health.
type Service struct {
	Name       string `json:"name"`
	Image      string `json:"image"`
	Port       int    `json:"port"`
	Host       string `json:"host"`
	PathPrefix string `json:"pathPrefix"`
	HealthPath string `json:"healthPath"`
	// WritableRoot runs the container without a read-only root filesystem, for images that write outside /tmp.
	WritableRoot bool `json:"writableRoot"`
	// Environment holds plain settings, passed to the container as environment variables. They
	// reach user-data and the plan, so rule IE_ENV_SECRETS fails a literal that looks like a secret.
	Environment map[string]string `json:"environment"`
	// Secrets are references (never values) the instance role reads at container start; each
	// reaches the container as the read-only file /run/secrets/<name>.
	Secrets map[string]SecretRef `json:"secrets"`
	// HealthCommand (workers only) runs in the container every 30 seconds, exec form; three
	// failures in a row restart the worker. Without it a worker is checked by its process alone.
	HealthCommand []string `json:"healthCommand"`
}

// What a secret of source database or cache holds.
const (
	DataURL      = "url"      // postgresql://… or rediss://…, with the password in it
	DataPassword = "password" // the password (the database's) or auth token (the cache's) alone
)

// Worker reports whether the service is a worker: no port, so nothing routes to it.
func (s Service) Worker() bool { return s.Port == 0 }

// SecretRef names where one secret lives: exactly one of SSM, SecretsManager, Database and Cache is set.
type SecretRef struct {
	// SSM is a SecureString parameter name under /<project>/<stack>/.
	SSM string `json:"ssm"`
	// SecretsManager is a secret's name under <project>/<stack>/, or its full ARN.
	SecretsManager string `json:"secretsManager"`
	// Key picks one value of a Secrets Manager secret that holds a JSON object.
	Key string `json:"key"`
	// Database and Cache take a value from the stack's own data tier: DataURL or DataPassword.
	Database string `json:"database"`
	Cache    string `json:"cache"`
}

// Waiver turns a failing policy rule into a documented decision.
type Waiver struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// Tags returns the tags every taggable resource carries: aws:defaultTags plus Project and Stack.
//
// The AWS provider applies aws:defaultTags itself, but mocks replace the provider, so
// components receive the same map explicitly and the plan shows what AWS will store.
func (c *Config) Tags() map[string]string {
	tags := map[string]string{TagProject: c.Project, TagStack: c.Stack}
	for k, v := range c.DefaultTags {
		tags[k] = v
	}
	return tags
}

// UnhealthyMinutes is healing.unhealthyMinutes: 0 when self-healing is off.
func (c *Config) UnhealthyMinutes() int {
	if c.Healing.UnhealthyMinutes == nil {
		return DefaultUnhealthyMinutes
	}
	return *c.Healing.UnhealthyMinutes
}

// RequiredTagKeys returns Project, Stack, then requiredTags: the set config validation and rule IE_TAGS both check.
func (c *Config) RequiredTagKeys() []string {
	keys := []string{TagProject, TagStack}
	for _, k := range c.RequiredTags {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// IAMPath is the path of the stack's roles and instance profiles: the deploy role that account/
// creates may manage roles under it only.
func (c *Config) IAMPath() string { return "/" + c.Project + "/" + c.Stack + "/" }

// NamePrefix starts the physical names that must be unique in the account (buckets, topic,
// alarms, rules, budget, dashboard), so two projects' stacks of one name do not collide and
// the deploy role can be scoped to them.
func (c *Config) NamePrefix() string { return c.Project + "-" + c.Stack }

// DeployRole is the path and name of the role the account program makes for a stack's deploys
// (account/setup); the stack's key policy names it as the key's only administering role.
func DeployRole(project, stack string) (path, name string) {
	return "/" + project + "/", project + "-" + stack + "-deploy"
}

// DeployRoleARN is DeployRole's ARN in the given partition and account.
func DeployRoleARN(partition, account, project, stack string) string {
	path, name := DeployRole(project, stack)
	return "arn:" + partition + ":iam::" + account + ":role" + path + name
}

// CertificateNames returns the names the edge's certificate covers: the domain first, then
// every service host and subjectAlternativeNames, sorted and without repeats.
func (c *Config) CertificateNames() []string {
	rest := map[string]bool{}
	for _, s := range c.WebServices() {
		rest[s.Host] = true
	}
	for _, n := range c.SubjectAlternativeNames {
		rest[n] = true
	}
	delete(rest, c.Domain)
	return append([]string{c.Domain}, slices.Sorted(maps.Keys(rest))...)
}

// RecordNames returns the DNS names that point at the edge: the domain, the service hosts and
// the redirect names.
func (c *Config) RecordNames() []string {
	set := map[string]bool{c.Domain: true}
	for _, s := range c.WebServices() {
		set[s.Host] = true
	}
	for _, n := range c.RedirectNames() {
		set[n] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// RedirectNames returns the certificate names that no service uses and that are not the domain
// (www.example.com beside example.com): each gets a DNS record to the edge, and HAProxy answers
// it with a 301 to the same path and query on https://<domain>. Sorted, without repeats.
func (c *Config) RedirectNames() []string {
	served := map[string]bool{c.Domain: true}
	for _, s := range c.WebServices() {
		served[s.Host] = true
	}
	set := map[string]bool{}
	for _, n := range c.SubjectAlternativeNames {
		if !served[n] {
			set[n] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// ServiceNames returns the service names in config order.
func (c *Config) ServiceNames() []string {
	names := make([]string, len(c.Services))
	for i, s := range c.Services {
		names[i] = s.Name
	}
	return names
}

// WebServices returns the services HAProxy routes to, in config order: those with a port.
func (c *Config) WebServices() []Service {
	var web []Service
	for _, s := range c.Services {
		if !s.Worker() {
			web = append(web, s)
		}
	}
	return web
}
