package local_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// testCA makes a CA and a server certificate for the names, for a stand-in's TLS; the CA's PEM
// is what the VM is told to trust.
func testCA(t *testing.T, dir string, names ...string) (caPEM, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "immutable-edge boot test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})), certFile, keyFile
}

// daemon starts a program for the test's lifetime, its output in the test's log on failure.
func daemon(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start(), name)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s:\n%s", name, tail(strings.Split(out.String(), "\n"), 40))
		}
	})
}

// waitListening waits until a loopback port accepts connections.
func waitListening(t *testing.T, port int) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on 127.0.0.1:%d", port)
}

// acme is pebble, Let's Encrypt's test CA, with pebble-challtestsrv as the DNS server its
// validation asks: the TXT records certbot's Route 53 plugin writes reach it through the AWS
// stand-in. ACME's own TLS is a test CA's certificate for the name "pebble".
type acme struct {
	port, mgmt, challMgmt int
	caPEM                 string // what the VM trusts for pebble's ACME endpoint
}

func startACME(t *testing.T) *acme {
	t.Helper()
	for _, p := range []string{"pebble", "pebble-challtestsrv", "socat"} {
		testtools.Need(t, p)
	}
	dir := t.TempDir()
	a := &acme{port: testtools.FreePort(t), mgmt: testtools.FreePort(t), challMgmt: testtools.FreePort(t)}
	dns := testtools.FreePort(t)
	daemon(t, nil, "pebble-challtestsrv", "-management", fmt.Sprintf("127.0.0.1:%d", a.challMgmt),
		"-dns01", fmt.Sprintf("127.0.0.1:%d", dns), "-http01", "", "-https01", "", "-tlsalpn01", "")
	caPEM, cert, key := testCA(t, dir, "pebble")
	a.caPEM = caPEM
	cfg, err := json.Marshal(map[string]any{"pebble": map[string]any{
		"listenAddress": fmt.Sprintf("127.0.0.1:%d", a.port), "managementListenAddress": fmt.Sprintf("127.0.0.1:%d", a.mgmt),
		"certificate": cert, "privateKey": key, "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
		"externalAccountBindingRequired": false,
	}})
	require.NoError(t, err)
	cfgFile := filepath.Join(dir, "pebble.json")
	require.NoError(t, os.WriteFile(cfgFile, cfg, 0o600))
	// No random sleeps before validation, no rejected nonces: the flow, not its retries.
	daemon(t, []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}, "pebble", "-config", cfgFile,
		"-dnsserver", fmt.Sprintf("127.0.0.1:%d", dns))
	waitListening(t, a.challMgmt)
	waitListening(t, a.port)
	return a
}

func (a *acme) post(path string, body map[string]string) error {
	b, _ := json.Marshal(body)
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d%s", a.challMgmt, path), "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return nil
}

func fqdn(name string) string { return strings.TrimSuffix(name, ".") + "." }

// SetTXT and ClearTXT are the stand-in's Route 53 changes, as pebble's DNS server sees them.
func (a *acme) SetTXT(name, value string) error {
	return a.post("/set-txt", map[string]string{"host": fqdn(name), "value": value})
}

func (a *acme) ClearTXT(name string) error {
	return a.post("/clear-txt", map[string]string{"host": fqdn(name)})
}

// root returns the PEM of pebble's issuing root (made anew at each start; its management
// interface serves it) and a pool holding it: what a client trusts for pebble's certificates.
func (a *acme) root(t *testing.T) (string, *x509.CertPool) {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(a.caPEM)))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := c.Get(fmt.Sprintf("https://127.0.0.1:%d/roots/0", a.mgmt))
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(b), "pebble's root: %s", b)
	return string(b), roots
}
