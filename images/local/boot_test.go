package local_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// image is a local build of the golden image (build.sh): a raw root with its kernel and initrd.
type image struct{ dir string }

// build builds the image, or reuses the cached one for the same images/ content.
func build(t *testing.T) image {
	t.Helper()
	for _, p := range []string{"mmdebstrap", "mkfs.ext4", "qemu-system-x86_64", "qemu-img", "mkfs.vfat", "mcopy", "jq"} {
		testtools.Need(t, p)
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the local image build needs root (mmdebstrap's root mode and chroot)")
		}
		t.Skip("the local image build needs root")
	}
	var stderr strings.Builder
	cmd := exec.Command("bash", "build.sh")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "images/local/build.sh: %s", stderr.String())
	t.Log(strings.TrimSpace(stderr.String()))
	return image{dir: strings.TrimSpace(string(out))}
}

// report is what the test's report unit prints on the console once cloud-init is done.
type report struct {
	CloudInit struct {
		Status            string              `json:"status"`
		Errors            []string            `json:"errors"`
		RecoverableErrors map[string][]string `json:"recoverable_errors"`
	} `json:"cloudInit"`
	Active  map[string]string `json:"active"`
	Failed  []string          `json:"failed"`
	Uptime  float64           `json:"uptime"`
	Seconds map[string]string `json:"seconds"`
}

// reportUserData is the test's stand-in for a stack's payload: a unit that waits for cloud-init
// to finish, prints one JSON line of the instance's state on the console and powers the VM off.
const reportUserData = `#cloud-config
write_files:
  - path: /etc/systemd/system/ie-boot-report.service
    permissions: "0644"
    content: |
      [Unit]
      Description=immutable-edge boot test: report and power off (a test stand-in)
      [Service]
      Type=oneshot
      ExecStart=/bin/bash /usr/local/sbin/ie-boot-report
  - path: /usr/local/sbin/ie-boot-report
    permissions: "0755"
    content: |
      #!/bin/bash
      cloud-init status --wait >/dev/null 2>&1
      active=$(for u in haproxy docker prometheus-node-exporter rsyslog systemd-networkd; do printf '%s\t%s\n' "$u" "$(systemctl is-active "$u")"; done |
        jq -R -s 'split("\n") | map(select(. != "") | split("\t") | {(.[0]): .[1]}) | add')
      failed=$(systemctl --failed --no-legend --plain | awk '{ print $1 }' | jq -R -s 'split("\n") | map(select(. != ""))')
      status=$(cloud-init status --format json)
      echo "IE-REPORT $(jq -c -n --argjson c "$status" --argjson a "$active" --argjson f "$failed" \
        --argjson up "$(cut -d' ' -f1 /proc/uptime)" '{cloudInit: $c, active: $a, failed: $f, uptime: $up}')" >/dev/ttyS0
      systemctl poweroff
runcmd:
  - [systemctl, start, --no-block, ie-boot-report.service]
`

// TestImageBoots boots the locally built golden image: cloud-init finishes with no error or
// warning, the services the image enables are active and no unit failed.
func TestImageBoots(t *testing.T) {
	img := build(t)
	v := start(t, img, vmConfig{userData: reportUserData})
	lines := v.wait(t, 15*time.Minute, nil)
	var r *report
	for _, l := range lines {
		if _, j, ok := strings.Cut(l, "IE-REPORT "); ok {
			r = &report{}
			require.NoError(t, json.Unmarshal([]byte(j), r), l)
		}
	}
	require.NotNil(t, r, "no report on the console; its last lines:\n%s", tail(lines, 80))
	require.Equal(t, "done", r.CloudInit.Status, "%+v", r.CloudInit)
	require.Empty(t, r.CloudInit.Errors)
	for level, msgs := range r.CloudInit.RecoverableErrors {
		require.Empty(t, msgs, "cloud-init logged %s", level)
	}
	for _, u := range []string{"haproxy", "docker", "prometheus-node-exporter", "rsyslog", "systemd-networkd"} {
		require.Equal(t, "active", r.Active[u], "%s", u)
	}
	require.Empty(t, r.Failed, "failed units")
	t.Logf("booted under TCG: cloud-init done %.0f s after the kernel started", r.Uptime)
}
