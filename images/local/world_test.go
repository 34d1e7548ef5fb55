package local_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// The stand-ins' addresses inside the VM's network, each forwarded to a loopback port.
const (
	awsAddr      = "169.254.0.100" // every AWS API the CLI calls (its endpoint_url), plain HTTP
	acmeAddr     = "169.254.0.101" // pebble, as the name "pebble"
	ecrAddr      = "169.254.0.102" // ECR's API under its own name, TLS: the credential helper takes no endpoint setting
	registryAddr = "169.254.0.103" // the registry under the stack's ECR registry name, TLS
	imdsAddr     = "169.254.169.254"
	controlPort  = 7000 // the test's control socket in the VM (see vendorData)
)

// world is everything outside a stack's instances in the boot tests, on loopback only: pebble
// with its DNS server, the AWS stand-in (plain HTTP for the CLI, TLS under ECR's API name for
// the credential helper) and the registry. Instances of the same world share its state, as
// instances of one stack share S3 and the registry.
type world struct {
	p       payload
	acme    *acme
	aws     *standIn
	awsPort int
	ecrPort int
	reg     *registry
	awsCA   string // the CA of the ECR API's and the registry's certificates
	// more are further guest forwards of every instance (a database's address, say).
	more map[string]int
	// pebble's issuing root, fetched once: the file curl is given and the pool Go clients use.
	rootFile string
	roots    *x509.CertPool
}

// newWorld renders the stack's payload and starts its stand-ins; with images, the registry
// holds each service's image at the ref the payload names.
func newWorld(t *testing.T, stack string, images bool) *world {
	t.Helper()
	w := &world{p: render(t, stack)}
	w.acme = startACME(t)
	host, _, _ := splitRef(w.p.stack.Services[0].Ref)
	caPEM, cert, key := testCA(t, t.TempDir(), "api.ecr."+w.p.stack.Region+".amazonaws.com", host)
	w.awsCA = caPEM
	w.reg = startRegistry(t, caPEM, cert, key)
	w.aws = &standIn{objects: map[string][]byte{}, group: w.p.group(), registry: host, password: w.reg.password,
		zoneID: w.p.stack.Edge.HostedZoneID, zoneName: "example.com.", setTXT: w.acme.SetTXT, clearTXT: w.acme.ClearTXT}
	plain := httptest.NewServer(w.aws)
	t.Cleanup(plain.Close)
	w.awsPort = portOf(t, plain.Listener.Addr().String())
	pair, err := tls.LoadX509KeyPair(cert, key)
	require.NoError(t, err)
	secure := httptest.NewUnstartedServer(w.aws)
	secure.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	secure.StartTLS()
	t.Cleanup(secure.Close)
	w.ecrPort = portOf(t, secure.Listener.Addr().String())
	if images {
		layer, diffID := backendLayer(t)
		for _, s := range w.p.stack.Services {
			_, repo, tag := splitRef(s.Ref)
			w.reg.push(t, repo, tag, s.Name, layer, diffID)
		}
	}
	return w
}

// splitRef splits an image ref of the stack's registry into its host, repository and tag.
func splitRef(ref string) (host, repo, tag string) {
	host, path, _ := strings.Cut(ref, "/")
	repo, tag, _ = strings.Cut(path, ":")
	return host, repo, tag
}

// trust returns pebble's issuing root as a file (for curl) and a pool (for Go clients),
// fetched from pebble the first time.
func (w *world) trust(t *testing.T) (string, *x509.CertPool) {
	t.Helper()
	if w.roots == nil {
		rootPEM, roots := w.acme.root(t)
		w.rootFile = filepath.Join(t.TempDir(), "pebble-root.pem")
		require.NoError(t, os.WriteFile(w.rootFile, []byte(rootPEM), 0o600))
		w.roots = roots
	}
	return w.rootFile, w.roots
}

// instance is one booted VM of the world's stack, with the loopback ports its guest ports are
// forwarded to.
type instance struct {
	*vm
	id  string
	fwd map[int]int // guest port -> loopback port
}

// boot starts an instance of the stack with its exact user-data, its own metadata service, and
// loopback forwards to the given guest ports and the control socket.
func (w *world) boot(t *testing.T, img image, id string, guestPorts ...int) *instance {
	t.Helper()
	in := &instance{id: id, fwd: map[int]int{}}
	hostFwd := map[int]int{}
	for _, g := range append(guestPorts, controlPort) {
		in.fwd[g] = testtools.FreePort(t)
		hostFwd[in.fwd[g]] = g
	}
	guestFwd := map[string]int{
		imdsAddr + ":80": metadataMock(t, w.p.stack.Region, id), awsAddr + ":80": w.awsPort,
		acmeAddr + ":14000": w.acme.port, ecrAddr + ":443": w.ecrPort, registryAddr + ":443": w.reg.port,
	}
	maps.Copy(guestFwd, w.more)
	in.vm = start(t, img, vmConfig{instanceID: id, userData: w.p.userData, vendorData: w.vendorData(), hostFwd: hostFwd, guestFwd: guestFwd})
	return in
}

// vendorData is everything the boot tests put into the VM besides the image and the stack's
// exact user-data, run by cloud-init before the user-data's runcmd:
//   - the AWS CLI's and boto3's endpoint (every service at the AWS stand-in, S3 path-style);
//   - host names: pebble, ECR's API, the stack's registry;
//   - trust: the CA of pebble's ACME endpoint and of the ECR and registry stand-ins' certificates
//     (the system store, which certbot and the credential helper read, and Docker's per-registry
//     store, which the already running daemon reads at each pull);
//   - certbot's ACME server;
//   - the test's control socket on port 7000, a fixed set of read-mostly commands (state,
//     docker inspect, stopping one container, the journal, where the boot's time went) so the
//     test can look inside without SSH.
func (w *world) vendorData() string {
	host := w.aws.registry
	return `#!/bin/sh
# immutable-edge boot test: the stand-ins' settings (not part of the image or the payload)
set -e
cat >>/etc/hosts <<'EOF'
` + acmeAddr + ` pebble
` + ecrAddr + ` api.ecr.` + w.p.stack.Region + `.amazonaws.com
` + registryAddr + ` ` + host + `
EOF
install -d -m 0700 /root/.aws
cat >/root/.aws/config <<'EOF'
[default]
region = ` + w.p.stack.Region + `
endpoint_url = http://` + awsAddr + `
s3 =
    addressing_style = path
EOF
cat >/usr/local/share/ca-certificates/ie-boot-test-acme.crt <<'EOF'
` + strings.TrimSpace(w.acme.caPEM) + `
EOF
cat >/usr/local/share/ca-certificates/ie-boot-test-aws.crt <<'EOF'
` + strings.TrimSpace(w.awsCA) + `
EOF
# Appended to the system bundle, the file every client in the instance reads (Python's
# certifi as Debian patches it, Go's crypto/x509, OpenSSL's default CA file):
# update-ca-certificates rebuilds all of /etc/ssl/certs and took three minutes under TCG.
cat /usr/local/share/ca-certificates/ie-boot-test-acme.crt /usr/local/share/ca-certificates/ie-boot-test-aws.crt \
	>>/etc/ssl/certs/ca-certificates.crt
install -d /etc/docker/certs.d/` + host + `
cp /usr/local/share/ca-certificates/ie-boot-test-aws.crt /etc/docker/certs.d/` + host + `/ca.crt
install -d /etc/letsencrypt
echo "server = https://pebble:14000/dir" >/etc/letsencrypt/cli.ini
cat >/usr/local/sbin/ie-boot-test-control <<'EOF'
#!/bin/bash
read -r cmd arg
case $cmd in
cloud-init) cloud-init status --long --format json ;;
failed) systemctl --failed --no-legend --plain | awk '{ print $1 }' ;;
active) for u in $arg; do printf '%s %s\n' "$u" "$(systemctl is-active "$u")"; done ;;
inspect) [[ $arg =~ ^[a-z0-9\ -]+$ ]] && docker inspect $arg ;;
stop) [[ $arg =~ ^[a-z0-9-]+$ ]] && docker stop "ie-$arg" ;;
journal) journalctl -b --no-pager -o short-monotonic ;;
analyze) systemd-analyze; systemd-analyze blame --no-pager | head -n 25; systemd-analyze critical-chain --no-pager ;;
cpu) awk '/^cpu /{ printf "guest CPU time: %.1f s\n", ($2+$3+$4+$7+$8)/100 }' /proc/stat
	systemctl show -p Id -p CPUUsageNSec $(systemctl list-units --all --plain --no-legend --type=service,scope | awk '{ print $1 }') |
		awk -F= '$1 == "CPUUsageNSec" && $2 ~ /^[0-9]+$/ { n = $2 } $1 == "Id" { id = $2 } /^$/ { if (n) printf "%8.1f s %s\n", n / 1e9, id; n = 0 } END { if (n) printf "%8.1f s %s\n", n / 1e9, id }' |
		sort -rn | head -n 25 ;;
*) echo "unknown command" ;;
esac
EOF
chmod 0755 /usr/local/sbin/ie-boot-test-control
cat >/etc/systemd/system/ie-boot-test-control.socket <<'EOF'
[Socket]
ListenStream=` + fmt.Sprint(controlPort) + `
Accept=yes
EOF
cat >/etc/systemd/system/ie-boot-test-control@.service <<'EOF'
[Service]
ExecStart=/usr/local/sbin/ie-boot-test-control
StandardInput=socket
StandardOutput=socket
StandardError=journal
EOF
systemctl daemon-reload
systemctl start ie-boot-test-control.socket
`
}

// spent logs where the boot's time went: systemd's view of the boot, and the CPU time the
// guest and each unit used (under TCG every CPU-second is emulated, so this is what to cut).
func (in *instance) spent(t *testing.T) {
	t.Helper()
	t.Logf("where the boot's time went:\n%s\n%s", in.control(t, "analyze"), in.control(t, "cpu"))
}

// control runs one of the control socket's commands in the instance and returns its output.
func (in *instance) control(t *testing.T, command string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", in.fwd[controlPort]), 10*time.Second)
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	require.NoError(t, c.SetDeadline(time.Now().Add(2*time.Minute)))
	_, err = io.WriteString(c, command+"\n")
	require.NoError(t, err)
	out, err := io.ReadAll(bufio.NewReader(c))
	require.NoError(t, err, command)
	return string(out)
}

// metadataMock starts amazon-ec2-metadata-mock answering IMDSv2 only, as the launch template
// requires, for this instance in the stack's region, with credentials that do not expire
// during the test (the mock's defaults expired in 2020, which botocore refuses).
func metadataMock(t *testing.T, region, id string) int {
	t.Helper()
	bin := testtools.Built(t, "ec2-metadata-mock")
	port := testtools.FreePort(t)
	cfg := map[string]any{"imdsv2": true, "metadata": map[string]any{"values": map[string]any{
		"instance-id": id, "placement-region": region, "placement-availability-zone": region + "a",
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
