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
	"net/http/httptest"
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
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// payload is what `synth -bootstrap-out` renders for a stack: its user-data, and stack.json.
type payload struct {
	userData string
	stack    struct {
		Region string `json:"region"`
		Domain string `json:"domain"`
		Edge   struct {
			AllocationID string   `json:"allocationId"`
			HostedZoneID string   `json:"hostedZoneId"`
			CertBucket   string   `json:"certBucket"`
			CertPrefix   string   `json:"certPrefix"`
			Names        []string `json:"certificateNames"`
		} `json:"edge"`
		LaunchHook string `json:"launchHook"`
	}
}

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

// The stand-ins' addresses inside the VM's network, each forwarded to a loopback port.
const (
	awsAddr   = "169.254.0.100"
	acmeAddr  = "169.254.0.101"
	imdsAddr  = "169.254.169.254"
	groupName = "dev-asg-0123456"
)

// vendorData is everything the boot tests put into the VM besides the image and the stack's
// exact user-data, so the instance's unchanged scripts reach the stand-ins: the AWS CLI's and
// boto3's endpoint (every service at the AWS stand-in, S3 path-style), pebble's name and the
// CA of its ACME endpoint's certificate, and certbot's ACME server. cloud-init runs vendor
// scripts before the user-data's runcmd.
func vendorData(acmeCA string) string {
	return `#!/bin/sh
# immutable-edge boot test: the stand-ins' settings (not part of the image or the payload)
set -e
echo "` + acmeAddr + ` pebble" >>/etc/hosts
install -d -m 0700 /root/.aws
cat >/root/.aws/config <<'EOF'
[default]
region = eu-central-1
endpoint_url = http://` + awsAddr + `
s3 =
    addressing_style = path
EOF
cat >/usr/local/share/ca-certificates/ie-boot-test-acme.crt <<'EOF'
` + strings.TrimSpace(acmeCA) + `
EOF
update-ca-certificates
install -d /etc/letsencrypt
echo "server = https://pebble:14000/dir" >/etc/letsencrypt/cli.ini
`
}

// metadataMock starts amazon-ec2-metadata-mock answering IMDSv2 only, as the launch template
// requires, for this instance in the stack's region, with credentials that do not expire
// during the test (the mock's defaults expired in 2020, which botocore refuses).
func metadataMock(t *testing.T, region string) int {
	t.Helper()
	bin := testtools.Built(t, "ec2-metadata-mock")
	port := testtools.FreePort(t)
	cfg := map[string]any{"imdsv2": true, "metadata": map[string]any{"values": map[string]any{
		"instance-id": instanceID, "placement-region": region, "placement-availability-zone": region + "a",
		"iam-security-credentials": map[string]any{
			"Code": "Success", "LastUpdated": time.Now().UTC().Format(time.RFC3339), "Type": "AWS-HMAC",
			"AccessKeyId": "ASIABOOTTEST", "SecretAccessKey": "boot-test", "Token": "boot-test",
			"Expiration": time.Now().Add(6 * time.Hour).UTC().Format(time.RFC3339),
		},
	}}}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	f := filepath.Join(t.TempDir(), "aemm.json")
	require.NoError(t, os.WriteFile(f, b, 0o600))
	daemon(t, nil, bin, "--hostname", "127.0.0.1", "--port", fmt.Sprint(port), "--config-file", f)
	waitListening(t, port)
	return port
}

// TestDevLaunchWithoutItsImages boots dev's exact payload on the image beside the stand-ins
// while the stack's container images cannot be pulled: the instance gets its certificate
// through certbot's real DNS-01 flow (Route 53 stand-in, pebble), saves the certificate state,
// keeps its launch hook alive, then abandons the launch and never claims the address; every
// call it made is one its role (inline policy within the stack's boundary) allows.
func TestDevLaunchWithoutItsImages(t *testing.T) {
	img := build(t)
	p := render(t, "dev")
	ca := startACME(t)
	aws := &standIn{objects: map[string][]byte{}, group: groupName, state: "Pending:Wait",
		zoneID: p.stack.Edge.HostedZoneID, zoneName: "example.com.", setTXT: ca.SetTXT, clearTXT: ca.ClearTXT}
	srv := httptest.NewServer(aws)
	defer srv.Close()
	imds := metadataMock(t, p.stack.Region)

	started := time.Now()
	v := start(t, img, vmConfig{userData: p.userData, vendorData: vendorData(ca.caPEM),
		guestFwd: map[string]int{imdsAddr + ":80": imds, awsAddr + ":80": portOf(t, srv.Listener.Addr().String()), acmeAddr + ":14000": ca.port}})
	completed := func() bool {
		for _, c := range aws.Calls() {
			if c.Operation == "CompleteLifecycleAction" {
				return true
			}
		}
		return false
	}
	lines := v.wait(t, 14*time.Minute, completed)
	calls := aws.Calls()
	t.Logf("%d calls to the AWS stand-in in %s", len(calls), time.Since(started).Round(time.Second))
	for _, c := range calls {
		require.NotEqual(t, "Unsupported", c.Operation, "%s: %s\n%s", c.Service, c.Path, tail(lines, 60))
	}

	// The launch was abandoned, for this instance and its hook, and the address never claimed.
	var complete *call
	for i, c := range calls {
		require.NotEqual(t, "AssociateAddress", c.Operation, "the address was claimed by an instance that abandoned its launch")
		if c.Operation == "CompleteLifecycleAction" {
			complete = &calls[i]
		}
	}
	require.NotNil(t, complete, "no CompleteLifecycleAction:\n%s", tail(lines, 80))
	require.Equal(t, "ABANDON", complete.Params.Get("LifecycleActionResult"))
	require.Equal(t, p.stack.LaunchHook, complete.Params.Get("LifecycleHookName"))
	require.Equal(t, instanceID, complete.Params.Get("InstanceId"))
	require.Equal(t, groupName, complete.Params.Get("AutoScalingGroupName"))
	require.Contains(t, operations(calls), "RecordLifecycleActionHeartbeat")

	// The certificate came from pebble through DNS-01, and its state was saved for the next instance.
	require.Contains(t, operations(calls), "ChangeResourceRecordSets")
	state, ok := aws.objects[p.stack.Edge.CertBucket+"/"+p.stack.Edge.CertPrefix+"certificates.tar.gz"]
	require.True(t, ok, "no certificate state saved; objects: %v", slices.Sorted(maps.Keys(aws.objects)))
	cert := certificateIn(t, state)
	require.Contains(t, cert.Issuer.CommonName, "Pebble", "issued by %s", cert.Issuer)
	require.ElementsMatch(t, p.stack.Edge.Names, cert.DNSNames)

	// Every call is one the instance's role may make.
	access := instanceAccess(t)
	for _, c := range calls {
		req := request(c, p)
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

// instanceAccess is what IAM weighs for the dev instance role: its inline policy from dev's
// plan and the stack's boundary from the account program's.
func instanceAccess(t *testing.T) iampolicy.Access {
	t.Helper()
	t.Chdir("../..")
	p, err := plan.Run("dev", "")
	require.NoError(t, err)
	role, ok := p.Find("aws:iam/role:Role", "dev-role")
	require.True(t, ok)
	inline, ok := p.Find("aws:iam/rolePolicy:RolePolicy", "dev-runtime")
	require.True(t, ok)
	cfg, err := plan.ReadConfigFile("account/Pulumi.account.yaml")
	require.NoError(t, err)
	acct, err := plan.RunProject(setup.Project, setup.AccountStack, cfg, nil, setup.Deploy)
	require.NoError(t, err)
	boundary, ok := acct.Find("aws:iam/policy:Policy", "immutable-edge-dev-boundary")
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
	ctx := map[string]string{"aws:RequestedRegion": region, "aws:ResourceTag/Stack": "dev", "aws:SecureTransport": "true"}
	r := iampolicy.Request{Action: c.action(), Resource: "*", Context: ctx}
	switch c.Operation {
	case "RecordLifecycleActionHeartbeat", "CompleteLifecycleAction", "SetInstanceHealth":
		r.Resource = "arn:aws:autoscaling:" + region + ":" + plan.Account +
			":autoScalingGroup:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0:autoScalingGroupName/" + groupName
	case "AssociateAddress":
		r.Resource = "arn:aws:ec2:" + region + ":" + plan.Account + ":elastic-ip/" + c.Params.Get("AllocationId")
	case "PutMetricData":
		ctx["cloudwatch:namespace"] = c.Params.Get("Namespace")
	case "ChangeResourceRecordSets":
		r.Resource = "arn:aws:route53:::hostedzone/" + c.Path
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
