package local_test

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/immutable-edge/immutable-edge/internal/testtools"
)

// image is a local build of the golden image (build.sh): a raw root with its kernel and initrd.
type image struct{ dir string }

// built is this process's one build of the image, shared by the tests that run in parallel.
var built struct {
	sync.Mutex
	img    *image
	failed string
}

// build builds the image, or reuses the cached one for the same images/ content.
func build(t *testing.T) image {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if built.img != nil {
		return *built.img
	}
	if built.failed != "" {
		t.Fatal(built.failed)
	}
	for _, p := range []string{"mmdebstrap", "mkfs.ext4", machines[arch(t)].binary, "qemu-img", "mkfs.vfat", "mcopy", "jq"} {
		testtools.Need(t, p)
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the local image build needs root (mmdebstrap's root mode and chroot)")
		}
		t.Skip("the local image build needs root")
	}
	run := func() (dir, log string, took time.Duration) {
		var stderr strings.Builder
		cmd := exec.Command("bash", "build.sh")
		cmd.Env = append(os.Environ(), "IE_ARCH="+arch(t))
		cmd.Stderr = &stderr
		began := time.Now()
		out, err := cmd.Output()
		if err != nil {
			built.failed = "images/local/build.sh: " + err.Error() + ": " + stderr.String()
			t.Fatal(built.failed)
		}
		t.Log(strings.TrimSpace(stderr.String()))
		return strings.TrimSpace(string(out)), stderr.String(), time.Since(began)
	}
	dir, log, took := run()
	if strings.Contains(log, "build.sh: built ") {
		figure("build.cold", took.Seconds())
		_, _, took = run() // what every later run pays
	}
	figure("build.cached", took.Seconds())
	built.img = &image{dir: dir}
	return *built.img
}
