package local_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestProdServesBehindTheALB boots prod's exact payload (the alb edge): no certificate and no
// address, plain HTTP on HAProxy's port for the load balancer, the health endpoint it checks,
// each host from its own container, and forwarding headers taken only from the VPC's range (a
// request from outside it, here the VM's gateway, cannot set them).
func TestProdServesBehindTheALB(t *testing.T) {
	// Runs beside the other light boots once the timing-sensitive dev test is done.
	t.Parallel()
	timed(t)
	img := build(t)
	w := newWorld(t, "prod", true)
	e := w.p.stack.Edge
	require.Equal(t, "alb", e.Mode)
	started := time.Now()
	in := w.boot(t, img, instanceID, e.ProxyPort)
	w.inService(t, in, nil)
	t.Logf("boot to in service under TCG: %s", time.Since(started).Round(time.Second))
	figure("prod.inservice", time.Since(started).Seconds())
	in.settled(t, w)
	in.spent(t)
	require.Equal(t, "CONTINUE", w.completed(instanceID).Params.Get("LifecycleActionResult"))
	calls := w.aws.Calls()
	for _, op := range []string{"AssociateAddress", "ChangeResourceRecordSets", "PutObject"} {
		require.NotContains(t, operations(calls), op, "an alb instance has no address or certificate of its own")
	}
	w.requireAllowed(t, calls, true)
	in.hardened(t, w)

	port := in.fwd[e.ProxyPort]
	base := func(host string) string { return "http://" + host + ":" + strconv.Itoa(e.ProxyPort) }
	health := curl(t, "/dev/null", base(w.p.stack.Services[0].Host)+e.HealthPath, port)
	require.Equal(t, 200, health.code)
	for _, s := range w.p.stack.Services {
		r := curl(t, "/dev/null", base(s.Host)+"/", port,
			"-H", "X-Forwarded-For: 203.0.113.9", "-H", "X-Forwarded-Proto: https", "-H", "X-Forwarded-Port: 443")
		require.Equal(t, 200, r.code, s.Host)
		require.Equal(t, s.Name, r.header.Get("X-Backend"), s.Host)
		// The gateway's own address, not the spoofed one; no proto or port from outside the VPC.
		require.Equal(t, "169.254.0.2", r.header.Get("X-Echo-Forwarded-For"), s.Host)
		require.Empty(t, r.header.Get("X-Echo-Forwarded-Proto"), s.Host)
		require.Empty(t, r.header.Get("X-Echo-Forwarded-Port"), s.Host)
	}
	require.Equal(t, 404, curl(t, "/dev/null", base("unknown.example.com")+"/", port).code)
}
