// Package bootstrap renders the per-stack instance payload (cloud-init user-data) from the
// typed config. It is pure Go: the same config always gives byte-identical output, so a
// payload change is a readable diff and a new launch template version.
package bootstrap

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/immutable-edge/immutable-edge/internal/config"
)

// StackFile is where the instance finds its stack description; the runtime scripts read it.
const StackFile = "/etc/immutable-edge/stack.json"

//go:embed cloud-config.yaml.tmpl
var cloudConfigTemplate string

var tmpl = template.Must(template.New("cloud-config").Funcs(template.FuncMap{
	"indent": func(n int, s string) string {
		pad := strings.Repeat(" ", n)
		return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad)
	},
}).Parse(cloudConfigTemplate))

// Stack is what an instance needs to know about its stack; no secrets ever go in here.
type Stack struct {
	Project string `json:"project"`
	Stack   string `json:"stack"`
	Region  string `json:"region"`
	Domain  string `json:"domain"`
	// LaunchHook is the lifecycle hook to complete (CONTINUE) once the instance is ready.
	LaunchHook string    `json:"launchHook"`
	Edge       Edge      `json:"edge"`
	Services   []Service `json:"services"`
}

// Edge is the instance's part of the edge: where HAProxy listens and what the eip node claims.
type Edge struct {
	Mode       string `json:"mode"`
	HealthPath string `json:"healthPath"`          // HAProxy's own health endpoint (the ALB check, the EIP gate)
	ProxyPort  int    `json:"proxyPort,omitempty"` // alb: the plain-HTTP port the ALB targets
	// eip only: the address to claim, and where the certificate comes from and is kept.
	AllocationID     string   `json:"allocationId,omitempty"`
	HostedZoneID     string   `json:"hostedZoneId,omitempty"`
	CertificateNames []string `json:"certificateNames,omitempty"`
	CertBucket       string   `json:"certBucket,omitempty"`
	CertPrefix       string   `json:"certPrefix,omitempty"`
}

// Service is one routed container as the instance sees it.
type Service struct {
	Name       string `json:"name"`
	Image      string `json:"image"`
	Port       int    `json:"port"`
	Host       string `json:"host"`
	PathPrefix string `json:"pathPrefix,omitempty"`
	HealthPath string `json:"healthPath"`
}

// Describe extracts the instance's view of a validated config. The eip edge's allocation id and
// certificate bucket exist only once the edge does; the stack fills them in.
func Describe(c *config.Config) Stack {
	e := Edge{Mode: c.Edge, HealthPath: config.EdgeHealthPath}
	switch c.Edge {
	case config.EdgeALB:
		e.ProxyPort = config.ProxyPort
	case config.EdgeEIP:
		e.HostedZoneID = c.HostedZoneID
		e.CertificateNames = c.CertificateNames()
	}
	s := Stack{Project: c.Project, Stack: c.Stack, Region: c.Region, Domain: c.Domain, LaunchHook: config.LaunchHook, Edge: e}
	for _, svc := range c.Services {
		s.Services = append(s.Services, Service(svc))
	}
	return s
}

// UserData renders the cloud-init document for a stack.
func UserData(s Stack) (string, error) {
	stackJSON, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", fmt.Errorf("bootstrap: stack description: %w", err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]any{"Stack": s, "StackFile": StackFile, "StackJSON": string(stackJSON)}); err != nil {
		return "", fmt.Errorf("bootstrap: cloud-config: %w", err)
	}
	return b.String(), nil
}
