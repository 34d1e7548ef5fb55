package local_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// registry is Debian's docker-registry (the Distribution registry, the same protocol ECR
// serves) standing in for the stack's ECR registry: TLS with a certificate for the registry's
// host name from the AWS stand-ins' CA, and basic auth for the user AWS with the password the
// ECR stand-in hands out as its authorization token, so a pull works only if the instance's
// credential helper got that token.
type registry struct {
	port     int
	password string
	client   *http.Client
}

func startRegistry(t *testing.T, caPEM, certFile, keyFile string) *registry {
	t.Helper()
	testtools.Need(t, "docker-registry")
	dir := t.TempDir()
	r := &registry{port: testtools.FreePort(t), password: rand.Text()}
	hash, err := bcrypt.GenerateFromPassword([]byte(r.password), bcrypt.DefaultCost)
	require.NoError(t, err)
	htpasswd := filepath.Join(dir, "htpasswd")
	require.NoError(t, os.WriteFile(htpasswd, []byte("AWS:"+string(hash)+"\n"), 0o600))
	cfg, err := json.Marshal(map[string]any{
		"version": 0.1,
		"log":     map[string]any{"level": "warn"},
		"storage": map[string]any{"filesystem": map[string]any{"rootdirectory": filepath.Join(dir, "data")}},
		"http": map[string]any{"addr": fmt.Sprintf("127.0.0.1:%d", r.port), "secret": rand.Text(),
			"tls": map[string]any{"certificate": certFile, "key": keyFile}},
		"auth": map[string]any{"htpasswd": map[string]any{"realm": "ecr", "path": htpasswd}},
	})
	require.NoError(t, err)
	cfgFile := filepath.Join(dir, "config.yml") // JSON is YAML
	require.NoError(t, os.WriteFile(cfgFile, cfg, 0o600))
	daemon(t, nil, "docker-registry", "serve", cfgFile)
	waitListening(t, r.port)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(caPEM)))
	r.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	return r
}

// Docker's image manifest, version 2, schema 2, and its parts' media types.
const (
	manifestType = "application/vnd.docker.distribution.manifest.v2+json"
	configType   = "application/vnd.docker.container.image.v1+json"
	layerType    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// backendLayer is one image layer holding the bench backend, built static for linux on the image's architecture, at
// /backend, with the /tmp the service unit mounts a tmpfs on. Its uncompressed digest is the
// layer's diff id.
func backendLayer(t *testing.T) (gz []byte, diffID string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "backend")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./bench/backend")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch(t))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./bench/backend: %s", out)
	body, err := os.ReadFile(bin)
	require.NoError(t, err)
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777}))
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "backend", Mode: 0o755, Size: int64(len(body))}))
	_, err = tw.Write(body)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, err = zw.Write(raw.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return z.Bytes(), digest(raw.Bytes())
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// push uploads an image of the backend layer to repo:tag, named by BACKEND_NAME, run as an
// unprivileged user, through the registry API as `docker push` does (blob uploads, then the
// manifest).
func (r *registry) push(t *testing.T, repo, tag, name string, layer []byte, diffID string) {
	t.Helper()
	cfg, err := json.Marshal(map[string]any{
		"architecture": arch(t), "os": "linux",
		"config": map[string]any{"Entrypoint": []string{"/backend"}, "Env": []string{"BACKEND_NAME=" + name}, "User": "65532:65532"},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	require.NoError(t, err)
	r.blob(t, repo, cfg)
	r.blob(t, repo, layer)
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": manifestType,
		"config": map[string]any{"mediaType": configType, "size": len(cfg), "digest": digest(cfg)},
		"layers": []any{map[string]any{"mediaType": layerType, "size": len(layer), "digest": digest(layer)}},
	})
	require.NoError(t, err)
	r.do(t, http.MethodPut, fmt.Sprintf("/v2/%s/manifests/%s", repo, tag), manifestType, manifest, http.StatusCreated)
}

// blob uploads one blob monolithically: POST opens the upload, PUT with its digest closes it.
func (r *registry) blob(t *testing.T, repo string, b []byte) {
	t.Helper()
	h := r.do(t, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", "", nil, http.StatusAccepted)
	loc, err := url.Parse(h.Get("Location"))
	require.NoError(t, err)
	q := loc.Query()
	q.Set("digest", digest(b))
	loc.RawQuery = q.Encode()
	r.do(t, http.MethodPut, loc.RequestURI(), "application/octet-stream", b, http.StatusCreated)
}

// do makes one registry API request and returns the response's header.
func (r *registry) do(t *testing.T, method, path, contentType string, body []byte, want int) http.Header {
	t.Helper()
	req, err := http.NewRequest(method, fmt.Sprintf("https://127.0.0.1:%d%s", r.port, path), bytes.NewReader(body))
	require.NoError(t, err)
	req.SetBasicAuth("AWS", r.password)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := r.client.Do(req)
	require.NoError(t, err)
	msg, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, msg)
	return resp.Header
}
