package local_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// inService waits until the instance has completed its hook with CONTINUE and, with want set,
// made the call that shows it serving (AssociateAddress for the eip edge); an ABANDON fails
// the test at once, with the journal's tail, instead of waiting out the timeout.
func (w *world) inService(t *testing.T, in *instance, want func() bool) {
	t.Helper()
	in.until(t, 14*time.Minute, "the instance in service", func() bool {
		c := w.completed(in.id)
		if c != nil && c.Params.Get("LifecycleActionResult") != "CONTINUE" {
			t.Fatalf("%s reported %s; its journal's last lines:\n%s", in.id, c.Params.Get("LifecycleActionResult"),
				tail(strings.Split(in.control(t, "journal"), "\n"), 60))
		}
		return c != nil && (want == nil || want())
	})
}

// associated reports whether the instance has claimed the Elastic IP.
func (w *world) associated(id string) bool {
	return slices.ContainsFunc(w.aws.Calls(), func(c call) bool {
		return c.Operation == "AssociateAddress" && c.Params.Get("InstanceId") == id
	})
}

// completed returns the instance's CompleteLifecycleAction call, if it made one.
func (w *world) completed(id string) *call {
	for _, c := range w.aws.Calls() {
		if c.Operation == "CompleteLifecycleAction" && c.Params.Get("InstanceId") == id {
			return &c
		}
	}
	return nil
}

// settled waits until cloud-init has finished on the instance and checks it finished clean,
// with every unit the payload starts active and none failed.
func (in *instance) settled(t *testing.T, w *world) {
	t.Helper()
	var status struct {
		Status            string              `json:"status"`
		Errors            []string            `json:"errors"`
		RecoverableErrors map[string][]string `json:"recoverable_errors"`
	}
	in.until(t, 5*time.Minute, "cloud-init done", func() bool {
		return json.Unmarshal([]byte(in.control(t, "cloud-init")), &status) == nil && status.Status != "running"
	})
	require.Equal(t, "done", status.Status, "%+v", status)
	require.Empty(t, status.Errors)
	for level, msgs := range status.RecoverableErrors {
		require.Empty(t, msgs, "cloud-init logged %s", level)
	}
	// The image's own services, then what the payload starts.
	units := []string{"systemd-networkd.service", "rsyslog.service", "prometheus-node-exporter.service",
		"docker.service", "haproxy.service", "ie-health-watch.timer"}
	for _, s := range w.p.stack.Services {
		units = append(units, "ie-svc@"+s.Name+".service")
	}
	if w.p.stack.Edge.Mode == "eip" {
		units = append(units, "ie-cert-metric.timer")
	}
	for _, l := range strings.Split(strings.TrimSpace(in.control(t, "active "+strings.Join(units, " "))), "\n") {
		unit, state, _ := strings.Cut(l, " ")
		require.Equal(t, "active", state, "%s", unit)
	}
	require.Empty(t, strings.TrimSpace(in.control(t, "failed")), "failed units")
}

// hardened checks each service's container, read back with docker inspect, against what the
// README claims of it: its image from the stack's registry, published on loopback only, 256 MB,
// half a CPU, 256 pids, every capability dropped, no-new-privileges, a read-only root with a
// /tmp tmpfs, logs to the journal, and the image's own unprivileged user.
func (in *instance) hardened(t *testing.T, w *world) {
	t.Helper()
	names := make([]string, 0, len(w.p.stack.Services))
	for _, s := range w.p.stack.Services {
		names = append(names, "ie-"+s.Name)
	}
	var containers []struct {
		Name   string
		Config struct {
			Image, User string
		}
		HostConfig struct {
			Memory, NanoCpus int64
			PidsLimit        int64
			CapDrop          []string
			SecurityOpt      []string
			ReadonlyRootfs   bool
			Tmpfs            map[string]string
			Privileged       bool
			LogConfig        struct{ Type string }
			PortBindings     map[string][]struct{ HostIP, HostPort string }
		}
		State struct{ Running bool }
	}
	out := in.control(t, "inspect "+strings.Join(names, " "))
	require.NoError(t, json.Unmarshal([]byte(out), &containers), out)
	require.Len(t, containers, len(w.p.stack.Services))
	for i, c := range containers {
		s := w.p.stack.Services[i]
		require.Equal(t, "/ie-"+s.Name, c.Name)
		require.True(t, c.State.Running, c.Name)
		require.Equal(t, s.Ref, c.Config.Image, c.Name)
		require.Equal(t, "65532:65532", c.Config.User, c.Name)
		h := c.HostConfig
		require.Equal(t, int64(256<<20), h.Memory, c.Name)
		require.Equal(t, int64(5e8), h.NanoCpus, c.Name)
		require.Equal(t, int64(256), h.PidsLimit, c.Name)
		require.Equal(t, []string{"ALL"}, h.CapDrop, c.Name)
		require.Contains(t, h.SecurityOpt, "no-new-privileges", c.Name)
		require.True(t, h.ReadonlyRootfs, c.Name)
		require.Contains(t, h.Tmpfs, "/tmp", c.Name)
		require.False(t, h.Privileged, c.Name)
		require.Equal(t, "journald", h.LogConfig.Type, c.Name)
		if s.Port == 0 { // a worker listens nowhere
			require.Empty(t, h.PortBindings, c.Name)
			continue
		}
		port := strconv.Itoa(s.Port) + "/tcp"
		require.Len(t, h.PortBindings, 1, c.Name)
		require.Len(t, h.PortBindings[port], 1, c.Name)
		require.Equal(t, "127.0.0.1", h.PortBindings[port][0].HostIP, c.Name)
	}
}

// response is what curl got.
type response struct {
	code   int
	header http.Header
	body   string
}

// curl asks for url with the real curl, connecting to the loopback port instead of the URL's
// host (as DNS would send it to the instance), trusting only the given CA.
func curl(t *testing.T, caFile, url string, port int, extra ...string) response {
	t.Helper()
	u := strings.TrimPrefix(strings.TrimPrefix(url, "https://"), "http://")
	hostPort := strings.SplitN(u, "/", 2)[0]
	if !strings.Contains(hostPort, ":") {
		hostPort += map[bool]string{true: ":443", false: ":80"}[strings.HasPrefix(url, "https://")]
	}
	dir := t.TempDir()
	headers, body := filepath.Join(dir, "headers"), filepath.Join(dir, "body")
	args := append([]string{"-sS", "-o", body, "-D", headers, "-w", "%{http_code}", "--max-time", "10",
		"--cacert", caFile, "--connect-to", hostPort + ":127.0.0.1:" + strconv.Itoa(port)}, extra...)
	out, err := exec.Command("curl", append(args, url)...).CombinedOutput()
	require.NoError(t, err, "curl %s: %s", url, out)
	code, err := strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(t, err, "curl %s: %s", url, out)
	b, err := os.ReadFile(headers)
	require.NoError(t, err)
	h := http.Header{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && !strings.HasPrefix(k, "HTTP/") {
			h.Add(k, strings.TrimSpace(v))
		}
	}
	content, _ := os.ReadFile(body) // none for a HEAD or an empty answer
	return response{code: code, header: h, body: string(content)}
}

// leaf returns the certificate the instance serves for name, verified against the CA.
func leaf(t *testing.T, pool *x509.CertPool, name string, port int) *x509.Certificate {
	t.Helper()
	c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: name, RootCAs: pool, MinVersion: tls.VersionTLS12})
	require.NoError(t, err, name)
	defer func() { _ = c.Close() }()
	return c.ConnectionState().PeerCertificates[0]
}
