package local_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// vmConfig is what a boot test gives the VM: the NoCloud seed's user-data (a stack's payload,
// or a stand-in) and vendor-data (the stand-ins' settings, run by cloud-init before user
// scripts), and QEMU's explicit forwards.
type vmConfig struct {
	instanceID, userData, vendorData string
	// guestFwd maps a guest address (in the VM's link-local network, 169.254.0.0/16, which holds
	// the metadata address) to a loopback port of this machine: socat connects each
	// connection the guest opens there.
	guestFwd map[string]int
	// hostFwd maps loopback ports of this machine to guest ports.
	hostFwd map[int]int
}

// vm is a running boot of the image.
type vm struct {
	console string
	done    chan error
	cancel  func()
}

// start boots the image under QEMU (TCG: nested KVM does not work on these machines) on a
// copy-on-write overlay, so the cached root stays as built, with the seed as a second disk.
// User networking is restricted (restrict=on): the guest reaches nothing, this machine
// included, but the forwards. Its network is 169.254.0.0/16 because QEMU forwards only to
// addresses inside it, and the metadata service lives at 169.254.169.254.
func start(t *testing.T, img image, cfg vmConfig) *vm {
	t.Helper()
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.qcow2")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", filepath.Join(img.dir, "root.img"), "-F", "raw", disk)
	nic := "user,model=virtio-net-pci,restrict=on,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15"
	for addr, port := range cfg.guestFwd {
		nic += ",guestfwd=tcp:" + addr + "-cmd:socat - TCP:127.0.0.1:" + strconv.Itoa(port)
	}
	for host, guest := range cfg.hostFwd {
		nic += ",hostfwd=tcp:127.0.0.1:" + strconv.Itoa(host) + "-:" + strconv.Itoa(guest)
	}
	v := &vm{console: filepath.Join(dir, "console.log"), done: make(chan error, 1)}
	q := machines[arch(t)]
	cmd := exec.Command(q.binary,
		"-machine", q.machine, "-accel", "tcg,thread=multi", "-cpu", q.cpu, "-smp", "2", "-m", "2048",
		"-display", "none", "-monitor", "none", "-no-reboot", "-serial", "file:"+v.console,
		"-kernel", filepath.Join(img.dir, "vmlinuz"), "-initrd", filepath.Join(img.dir, "initrd.img"),
		"-append", "root=/dev/vda rw console="+q.console+" ds=nocloud",
		"-drive", "file="+disk+",format=qcow2,if=virtio",
		"-drive", "file="+seed(t, dir, cfg)+",format=raw,if=virtio,readonly=on",
		"-nic", nic)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	go func() {
		err := cmd.Wait()
		if err != nil && out.Len() > 0 {
			t.Logf("qemu: %s", out.String())
		}
		v.done <- err
	}()
	v.cancel = func() { _ = cmd.Process.Kill() }
	t.Cleanup(v.cancel)
	// A failed boot keeps its console where CI's log can name it.
	t.Cleanup(func() {
		if t.Failed() {
			kept := filepath.Join(os.TempDir(), "immutable-edge-"+strings.ReplaceAll(t.Name(), "/", "-")+"-console.log")
			if b, err := os.ReadFile(v.console); err == nil && os.WriteFile(kept, b, 0o600) == nil {
				t.Logf("the console is kept in %s", kept)
			}
		}
	})
	return v
}

// machines is how QEMU emulates each architecture the image is built for: a PC for amd64,
// the generic virt board for arm64 (its serial port is a PL011, ttyAMA0). amd64's CPU is the
// plain x86-64 qemu64 (Debian 13's baseline), not max: the same dev boot side by side took
// 404 CPU-seconds and 422 s to in service with qemu64, 453 and 466 s with max (2026-12-02,
// one run; presumably the vector code paths max offers cost TCG more to emulate).
// patience multiplies every wait for the VM: TCG emulates aarch64 on this x86-64 host more slowly.
var machines = map[string]struct {
	binary, machine, cpu, console string
	patience                      int
}{
	"amd64": {"qemu-system-x86_64", "q35", "qemu64", "ttyS0", 1},
	"arm64": {"qemu-system-aarch64", "virt", "max", "ttyAMA0", 3},
}

// arch is the architecture the boot tests build and boot: IE_ARCH, amd64 unless it says arm64
// (a documented run, too slow for every CI run: docs/golden-image.md).
func arch(t *testing.T) string {
	t.Helper()
	a := os.Getenv("IE_ARCH")
	if a == "" {
		return "amd64"
	}
	if _, ok := machines[a]; !ok {
		t.Fatalf("IE_ARCH=%s: the boot tests build amd64 or arm64", a)
	}
	return a
}

// until polls cond every few seconds while the VM runs; it fails, with the console's tail, if
// the VM stops or the timeout passes first.
func (v *vm) until(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout * time.Duration(machines[arch(t)].patience))
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-v.done:
			v.done <- err
			t.Fatalf("the VM stopped (%v) before %s; the console's last lines:\n%s", err, what, tail(readLines(t, v.console), 80))
		case <-deadline:
			t.Fatalf("no %s within %s; the console's last lines:\n%s", what, timeout, tail(readLines(t, v.console), 80))
		case <-tick.C:
			if cond() {
				return
			}
		}
	}
}

// seed writes a NoCloud seed volume (vfat, label CIDATA, as cloud-init's NoCloud datasource
// looks for) holding user-data, vendor-data and meta-data.
func seed(t *testing.T, dir string, cfg vmConfig) string {
	t.Helper()
	img := filepath.Join(dir, "seed.img")
	run(t, "mkfs.vfat", "-n", "CIDATA", "-C", img, "4096")
	files := map[string]string{
		"user-data": cfg.userData,
		"meta-data": "instance-id: " + cfg.instanceID + "\nlocal-hostname: ie-boot-test\n",
	}
	if cfg.vendorData != "" {
		files["vendor-data"] = cfg.vendorData
	}
	for name, body := range files {
		f := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(f, []byte(body), 0o600))
		run(t, "mcopy", "-i", img, f, "::"+name)
	}
	return img
}

// instanceID is the first instance's id in a boot test, in the seed's meta-data and the
// metadata mock alike.
const instanceID = "i-0123456789abcdef0"

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
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
