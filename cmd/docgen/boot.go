package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// bootSteps are boot.sh's own steps, in its order, as it logs their times ("step NAME took").
var bootSteps = []struct{ name, what string }{
	{"certificate", "certificate (pebble, DNS-01 through the Route 53 stand-in)"},
	{"services", "containers pulled and started"},
	{"gate", "health gate (HAProxy's checks settled)"},
	{"continue", "lifecycle hook CONTINUE"},
	{"claim", "Elastic IP claimed"},
}

// bootFigures renders what the boot tests measured (images/local/figures.json, written by
// `make boot-figures`): a missing figure is an error, so the table cannot keep a row the tests
// no longer measure.
func bootFigures(root string) (string, error) {
	path := filepath.Join(root, "images", "local", "figures.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("boot figures: %w (make boot-figures writes it)", err)
	}
	var f map[string]float64
	if err := json.Unmarshal(b, &f); err != nil {
		return "", fmt.Errorf("boot figures: %s: %w", path, err)
	}
	var missing []string
	get := func(key string) float64 {
		v, ok := f[key]
		if !ok {
			missing = append(missing, key)
		}
		return v
	}
	s := func(key string) string {
		if v := get(key); v < 0.1 {
			return "< 0.1 s"
		}
		return fmt.Sprintf("%.1f s", get(key))
	}
	var out strings.Builder
	row := func(what, value string) { fmt.Fprintf(&out, "| %s | %s |\n", what, value) }
	out.WriteString("| what (2 cores, QEMU TCG) | measured |\n|---|--:|\n")
	row("golden image build, cold (mmdebstrap, then the template's scripts)", s("build.cold"))
	row("golden image build, cached (content hash only)", s("build.cached"))
	row("dev: boot → serving (address claimed)", s("dev.serving"))
	for _, st := range bootSteps {
		row("dev boot.sh step: "+st.what, s("dev.step."+st.name))
	}
	row("dev: a stopped container → 503, → 200 again", s("dev.stopped.503")+", "+s("dev.stopped.200"))
	row("dev replacement, under load: boot → address claimed", s("dev.replacement.serving"))
	row("dev replacement: certificate restored from S3 (boot.sh step)", s("dev.replacement.step.certificate"))
	blip := fmt.Sprintf("%.0f of %.0f", get("switch.failed"), get("switch.total"))
	if get("switch.failed") > 0 {
		blip += fmt.Sprintf(" (failures within %.1f s)", get("switch.span"))
	}
	row("switch-over: failed requests of all sent through the address; its open connections dropped",
		fmt.Sprintf("%s; %.0f", blip, get("switch.dropped")))
	row("prod (alb): boot → in service", s("prod.inservice"))
	row("dev without its images: boot → ABANDON", s("dev.abandon"))
	row("dev when certbot fails (pebble refuses the challenge, three tries): boot → ABANDON", s("dev.certbot-failure.abandon"))
	for _, test := range []string{"TestDevServesAndIsReplaced", "TestProdServesBehindTheALB", "TestDevLaunchWithoutItsImages", "TestDevLaunchWhenCertbotFails"} {
		row("test "+test+", wall (two at a time)", s("test."+test))
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("boot figures: %s lacks %s (run make boot-figures)", path, strings.Join(missing, ", "))
	}
	return out.String(), nil
}
