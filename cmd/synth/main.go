// Command synth shows what `pulumi up` would create for a stack, with no cloud account:
// it runs the program under the recording mocks of internal/plan and prints the result.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stackName := fs.String("stack", "dev", "stack to plan: dev or prod")
	configFile := fs.String("config-file", "", "stack config to use instead of Pulumi.<stack>.yaml")
	format := fs.String("format", "text", "output: text (resource tree) or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "synth: -format %q: want text or json\n", *format)
		return 2
	}
	p, err := plan.Run(*stackName, *configFile)
	if err != nil {
		fmt.Fprintf(stderr, "synth: stack %s: %s\n", *stackName, errorLines(err))
		return 1
	}
	var out []byte
	switch *format {
	case "json":
		out, err = JSON(p)
	default:
		out = []byte(Tree(p))
	}
	if err != nil {
		fmt.Fprintf(stderr, "synth: %v\n", err)
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		return 1
	}
	return 0
}

// errorLines puts each joined error on its own line, so every bad config key is visible.
func errorLines(err error) string {
	var b strings.Builder
	var walk func(error)
	walk = func(err error) {
		var joined interface{ Unwrap() []error }
		if errors.As(err, &joined) {
			for _, e := range joined.Unwrap() {
				walk(e)
			}
			return
		}
		// pulumi.RunErr wraps the program's error in a multierror list.
		var wrapped interface{ WrappedErrors() []error }
		if errors.As(err, &wrapped) && len(wrapped.WrappedErrors()) > 0 {
			for _, e := range wrapped.WrappedErrors() {
				walk(e)
			}
			return
		}
		b.WriteString("\n  " + err.Error())
	}
	walk(err)
	return b.String()
}
