// Command docgen writes the generated blocks of README.md and docs/*.md from the program's own
// output: the synth of each stack, the policy rules, the cost tables, the configuration schema,
// the derived AWS API table and what the tests check with it. A block sits between
//
//	<!-- generated:NAME -->
//	<!-- end:NAME -->
//
// lines. Without -write it only checks that every block is current and exits 1 naming the stale
// ones (make test runs that check through this package's test); make docs writes them.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("docgen", flag.ContinueOnError)
	write := fs.Bool("write", false, "rewrite stale blocks instead of reporting them")
	root := fs.String("root", ".", "the repository root")
	if err := fs.Parse(args); err != nil {
		return err
	}
	blocks, err := generate(*root)
	if err != nil {
		return err
	}
	stale, err := apply(*root, blocks, *write)
	if err != nil {
		return err
	}
	if len(stale) > 0 && !*write {
		return fmt.Errorf("stale generated blocks (run make docs):\n  %s", strings.Join(stale, "\n  "))
	}
	for _, s := range stale {
		fmt.Fprintln(out, "docgen: wrote", s)
	}
	return nil
}

var marker = regexp.MustCompile(`(?m)^<!-- generated:([a-z0-9-]+) -->\n(?s:(.*?))<!-- end:([a-z0-9-]+) -->$`)

// apply fills every marked block of README.md and docs/*.md; it returns the blocks that were
// (or, without write, would be) changed, as file:NAME.
func apply(root string, blocks map[string]string, write bool) ([]string, error) {
	files := []string{filepath.Join(root, "README.md")}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	files = append(files, more...)
	var stale, errs []string
	used := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(root, f)
		changed := false
		next := marker.ReplaceAllFunc(b, func(m []byte) []byte {
			sub := marker.FindSubmatch(m)
			name, body, end := string(sub[1]), string(sub[2]), string(sub[3])
			if name != end {
				errs = append(errs, fmt.Sprintf("%s: block %s ends with end:%s", rel, name, end))
				return m
			}
			want, ok := blocks[name]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: no generator for block %s", rel, name))
				return m
			}
			used[name] = true
			if !strings.HasSuffix(want, "\n") {
				want += "\n"
			}
			if body != want {
				changed = true
				stale = append(stale, rel+":"+name)
			}
			return []byte("<!-- generated:" + name + " -->\n" + want + "<!-- end:" + name + " -->")
		})
		if changed && write {
			if err := os.WriteFile(f, next, 0o644); err != nil {
				return nil, err
			}
		}
		if bytes.Contains(next, []byte("<!-- generated:")) != bytes.Contains(next, []byte("<!-- end:")) {
			errs = append(errs, rel+": a generated block without its end marker")
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	slices.Sort(stale)
	return stale, nil
}
