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

// TestRealHAProxyGateWaitsForEveryService is the boot gate's view: HAProxy starts while one of
// two services is not up yet, and its health endpoint must not answer 200 until that one is.
func TestRealHAProxyGateWaitsForEveryService(t *testing.T) {
	t.Parallel()
	haproxy := testtools.Need(t, "haproxy")
	s := stackFor(t, "dev")
	backends := startBackends(t, &s)
	backends["api"].stop()
	ports := map[string]int{"http": testtools.FreePort(t), "https": testtools.FreePort(t), "stats": testtools.FreePort(t)}
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
