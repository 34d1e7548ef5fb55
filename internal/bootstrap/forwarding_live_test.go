package bootstrap_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// echoPath is where a stand-in service answers with the request headers it received, as JSON.
const echoPath = "/.echo/headers"

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
			port := testtools.FreePort(t)
			log := &bytes.Buffer{}
			runHAProxy(t, haproxy, testConfig(t, s, map[string]int{"alb": port, "stats": testtools.FreePort(t)}), log)
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
	return resp.StatusCode == http.StatusOK
}

// spoofed are forwarding headers a client makes up, each as two header lines.
var spoofed = map[string][]string{
	"X-Forwarded-For":    {"6.6.6.6", "10.9.9.9, 7.7.7.7"},
	"X-Forwarded-Proto":  {"http", "gopher"},
	"X-Forwarded-Port":   {"1", "2"},
	"X-Forwarded-Host":   {"evil.test", "evil.test"},
	"X-Forwarded-Server": {"evil.test", "evil.test"},
	"X-Real-Ip":          {"6.6.6.6", "6.6.6.6"},
	"Forwarded":          {"for=6.6.6.6;proto=http", "for=7.7.7.7"},
}

// echoHeaders sends the spoofed headers (and extra, appended after them, as a proxy in front
// would) to a stand-in service's echo path and returns the headers that reached it.
func echoHeaders(t *testing.T, c *http.Client, url, host string, extra ...[2]string) http.Header {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Host = host
	for name, values := range spoofed {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	for _, kv := range extra {
		req.Header.Add(kv[0], kv[1])
	}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var got http.Header
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	return got
}
