package bootstrap

import (
	"bytes"
	"fmt"
	"path"
)

// Per-container limits: small services on small instances; a runaway container cannot starve
// HAProxy or its neighbours.
const (
	containerMemoryMB = 256
	containerCPUs     = "0.5"
)

// ServiceTemplate is the systemd template unit every container runs from, and EnvDir where each
// service's settings live: one unit instance per service, ie-svc@<name>.service. The boot script
// writes the env files from stack.json, so a service costs user-data only its description.
const (
	ServiceTemplate = "ie-svc@.service"
	EnvDir          = "/etc/immutable-edge/services"
	// SecretDir holds each running service's secret files, <SecretDir>/<service>/<name>: under
	// /run, a tmpfs, so they never reach a disk, and mode 0700 so only root passes (secrets.sh).
	SecretDir = "/run/immutable-edge/secrets"
	// SecretMount is where a container finds its secrets, read-only.
	SecretMount = "/run/secrets"
)

// UnitName is the systemd unit of a service.
func UnitName(service string) string { return "ie-svc@" + service + ".service" }

// TemplateUnit renders the template unit that pulls and runs a container on 127.0.0.1.
func TemplateUnit(s Stack) (string, error) {
	var b bytes.Buffer
	err := tmpl.ExecuteTemplate(&b, "service.unit.tmpl", map[string]any{
		"Stack": s.Stack, "EnvDir": EnvDir, "MemoryMB": containerMemoryMB, "CPUs": containerCPUs,
		"DockerDir": path.Dir(DockerFile), "ScriptDir": ScriptDir, "SecretDir": SecretDir,
	})
	if err != nil {
		return "", fmt.Errorf("bootstrap: service unit: %w", err)
	}
	return b.String(), nil
}
