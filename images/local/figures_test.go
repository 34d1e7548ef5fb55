package local_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// figures are what the boot tests measure. With IE_BOOT_FIGURES naming a file (make
// boot-figures), a run that passes merges them into it as JSON, and cmd/docgen writes the
// README's block from that file, so the README states what a run measured, not what was typed.
var figures = struct {
	sync.Mutex
	m map[string]float64
}{m: map[string]float64{}}

// figure records one measurement, rounded to a tenth.
func figure(key string, v float64) {
	figures.Lock()
	defer figures.Unlock()
	figures.m[key] = float64(int64(v*10+0.5)) / 10
}

func TestMain(m *testing.M) {
	code := m.Run()
	if path := os.Getenv("IE_BOOT_FIGURES"); path != "" && code == 0 {
		if err := writeFigures(path); err != nil {
			fmt.Fprintln(os.Stderr, "IE_BOOT_FIGURES:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func writeFigures(path string) error {
	all := map[string]float64{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &all); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	figures.Lock()
	for k, v := range figures.m {
		all[k] = v
	}
	figures.Unlock()
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// timed records the test's wall time as a figure when it passes.
func timed(t *testing.T) {
	began := time.Now()
	t.Cleanup(func() {
		if !t.Failed() {
			figure("test."+t.Name(), time.Since(began).Seconds())
		}
	})
}

var stepRE = regexp.MustCompile(`immutable-edge: step ([a-z]+) took ([0-9.]+) s`)

// steps records boot.sh's own step timings from an instance's console under the prefix.
func steps(t *testing.T, v *vm, prefix string) {
	t.Helper()
	n := 0
	for _, l := range readLines(t, v.console) {
		if m := stepRE.FindStringSubmatch(l); m != nil {
			s, err := strconv.ParseFloat(m[2], 64)
			require.NoError(t, err, l)
			figure(prefix+m[1], s)
			n++
		}
	}
	require.Positive(t, n, "boot.sh logged no step timings")
}
