package local_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDevServesAndIsReplaced boots dev's exact payload with its images in the registry: the
// instance gets its certificate from pebble, pulls its images with the token the credential
// helper got from ECR, passes its gate, completes its hook with CONTINUE and only then claims
// the address, and serves each host over TLS from the right container. A replacement boots at
// once while bounded load runs through the address: it restores the certificate instead of
// asking pebble again, claims the address, the address moves, and the failed requests are
// counted. On the replacement a stopped container is 503 within the check window, then 200.
func TestDevServesAndIsReplaced(t *testing.T) {
	// Beside the other boot tests, two at a time (go test's -parallel, GOMAXPROCS: 2 here), first
	// of them since it is the longest: the switch-over is measured with another VM booting.
	t.Parallel()
	timed(t)
	img := build(t)
	w := newWorld(t, "dev", true)
	started := time.Now()
	first := w.boot(t, img, instanceID, 80, 443)
	w.inService(t, first, func() bool { return w.associated(instanceID) })
	serving := time.Since(started)
	t.Logf("boot to serving under TCG: %s", serving.Round(time.Second))
	figure("dev.serving", serving.Seconds())

	// The replacement boots at once, while the first instance serves bounded load behind the
	// address; the first is checked meanwhile (reads only: the load sees it as it is).
	_, roots := w.trust(t)
	orders := countOf(w.aws.Calls(), "ChangeResourceRecordSets")
	eip := newElasticIP(t, first.fwd[443])
	var hosts []string
	for _, s := range w.p.stack.Services {
		hosts = append(hosts, s.Host)
	}
	traffic := startLoad(roots, eip.port(), hosts)
	const secondID = "i-0fedcba987654321f"
	replaced := time.Now()
	second := w.boot(t, img, secondID, 80, 443)

	first.settled(t, w)
	steps(t, first.vm, "dev.step.")
	first.spent(t)
	w.claimedAfterContinue(t, instanceID)
	require.Contains(t, operations(w.aws.Calls()), "GetAuthorizationToken")
	first.hardened(t, w)
	w.serves(t, first)
	served := leaf(t, roots, hosts[0], first.fwd[443])
	require.ElementsMatch(t, w.p.stack.Edge.Names, served.DNSNames)

	w.inService(t, second, func() bool { return w.associated(secondID) })
	eip.move(second.fwd[443])
	figure("dev.replacement.serving", time.Since(replaced).Seconds())
	eip.mu.Lock()
	dropped := eip.dropped
	eip.mu.Unlock()
	time.Sleep(10 * time.Second)
	failed, total, span := traffic.finish()
	t.Logf("switch-over: %d failed of %d requests (failures spanned %s); %d open connections dropped", failed, total, span.Round(time.Millisecond), dropped)
	figure("switch.failed", float64(failed))
	figure("switch.total", float64(total))
	figure("switch.span", span.Seconds())
	figure("switch.dropped", float64(dropped))
	require.Less(t, failed, total/10, "the switch-over failed more than a tenth of the requests")

	// The replacement restored the certificate instead of ordering one, and serves as the first did.
	second.settled(t, w)
	steps(t, second.vm, "dev.replacement.step.")
	w.claimedAfterContinue(t, secondID)
	require.Equal(t, orders, countOf(w.aws.Calls(), "ChangeResourceRecordSets"), "the replacement asked pebble for a new certificate")
	require.Equal(t, served.SerialNumber, leaf(t, roots, hosts[0], second.fwd[443]).SerialNumber, "the replacement serves another certificate")
	second.hardened(t, w)
	w.serves(t, second)
	w.requireAllowed(t, w.aws.Calls(), true)

	second.recovers(t, w)
}

// claimedAfterContinue checks the instance completed its own hook in its group with CONTINUE
// and claimed the stack's address only after that.
func (w *world) claimedAfterContinue(t *testing.T, id string) {
	t.Helper()
	calls := w.aws.Calls()
	by := func(op string) func(call) bool {
		return func(c call) bool { return c.Operation == op && c.Params.Get("InstanceId") == id }
	}
	complete := slices.IndexFunc(calls, by("CompleteLifecycleAction"))
	require.GreaterOrEqual(t, complete, 0, "%s completed no lifecycle action", id)
	c := calls[complete].Params
	require.Equal(t, "CONTINUE", c.Get("LifecycleActionResult"))
	require.Equal(t, w.p.stack.LaunchHook, c.Get("LifecycleHookName"))
	require.Equal(t, w.p.group(), c.Get("AutoScalingGroupName"))
	associate := slices.IndexFunc(calls, by("AssociateAddress"))
	require.Greater(t, associate, complete, "%s claimed the address before its CONTINUE", id)
	require.Equal(t, w.p.stack.Edge.AllocationID, calls[associate].Params.Get("AllocationId"))
}

// recovers stops the first service's container: its host is 503 within HAProxy's check window,
// and 200 again once systemd has restarted it.
func (in *instance) recovers(t *testing.T, w *world) {
	t.Helper()
	rootFile, _ := w.trust(t)
	host := w.p.stack.Services[0].Host
	stopped := time.Now()
	in.control(t, "stop "+w.p.stack.Services[0].Name)
	code := func() int { return curl(t, rootFile, "https://"+host+"/", in.fwd[443]).code }
	in.until(t, 20*time.Second, "503 from the stopped service", func() bool { return code() == 503 })
	down := time.Since(stopped)
	in.until(t, 2*time.Minute, "200 after the restart", func() bool { return code() == 200 })
	up := time.Since(stopped)
	t.Logf("stopped container: 503 after %s, 200 again after %s", down.Round(100*time.Millisecond), up.Round(100*time.Millisecond))
	figure("dev.stopped.503", down.Seconds())
	figure("dev.stopped.200", up.Seconds())
}

// serves checks what a client of the instance sees: each host over TLS with pebble's
// certificate (curl trusting only pebble's root) from its own container, HTTP redirected to
// HTTPS on the same path, an unknown host 404.
func (w *world) serves(t *testing.T, in *instance) {
	t.Helper()
	rootFile, _ := w.trust(t)
	for _, s := range w.p.stack.Services {
		r := curl(t, rootFile, "https://"+s.Host+"/", in.fwd[443])
		require.Equal(t, 200, r.code, s.Host)
		require.Equal(t, s.Name, r.header.Get("X-Backend"), s.Host)
		require.Equal(t, "https", r.header.Get("X-Echo-Forwarded-Proto"), s.Host)
		require.NotEmpty(t, r.header.Get("Strict-Transport-Security"), s.Host)
		r = curl(t, rootFile, "http://"+s.Host+"/some/path?q=1", in.fwd[80])
		require.Equal(t, 308, r.code, s.Host)
		require.Equal(t, "https://"+s.Host+"/some/path?q=1", r.header.Get("Location"))
	}
	host := w.p.stack.Services[0].Host
	require.Equal(t, 404, curl(t, rootFile, "https://"+host+"/", in.fwd[443], "-H", "Host: unknown.example.com").code)
}

func countOf(calls []call, op string) int {
	n := 0
	for _, c := range calls {
		if c.Operation == op {
			n++
		}
	}
	return n
}
