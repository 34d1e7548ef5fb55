package plandiff

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/policy"
)

// Marker opens every preview comment of a stack, so the workflow finds and edits its own
// comment instead of adding one per push.
func Marker(stack string) string { return "<!-- immutable-edge-preview:" + stack + " -->" }

// maxRows and maxDiff keep a comment well inside GitHub's 65,536 characters.
const (
	maxRows  = 60
	maxDiff  = 20000
	maxValue = 80
)

var opWords = map[string]string{"+": "create", "~": "update", "+-": "replace", "-": "delete"}

// Markdown is the pull-request comment for one stack: what the change creates, updates,
// replaces and deletes, the refreshes it starts, the reads whose answers changed, the policy
// verdicts and the cost delta.
func Markdown(base, head Document) string {
	changes := Compare(base, head)
	var b strings.Builder
	counts := map[string]int{}
	for _, c := range changes {
		counts[c.Op]++
	}
	fmt.Fprintf(&b, "%s\n### `%s`: %d to create, %d to update, %d to replace, %d to delete\n\n",
		Marker(head.Stack), head.Stack, counts["+"], counts["~"], counts["+-"], counts["-"])
	writeChanges(&b, changes, Refreshes(changes, head))
	writeReads(&b, base, head)
	writePolicy(&b, base, head)
	writeCost(&b, base, head)
	for _, c := range changes {
		if slices.Contains(c.Paths, "userData") {
			d := userDataDiff(c.Old["userData"], c.New["userData"])
			if len(d) > maxDiff {
				d = d[:maxDiff] + "\n… (cut; run the synth locally for the whole diff)\n"
			}
			fmt.Fprintf(&b, "\n<details><summary>user-data of <code>%s</code></summary>\n\n```diff\n%s```\n</details>\n", c.Name, d)
		}
	}
	fmt.Fprintf(&b, "\n<sub>Offline synth of the mocked plan, no cloud credentials: `go run ./cmd/synth -stack %s -diff base.json`.</sub>\n", head.Stack)
	return b.String()
}

func writeChanges(b *strings.Builder, changes []Change, refreshes []Refresh) {
	if len(changes) == 0 {
		b.WriteString("No resource changes.\n")
		return
	}
	b.WriteString("| | resource | type | what changes |\n|---|---|---|---|\n")
	rows := 0
	for _, c := range changes {
		if rows == maxRows {
			fmt.Fprintf(b, "| | … | | %d more changes |\n", len(changes)-rows)
			break
		}
		rows++
		var what []string
		if c.Reason != "" {
			what = append(what, strings.Trim(c.Reason, " ()"))
		} else if c.Op != "~" {
			what = append(what, opWords[c.Op])
		}
		for _, p := range c.Paths {
			if p == "userData" {
				what = append(what, "`userData` (diff below)")
				continue
			}
			line := fmt.Sprintf("`%s`: %s → %s", p, value(c.Old[p]), value(c.New[p]))
			if r := c.From[p]; r != "" {
				line += " (from read `" + r + "`)"
			}
			what = append(what, line)
		}
		fmt.Fprintf(b, "| %s | `%s` | `%s` | %s |\n", opSign(c.Op), c.Name, c.Type, cell(strings.Join(what, "<br>")))
	}
	for _, r := range refreshes {
		fmt.Fprintf(b, "| ↻ | `%s` | `%s` | %s |\n", r.Group, r.GroupType, cell(r.String()))
	}
}

// writeReads lists the reads that changed; nothing when none did, so most comments stay as short.
func writeReads(b *strings.Builder, base, head Document) {
	if !ReadsCompared(base, head) {
		b.WriteString("\n**Reads:** not compared (a plan written before synth recorded reads has none).\n")
		return
	}
	reads := CompareReads(base, head)
	if len(reads) == 0 {
		return
	}
	counts := map[string]int{}
	for _, r := range reads {
		counts[r.Op]++
	}
	fmt.Fprintf(b, "\n**Reads:** %d changed, %d new, %d gone.\n\n| | read | answer |\n|---|---|---|\n", counts["~"], counts["+"], counts["-"])
	for _, r := range reads {
		answer := value(r.Read().Answer())
		if r.Op == "~" {
			answer = value(r.Old.Answer()) + " → " + answer
			if r.Old.Answer() == r.New.Answer() {
				answer += " (changed: " + strings.Join(r.Fields, ", ") + ")"
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", r.Op, cell("`"+r.Read().Subject()+"`"), cell(answer))
	}
}

func writePolicy(b *strings.Builder, base, head Document) {
	n := policy.Count(head.Policy)
	fmt.Fprintf(b, "\n**Policy:** %d pass, %d waived, %d fail (base: %d fail).\n", n[policy.Pass], n[policy.Waived], n[policy.Fail], Failures(base.Policy))
	was := map[string]bool{}
	for _, r := range base.Policy {
		if r.Status == policy.Fail {
			was[r.Rule+r.Resource] = true
		}
	}
	var rows []string
	for _, r := range head.Policy {
		if r.Status == policy.Fail {
			tag := "still failing"
			if !was[r.Rule+r.Resource] {
				tag = "**new**"
			}
			rows = append(rows, fmt.Sprintf("| %s | `%s` | `%s` | %s |", tag, r.Rule, shortURN(r.Resource), cell(r.Reason)))
		}
	}
	if len(rows) > 0 {
		b.WriteString("\n| | rule | resource | reason |\n|---|---|---|---|\n" + strings.Join(rows, "\n") + "\n")
	}
}

func writeCost(b *strings.Builder, base, head Document) {
	fmt.Fprintf(b, "\n**Cost:** $%.2f → $%.2f a month (%+.2f).\n", base.Cost.MonthlyUSD, head.Cost.MonthlyUSD, head.Cost.MonthlyUSD-base.Cost.MonthlyUSD)
	before, after := map[string]float64{}, map[string]float64{}
	for _, it := range base.Cost.Items {
		before[it.Resource] += it.USD
	}
	for _, it := range head.Cost.Items {
		after[it.Resource] += it.USD
	}
	var rows []string
	all := maps.Clone(before)
	maps.Copy(all, after)
	for _, urn := range slices.Sorted(maps.Keys(all)) {
		if d := after[urn] - before[urn]; d > 0.005 || d < -0.005 {
			rows = append(rows, fmt.Sprintf("| `%s` | $%.2f | $%.2f | %+.2f |", shortURN(urn), before[urn], after[urn], d))
		}
	}
	if len(rows) > 0 {
		b.WriteString("\n| resource | before | after | change |\n|---|--:|--:|--:|\n" + strings.Join(rows, "\n") + "\n")
	}
}

func opSign(op string) string {
	if op == "+-" {
		return "±"
	}
	return op
}

// value shows a JSON value in a table cell, shortened.
func value(v string) string {
	if v == "" {
		return "(none)"
	}
	if len(v) > maxValue {
		v = v[:maxValue] + "…"
	}
	return "`" + strings.ReplaceAll(v, "`", "'") + "`"
}

// cell keeps text inside one table cell.
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

func shortURN(urn string) string {
	if urn == "" {
		return "(stack)"
	}
	return urn[strings.LastIndex(urn, "::")+2:]
}
