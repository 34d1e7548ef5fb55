package bootstrap_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// backend is a stand-in service: /ready answers 200, everything else names the service.
type backend struct {
	name string
	addr string
	srv  *http.Server
}

func (b *backend) start(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", b.addr)
	require.NoError(t, err)
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ready":
			w.WriteHeader(http.StatusOK)
			return
		case echoPath: // what reached the service, for the forwarding-header tests
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(r.Header)
			return
		}
		fmt.Fprintf(w, "service=%s host=%s path=%s xfp=%s", b.name, r.Host, r.URL.Path, r.Header.Get("X-Forwarded-Proto"))
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = b.srv.Serve(l) }()
}

func (b *backend) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx)
}

// edgeUnderTest is a real HAProxy running the rendered eip configuration on loopback.
type edgeUnderTest struct {
	cmd                   *exec.Cmd
	http, https, stats    int
	pool                  *x509.CertPool
	backends              map[string]*backend
	notFound, unavailable []byte
	log                   *bytes.Buffer
}

func startEdge(t *testing.T) *edgeUnderTest {
	t.Helper()
	haproxy := testtools.Need(t, "haproxy")
	s := stackFor(t, "dev")
	s.Redirects = []string{"www.dev.example.com"} // a certificate name no service uses (prod's www)
	e := &edgeUnderTest{http: testtools.FreePort(t), https: testtools.FreePort(t), stats: testtools.FreePort(t), backends: startBackends(t, &s), log: &bytes.Buffer{}}
	cfg := testConfig(t, s, map[string]int{"http": e.http, "https": e.https, "stats": e.stats})
	dir := filepath.Dir(cfg)
	pemBytes, err := os.ReadFile(filepath.Join(dir, "edge.pem"))
	require.NoError(t, err)
	e.pool = x509.NewCertPool()
	require.True(t, e.pool.AppendCertsFromPEM(pemBytes))
	e.notFound, err = os.ReadFile(filepath.Join(dir, "404.html"))
	require.NoError(t, err)
	e.unavailable, err = os.ReadFile(filepath.Join(dir, "503.http"))
	require.NoError(t, err)
	e.cmd = runHAProxy(t, haproxy, cfg, e.log)
	e.waitFor(t, "the edge to become healthy", func() bool { return e.status(t, e.httpURL("/.edge/health"), "") == 200 })
	return e
}

// startBackends starts a stand-in for each of the stack's services on a free loopback port and
// points the service at it.
func startBackends(t *testing.T, s *bootstrap.Stack) map[string]*backend {
	t.Helper()
	out := map[string]*backend{}
	for i := range s.Services {
		port := testtools.FreePort(t)
		s.Services[i].Port = port
		b := &backend{name: s.Services[i].Name, addr: fmt.Sprintf("127.0.0.1:%d", port)}
		b.start(t)
		t.Cleanup(b.stop)
		out[b.name] = b
	}
	return out
}

// runHAProxy starts the real HAProxy (master-worker) on cfg, logging into log, and stops it when
// the test ends.
func runHAProxy(t *testing.T, haproxy, cfg string, log *bytes.Buffer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(haproxy, "-W", "-f", cfg)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		// Stop by PID: TERM the process group (master and workers), again every 500 ms in case
		// it landed while the master re-executed itself for a reload, KILL after 10 s.
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.After(10 * time.Second)
		for {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
				if t.Failed() {
					t.Logf("haproxy log:\n%s", log.String())
				}
				return
			case <-deadline:
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
				t.Errorf("haproxy did not stop on SIGTERM within 10 s")
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
	return cmd
}

func (e *edgeUnderTest) httpURL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", e.http, path)
}
func (e *edgeUnderTest) httpsURL(path string) string {
	return fmt.Sprintf("https://127.0.0.1:%d%s", e.https, path)
}

// client is an HTTPS client that trusts the test certificate and sends SNI for host.
func (e *edgeUnderTest) client(host string, minV, maxV uint16) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: e.pool, ServerName: host, MinVersion: minV, MaxVersion: maxV},
			ForceAttemptHTTP2: false,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// get sends one request with a Host header and returns status, body and headers.
func (e *edgeUnderTest) get(t *testing.T, url, host string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	c := e.client("dev.example.com", tls.VersionTLS12, 0) // SNI the certificate covers; routing is by Host
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body), resp.Header
}

func (e *edgeUnderTest) status(t *testing.T, url, host string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if host != "" {
		req.Host = host
	}
	c := e.client("dev.example.com", tls.VersionTLS12, 0)
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// waitFor polls cond every 200 ms for at most 15 s (HAProxy checks every 2 s, fall/rise 2).
func (e *edgeUnderTest) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\nhaproxy log:\n%s", what, e.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestRealHAProxyServesTheRenderedEdge(t *testing.T) {
	t.Parallel()
	e := startEdge(t)

	t.Run("http redirects to https with 308", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.httpURL("/pricing?x=1"), nil)
		req.Host = "dev.example.com"
		c := e.client("", 0, 0)
		defer c.CloseIdleConnections()
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusPermanentRedirect, resp.StatusCode)
		require.Equal(t, "https://dev.example.com/pricing?x=1", resp.Header.Get("Location"))
	})
	t.Run("https routes by host and sets HSTS", func(t *testing.T) {
		code, body, hdr := e.get(t, e.httpsURL("/a"), "dev.example.com")
		require.Equal(t, 200, code)
		require.Equal(t, "service=web host=dev.example.com path=/a xfp=https", body)
		require.Equal(t, bootstrap.HSTS, hdr.Get("Strict-Transport-Security"))
		code, body, _ = e.get(t, e.httpsURL("/b"), "API.dev.example.com:443")
		require.Equal(t, 200, code)
		require.True(t, strings.HasPrefix(body, "service=api "), "host match ignores case and port: %s", body)
	})
	t.Run("a name no service uses answers 301 to the domain, path and query kept", func(t *testing.T) {
		for _, host := range []string{"www.dev.example.com", "WWW.dev.example.com:443"} {
			code, _, hdr := e.get(t, e.httpsURL("/pricing/eu?plan=team&x=1"), host)
			require.Equal(t, http.StatusMovedPermanently, code, host)
			require.Equal(t, "https://dev.example.com/pricing/eu?plan=team&x=1", hdr.Get("Location"), host)
		}
		code, _, hdr := e.get(t, e.httpsURL("/a"), "dev.example.com")
		require.Equal(t, 200, code, "the domain itself is served, not redirected")
		require.Empty(t, hdr.Get("Location"))
	})
	t.Run("unknown host gets the 404 page", func(t *testing.T) {
		code, body, _ := e.get(t, e.httpsURL("/"), "dev.example.com.evil.test")
		require.Equal(t, 404, code)
		require.Equal(t, string(e.notFound), body)
	})
	t.Run("the exporter publishes every series the agent keeps", func(t *testing.T) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics?scope=frontend&scope=backend", e.stats))
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode)
		var haproxyJob promConfig
		for _, sc := range prometheusConfig(t, stackFor(t, "dev")).ScrapeConfigs {
			if sc.JobName == "haproxy" {
				require.Equal(t, []string{"frontend", "backend"}, sc.Params["scope"])
				haproxyJob.ScrapeConfigs = append(haproxyJob.ScrapeConfigs, sc)
			}
		}
		require.Len(t, haproxyJob.ScrapeConfigs, 1)
		kept := map[string]bool{}
		for _, series := range exposition(t, string(body)) {
			if out, ok := relabel(t, haproxyJob.ScrapeConfigs[0].Relabel, series); ok {
				kept[out["__name__"]] = true
			}
		}
		var want []string
		for _, m := range bootstrap.Metrics(stackFor(t, "dev")) {
			if strings.HasPrefix(m, "haproxy_") {
				want = append(want, m)
			}
		}
		require.ElementsMatch(t, want, slices.Collect(maps.Keys(kept)), "HAProxy %s exports the series the relabelling expects", "2.6+")
	})
	t.Run("TLS 1.2 and 1.3 accepted, 1.1 refused", func(t *testing.T) {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", e.https), &tls.Config{RootCAs: e.pool, ServerName: "dev.example.com", MinVersion: v, MaxVersion: v})
			require.NoError(t, err, "version %x", v)
			require.Equal(t, v, conn.ConnectionState().Version)
			conn.Close()
		}
		_, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", e.https), &tls.Config{RootCAs: e.pool, ServerName: "dev.example.com", MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11})
		require.Error(t, err, "TLS 1.1 must be refused")
	})
	t.Run("the health body names every service's state", func(t *testing.T) {
		code, body, hdr := e.get(t, e.httpURL("/.edge/health"), "")
		require.Equal(t, 200, code)
		require.Equal(t, "web up\napi up\n", body)
		require.Equal(t, "no-store", hdr.Get("Cache-Control"))
		code, body, _ = e.get(t, e.httpsURL("/.edge/health"), "dev.example.com")
		require.Equal(t, 200, code, "the same endpoint over HTTPS (the external check)")
		require.Equal(t, "web up\napi up\n", body)
	})
	t.Run("spoofed forwarding headers never reach a service", func(t *testing.T) {
		got := echoHeaders(t, e.client("dev.example.com", tls.VersionTLS12, 0), e.httpsURL(echoPath), "dev.example.com")
		require.Equal(t, []string{"127.0.0.1"}, got["X-Forwarded-For"], "only the address HAProxy saw")
		require.Equal(t, []string{"https"}, got["X-Forwarded-Proto"])
		require.Equal(t, []string{strconv.Itoa(e.https)}, got["X-Forwarded-Port"], "the port the client reached")
		for _, h := range []string{"X-Real-Ip", "Forwarded", "X-Forwarded-Host", "X-Forwarded-Server"} {
			require.NotContains(t, got, h)
		}
	})
	t.Run("one stopped service fails the gate, naming it; a restarted one passes it", func(t *testing.T) {
		web := e.backends["web"]
		web.stop()
		e.waitFor(t, "503 from the stopped backend", func() bool { return e.status(t, e.httpsURL("/"), "dev.example.com") == 503 })
		code, body, _ := e.get(t, e.httpsURL("/"), "dev.example.com")
		require.Equal(t, 503, code)
		require.Contains(t, string(e.unavailable), body, "the deterministic page")
		code, body, _ = e.get(t, e.httpURL("/.edge/health"), "")
		require.Equal(t, 503, code, "the gate fails while one of two services is down")
		require.Equal(t, "web down\napi up\n", body)
		code, _, _ = e.get(t, e.httpsURL("/b"), "api.dev.example.com")
		require.Equal(t, 200, code, "the other service still serves")

		e.backends["api"].stop()
		e.waitFor(t, "api to be seen down too", func() bool {
			_, body, _ := e.get(t, e.httpURL("/.edge/health"), "")
			return body == "web down\napi down\n"
		})

		web.start(t)
		e.waitFor(t, "web to be seen up again", func() bool {
			_, body, _ := e.get(t, e.httpURL("/.edge/health"), "")
			return body == "web up\napi down\n"
		})
		require.Equal(t, 503, e.status(t, e.httpURL("/.edge/health"), ""), "still failing while api is down")
		e.backends["api"].start(t)
		e.waitFor(t, "200 after the restart", func() bool { return e.status(t, e.httpsURL("/"), "dev.example.com") == 200 })
		e.waitFor(t, "the gate to pass again", func() bool { return e.status(t, e.httpURL("/.edge/health"), "") == 200 })
	})
	t.Run("reloads under load drop nothing", func(t *testing.T) {
		const conns, perConn = 50, 40 // 2,000 requests
		var ok, failed atomic.Int64
		var firstErr atomic.Value
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := e.client("dev.example.com", tls.VersionTLS12, 0) // one keep-alive connection per worker
				defer c.CloseIdleConnections()
				for range perConn {
					// POST: Go's client silently retries idempotent requests on a closed keep-alive
					// connection, which would hide exactly the failures this test looks for.
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.httpsURL("/load"), strings.NewReader("x"))
					req.Host = "dev.example.com"
					resp, err := c.Do(req)
					if err == nil {
						_, err = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if err == nil && resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("status %d", resp.StatusCode)
						}
					}
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
						continue
					}
					ok.Add(1)
				}
			}()
		}
		// Reload at a quarter, half and three quarters of the run, so every reload meets traffic.
		reloads := 0
		for _, at := range []int64{conns * perConn / 4, conns * perConn / 2, conns * perConn * 3 / 4} {
			for ok.Load()+failed.Load() < at && ctx.Err() == nil {
				time.Sleep(2 * time.Millisecond)
			}
			require.NoError(t, e.cmd.Process.Signal(syscall.SIGUSR2), "reload the master")
			reloads++
		}
		wg.Wait()
		require.False(t, errors.Is(ctx.Err(), context.DeadlineExceeded), "the load finished in time")
		require.Zero(t, failed.Load(), "failed requests during 3 reloads; first: %v", firstErr.Load())
		require.Equal(t, int64(conns*perConn), ok.Load())
		require.Equal(t, 3, reloads)
	})
}

var seriesRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$`)
var labelRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// exposition parses Prometheus text format into label sets (with __name__).
func exposition(t *testing.T, text string) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := seriesRE.FindStringSubmatch(line)
		require.NotNil(t, m, "exposition line %q", line)
		labels := map[string]string{"__name__": m[1]}
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			labels[l[1]] = l[2]
		}
		out = append(out, labels)
	}
	require.NotEmpty(t, out)
	return out
}
