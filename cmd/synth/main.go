// Command synth shows what `pulumi up` would create for a stack, with no cloud account: it runs
// the program under the recording mocks of internal/plan, checks the plan against
// internal/policy, prices it with internal/cost, and prints a tree, JSON or a Mermaid graph, or
// the difference to a saved plan.
//
// Flags:
//
//	-stack NAME              the stack to plan (default dev), from Pulumi.<stack>.yaml (dev, prod, voting)
//	-config-file PATH        a stack config to use instead of Pulumi.<stack>.yaml
//	-format text|json|mermaid
//	                         the resource tree with policy and cost; the JSON document of
//	                         design.md; or a Mermaid flowchart GitHub draws
//	-graph system|full       with -format mermaid: system (default) draws the stack as a reviewer
//	                         pictures it (internet, edge, HAProxy, services, containers, ECR,
//	                         Packer → SSM → launch template → group, rules on the arrows), one
//	                         comment-sized picture per stack; full draws every resource, one
//	                         subgraph per component, with its dependency edges
//	-diff OLD.json           what changes against a saved -format json plan
//	-bootstrap-out DIR       also write the instance payload to DIR/user-data and DIR/files/<path>
//
// Exit codes: 0 ok; 1 policy failures (the plan is still printed); 2 bad config or flags, with
// the key or flag named on stderr and nothing on stdout.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/cost"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	stack, configFile, format, graph, diff, bootstrapOut string
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.stack, "stack", "dev", "stack to plan: dev, prod, voting (any Pulumi.<stack>.yaml)")
	fs.StringVar(&o.configFile, "config-file", "", "stack config to use instead of Pulumi.<stack>.yaml")
	fs.StringVar(&o.format, "format", "text", "output: text, json or mermaid")
	fs.StringVar(&o.graph, "graph", "system", "with -format mermaid: system (the picture a reviewer reads) or full (every resource and dependency)")
	fs.StringVar(&o.diff, "diff", "", "a saved -format json plan to compare with, as pulumi preview --diff reads")
	fs.StringVar(&o.bootstrapOut, "bootstrap-out", "", "write the instance payload to DIR/user-data and DIR/files/<path>")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.format != "text" && o.format != "json" && o.format != "mermaid":
		return o, fmt.Errorf("-format %q: want text, json or mermaid", o.format)
	case o.diff != "" && o.format == "mermaid":
		return o, errors.New("-diff prints a text diff; it does not combine with -format mermaid")
	case o.graph != "system" && o.graph != "full":
		return o, fmt.Errorf("-graph %q: want system or full", o.graph)
	case o.graph == "full" && o.format != "mermaid":
		return o, errors.New("-graph full draws a Mermaid graph; it needs -format mermaid")
	}
	return o, nil
}

// Synth is everything one run knows about a stack.
type Synth struct {
	Plan   *plan.Plan
	Config *config.Config
	Policy []policy.Result
	Cost   cost.Estimate
}

// synthesize plans, checks and prices a stack; every error it returns is a config error.
func synthesize(stack, configFile string) (*Synth, error) {
	p, err := plan.Run(stack, configFile)
	if err != nil {
		return nil, err
	}
	return check(p)
}

// check runs the policy rules and the cost estimate over a plan.
func check(p *plan.Plan) (*Synth, error) {
	cfg, results, err := policy.EvaluatePlan(p)
	if err != nil {
		return nil, err
	}
	return &Synth{Plan: p, Config: cfg, Policy: results, Cost: cost.Of(p)}, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "synth: %v\n", err)
		return 2
	}
	s, err := synthesize(o.stack, o.configFile)
	if err != nil {
		fmt.Fprintf(stderr, "synth: stack %s:%s\n", o.stack, errorLines(err))
		return 2
	}
	if o.bootstrapOut != "" {
		files, err := writeBootstrap(s.Plan, o.bootstrapOut)
		if err != nil {
			fmt.Fprintf(stderr, "synth: -bootstrap-out %s: %v\n", o.bootstrapOut, err)
			return 2
		}
		fmt.Fprintf(stderr, "synth: wrote %d files under %s\n", len(files), o.bootstrapOut)
	}
	var out []byte
	switch {
	case o.diff != "":
		out, err = diffAgainst(s, o.diff)
		if err != nil {
			fmt.Fprintf(stderr, "synth: -diff %s: %v\n", o.diff, err)
			return 2
		}
	case o.format == "json":
		out, err = JSON(s)
	case o.format == "mermaid" && o.graph == "full":
		out = []byte(DependencyGraph(s.Plan))
	case o.format == "mermaid":
		var text string
		text, err = System(s)
		out = []byte(text)
	default:
		out = []byte(Text(s))
	}
	if err != nil {
		fmt.Fprintf(stderr, "synth: %v\n", err)
		return 2
	}
	if _, err := stdout.Write(out); err != nil {
		return 2
	}
	if n := policy.Count(s.Policy)[policy.Fail]; n > 0 {
		fmt.Fprintf(stderr, "synth: %d policy failures\n", n)
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
