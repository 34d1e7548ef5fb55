// Command prcomment writes the body of a pull request's preview comment for one stack from two
// offline synth documents: the base branch's and the pull request's.
//
//	go run ./cmd/synth -stack dev -format json > head.json   # on the PR
//	prcomment -base base.json -head head.json > comment.md
//
// The body starts with a per-stack marker, so the workflow edits its own comment on each push.
// It needs no credentials: it runs on fork pull requests too.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/immutable-edge/immutable-edge/internal/plandiff"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("prcomment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	basePath := fs.String("base", "", "synth JSON of the base branch")
	headPath := fs.String("head", "", "synth JSON of the pull request")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *basePath == "" || *headPath == "" {
		fmt.Fprintln(stderr, "prcomment: -base and -head are required")
		return 2
	}
	base, err := plandiff.Read(*basePath)
	if err != nil {
		fmt.Fprintf(stderr, "prcomment: -base: %v\n", err)
		return 2
	}
	head, err := plandiff.Read(*headPath)
	if err != nil {
		fmt.Fprintf(stderr, "prcomment: -head: %v\n", err)
		return 2
	}
	if base.Stack != head.Stack {
		fmt.Fprintf(stderr, "prcomment: -base is stack %q but -head is %q\n", base.Stack, head.Stack)
		return 2
	}
	fmt.Fprint(stdout, plandiff.Markdown(base, head))
	return 0
}
