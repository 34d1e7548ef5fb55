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
	port := testtools.FreePort(t)
	log := &bytes.Buffer{}
	runHAProxy(t, haproxy, testConfig(t, s, map[string]int{"alb": port, "stats": testtools.FreePort(t)}), log)

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
