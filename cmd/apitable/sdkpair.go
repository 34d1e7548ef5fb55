package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
)

// pulumiSDK is the pulumi-aws Go SDK the main module builds with.
func pulumiSDK(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/pulumi/pulumi-aws/sdk/v6").Output()
	if err != nil {
		return "", fmt.Errorf("go list pulumi-aws sdk: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

var (
	stateStruct = regexp.MustCompile(`(?s)type [a-z]\w*State struct \{(.*?)\n\}`)
	pulumiTag   = regexp.MustCompile(`pulumi:"([A-Za-z0-9]+)"`)
)

// checkPair checks a token → provider type pair: the SDK's properties for the token must be the
// provider schema's attributes (snake-cased, pulumi-aws's plurals undone).
func checkPair(sdkDir, token string, attrs []string, log io.Writer) error {
	mod, name, ok := strings.Cut(strings.TrimPrefix(token, "aws:"), ":")
	if !ok {
		return fmt.Errorf("%s: not a resource token", token)
	}
	module, file, _ := strings.Cut(mod, "/")
	src, err := os.ReadFile(filepath.Join(sdkDir, "go", "aws", module, file+".go"))
	if err != nil {
		return fmt.Errorf("%s: %w", token, err)
	}
	m := stateStruct.FindSubmatch(src)
	if m == nil {
		return fmt.Errorf("%s: no state struct in the SDK's %s.go", token, file)
	}
	top := map[string]bool{}
	for _, a := range attrs {
		top[strings.SplitN(a, ".", 2)[0]] = true
	}
	var props, missing []string
	for _, tm := range pulumiTag.FindAllSubmatch(m[1], -1) {
		p := string(tm[1])
		props = append(props, p)
		if _, ok := awsapi.AttributeFor(p, func(a string) bool { return top[a] }); !ok {
			missing = append(missing, p)
		}
	}
	if len(props) == 0 || len(missing)*10 > len(props)*7 {
		return fmt.Errorf("%s is not %s: %d of its %d properties have no attribute there (%s)", token, name, len(missing), len(props), strings.Join(missing, ", "))
	}
	if len(missing) > 0 {
		fmt.Fprintf(log, "apitable: %s: properties newer than the provider revision: %s\n", token, strings.Join(missing, ", "))
	}
	return nil
}
