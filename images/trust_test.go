package images_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// The fingerprints AWS publishes for the keys that sign what the image build downloads.
const (
	// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/verify-CloudWatch-Agent-Package-Signature.html
	cloudWatchAgentKey = "9376 16F3 450B 7D80 6CBD 9725 D581 6730 3B78 9C72"
	// https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html
	awsCLIKey = "FB5D B77F D5C1 18B8 0511 ADA8 A631 0ACC 4672 475C"
)

// keyring is a throwaway gpg home that makes signing keys for the tests.
type keyring struct {
	t    *testing.T
	home string
}

func newKeyring(t *testing.T) keyring {
	testtools.Need(t, "gpg")
	home := filepath.Join(t.TempDir(), "gnupg")
	require.NoError(t, os.Mkdir(home, 0o700))
	return keyring{t, home}
}

func (k keyring) gpg(args ...string) string {
	k.t.Helper()
	cmd := exec.Command("gpg", append([]string{"--homedir", k.home, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
	out, err := cmd.Output()
	var stderr []byte
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		stderr = ee.Stderr
	}
	require.NoError(k.t, err, "gpg %v: %s", args, stderr)
	return string(out)
}

// newKey makes a signing key and returns its fingerprint; extra arguments go before the
// command (e.g. a faked system time).
func (k keyring) newKey(uid, expire string, extra ...string) string {
	k.gpg(append(extra, "--quick-generate-key", uid, "ed25519", "sign", expire)...)
	for _, line := range strings.Split(k.gpg("--with-colons", "--list-keys", uid), "\n") {
		if f := strings.Split(line, ":"); f[0] == "fpr" {
			return f[9]
		}
	}
	k.t.Fatalf("no fingerprint for %s", uid)
	return ""
}

func (k keyring) export(path string, fingerprints ...string) {
	require.NoError(k.t, os.WriteFile(path, []byte(k.gpg(append([]string{"--armor", "--export"}, fingerprints...)...)), 0o644))
}

func (k keyring) sign(fingerprint, file string, extra ...string) {
	k.gpg(append(extra, "--yes", "--local-user", fingerprint, "--output", file+".sig", "--detach-sign", file)...)
}

// dummyDeb builds a real (empty) Debian package with dpkg-deb.
func dummyDeb(t *testing.T, dir string) string {
	testtools.Need(t, "dpkg-deb")
	root := filepath.Join(dir, "pkg")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(
		"Package: fake-agent\nVersion: 1.300072.0b1766-1\nArchitecture: all\nMaintainer: test <test@example.invalid>\nDescription: a stand-in\n"), 0o644))
	deb := filepath.Join(dir, "amazon-cloudwatch-agent.deb")
	out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, deb).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return deb
}

func fetchVerified(t *testing.T, url, out, keyfile, fingerprint string) (string, error) {
	t.Helper()
	testtools.Need(t, "curl")
	cmd := exec.Command("bash", scriptCopy(t, "trust/fetch-verified.sh"), url, out, keyfile, fingerprint)
	cmd.Env = append(os.Environ(), "FETCH_PROTO==file")
	b, err := cmd.CombinedOutput()
	return string(b), err
}

func TestFetchVerifiedInstallsOnlyWhatThePinnedKeySigned(t *testing.T) {
	t.Parallel()
	k := newKeyring(t)
	dir := t.TempDir()
	amazon := k.newKey("Amazon stand-in <a@example.invalid>", "never")
	other := k.newKey("Someone else <b@example.invalid>", "never")
	// Made a year ago with a day to live, and signing then: expired by now.
	past := "--faked-system-time=" + strconv.FormatInt(time.Now().AddDate(-1, 0, 0).Unix(), 10)
	expired := k.newKey("Expired <c@example.invalid>", "1d", past)

	deb := dummyDeb(t, dir)
	published := func(name, signer string, extra ...string) string {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(deb)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		if signer != "" {
			k.sign(signer, p, extra...)
		}
		return "file://" + p
	}
	amazonKey, bothKeys, expiredKey := filepath.Join(dir, "amazon.asc"), filepath.Join(dir, "both.asc"), filepath.Join(dir, "expired.asc")
	k.export(amazonKey, amazon)
	k.export(bothKeys, amazon, other)
	k.export(expiredKey, expired)

	out := filepath.Join(dir, "installed.deb")
	log, err := fetchVerified(t, published("good.deb", amazon), out, amazonKey, amazon)
	require.NoError(t, err, log)
	want, _ := os.ReadFile(deb)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, want, got)
	spaced := strings.Join(regexp.MustCompile(`.{4}`).FindAllString(amazon, -1), " ")
	_, err = fetchVerified(t, published("good.deb", amazon), out, amazonKey, strings.ToLower(spaced))
	require.NoError(t, err, "the fingerprint as AWS prints it (groups of four) is the same pin")

	tampered := published("tampered.deb", amazon)
	f, err := os.OpenFile(strings.TrimPrefix(tampered, "file://"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("x")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	for name, tc := range map[string]struct{ url, keyfile, pin, want string }{
		"a tampered package":           {tampered, amazonKey, amazon, "the signature does not verify"},
		"signed by someone else":       {published("other.deb", other), amazonKey, amazon, "the signature does not verify"},
		"a key file with another key":  {published("good.deb", amazon), amazonKey, other, "holds key " + amazon + ", not the pinned " + other},
		"a key file with two keys":     {published("good.deb", amazon), bothKeys, amazon, "exactly one public key, it holds 2"},
		"no signature published":       {published("unsigned.deb", ""), amazonKey, amazon, "could not be downloaded"},
		"an expired key":               {published("expired.deb", expired, past), expiredKey, expired, "no good signature"},
		"a pin that is no fingerprint": {published("good.deb", amazon), amazonKey, "3B789C72", "is not 40 hex digits"},
		"nothing at the URL":           {"file://" + filepath.Join(dir, "missing.deb"), amazonKey, amazon, "download failed"},
	} {
		require.NoError(t, os.WriteFile(out, []byte("an earlier download"), 0o644))
		log, err := fetchVerified(t, tc.url, out, tc.keyfile, tc.pin)
		require.Error(t, err, "%s must be refused: %s", name, log)
		require.Contains(t, log, tc.want, name)
		require.NoFileExists(t, out, "%s: nothing is left to install", name)
	}
}

func TestCommittedKeysAreThePinnedOnes(t *testing.T) {
	t.Parallel()
	pins := map[string]string{}
	b, err := os.ReadFile(filepath.Join(imagesDir(t), "trust", "fingerprints"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(line, "#") {
			pins[f[0]] = f[1]
		}
	}
	unspaced := func(s string) string { return strings.ReplaceAll(s, " ", "") }
	require.Equal(t, map[string]string{"amazon-cloudwatch-agent": unspaced(cloudWatchAgentKey), "aws-cli": unspaced(awsCLIKey), "amazon-ssm-agent": unspaced(ssmAgentKey)}, pins,
		"the pins are the fingerprints AWS publishes")

	// The committed AWS CLI key is that key (gpg computes the fingerprint from the key itself),
	// and its self-signature has not expired.
	fprs, expires := committedKey(t, "aws-cli.asc")
	require.Equal(t, []string{pins["aws-cli"]}, fprs, "one key, the pinned one, no subkeys to sign with")
	require.True(t, expires.After(time.Now()), "the AWS CLI key has expired: take the current block from the AWS page")
	t.Logf("the committed AWS CLI key expires %s", expires.Format(time.DateOnly))
}

// committedKey reads a key file of trust/ as gpg does: the fingerprints it holds (primary and
// subkeys) and when the primary key's self-signature expires.
func committedKey(t *testing.T, name string) (fprs []string, expires time.Time) {
	t.Helper()
	var unix int64
	for _, line := range strings.Split(newKeyring(t).gpg("--with-colons", "--show-keys", filepath.Join(imagesDir(t), "trust", name)), "\n") {
		f := strings.Split(line, ":")
		switch f[0] {
		case "pub":
			unix, _ = strconv.ParseInt(f[6], 10, 64)
		case "fpr":
			fprs = append(fprs, f[9])
		}
	}
	return fprs, time.Unix(unix, 0).UTC()
}

// TestEveryDownloadIsPinnedAndVerified reads the provisioners: nothing comes from a "latest"
// URL or a snap, the one plain download is the CloudWatch agent's key file (fetch-verified.sh
// checks its fingerprint before use), and each pinned version is one the tags record.
func TestEveryDownloadIsPinnedAndVerified(t *testing.T) {
	t.Parallel()
	scripts, err := filepath.Glob(filepath.Join(imagesDir(t), "scripts", "*.sh"))
	require.NoError(t, err)
	var plain []string
	for _, s := range scripts {
		b, err := os.ReadFile(s)
		require.NoError(t, err)
		for _, line := range strings.Split(string(b), "\n") {
			code := strings.TrimSpace(line)
			if strings.HasPrefix(code, "#") {
				continue
			}
			require.NotContains(t, code, "/latest/", "%s: a pinned version, never latest", s)
			require.NotRegexp(t, `\bsnap (install|refresh)\b|\bwget\b`, code, s)
			if regexp.MustCompile(`\bcurl\s+-`).MatchString(code) {
				plain = append(plain, filepath.Base(s)+": "+code)
			}
		}
	}
	require.Equal(t, []string{`40-certbot-aws.sh: curl -fsSL --proto =https --retry 3 -o "$work/agent.gpg" "$agent_bucket/assets/amazon-cloudwatch-agent.gpg"`}, plain)

	tmpl, err := os.ReadFile(filepath.Join(imagesDir(t), "golden.pkr.hcl"))
	require.NoError(t, err)
	for local, form := range map[string]string{"cloudwatch_agent_version": `1\.\d{6}\.\d+b\d+`, "aws_cli_version": `2\.\d+\.\d+`} {
		m := regexp.MustCompile(local + `\s*=\s*"([^"]*)"`).FindSubmatch(tmpl)
		require.NotNil(t, m, local)
		require.Regexp(t, "^"+form+"$", string(m[1]), "%s is an exact release", local)
		require.Regexp(t, `= local\.`+local+`\b`, string(tmpl), "%s is recorded in the tags and manifest", local)
	}
}

func TestManifestRecordsTheInstalledPackages(t *testing.T) {
	t.Parallel()
	testtools.Need(t, "jq")
	testtools.Need(t, "dpkg-query")
	dir := t.TempDir()
	downloads := filepath.Join(dir, "downloads.tsv")
	require.NoError(t, os.WriteFile(downloads, []byte(
		"amazon-cloudwatch-agent\t1.300072.0b1766\thttps://s3.amazonaws.com/amazoncloudwatch-agent/ubuntu/arm64/1.300072.0b1766/amazon-cloudwatch-agent.deb\t"+
			strings.Repeat("a", 64)+"\t"+strings.ReplaceAll(cloudWatchAgentKey, " ", "")+"\n"+
			"aws-cli\t2.27.49\thttps://awscli.amazonaws.com/awscli-exe-linux-aarch64-2.27.49.zip\t"+strings.Repeat("b", 64)+"\t"+
			strings.ReplaceAll(awsCLIKey, " ", "")+"\n"), 0o644))
	manifest := filepath.Join(dir, "share", "image-manifest.json")
	run := func(env ...string) (string, error) {
		cmd := exec.Command("bash", scriptCopy(t, "scripts/80-manifest.sh"))
		cmd.Env = append(os.Environ(), append([]string{"IE_MANIFEST=" + manifest, "IE_DOWNLOADS=" + downloads,
			"ARCH=arm64", "CHANNEL=dev", "GIT_REVISION=abc123"}, env...)...)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	log, err := run()
	require.NoError(t, err, log)
	var m struct {
		Channel, Architecture, GitRevision string
		Packages                           map[string]string
		Downloads                          []struct{ Name, Version, URL, SHA256, SignedBy string }
	}
	b, err := os.ReadFile(manifest)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, "dev", m.Channel)
	require.Equal(t, "abc123", m.GitRevision)
	// This machine's dpkg database stands in for the image's.
	dpkg, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "dpkg").Output()
	require.NoError(t, err)
	require.Equal(t, string(dpkg), m.Packages["dpkg"], "each installed package with its version")
	require.Greater(t, len(m.Packages), 50)
	require.Len(t, m.Downloads, 2)
	require.Equal(t, "aws-cli", m.Downloads[1].Name)
	require.Equal(t, "2.27.49", m.Downloads[1].Version)
	require.Equal(t, strings.ReplaceAll(awsCLIKey, " ", ""), m.Downloads[1].SignedBy)

	require.NoError(t, os.WriteFile(downloads, nil, 0o644))
	log, err = run()
	require.Error(t, err, "a build that verified nothing has lost its downloads")
	require.Contains(t, log, "no verified downloads recorded")
}
