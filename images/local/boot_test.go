package local_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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

// seed writes a NoCloud seed volume (vfat, label CIDATA, as cloud-init's NoCloud datasource
// looks for) holding user-data and meta-data.
func seed(t *testing.T, dir, userData string) string {
	t.Helper()
	img := filepath.Join(dir, "seed.img")
	run(t, "mkfs.vfat", "-n", "CIDATA", "-C", img, "2048")
	for name, body := range map[string]string{
		"user-data": userData,
		"meta-data": "instance-id: ie-boot-test\nlocal-hostname: ie-boot-test\n",
	} {
		f := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(f, []byte(body), 0o600))
		run(t, "mcopy", "-i", img, f, "::"+name)
	}
	return img
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
}

// boot starts the image under QEMU (TCG: nested KVM does not work on these machines) on a
// copy-on-write overlay, so the cached root stays as built, with the seed as a second disk and
// user networking restricted to the VM itself: the guest reaches nothing, this machine
// included, unless a forward says so. It returns the serial console's lines once the VM powers
// off, or fails after the timeout.
func boot(t *testing.T, img image, seedImg string, timeout time.Duration) []string {
	t.Helper()
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.qcow2")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", filepath.Join(img.dir, "root.img"), "-F", "raw", disk)
	console := filepath.Join(dir, "console.log")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64",
		"-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2", "-m", "2048",
		"-display", "none", "-monitor", "none", "-no-reboot", "-serial", "file:"+console,
		"-kernel", filepath.Join(img.dir, "vmlinuz"), "-initrd", filepath.Join(img.dir, "initrd.img"),
		"-append", "root=/dev/vda rw console=ttyS0 ds=nocloud",
		"-drive", "file="+disk+",format=qcow2,if=virtio",
		"-drive", "file="+seedImg+",format=raw,if=virtio,readonly=on",
		"-nic", "user,model=virtio-net-pci,restrict=on")
	out, err := cmd.CombinedOutput()
	lines := readLines(t, console)
	if ctx.Err() != nil {
		t.Fatalf("the VM did not power off within %s; the console's last lines:\n%s", timeout, tail(lines, 60))
	}
	require.NoError(t, err, "qemu: %s\n%s", out, tail(lines, 60))
	return lines
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	return lines
}

func tail(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
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
      active=$(for u in haproxy docker prometheus-node-exporter rsyslog; do printf '%s\t%s\n' "$u" "$(systemctl is-active "$u")"; done |
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
	lines := boot(t, img, seed(t, t.TempDir(), reportUserData), 15*time.Minute)
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
	for _, u := range []string{"haproxy", "docker", "prometheus-node-exporter", "rsyslog"} {
		require.Equal(t, "active", r.Active[u], "%s", u)
	}
	require.Empty(t, r.Failed, "failed units")
	t.Logf("booted under TCG: cloud-init done %.0f s after the kernel started", r.Uptime)
}
