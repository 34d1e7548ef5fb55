package images_test

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// https://docs.aws.amazon.com/systems-manager/latest/userguide/verify-agent-signature.html
const ssmAgentKey = "4855 A9E6 8332 16D6 A77D 8FE4 51A8 E050 D005 2E5D"

// userDataLimit is EC2's limit on user data, raw, before base64 encoding
// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html).
const userDataLimit = 16 * 1024

// TestTheBuildInstanceGetsAVerifiedSSMAgent renders the build instance's user-data as Packer
// does (packer console evaluates the template's local) for each architecture: it fits EC2's
// limit, is shellcheck-clean, carries fetch-verified.sh and the SSM key exactly as committed,
// and installs the pinned version for its architecture only after that script accepted it.
func TestTheBuildInstanceGetsAVerifiedSSMAgent(t *testing.T) {
	shellcheck := testtools.Need(t, "shellcheck")
	dir := imagesDir(t)
	tmpl, err := os.ReadFile(filepath.Join(dir, "golden.pkr.hcl"))
	require.NoError(t, err)
	m := regexp.MustCompile(`ssm_agent_version\s*=\s*"([^"]*)"`).FindSubmatch(tmpl)
	require.NotNil(t, m)
	version := string(m[1])
	require.Regexp(t, `^3\.\d+\.\d+\.\d+$`, version, "an exact release")
	require.Regexp(t, `(?m)^\s*user_data\s*=\s*local\.ssm_agent_bootstrap\s*$`, string(tmpl), "the build instance boots with it")
	require.Regexp(t, `(?m)^\s*SsmAgentVersion\s*=\s*local\.ssm_agent_version\s*$`, string(tmpl), "and the image records it")

	script, err := os.ReadFile(filepath.Join(dir, "trust", "fetch-verified.sh"))
	require.NoError(t, err)
	key, err := os.ReadFile(filepath.Join(dir, "trust", "amazon-ssm-agent.asc"))
	require.NoError(t, err)
	for _, arch := range []string{"arm64", "amd64"} {
		cmd := packerCmd(t, dir, "console", "-var", "architecture="+arch, "-var", "subnet_id="+subnet, ".")
		cmd.Stdin = strings.NewReader("local.ssm_agent_bootstrap\n")
		out, err := cmd.Output()
		require.NoError(t, err, "packer console: %s", out)
		ud := strings.TrimSuffix(string(out), "\n") + "\n"
		require.Less(t, len(ud), userDataLimit, "%s: user-data over EC2's limit", arch)
		require.True(t, strings.HasPrefix(ud, "#!/usr/bin/env bash\n"), "cloud-init runs it as a script")

		f := filepath.Join(t.TempDir(), "user-data.sh")
		require.NoError(t, os.WriteFile(f, []byte(ud), 0o755))
		lint, err := exec.Command(shellcheck, "--severity=style", f).CombinedOutput()
		require.NoError(t, err, "%s: %s", arch, lint)

		embedded := regexp.MustCompile(`(?s)base64 -d >"\$work/([^"]+)" <<'B64'\n(.*?)\nB64\n`).FindAllStringSubmatch(ud, -1)
		require.Len(t, embedded, 2, arch)
		files := map[string]string{}
		for _, e := range embedded {
			b, err := base64.StdEncoding.DecodeString(e[2])
			require.NoError(t, err, e[1])
			files[e[1]] = string(b)
		}
		require.Equal(t, map[string]string{"fetch-verified.sh": string(script), "amazon-ssm-agent.asc": string(key)}, files, arch)

		url := "https://s3.amazonaws.com/ec2-downloads-windows/SSMAgent/" + version + "/debian_" + arch + "/amazon-ssm-agent.deb"
		require.Contains(t, ud, "\nurl="+url+"\n", arch)
		verify := `"$work/fetch-verified.sh" "$url" "$work/agent.deb" "$work/amazon-ssm-agent.asc" ` + strings.ReplaceAll(ssmAgentKey, " ", "")
		at := strings.Index(ud, verify)
		require.Positive(t, at, "%s: the package is fetched through fetch-verified.sh with the pinned key", arch)
		require.Greater(t, strings.Index(ud, `dpkg -i "$work/agent.deb"`), at, "%s: and installed only after it", arch)
		require.NotContains(t, ud, "SSMAgent/latest", "%s: a pinned version, never latest", arch)
	}
}

// TestTheSSMKeyIsThePinnedOne reads the committed SSM agent key: the one pinned key, no
// subkeys. Its expiry is logged, not asserted: the newest copy readable here expired on
// 2026-07-15, and docs/golden-image.md says what that does to a real build.
func TestTheSSMKeyIsThePinnedOne(t *testing.T) {
	t.Parallel()
	fprs, expires := committedKey(t, "amazon-ssm-agent.asc")
	require.Equal(t, []string{strings.ReplaceAll(ssmAgentKey, " ", "")}, fprs)
	if expires.Before(time.Now()) {
		t.Logf("the committed SSM agent key expired %s: a real build stops at the agent until it is replaced (docs/golden-image.md)", expires.Format(time.DateOnly))
	}
}
