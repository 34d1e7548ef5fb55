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
	Project  string    `json:"project"`
	Stack    string    `json:"stack"`
	Region   string    `json:"region"`
	Edge     string    `json:"edge"`
	Domain   string    `json:"domain"`
	Services []Service `json:"services"`
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

// Describe extracts the instance's view of a validated config.
func Describe(c *config.Config) Stack {
	s := Stack{Project: c.Project, Stack: c.Stack, Region: c.Region, Edge: c.Edge, Domain: c.Domain}
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
