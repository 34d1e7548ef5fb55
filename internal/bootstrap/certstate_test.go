package bootstrap_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io/fs"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// devNames are the names dev's certificate carries (stack.json's edge.certificateNames).
var devNames = []string{"dev.example.com", "api.dev.example.com"}

// lineage lays out, under stage, the letsencrypt/ tree certbot keeps for the edge lineage: a
// key and a certificate for names (with another key when matching is false), chain, fullchain,
// the live/ symlinks and the READMEs.
func lineage(t *testing.T, stage string, names []string, matching bool) {
	t.Helper()
	lineageFor(t, stage, names, matching, 80*24*time.Hour)
}

// lineageFor is lineage with a certificate that expires validFor from now.
func lineageFor(t *testing.T, stage string, names []string, matching bool, validFor time.Duration) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(validFor)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	if !matching {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	le := filepath.Join(stage, "letsencrypt")
	for _, d := range []string{"archive/edge", "live/edge"} {
		require.NoError(t, os.MkdirAll(filepath.Join(le, d), 0o700))
	}
	files := map[string][]byte{"cert1.pem": cert, "chain1.pem": cert, "fullchain1.pem": append(append([]byte{}, cert...), cert...),
		"privkey1.pem": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})}
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(le, "archive/edge", name), body, 0o600))
		kind := strings.TrimSuffix(name, "1.pem")
		require.NoError(t, os.Symlink("../../archive/edge/"+name, filepath.Join(le, "live/edge", kind+".pem")))
	}
	require.NoError(t, os.WriteFile(filepath.Join(le, "live/README"), []byte("certbot\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(le, "live/edge/README"), []byte("certbot\n"), 0o644))
}

// tarball runs the real tar once per step (the first creates, the others append, each with -f
// and the archive added), then gzip, and returns the compressed archive.
func tarball(t *testing.T, steps ...[]string) []byte {
	t.Helper()
	testtools.Need(t, "gzip")
	archive := filepath.Join(t.TempDir(), "state.tar")
	for i, step := range steps {
		mode := "-rf"
		if i == 0 {
			mode = "-cf"
		}
		out, err := exec.Command("tar", append([]string{mode, archive}, step...)...).CombinedOutput()
		require.NoError(t, err, "tar %v: %s", step, out)
	}
	gz, err := exec.Command("gzip", "-n", "-c", archive).Output()
	require.NoError(t, err)
	return gz
}

// write makes a file with its directories.
func write(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(body), mode))
}

func TestBootRestoresCertificateState(t *testing.T) {
	t.Parallel()
	stage := t.TempDir()
	lineage(t, stage, devNames, true)
	b := newSandbox(t, stackFor(t, "dev"), nil)
	require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "state.tar.gz"), tarball(t, []string{"-C", stage, "letsencrypt"}), 0o600))
	r := b.run("boot.sh", nil)
	require.NoError(t, r.err)
	list := r.index("aws s3api list-objects-v2", "--bucket dev-certs-1", "--prefix letsencrypt/"+bootstrap.CertStateObject)
	restore := r.index("aws s3 cp s3://dev-certs-1/letsencrypt/" + bootstrap.CertStateObject)
	require.GreaterOrEqual(t, list, 0)
	require.Less(t, list, restore)
	require.Equal(t, -1, r.index("certbot"), "80 days left: kept without starting certbot")
	require.Equal(t, -1, r.index("aws s3 cp - s3://"), "a kept certificate is in the bucket already")
	require.Contains(t, r.output, "kept the restored certificate, ")

	le := filepath.Join(b.etc, "letsencrypt")
	link, err := os.Readlink(filepath.Join(le, "live/edge/privkey.pem"))
	require.NoError(t, err)
	require.Equal(t, "../../archive/edge/privkey1.pem", link)
	archived, err := filepath.Glob(filepath.Join(le, "archive/edge/cert*.pem"))
	require.NoError(t, err)
	require.Len(t, archived, 1, "the restored certificate was kept, not issued again")
	for path, mode := range map[string]os.FileMode{"archive/edge/privkey1.pem": 0o600, "archive/edge/cert1.pem": 0o644, "archive/edge": 0o700, "live/edge": 0o700} {
		info, err := os.Stat(filepath.Join(le, path))
		require.NoError(t, err)
		require.Equal(t, mode, info.Mode().Perm(), path)
	}
	_, err = os.Stat(filepath.Join(le, "live/README"))
	require.ErrorIs(t, err, fs.ErrNotExist, "only the lineage is installed")
	conf, err := os.ReadFile(filepath.Join(le, "renewal/edge.conf"))
	require.NoError(t, err)
	require.Contains(t, string(conf), "\nauthenticator = dns-route53\n")
	require.Contains(t, string(conf), "\ndeploy_hook = "+bootstrap.ScriptDir+"/renew-hook.sh\n")
	require.Contains(t, string(conf), "cert = "+le+"/live/edge/cert.pem\n")

	built, err := os.ReadFile(filepath.Join(b.etc, "haproxy/certs/edge.pem"))
	require.NoError(t, err)
	chain, err := os.ReadFile(filepath.Join(stage, "letsencrypt/archive/edge/fullchain1.pem"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(built), string(chain)), "HAProxy serves the restored chain")
	requireEmpty(t, b.tmp())
}

// TestBootRenewsARestoredCertificateNearItsEnd: a restored certificate within certbot's renewal
// window (30 days) goes to certbot, which renews it, and the renewed state is saved once.
func TestBootRenewsARestoredCertificateNearItsEnd(t *testing.T) {
	t.Parallel()
	stage := t.TempDir()
	lineageFor(t, stage, devNames, true, 20*24*time.Hour)
	b := newSandbox(t, stackFor(t, "dev"), nil)
	require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "state.tar.gz"), tarball(t, []string{"-C", stage, "letsencrypt"}), 0o600))
	r := b.run("boot.sh", nil)
	require.NoError(t, r.err)
	certbot := r.index("certbot certonly", "--keep-until-expiring")
	require.Greater(t, certbot, r.index("aws s3 cp s3://dev-certs-1/"), "certbot renews what was restored")
	require.Equal(t, 1, r.count("aws s3 cp - s3://"), "the renewed state is saved once")
	archived, err := filepath.Glob(filepath.Join(b.etc, "letsencrypt/archive/edge/cert*.pem"))
	require.NoError(t, err)
	require.Len(t, archived, 2, "the restored certificate and its renewal")
}

// TestSavedStateRestores: what one instance keeps is exactly what the next one accepts.
func TestSavedStateRestores(t *testing.T) {
	t.Parallel()
	first := newSandbox(t, stackFor(t, "dev"), nil)
	r := first.run("boot.sh", nil)
	require.NoError(t, r.err)
	saved := filepath.Join(first.fakeDir, "saved.tar.gz")
	out, err := exec.Command("tar", "-tzf", saved).Output()
	require.NoError(t, err)
	members := strings.Fields(string(out))
	sort.Strings(members)
	require.Equal(t, []string{"letsencrypt/archive/edge/", "letsencrypt/archive/edge/cert1.pem", "letsencrypt/archive/edge/chain1.pem",
		"letsencrypt/archive/edge/fullchain1.pem", "letsencrypt/archive/edge/privkey1.pem", "letsencrypt/live/edge/",
		"letsencrypt/live/edge/cert.pem", "letsencrypt/live/edge/chain.pem", "letsencrypt/live/edge/fullchain.pem",
		"letsencrypt/live/edge/privkey.pem"}, members, "the lineage, no renewal configuration, hooks or accounts")

	next := newSandbox(t, stackFor(t, "dev"), nil)
	raw, err := os.ReadFile(saved)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(next.fakeDir, "state.tar.gz"), raw, 0o600))
	r = next.run("boot.sh", nil)
	require.NoError(t, r.err)
	require.Contains(t, r.output, "restored certificate state")
	archived, err := filepath.Glob(filepath.Join(next.etc, "letsencrypt/archive/edge/cert*.pem"))
	require.NoError(t, err)
	require.Len(t, archived, 1, "the next instance keeps the certificate")
}

// hostile builds, in stage (a valid lineage already) and beside it, one tarball an attacker who
// can write the bucket's object might leave; sandbox is where the instance's /etc is.
type hostile func(t *testing.T, stage, sandbox string) []byte

func TestHostileCertificateStateFailsClosed(t *testing.T) {
	t.Parallel()
	testtools.Need(t, "tar")
	plain := func(paths ...string) func(t *testing.T, stage, _ string) []byte {
		return func(t *testing.T, stage, _ string) []byte {
			return tarball(t, append([]string{"-C", stage, "letsencrypt"}, paths...))
		}
	}
	cases := map[string]hostile{
		"traversal to the instance's cron": func(t *testing.T, stage, _ string) []byte {
			write(t, filepath.Join(stage, "pwned"), "* * * * * root sh -c id\n", 0o644)
			return tarball(t, []string{"-C", stage, "letsencrypt"},
				[]string{"-P", "-C", stage, "--transform", "s,^pwned$,../../../etc/cron.d/pwned,", "pwned"})
		},
		"absolute path": func(t *testing.T, stage, sandbox string) []byte {
			write(t, filepath.Join(stage, "pwned"), "x\n", 0o644)
			return tarball(t, []string{"-C", stage, "letsencrypt"},
				[]string{"-P", "-C", stage, "--transform", "s,^pwned$," + filepath.Join(sandbox, "etc/cron.d/pwned") + ",", "pwned"})
		},
		"symlink escape, then a file through it": func(t *testing.T, stage, sandbox string) []byte {
			link, through := t.TempDir(), t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(link, "letsencrypt/live/edge"), 0o755))
			require.NoError(t, os.Symlink(filepath.Join(sandbox, "etc"), filepath.Join(link, "letsencrypt/live/edge/esc")))
			write(t, filepath.Join(through, "letsencrypt/live/edge/esc/cron.d/pwned"), "x\n", 0o644)
			return tarball(t, []string{"-C", stage, "letsencrypt"}, []string{"-C", link, "letsencrypt/live/edge/esc"},
				[]string{"-C", through, "letsencrypt/live/edge/esc/cron.d/pwned"})
		},
		"live link out of the lineage": func(t *testing.T, stage, _ string) []byte {
			cert := filepath.Join(stage, "letsencrypt/live/edge/cert.pem")
			require.NoError(t, os.Remove(cert))
			require.NoError(t, os.Symlink("/etc/ssl/private/pwned", cert))
			return plain()(t, stage, "")
		},
		"live key linked to the certificate": func(t *testing.T, stage, _ string) []byte {
			key := filepath.Join(stage, "letsencrypt/live/edge/privkey.pem")
			require.NoError(t, os.Remove(key))
			require.NoError(t, os.Symlink("../../archive/edge/cert1.pem", key))
			return plain()(t, stage, "")
		},
		"extra file": func(t *testing.T, stage, _ string) []byte {
			write(t, filepath.Join(stage, "letsencrypt/cli.ini"), "pwned = yes\n", 0o644)
			return plain()(t, stage, "")
		},
		"renewal hook": func(t *testing.T, stage, _ string) []byte {
			write(t, filepath.Join(stage, "letsencrypt/renewal-hooks/deploy/pwned"), "#!/bin/sh\nid\n", 0o755)
			return plain()(t, stage, "")
		},
		"renewal configuration": func(t *testing.T, stage, _ string) []byte {
			write(t, filepath.Join(stage, "letsencrypt/renewal/edge.conf"), "[renewalparams]\npost_hook = touch /pwned\n", 0o644)
			return plain()(t, stage, "")
		},
		"hard link": func(t *testing.T, stage, _ string) []byte {
			archive := filepath.Join(stage, "letsencrypt/archive/edge")
			require.NoError(t, os.Link(filepath.Join(archive, "cert1.pem"), filepath.Join(archive, "cert2.pem")))
			return plain()(t, stage, "")
		},
		"named pipe": func(t *testing.T, stage, _ string) []byte {
			require.NoError(t, syscall.Mkfifo(filepath.Join(stage, "letsencrypt/archive/edge/cert2.pem"), 0o644))
			return plain()(t, stage, "")
		},
		"not a tarball": func(*testing.T, string, string) []byte { return []byte("pwned\n") },
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stage := t.TempDir()
			lineage(t, stage, devNames, true)
			requireFailsClosed(t, func(b *sandbox) []byte { return build(t, stage, b.dir) })
		})
	}
	// Well-formed, but not the stack's certificate.
	for name, c := range map[string]struct {
		names    []string
		matching bool
	}{"a key that is not the certificate's": {devNames, false}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stage := t.TempDir()
			lineage(t, stage, c.names, c.matching)
			requireFailsClosed(t, func(*sandbox) []byte { return tarball(t, []string{"-C", stage, "letsencrypt"}) })
		})
	}
}

// TestBootOrdersForAHostAddedSinceTheStateWasKept: a sound lineage whose certificate lacks a name
// the stack serves now (a service host added) is outgrown, not hostile: it is not installed,
// certbot orders a certificate for the current names, the new state replaces it, and the launch
// goes on. Refusing it would abandon every launch until someone deleted the object.
func TestBootOrdersForAHostAddedSinceTheStateWasKept(t *testing.T) {
	t.Parallel()
	stage := t.TempDir()
	lineage(t, stage, devNames[:1], true)
	b := newSandbox(t, stackFor(t, "dev"), nil)
	require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "state.tar.gz"), tarball(t, []string{"-C", stage, "letsencrypt"}), 0o600))
	r := b.run("boot.sh", nil)
	require.NoError(t, r.err)
	require.Contains(t, r.output, "does not name every host the stack serves now")
	certbot := r.index("certbot certonly", "-d dev.example.com", "-d api.dev.example.com")
	require.Greater(t, certbot, r.index("aws s3 cp s3://dev-certs-1/"))
	require.Greater(t, r.index("aws s3 cp - s3://dev-certs-1/"), certbot, "the new state replaces the outgrown one")
	require.GreaterOrEqual(t, r.index("--lifecycle-action-result CONTINUE"), 0)
	out, err := exec.Command("openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", filepath.Join(b.etc, "letsencrypt/live/edge/cert.pem")).Output()
	require.NoError(t, err)
	require.Contains(t, string(out), "DNS:api.dev.example.com", "the certificate served names the added host")
	requireEmpty(t, b.tmp())
}

// requireFailsClosed boots with the object build makes: the launch is abandoned, no certificate
// is asked for, the address stays, and nothing is left on the instance, in its temporary
// directory, or anywhere in the sandbox that the tarball names.
func requireFailsClosed(t *testing.T, build func(b *sandbox) []byte) {
	t.Helper()
	b := newSandbox(t, stackFor(t, "dev"), nil)
	require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "state.tar.gz"), build(b), 0o600))
	r := b.run("boot.sh", nil)
	require.Error(t, r.err)
	require.Contains(t, r.output, "refusing the certificate state")
	require.Equal(t, -1, r.index("certbot"), "no new certificate on a state that was refused")
	require.GreaterOrEqual(t, r.index("--lifecycle-action-result ABANDON"), 0)
	require.Equal(t, -1, r.index("--lifecycle-action-result CONTINUE"))
	require.Equal(t, -1, r.index("associate-address"))
	require.Equal(t, "Terminating", b.lifecycle())
	_, err := os.Lstat(filepath.Join(b.etc, "letsencrypt"))
	require.ErrorIs(t, err, fs.ErrNotExist, "nothing restored")
	requireEmpty(t, b.tmp())
	require.NoError(t, filepath.WalkDir(b.dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		require.NotContains(t, d.Name(), "pwned", "written by the tarball: %s", path)
		return nil
	}))
}

func requireEmpty(t *testing.T, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, left, "the restore's temporary directory is removed")
}

func TestUnreadableStateAbandonsInsteadOfIssuing(t *testing.T) {
	t.Parallel()
	stage := t.TempDir()
	lineage(t, stage, devNames, true)
	for name, env := range map[string]string{"listing denied": "FAKE_S3_LIST_ERROR=1", "download fails": "FAKE_S3_CP_ERROR=1"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newSandbox(t, stackFor(t, "dev"), nil)
			require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "state.tar.gz"), tarball(t, []string{"-C", stage, "letsencrypt"}), 0o600))
			r := b.run("boot.sh", nil, env)
			require.Error(t, r.err)
			require.Equal(t, -1, r.index("certbot"), "an error is not \"no state\": Let's Encrypt's limit is not spent on it")
			require.GreaterOrEqual(t, r.index("--lifecycle-action-result ABANDON"), 0)
			require.Equal(t, "Terminating", b.lifecycle())
			requireEmpty(t, b.tmp())
		})
	}
}

// TestTheAWSCLITellsNoStateFromAnError runs the state lookup with the real AWS CLI against a
// stand-in S3 (ListObjectsV2): a listing without the key is "no state yet" and certbot issues,
// the key listed restores, a longer key that only starts with it is not the state, and a refused
// listing abandons the launch without asking Let's Encrypt.
func TestTheAWSCLITellsNoStateFromAnError(t *testing.T) {
	t.Parallel()
	cli := testtools.Need(t, "aws")
	stage := t.TempDir()
	lineage(t, stage, devNames, true)
	state := tarball(t, []string{"-C", stage, "letsencrypt"})
	key := "letsencrypt/" + bootstrap.CertStateObject
	listing := func(keys ...string) string {
		var b strings.Builder
		b.WriteString(`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>dev-certs-1</Name><Prefix>` + key + `</Prefix>`)
		for _, k := range keys {
			b.WriteString(`<Contents><Key>` + k + `</Key><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>`)
		}
		b.WriteString(`<KeyCount>` + strconv.Itoa(len(keys)) + `</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
		return b.String()
	}
	cases := map[string]struct {
		status   int
		body     string
		restored bool
		issued   bool
	}{
		"no state yet":            {http.StatusOK, listing(), false, true},
		"only a longer key":       {http.StatusOK, listing(key + ".old"), false, true},
		"the state is there":      {http.StatusOK, listing(key), true, false},
		"the listing is refused":  {http.StatusForbidden, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`, false, false},
		"the service has a fault": {http.StatusServiceUnavailable, `<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>`, false, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var query url.Values
			s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/dev-certs-1" && r.URL.Path != "/dev-certs-1/" {
					http.Error(w, "unexpected "+r.URL.Path, http.StatusBadRequest)
					return
				}
				query = r.URL.Query()
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			}))
			defer s3.Close()
			wrapper := `case "$1" in s3api) echo "aws $*" >>"$FAKE_LOG"; exec ` + cli + ` --endpoint-url ` + s3.URL + ` "$@" ;; esac
exec aws-fake "$@"`
			b := newSandbox(t, stackFor(t, "dev"), map[string]string{"aws-fake": fakes["aws"], "aws": wrapper})
			require.NoError(t, os.WriteFile(filepath.Join(b.fakeDir, "state.tar.gz"), state, 0o600))
			r := b.run("boot.sh", nil, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_EC2_METADATA_DISABLED=true",
				"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1")
			require.Equal(t, "2", query.Get("list-type"), "ListObjectsV2")
			require.Equal(t, key, query.Get("prefix"))
			require.Equal(t, c.restored, r.index("aws s3 cp s3://dev-certs-1/"+key) >= 0)
			require.Equal(t, c.issued, r.index("certbot certonly") >= 0, "a restored certificate with 80 days left is kept")
			if !c.issued && !c.restored {
				require.Error(t, r.err)
				require.Contains(t, r.output, "could not tell whether certificate state exists")
				require.GreaterOrEqual(t, r.index("--lifecycle-action-result ABANDON"), 0)
				return
			}
			require.NoError(t, r.err)
			archived, err := filepath.Glob(filepath.Join(b.etc, "letsencrypt/archive/edge/cert*.pem"))
			require.NoError(t, err)
			require.Len(t, archived, 1)
			cert, err := os.ReadFile(archived[0])
			require.NoError(t, err)
			original, err := os.ReadFile(filepath.Join(stage, "letsencrypt/archive/edge/cert1.pem"))
			require.NoError(t, err)
			require.Equal(t, c.restored, string(original) == string(cert), "restored, or issued anew")
		})
	}
}
