package bootstrap_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/components/fleet"
	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

func TestTheBootBudgetFitsTheHook(t *testing.T) {
	t.Parallel()
	s := stackFor(t, "dev")
	require.Equal(t, bootstrap.LaunchLifecycle(fleet.LaunchHookTimeout), s.Lifecycle, "stack.json carries the fleet's timeout")
	l := s.Lifecycle
	require.Equal(t, fleet.LaunchHookTimeout, l.HookTimeoutSeconds)
	require.Equal(t, 720, l.BudgetSeconds)
	require.Less(t, l.BudgetSeconds, l.HookTimeoutSeconds, "CONTINUE lands before the hook could time out unheard")
	require.GreaterOrEqual(t, l.HookTimeoutSeconds/l.HeartbeatSeconds, 5, "several heartbeats may fail before the hook times out")
}

// short is a stack whose boot budget runs out after four seconds, with a heartbeat every second.
func short(t *testing.T) bootstrap.Stack {
	s := stackFor(t, "dev")
	s.Lifecycle = bootstrap.Lifecycle{HookTimeoutSeconds: fleet.LaunchHookTimeout, BudgetSeconds: 4, HeartbeatSeconds: 1}
	return s
}

// TestTheAddressNeverEndsOnAnAbandonedInstance: whatever happens to CONTINUE, an instance the
// group does not put in service never holds the address; the old holder keeps it.
func TestTheAddressNeverEndsOnAnAbandonedInstance(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		stack     func(*testing.T) bootstrap.Stack
		hook      string // the hook's state before the boot: "" is Pending:Wait
		env       []string
		serving   bool
		continued bool // CONTINUE was sent
	}{
		{"CONTINUE refused", devStack, "", []string{"FAKE_CONTINUE=fail"}, false, true},
		{"CONTINUE applied, its answer lost", devStack, "", []string{"FAKE_CONTINUE=lost"}, true, true},
		{"the hook already timed out", devStack, "Terminating", nil, false, true},
		{"heartbeats failing, CONTINUE in time", devStack, "", []string{"FAKE_HEARTBEAT_FAILS=1"}, true, true},
		{"the budget is spent while the gate answers slowly", short, "", []string{"FAKE_GATE_SLEEP=6"}, false, false},
		{"the budget is spent before the gate passes", short, "", []string{"FAKE_GATE_FAILS=99", "IE_GATE_TRIES=60", "IE_GATE_DELAY=1"}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newSandbox(t, c.stack(t), nil)
			require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "holder"), []byte("i-0old\n"), 0o644))
			if c.hook != "" {
				require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "lifecycle"), []byte(c.hook+"\n"), 0o644))
			}
			r := b.run("boot.sh", nil, c.env...)
			require.GreaterOrEqual(t, r.index("record-lifecycle-action-heartbeat"), 0)
			require.Equal(t, c.continued, r.index("--lifecycle-action-result CONTINUE") >= 0)
			if !c.serving {
				require.Error(t, r.err)
				require.NotEqual(t, "InService", b.lifecycle())
				require.Equal(t, "i-0old", b.holder(), "the address stays with the instance serving")
				require.Equal(t, -1, r.index("associate-address"))
				return
			}
			require.NoError(t, r.err)
			require.Equal(t, "InService", b.lifecycle())
			require.Equal(t, "i-0abc", b.holder())
		})
	}
}

func devStack(t *testing.T) bootstrap.Stack { return stackFor(t, "dev") }

// TestTheBudgetStopsTheBoot: once the budget is spent the boot gives up (the gate's retries stop
// at the deadline, not after 60 tries), the heartbeats stop and the launch is abandoned.
func TestTheBudgetStopsTheBoot(t *testing.T) {
	t.Parallel()
	b := newSandbox(t, short(t), nil)
	r := b.run("boot.sh", nil, "FAKE_GATE_FAILS=99", "IE_GATE_TRIES=60", "IE_GATE_DELAY=1")
	require.Error(t, r.err)
	require.LessOrEqual(t, r.count("/.edge/health"), 4, "the gate's wait ends with the budget")
	require.Contains(t, r.output, "the boot budget is spent")
	require.GreaterOrEqual(t, r.count("record-lifecycle-action-heartbeat"), 2, "a heartbeat every second while it works")
	require.Equal(t, "Terminating", b.lifecycle())
}

// TestHeartbeatsStopWithTheBoot: a boot that went into service leaves no heartbeat loop behind
// (one would hold the scripts' output open while it sleeps, and heartbeat until the budget).
func TestHeartbeatsStopWithTheBoot(t *testing.T) {
	t.Parallel()
	s := stackFor(t, "prod")
	s.Lifecycle.BudgetSeconds, s.Lifecycle.HeartbeatSeconds = 60, 30 // a leaked loop keeps the run going for a minute
	b := newSandbox(t, s, nil)
	start := time.Now()
	r := b.run("boot.sh", nil)
	require.NoError(t, r.err)
	require.Less(t, time.Since(start), 15*time.Second)
	require.Equal(t, 1, r.count("record-lifecycle-action-heartbeat"))
	require.Less(t, r.index("record-lifecycle-action-heartbeat"), r.index("--lifecycle-action-result CONTINUE"))
}

// autoScaling stands in for the Auto Scaling endpoint the real AWS CLI talks to: the instance is
// Pending:Wait until CompleteLifecycleAction is answered with complete (an HTTP status and an
// error code, or 200), after which its state is then.
type autoScaling struct {
	mu       sync.Mutex
	state    string
	complete int
	code     string
	then     string
	calls    []map[string][]string
}

func (a *autoScaling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, r.PostForm)
	action := r.PostForm.Get("Action")
	w.Header().Set("Content-Type", "text/xml")
	const ns = `xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"`
	switch action {
	case "DescribeAutoScalingInstances":
		_, _ = fmt.Fprintf(w, `<DescribeAutoScalingInstancesResponse %s><DescribeAutoScalingInstancesResult><AutoScalingInstances><member>`+
			`<InstanceId>i-0abc</InstanceId><AutoScalingGroupName>prod-asg-1</AutoScalingGroupName><AvailabilityZone>eu-central-1a</AvailabilityZone>`+
			`<LifecycleState>%s</LifecycleState><HealthStatus>HEALTHY</HealthStatus><ProtectedFromScaleIn>false</ProtectedFromScaleIn>`+
			`</member></AutoScalingInstances></DescribeAutoScalingInstancesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>`+
			`</DescribeAutoScalingInstancesResponse>`, ns, a.state)
	case "RecordLifecycleActionHeartbeat":
		_, _ = fmt.Fprintf(w, `<RecordLifecycleActionHeartbeatResponse %s><RecordLifecycleActionHeartbeatResult/>`+
			`<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></RecordLifecycleActionHeartbeatResponse>`, ns)
	case "CompleteLifecycleAction":
		a.state = a.then
		if a.complete != http.StatusOK {
			w.WriteHeader(a.complete)
			_, _ = fmt.Fprintf(w, `<ErrorResponse %s><Error><Type>Sender</Type><Code>%s</Code>`+
				`<Message>No active Lifecycle Action found with instance ID i-0abc</Message></Error><RequestId>r</RequestId></ErrorResponse>`, ns, a.code)
			return
		}
		_, _ = fmt.Fprintf(w, `<CompleteLifecycleActionResponse %s><CompleteLifecycleActionResult/>`+
			`<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></CompleteLifecycleActionResponse>`, ns)
	default:
		http.Error(w, "unexpected "+action, http.StatusBadRequest)
	}
}

func (a *autoScaling) actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, c := range a.calls {
		out = append(out, c["Action"][0]+" "+first(c["LifecycleActionResult"]))
	}
	return out
}

// TestTheAWSCLIReportsCONTINUE boots the alb stack with the real AWS CLI against a stand-in
// Auto Scaling: the flags the scripts pass exist, a CONTINUE refused because the hook has ended
// fails the boot, and one applied whose answer was an error (the CLI gave up on a 500) counts.
func TestTheAWSCLIReportsCONTINUE(t *testing.T) {
	t.Parallel()
	cli := testtools.Need(t, "aws")
	cases := map[string]struct {
		api     *autoScaling
		serving bool
	}{
		"accepted":           {&autoScaling{state: "Pending:Wait", complete: http.StatusOK, then: "Pending:Proceed"}, true},
		"the hook has ended": {&autoScaling{state: "Pending:Wait", complete: http.StatusBadRequest, code: "ValidationError", then: "Terminating"}, false},
		"applied, answered 500": {&autoScaling{state: "Pending:Wait", complete: http.StatusInternalServerError, code: "InternalFailure",
			then: "InService"}, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := httptest.NewServer(c.api)
			defer api.Close()
			b := newSandbox(t, stackFor(t, "prod"), map[string]string{"aws": "exec " + cli + " --endpoint-url " + api.URL + ` "$@"`})
			r := b.run("boot.sh", nil, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_EC2_METADATA_DISABLED=true",
				"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=2")
			got := c.api.actions()
			require.Contains(t, got, "RecordLifecycleActionHeartbeat ")
			require.Contains(t, got, "CompleteLifecycleAction CONTINUE")
			for _, call := range c.api.calls {
				if first(call["Action"]) != "DescribeAutoScalingInstances" {
					require.Equal(t, "prod-asg-1", first(call["AutoScalingGroupName"]))
					require.Equal(t, "instance-ready", first(call["LifecycleHookName"]))
					require.Equal(t, "i-0abc", first(call["InstanceId"]))
				}
			}
			if c.serving {
				require.NoError(t, r.err)
				require.GreaterOrEqual(t, r.index("ie-health-watch.timer"), 0)
				return
			}
			require.Error(t, r.err)
			require.Contains(t, r.output, "CONTINUE was not accepted (lifecycle state Terminating)")
			require.Equal(t, -1, r.index("ie-health-watch.timer"))
		})
	}
}
