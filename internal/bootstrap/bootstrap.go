// Package bootstrap renders the per-stack instance payload (cloud-init user-data) from the
// typed config: HAProxy's configuration and error pages, one systemd unit per container, the
// stack description the boot script reads, and the Docker credential helper setting. It is pure
// Go: the same config always gives byte-identical output, so a payload change is a readable diff
// and a new launch template version.
package bootstrap

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"

	"github.com/immutable-edge/immutable-edge/components/fleet"
	"github.com/immutable-edge/immutable-edge/internal/config"
)

// Paths on the instance.
const (
	StackFile   = "/etc/immutable-edge/stack.json"
	HAProxyFile = "/etc/haproxy/haproxy.cfg"
	ErrorDir    = "/etc/haproxy/errors"
	CertFile    = "/etc/haproxy/certs/edge.pem" // built by the boot script and the renewal hook
	UnitDir     = "/etc/systemd/system"
	ScriptDir   = "/usr/local/lib/immutable-edge" // baked into the AMI from images/files
	DockerFile  = "/root/.docker/config.json"
)

// CertStateObject is the object, under the stack's certificate prefix, that keeps the eip edge's
// certificate lineage between instances (certstate.sh).
const CertStateObject = "certificates.tar.gz"

// HSTS is the Strict-Transport-Security value HAProxy adds on the eip edge (the ALB adds it on
// the alb edge).
const HSTS = "max-age=63072000"

// MaxUserData is EC2's limit on user-data.
const MaxUserData = 16 * 1024

//go:embed templates
var templates embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"indent": func(n int, s string) string {
		pad := strings.Repeat(" ", n)
		return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad)
	},
}).ParseFS(templates, "templates/*.tmpl"))

// Stack is what an instance needs to know about its stack; no secrets ever go in here.
type Stack struct {
	Project string `json:"project"`
	Stack   string `json:"stack"`
	Region  string `json:"region"`
	Domain  string `json:"domain"`
	// Registry is the stack's ECR registry host; images are Registry/Project/Stack/<service>.
	Registry string `json:"registry"`
	// LaunchHook is the lifecycle hook to complete (CONTINUE) once the instance is ready.
	LaunchHook string `json:"launchHook"`
	// Namespace is the CloudWatch namespace of the instance's metrics.
	Namespace string    `json:"metricNamespace"`
	Lifecycle Lifecycle `json:"lifecycle"`
	Edge      Edge      `json:"edge"`
	Healing   Healing   `json:"healing"`
	Services  []Service `json:"services"`
	// Jobs run on a schedule; JobTable is the DynamoDB table whose conditional write elects the
	// one instance that runs each firing (job.sh). The stack fills the table in.
	Jobs     []Job  `json:"jobs,omitempty"`
	JobTable string `json:"jobTable,omitempty"`
	// Database and Cache are where the data tier answers, filled in by the stack once they exist.
	Database *Endpoint `json:"database,omitempty"`
	Cache    *Endpoint `json:"cache,omitempty"`
	// Redirects are host names HAProxy answers with a 301 to the same path on https://Domain.
	Redirects []string `json:"redirects,omitempty"`
}

// Lifecycle is how the boot keeps the launch hook: heartbeats while it works, and a budget after
// which it abandons the launch (lifecycle.sh).
type Lifecycle struct {
	HookTimeoutSeconds int `json:"hookTimeoutSeconds"` // the hook's heartbeat timeout
	BudgetSeconds      int `json:"budgetSeconds"`      // the whole boot, CONTINUE included
	HeartbeatSeconds   int `json:"heartbeatSeconds"`   // between RecordLifecycleActionHeartbeat calls
}

// LaunchLifecycle derives the boot's budget and heartbeat from the hook's timeout, so the two
// cannot drift: the budget is 80% of it, leaving the instance's own start (before cloud-init
// runs boot.sh) and the last call inside the timeout even if no heartbeat gets through; a
// heartbeat every tenth of it means nine may fail in a row before the hook times out.
func LaunchLifecycle(hookTimeout int) Lifecycle {
	return Lifecycle{HookTimeoutSeconds: hookTimeout, BudgetSeconds: hookTimeout * 4 / 5, HeartbeatSeconds: hookTimeout / 10}
}

// Healing is when the instance marks itself unhealthy (health-watch.sh).
type Healing struct {
	// UnhealthyMinutes is how long the edge health must fail, without a break and after the
	// instance went into service; 0 means never.
	UnhealthyMinutes int `json:"unhealthyMinutes"`
}

// Edge is the instance's part of the edge: where HAProxy listens and what the eip node claims.
type Edge struct {
	Mode       string `json:"mode"`
	HealthPath string `json:"healthPath"`          // HAProxy's own health endpoint (the ALB check, the EIP gate)
	ProxyPort  int    `json:"proxyPort,omitempty"` // alb: the plain-HTTP port the ALB targets
	VpcCIDR    string `json:"vpcCidr,omitempty"`   // alb: the only source whose X-Forwarded-* are believed
	// eip only: the address to claim, and where the certificate comes from and is kept.
	AllocationID     string   `json:"allocationId,omitempty"`
	HostedZoneID     string   `json:"hostedZoneId,omitempty"`
	CertificateNames []string `json:"certificateNames,omitempty"`
	ACMEEmail        string   `json:"acmeEmail,omitempty"`
	CertBucket       string   `json:"certBucket,omitempty"`
	CertPrefix       string   `json:"certPrefix,omitempty"`
}

// Service is one container as the instance sees it: a web service (with a port, routed by
// HAProxy) or a worker (port 0).
type Service struct {
	Name         string `json:"name"`
	Image        string `json:"image"` // as configured: <name>:<tag> or <name>@sha256:…
	Ref          string `json:"ref"`   // the full reference in the stack's registry
	Port         int    `json:"port,omitempty"`
	Host         string `json:"host,omitempty"`
	PathPrefix   string `json:"pathPrefix,omitempty"`
	HealthPath   string `json:"healthPath,omitempty"`
	WritableRoot bool   `json:"writableRoot,omitempty"`
	// Environment is the container's plain settings (encoding/json writes the keys sorted).
	Environment map[string]string `json:"environment,omitempty"`
	// Secrets are what secrets.sh reads at container start, sorted by name; references only.
	Secrets []Secret `json:"secrets,omitempty"`
	// HealthCommand is a worker's check, run in its container by worker-check.sh.
	HealthCommand []string `json:"healthCommand,omitempty"`
}

// Job is one scheduled container as the instance sees it.
type Job struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	Ref   string `json:"ref"`
	// Calendar is the schedule as systemd OnCalendar expressions (UTC); boot.sh gives them to
	// the job's timer.
	Calendar       []string          `json:"calendar"`
	Command        []string          `json:"command,omitempty"`
	TimeoutSeconds int               `json:"timeoutSeconds"`
	WritableRoot   bool              `json:"writableRoot,omitempty"`
	Environment    map[string]string `json:"environment,omitempty"`
	Secrets        []Secret          `json:"secrets,omitempty"`
}

// Endpoint is where a database or cache answers and the secret that holds its password (the
// RDS-managed one, or the cache's auth token); secrets.sh composes URLs from them.
type Endpoint struct {
	Host      string `json:"host"`
	Port      int    `json:"port"`
	Name      string `json:"name,omitempty"` // the database's
	SecretARN string `json:"secretArn"`
}

// Worker reports whether the service is a worker: nothing routes to it.
func (s Service) Worker() bool { return s.Port == 0 }

// Secret sources.
const (
	SourceSSM            = "ssm"            // an SSM SecureString parameter, by name
	SourceSecretsManager = "secretsmanager" // a Secrets Manager secret, by name or ARN
	SourceDatabase       = "database"       // the stack's database: Key is url or password
	SourceCache          = "cache"          // the stack's cache: Key is url or password
)

// Secret is one secret reference: where secrets.sh reads it and the file it becomes.
type Secret struct {
	Name   string `json:"name"`         // /run/secrets/<name> in the container
	Source string `json:"source"`       // one of the Source constants
	ID     string `json:"id,omitempty"` // the parameter name, or the secret's name or ARN
	Key    string `json:"key,omitempty"`
}

// WebServices returns the services HAProxy routes to, in order.
func (s Stack) WebServices() []Service {
	var web []Service
	for _, svc := range s.Services {
		if !svc.Worker() {
			web = append(web, svc)
		}
	}
	return web
}

// Describe extracts the instance's view of a validated config. The eip edge's allocation id and
// certificate bucket exist only once the edge does; the stack fills them in.
func Describe(c *config.Config, account string) Stack {
	e := Edge{Mode: c.Edge, HealthPath: config.EdgeHealthPath}
	switch c.Edge {
	case config.EdgeALB:
		e.ProxyPort, e.VpcCIDR = config.ProxyPort, c.VpcCIDR
	case config.EdgeEIP:
		e.HostedZoneID, e.CertificateNames, e.ACMEEmail = c.HostedZoneID, c.CertificateNames(), c.AlertEmail
	}
	registry := fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com", account, c.Region)
	s := Stack{Project: c.Project, Stack: c.Stack, Region: c.Region, Domain: c.Domain, Registry: registry,
		LaunchHook: config.LaunchHook, Lifecycle: LaunchLifecycle(fleet.LaunchHookTimeout), Namespace: config.MetricNamespace(c.Stack), Edge: e, Redirects: c.RedirectNames(),
		Healing: Healing{UnhealthyMinutes: c.UnhealthyMinutes()}}
	for _, svc := range c.Services {
		s.Services = append(s.Services, Service{
			Name: svc.Name, Image: svc.Image, Ref: registry + "/" + c.Project + "/" + c.Stack + "/" + svc.Image,
			Port: svc.Port, Host: svc.Host, PathPrefix: svc.PathPrefix, HealthPath: svc.HealthPath,
			WritableRoot: svc.WritableRoot, Environment: svc.Environment, Secrets: secrets(svc.Secrets),
			HealthCommand: svc.HealthCommand,
		})
	}
	for _, j := range c.Jobs {
		s.Jobs = append(s.Jobs, Job{
			Name: j.Name, Image: j.Image, Ref: registry + "/" + c.Project + "/" + c.Stack + "/" + j.Image,
			Calendar: j.Calendar(), Command: j.Command, TimeoutSeconds: j.TimeoutMinutes * 60,
			WritableRoot: j.WritableRoot, Environment: j.Environment, Secrets: secrets(j.Secrets),
		})
	}
	return s
}

// secrets lists a service's secret references by name.
func secrets(refs map[string]config.SecretRef) []Secret {
	var out []Secret
	for _, name := range slices.Sorted(maps.Keys(refs)) {
		r := refs[name]
		switch {
		case r.SSM != "":
			out = append(out, Secret{Name: name, Source: SourceSSM, ID: r.SSM})
		case r.Database != "":
			out = append(out, Secret{Name: name, Source: SourceDatabase, Key: r.Database})
		case r.Cache != "":
			out = append(out, Secret{Name: name, Source: SourceCache, Key: r.Cache})
		default:
			out = append(out, Secret{Name: name, Source: SourceSecretsManager, ID: r.SecretsManager, Key: r.Key})
		}
	}
	return out
}

// UserData renders the cloud-init document for a stack. When the plain document is over EC2's
// limit, files are sent gzip-compressed, the largest first and only as many as it takes, so the
// small ones (stack.json above all) stay readable in a diff; if it is still over, that is an error.
func UserData(s Stack) (string, error) {
	files, err := Render(s)
	if err != nil {
		return "", err
	}
	ud, err := cloudConfig(s, files)
	if err != nil || len(ud) <= MaxUserData {
		return ud, err
	}
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(files[b].Content) - len(files[a].Content) })
	for _, i := range order {
		if files[i], err = files[i].compressed(); err != nil {
			return "", err
		}
		if ud, err = cloudConfig(s, files); err != nil || len(ud) <= MaxUserData {
			return ud, err
		}
	}
	return "", fmt.Errorf("bootstrap: user-data is %d bytes even compressed; EC2 accepts %d", len(ud), MaxUserData)
}

// Render returns every file the instance gets from user-data, in a fixed order.
func Render(s Stack) ([]File, error) {
	stackJSON, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bootstrap: stack description: %w", err)
	}
	cfg, err := HAProxyConfig(s)
	if err != nil {
		return nil, err
	}
	page, err := templates.ReadFile("templates/404.html")
	if err != nil {
		return nil, err
	}
	unavailable, err := templates.ReadFile("templates/503.http")
	if err != nil {
		return nil, err
	}
	docker, err := json.MarshalIndent(map[string]any{"credHelpers": map[string]string{s.Registry: "ecr-login"}}, "", "  ")
	if err != nil {
		return nil, err
	}
	files := []File{
		{Path: StackFile, Permissions: "0644", Content: string(stackJSON) + "\n"},
		{Path: HAProxyFile, Permissions: "0644", Content: cfg},
		{Path: ErrorDir + "/404.html", Permissions: "0644", Content: string(page)},
		{Path: ErrorDir + "/503.http", Permissions: "0644", Content: string(unavailable)},
		{Path: DockerFile, Permissions: "0600", Content: string(docker) + "\n"},
	}
	unit, err := TemplateUnit(s)
	if err != nil {
		return nil, err
	}
	files = append(files, File{Path: UnitDir + "/" + ServiceTemplate, Permissions: "0644", Content: unit})
	telemetry, err := telemetryFiles(s)
	if err != nil {
		return nil, err
	}
	files = append(files, telemetry...)
	// One trailing newline each: YAML literal blocks keep exactly one, so what is rendered is
	// byte for byte what the instance writes.
	for i := range files {
		files[i].Content = strings.TrimRight(files[i].Content, "\n") + "\n"
	}
	return files, nil
}

func cloudConfig(s Stack, files []File) (string, error) {
	var b bytes.Buffer
	err := tmpl.ExecuteTemplate(&b, "cloud-config.yaml.tmpl", map[string]any{"Stack": s.Stack, "ScriptDir": ScriptDir, "Files": files})
	if err != nil {
		return "", fmt.Errorf("bootstrap: cloud-config: %w", err)
	}
	return b.String(), nil
}
