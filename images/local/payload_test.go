package local_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/account/setup"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/permissions"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// payload is what `synth -bootstrap-out` renders for a stack: its user-data, and stack.json.
type payload struct {
	userData string
	stack    struct {
		Name   string `json:"stack"`
		Region string `json:"region"`
		Domain string `json:"domain"`
		Edge   struct {
			AllocationID string   `json:"allocationId"`
			HostedZoneID string   `json:"hostedZoneId"`
			CertBucket   string   `json:"certBucket"`
			CertPrefix   string   `json:"certPrefix"`
			Names        []string `json:"certificateNames"`
			Mode         string   `json:"mode"`
			HealthPath   string   `json:"healthPath"`
			ProxyPort    int      `json:"proxyPort"`
			VPCCIDR      string   `json:"vpcCidr"`
		} `json:"edge"`
		LaunchHook string `json:"launchHook"`
		Services   []struct {
			Name string `json:"name"`
			Ref  string `json:"ref"`
			Host string `json:"host"`
			Port int    `json:"port"`
		} `json:"services"`
		// Database and Cache are the data tier's endpoints (the voting stack's).
		Database, Cache *struct {
			Host      string `json:"host"`
			Port      int    `json:"port"`
			Name      string `json:"name"`
			SecretARN string `json:"secretArn"`
		}
	}
}

// group is the name the stand-in gives the stack's Auto Scaling group (AWS appends a suffix to
// the prefix the stack sets).
func (p payload) group() string { return p.stack.Name + "-asg-0123456" }

// render runs the synth command from the repository root, as a user would.
func render(t *testing.T, stack string) payload {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./cmd/synth", "-stack", stack, "-bootstrap-out", dir)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "synth: %s", out)
	var p payload
	ud, err := os.ReadFile(filepath.Join(dir, "user-data"))
	require.NoError(t, err)
	p.userData = string(ud)
	sj, err := os.ReadFile(filepath.Join(dir, "files/etc/immutable-edge/stack.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(sj, &p.stack))
	return p
}

// TestDevLaunchWithoutItsImages boots dev's exact payload on the image beside the stand-ins
// while the stack's container images cannot be pulled: the instance gets its certificate
// through certbot's real DNS-01 flow (Route 53 stand-in, pebble), saves the certificate state,
// keeps its launch hook alive, then abandons the launch and never claims the address; every
// call it made is one its role (inline policy within the stack's boundary) allows.
func TestDevLaunchWithoutItsImages(t *testing.T) {
	t.Parallel()
	timed(t)
	w := newWorld(t, "dev", false)
	calls, _ := w.abandoned(t, build(t), "dev.abandon")
	p := w.p

	// The certificate came from pebble through DNS-01, and its state was saved for the next instance.
	require.Contains(t, operations(calls), "ChangeResourceRecordSets")
	state, ok := w.certState()
	require.True(t, ok, "no certificate state saved")
	cert := certificateIn(t, state)
	require.Contains(t, cert.Issuer.CommonName, "Pebble", "issued by %s", cert.Issuer)
	require.ElementsMatch(t, p.stack.Edge.Names, cert.DNSNames)
	// It got as far as pulling: the credential helper asked ECR for a token.
	require.Contains(t, operations(calls), "GetAuthorizationToken")
	w.requireAllowed(t, calls, false)
}

// TestDevLaunchWhenCertbotFails boots dev's exact payload with its images while pebble cannot
// see the DNS-01 record certbot sets (the Route 53 stand-in accepts the change but does not
// publish it, as with a zone the public DNS does not delegate to): pebble refuses the
// challenge, certbot fails, and the instance abandons its launch without starting a service,
// saving any certificate state or claiming the address.
func TestDevLaunchWhenCertbotFails(t *testing.T) {
	t.Parallel()
	timed(t)
	w := newWorld(t, "dev", true)
	w.aws.setTXT = func(string, string) error { return nil }
	calls, console := w.abandoned(t, build(t), "dev.certbot-failure.abandon")
	lines := strings.Join(console, "\n")

	ops := operations(calls)
	// boot.sh tries certbot three times (lib.sh ensure_certificate: retry 3); each try sets the
	// challenge record, and removes it when the challenge has failed.
	upserts := 0
	for _, c := range calls {
		if c.Operation == "ChangeResourceRecordSets" && c.Params.Get("Action") == "UPSERT" {
			upserts++
		}
	}
	require.Equal(t, 3*len(w.p.stack.Edge.Names), upserts, "certbot's tries, each setting each name's challenge record")
	require.Contains(t, lines, "gave up after 3 attempts: certbot", "boot.sh's retry of certbot")
	require.NotContains(t, ops, "PutObject", "a failed issuance saved certificate state")
	require.NotContains(t, ops, "GetAuthorizationToken", "the instance went on to pull its images")
	_, ok := w.certState()
	require.False(t, ok)
	w.requireAllowed(t, calls, false)
}

// certState is the certificate state the stack's instances keep in its bucket (certstate.sh's
// IE_STATE_OBJECT under the stack's prefix), if any instance saved it.
func (w *world) certState() ([]byte, bool) {
	return w.aws.object(w.p.stack.Edge.CertBucket + "/" + w.p.stack.Edge.CertPrefix + "certificates.tar.gz")
}

// abandoned boots one instance of the world's stack and waits for its CompleteLifecycleAction:
// it must be ABANDON for its own hook, instance and group, after heartbeats, with no call the
// stand-in does not know and no AssociateAddress. It returns the recorded calls and the console.
func (w *world) abandoned(t *testing.T, img image, figureName string) ([]call, []string) {
	t.Helper()
	started := time.Now()
	v := w.boot(t, img, instanceID)
	v.until(t, 14*time.Minute, "CompleteLifecycleAction", func() bool { return w.completed(instanceID) != nil })
	v.spent(t)
	lines := readLines(t, v.console)
	calls := w.aws.Calls()
	t.Logf("%d calls to the AWS stand-in in %s", len(calls), time.Since(started).Round(time.Second))
	figure(figureName, time.Since(started).Seconds())
	for _, c := range calls {
		require.NotEqual(t, "Unsupported", c.Operation, "%s: %s\n%s", c.Service, c.Path, tail(lines, 60))
		require.NotEqual(t, "AssociateAddress", c.Operation, "the address was claimed by an instance that abandoned its launch")
	}
	complete := w.completed(instanceID)
	require.NotNil(t, complete, "no CompleteLifecycleAction:\n%s", tail(lines, 80))
	require.Equal(t, "ABANDON", complete.Params.Get("LifecycleActionResult"))
	require.Equal(t, w.p.stack.LaunchHook, complete.Params.Get("LifecycleHookName"))
	require.Equal(t, w.p.group(), complete.Params.Get("AutoScalingGroupName"))
	require.Contains(t, operations(calls), "RecordLifecycleActionHeartbeat")
	return calls, lines
}

// requireAllowed asks the IAM evaluator whether the stack's instance role (its inline policy
// within the stack's boundary) allows every recorded call, and, when the instance pulled its
// images, the pulls ECR authorises with the same role on each service's repository.
func (w *world) requireAllowed(t *testing.T, calls []call, pulled bool) {
	t.Helper()
	access := instanceAccess(t, w.p.stack.Name)
	if pulled {
		calls = slices.Clone(calls)
		for _, s := range w.p.stack.Services {
			_, repo, _ := splitRef(s.Ref)
			for _, op := range []string{"BatchGetImage", "GetDownloadUrlForLayer"} {
				calls = append(calls, call{Service: "ecr", Operation: op, Path: repo})
			}
		}
	}
	for _, c := range calls {
		req := request(c, w.p)
		ok, why, err := iampolicy.Decide(req, access)
		require.NoError(t, err)
		require.True(t, ok, "the instance role may not %s on %s: %s", req.Action, req.Resource, why)
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	var port int
	_, err := fmt.Sscanf(addr[strings.LastIndex(addr, ":")+1:], "%d", &port)
	require.NoError(t, err)
	return port
}

func operations(calls []call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Operation)
	}
	return out
}

// certificateIn reads the leaf certificate out of a saved certificate state.
func certificateIn(t *testing.T, tarball []byte) *x509.Certificate {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tarball))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		files[h.Name] = b
	}
	for name, b := range files {
		if base := filepath.Base(name); strings.Contains(name, "archive/edge/") && strings.HasPrefix(base, "cert") && strings.HasSuffix(base, ".pem") {
			block, _ := pem.Decode(b)
			require.NotNil(t, block, name)
			cert, err := x509.ParseCertificate(block.Bytes)
			require.NoError(t, err)
			return cert
		}
	}
	t.Fatalf("no archive/edge/cert*.pem in the state: %v", slices.Sorted(maps.Keys(files)))
	return nil
}

// instanceAccess is what IAM weighs for a stack's instance role: its inline policy from the
// stack's plan and the stack's boundary from the account program's.
func instanceAccess(t *testing.T, stack string) iampolicy.Access {
	t.Helper()
	p, err := plan.Run(stack, "")
	require.NoError(t, err)
	role, ok := p.Find("aws:iam/role:Role", stack+"-role")
	require.True(t, ok)
	inline, ok := p.Find("aws:iam/rolePolicy:RolePolicy", stack+"-runtime")
	require.True(t, ok)
	root, err := plan.Root()
	require.NoError(t, err)
	cfg, err := plan.ReadConfigFile(filepath.Join(root, "account", "Pulumi.account.yaml"))
	require.NoError(t, err)
	acct, err := plan.RunProject(setup.Project, setup.AccountStack, cfg, nil, setup.Deploy)
	require.NoError(t, err)
	boundary, ok := acct.Find("aws:iam/policy:Policy", "immutable-edge-"+stack+"-boundary")
	require.True(t, ok)
	_, roleARN := permissions.Identity(p, role)
	parse := func(s string) iampolicy.Document {
		d, err := iampolicy.Parse(s)
		require.NoError(t, err)
		return d
	}
	return iampolicy.Access{Principal: roleARN, Account: plan.Account,
		Identity: []iampolicy.Document{parse(inline.Str("policy"))}, Boundary: []iampolicy.Document{parse(boundary.Str("policy"))}}
}

// request is the IAM request a recorded call is authorised as, on the resource AWS names in
// it, with the tags the stack's resources carry.
func request(c call, p payload) iampolicy.Request {
	region := p.stack.Region
	ctx := map[string]string{"aws:RequestedRegion": region, "aws:ResourceTag/Stack": p.stack.Name, "aws:SecureTransport": "true"}
	r := iampolicy.Request{Action: c.action(), Resource: "*", Context: ctx}
	switch c.Operation {
	case "RecordLifecycleActionHeartbeat", "CompleteLifecycleAction", "SetInstanceHealth":
		r.Resource = "arn:aws:autoscaling:" + region + ":" + plan.Account +
			":autoScalingGroup:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0:autoScalingGroupName/" + p.group()
	case "AssociateAddress":
		r.Resource = "arn:aws:ec2:" + region + ":" + plan.Account + ":elastic-ip/" + c.Params.Get("AllocationId")
	case "PutMetricData":
		ctx["cloudwatch:namespace"] = c.Params.Get("Namespace")
	case "ChangeResourceRecordSets":
		r.Resource = "arn:aws:route53:::hostedzone/" + c.Path
	case "BatchGetImage", "GetDownloadUrlForLayer": // the registry's side of a pull, on the repository
		r.Resource = "arn:aws:ecr:" + region + ":" + plan.Account + ":repository/" + c.Path
	case "GetChange":
		r.Resource = "arn:aws:route53:::change/" + c.Path
	case "ListObjectsV2", "GetObject", "HeadObject", "PutObject":
		r.Resource = "arn:aws:s3:::" + c.Path // the bucket for a list, bucket/key for an object
		if c.Operation == "ListObjectsV2" {
			ctx["s3:prefix"] = c.Params.Get("prefix")
		}
	}
	return r
}
