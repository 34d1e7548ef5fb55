package bootstrap_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// TestRealHAProxyRedirectsBehindTheLoadBalancer runs prod's rendered configuration (the alb
// edge's plain-HTTP frontend, with www.example.com from Pulumi.prod.yaml as a redirect name) in
// the real HAProxy, as the load balancer reaches it.
func TestRealHAProxyRedirectsBehindTheLoadBalancer(t *testing.T) {
	t.Parallel()
	haproxy := testtools.Need(t, "haproxy")
	s := stackFor(t, "prod")
	require.Equal(t, []string{"www.example.com"}, s.Redirects, "prod's certificate name without a service")
	startBackends(t, &s)
	port := freePort(t)
	log := &bytes.Buffer{}
	runHAProxy(t, haproxy, testConfig(t, s, map[string]int{"alb": port, "stats": freePort(t)}), log)

	client := &http.Client{Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(host, path string) (int, string, string) {
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		require.NoError(t, err)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for code, _, _ := get("example.com", "/.edge/health"); code != 200; code, _, _ = get("example.com", "/.edge/health") {
		require.True(t, time.Now().Before(deadline), "haproxy never became healthy:\n%s", log.String())
		time.Sleep(200 * time.Millisecond)
	}

	code, location, _ := get("www.example.com", "/pricing?plan=team")
	require.Equal(t, http.StatusMovedPermanently, code)
	require.Equal(t, "https://example.com/pricing?plan=team", location, "to the domain, path and query kept, over HTTPS")
	code, location, body := get("example.com", "/pricing")
	require.Equal(t, 200, code, "the domain is served")
	require.Empty(t, location)
	require.Contains(t, body, "service=web")
	code, _, _ = get("shop.example.com", "/")
	require.Equal(t, 404, code, "a name on no certificate and no service is still unknown")
}

// TestRealHAProxyTrustsOnlyTheLoadBalancersEntry runs prod's rendered configuration with the
// test playing the load balancer (its VPC range set to loopback) and, on a second HAProxy, a
// client that reaches the instance directly (loopback outside the VPC range).
func TestRealHAProxyTrustsOnlyTheLoadBalancersEntry(t *testing.T) {
	t.Parallel()
	haproxy := testtools.Need(t, "haproxy")
	client := &http.Client{Timeout: 5 * time.Second}
	for _, tc := range []struct {
		name, vpc            string
		forwardedFor         []string
		proto, port          []string
		extraFor, extraProto string
	}{
		// The ALB appends its entries after the client's: only those last ones survive.
		{name: "through the load balancer", vpc: "127.0.0.0/8", extraFor: "203.0.113.7", extraProto: "https",
			forwardedFor: []string{"203.0.113.7"}, proto: []string{"https"}, port: []string{"443"}},
		// A last entry that is no address is not believed either: the peer's address replaces it.
		{name: "through the load balancer, junk last entry", vpc: "127.0.0.0/8", extraFor: "unknown", extraProto: "https",
			forwardedFor: []string{"127.0.0.1"}, proto: []string{"https"}, port: []string{"443"}},
		{name: "straight from a client", vpc: "10.0.0.0/16", extraFor: "203.0.113.7", extraProto: "https",
			forwardedFor: []string{"127.0.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := stackFor(t, "prod")
			s.Edge.VpcCIDR = tc.vpc
			startBackends(t, &s)
			port := freePort(t)
			log := &bytes.Buffer{}
			runHAProxy(t, haproxy, testConfig(t, s, map[string]int{"alb": port, "stats": freePort(t)}), log)
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			deadline := time.Now().Add(15 * time.Second)
			for !healthy(client, base+"/.edge/health") {
				require.True(t, time.Now().Before(deadline), "haproxy never became healthy:\n%s", log.String())
				time.Sleep(200 * time.Millisecond)
			}
			got := echoHeaders(t, client, base+echoPath, "example.com",
				[2]string{"X-Forwarded-For", tc.extraFor}, [2]string{"X-Forwarded-Proto", tc.extraProto},
				[2]string{"X-Forwarded-Port", "443"})
			require.Equal(t, tc.forwardedFor, got["X-Forwarded-For"])
			require.Equal(t, tc.proto, got["X-Forwarded-Proto"])
			require.Equal(t, tc.port, got["X-Forwarded-Port"])
			for _, h := range []string{"X-Real-Ip", "Forwarded", "X-Forwarded-Host", "X-Forwarded-Server"} {
				require.NotContains(t, got, h)
			}
		})
	}
}

func healthy(c *http.Client, url string) bool {
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == 200
}

// TestRealHAProxyGateWaitsForEveryService is the boot gate's view: HAProxy starts while one of
// two services is not up yet, and its health endpoint must not answer 200 until that one is.
func TestRealHAProxyGateWaitsForEveryService(t *testing.T) {
	t.Parallel()
	haproxy := testtools.Need(t, "haproxy")
	s := stackFor(t, "dev")
	backends := startBackends(t, &s)
	backends["api"].stop()
	ports := map[string]int{"http": freePort(t), "https": freePort(t), "stats": freePort(t)}
	log := &bytes.Buffer{}
	runHAProxy(t, haproxy, testConfig(t, s, ports), log)
	url := fmt.Sprintf("http://127.0.0.1:%d/.edge/health", ports["http"])
	get := func() (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	// Until its first check (within inter, 2 s) HAProxy counts a server up, so an answer right
	// after the start can pass: the gate asks again IE_GATE_SETTLE (3 s) later, and every answer
	// from then on must fail while api is down.
	time.Sleep(3 * time.Second)
	var last string
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		code, body := get()
		require.NotEqual(t, 200, code, "the gate passed with api down: %q", body)
		if code != 0 {
			last = body
		}
	}
	require.Equal(t, "web up\napi down\n", last, "the body names the service that is down")
	backends["api"].start(t)
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, body := get()
		if code == 200 {
			require.Equal(t, "web up\napi up\n", body)
			break
		}
		require.True(t, time.Now().Before(end), "the gate never passed once api was up:\n%s", log.String())
	}
}
