package bootstrap_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// withServices replaces a stack's services with n generated ones (hosts under the domain).
func withServices(s bootstrap.Stack, n int, prefix bool) bootstrap.Stack {
	s.Services = nil
	for i := range n {
		svc := bootstrap.Service{Name: fmt.Sprintf("svc%02d", i), Image: fmt.Sprintf("svc%02d:1.0.%d", i, i),
			Port: 4000 + i, Host: fmt.Sprintf("s%d.%s", i%3, s.Domain), HealthPath: "/ready"}
		if prefix {
			svc.PathPrefix = fmt.Sprintf("/p%d", i)
		}
		svc.Ref = s.Registry + "/immutable-edge/" + s.Stack + "/" + svc.Image
		s.Services = append(s.Services, svc)
	}
	return s
}

// withRedirects gives a stack certificate names that no service uses.
func withRedirects(s bootstrap.Stack, names ...string) bootstrap.Stack {
	s.Redirects = names
	return s
}

// variants are the stacks and service sets every real-tool check runs on.
func variants(t *testing.T) map[string]bootstrap.Stack {
	dev, prod := stackFor(t, "dev"), stackFor(t, "prod")
	return map[string]bootstrap.Stack{
		"dev": dev, "prod": prod,
		"dev one service":             withServices(dev, 1, false),
		"dev with redirect names":     withRedirects(dev, "www.dev.example.com", "old.dev.example.com"),
		"prod path prefixes":          withServices(prod, 6, true),
		"dev most services (gzipped)": withServices(dev, config.MaxServices, true),
		"voting (a worker, secrets)":  stackFor(t, "voting"),
	}
}

func TestUserDataIsDeterministicAndReadsBack(t *testing.T) {
	t.Parallel()
	for name, s := range variants(t) {
		ud, err := bootstrap.UserData(s)
		require.NoError(t, err, name)
		again, err := bootstrap.UserData(s)
		require.NoError(t, err)
		require.Equal(t, ud, again, "%s: byte-identical", name)
		require.LessOrEqual(t, len(ud), bootstrap.MaxUserData, name)

		files, err := bootstrap.Files(ud)
		require.NoError(t, err, name)
		rendered, err := bootstrap.Render(s)
		require.NoError(t, err)
		require.Len(t, files, len(rendered), name)
		for i, f := range files {
			require.Equal(t, rendered[i].Path, f.Path, name)
			require.Equal(t, rendered[i].Content, f.Content, "%s %s: what the instance gets is what was rendered", name, f.Path)
		}
		var back bootstrap.Stack
		require.NoError(t, json.Unmarshal([]byte(files[0].Content), &back))
		require.Equal(t, s, back, name)

		// cloud-init's schema check ignores unknown top-level keys, so the key set is asserted here.
		var doc map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(ud), &doc))
		require.ElementsMatch(t, []string{"write_files", "runcmd"}, keysOf(doc), name)
		require.Equal(t, []any{[]any{bootstrap.ScriptDir + "/boot.sh"}}, doc["runcmd"], name)
	}
}

func TestLargeServiceSetsAreCompressedToFit(t *testing.T) {
	t.Parallel()
	s := withServices(stackFor(t, "dev"), config.MaxServices, true)
	ud, err := bootstrap.UserData(s)
	require.NoError(t, err)
	require.Contains(t, ud, "encoding: gz+b64")
	require.LessOrEqual(t, len(ud), bootstrap.MaxUserData)
	plain, err := bootstrap.UserData(stackFor(t, "dev"))
	require.NoError(t, err)
	require.NotContains(t, plain, "encoding:", "a stack that fits stays readable")

	_, err = bootstrap.UserData(withServices(stackFor(t, "dev"), 400, true))
	require.ErrorContains(t, err, "even compressed")
}

func TestUserDataHoldsNoSecrets(t *testing.T) {
	t.Parallel()
	for name, s := range variants(t) {
		ud, err := bootstrap.UserData(s)
		require.NoError(t, err)
		for _, bad := range []string{"AKIA", "BEGIN PRIVATE KEY", "BEGIN EC PRIVATE KEY", "password", "aws_secret_access_key"} {
			require.NotContains(t, ud, bad, name)
		}
	}
}

func TestCloudInitAcceptsTheUserData(t *testing.T) {
	t.Parallel()
	cloudInit := testtools.Need(t, "cloud-init")
	for name, s := range variants(t) {
		ud, err := bootstrap.UserData(s)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "user-data")
		require.NoError(t, os.WriteFile(path, []byte(ud), 0o600))
		out, err := exec.Command(cloudInit, "schema", "--config-file", path).CombinedOutput()
		require.NoError(t, err, "%s: %s", name, out)
		require.Contains(t, string(out), "Valid cloud-config", name)
	}
}

func TestHAProxyAcceptsTheConfig(t *testing.T) {
	t.Parallel()
	for name, s := range variants(t) {
		cfg := testConfig(t, s, nil)
		out, err := exec.Command(testtools.Need(t, "haproxy"), "-c", "-f", cfg).CombinedOutput()
		require.NoError(t, err, "%s: %s", name, out)
		require.NotContains(t, string(out), "[WARNING]", "%s: %s", name, out)
	}
}

func TestSystemdAcceptsTheUnits(t *testing.T) {
	t.Parallel()
	analyze := testtools.Need(t, "systemd-analyze")
	root, err := plan.Root()
	require.NoError(t, err)
	for name, s := range variants(t) {
		dir := t.TempDir()
		// Docker is not on this machine: a stand-in binary and docker.service let verify check the rest.
		stub := filepath.Join(dir, "docker")
		require.NoError(t, os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "docker.service"), []byte("[Unit]\nDescription=Docker stand-in\n[Service]\nExecStart="+stub+"\n"), 0o644))
		unit, err := bootstrap.TemplateUnit(s)
		require.NoError(t, err)
		unit = strings.ReplaceAll(unit, "/usr/bin/docker", stub)
		unit = strings.ReplaceAll(unit, bootstrap.ScriptDir, filepath.Join(root, "images/files", bootstrap.ScriptDir))
		require.NoError(t, os.WriteFile(filepath.Join(dir, bootstrap.ServiceTemplate), []byte(unit), 0o644))
		var instances []string
		for _, svc := range s.Services {
			instances = append(instances, filepath.Join(dir, bootstrap.UnitName(svc.Name)))
		}
		out, err := exec.Command(analyze, append([]string{"verify"}, instances...)...).CombinedOutput()
		require.NoError(t, err, "%s: %s", name, out)
		require.Empty(t, strings.TrimSpace(string(out)), "%s: systemd-analyze reports unknown keys only as output", name)
	}
}

func TestUnitsRunContainersOnLoopbackWithLimits(t *testing.T) {
	t.Parallel()
	s := stackFor(t, "dev")
	unit, err := bootstrap.TemplateUnit(s)
	require.NoError(t, err)
	for _, want := range []string{
		"--name ie-%i $PUBLISH", "--cap-drop ALL", "--security-opt no-new-privileges $ROOT_FLAGS $ENV_FLAGS $SECRET_FLAGS",
		"ExecStartPre=" + bootstrap.ScriptDir + "/secrets.sh fetch %i", "ExecStopPost=" + bootstrap.ScriptDir + "/secrets.sh clear %i",
		"--memory 256m", "--pids-limit 256", "Restart=always", "Before=haproxy.service", "docker pull ${IMAGE}",
		"EnvironmentFile=" + bootstrap.EnvDir + "/%i.env", "Environment=DOCKER_CONFIG=/root/.docker\n",
	} {
		require.Contains(t, unit, want)
	}
}

func TestChangingAnImageChangesTheUserData(t *testing.T) {
	t.Parallel()
	s := stackFor(t, "prod")
	before, err := bootstrap.UserData(s)
	require.NoError(t, err)
	s.Services[0].Image, s.Services[0].Ref = "web:1.4.3", strings.Replace(s.Services[0].Ref, "1.4.2", "1.4.3", 1)
	after, err := bootstrap.UserData(s)
	require.NoError(t, err)
	require.NotEqual(t, before, after, "a new tag is a new launch template version, so a refresh")
}

// testConfig renders haproxy.cfg with paths and ports moved into a temp dir, so it can run here:
// only bind addresses, the certificate, error files and the admin socket change.
func testConfig(t *testing.T, s bootstrap.Stack, ports map[string]int) string {
	t.Helper()
	dir := t.TempDir()
	files, err := bootstrap.Render(s)
	require.NoError(t, err)
	var cfg string
	for _, f := range files {
		switch {
		case f.Path == bootstrap.HAProxyFile:
			cfg = f.Content
		case strings.HasPrefix(f.Path, bootstrap.ErrorDir+"/"):
			require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f.Path)), []byte(f.Content), 0o644))
		}
	}
	cert := testCert(t, dir, s.Edge.CertificateNames)
	port := func(role string) int {
		if p := ports[role]; p != 0 {
			return p
		}
		return testtools.FreePort(t)
	}
	for from, to := range map[string]string{
		"bind :80\n": fmt.Sprintf("bind 127.0.0.1:%d\n", port("http")),
		"bind :443 ssl crt " + bootstrap.CertFile:            fmt.Sprintf("bind 127.0.0.1:%d ssl crt %s", port("https"), cert),
		fmt.Sprintf("bind :%d\n", s.Edge.ProxyPort):          fmt.Sprintf("bind 127.0.0.1:%d\n", port("alb")),
		fmt.Sprintf("bind 127.0.0.1:%d\n", config.StatsPort): fmt.Sprintf("bind 127.0.0.1:%d\n", port("stats")),
	} {
		cfg = strings.ReplaceAll(cfg, from, to)
	}
	cfg = strings.ReplaceAll(cfg, bootstrap.ErrorDir, dir)
	cfg = strings.ReplaceAll(cfg, "/run/haproxy/admin.sock", filepath.Join(dir, "admin.sock"))
	path := filepath.Join(dir, "haproxy.cfg")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o644))
	return path
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
