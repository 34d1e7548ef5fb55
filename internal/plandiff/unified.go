package plandiff

import (
	"fmt"
	"strings"
)

// unified is a unified line diff of a and b with ctx lines of context around each change,
// computed from the longest common subsequence (payloads are small: hundreds of lines).
func unified(a, b string, ctx int) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			lines = append(lines, line{' ', x[i]})
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', x[i]}) // removals before additions, as diff -u prints them
			i++
		default:
			lines = append(lines, line{'+', y[j]})
			j++
		}
	}
	// Keep changed lines and ctx lines around them; mark skipped runs.
	keep := make([]bool, len(lines))
	for k, l := range lines {
		if l.op != ' ' {
			for d := max(0, k-ctx); d <= min(len(lines)-1, k+ctx); d++ {
				keep[d] = true
			}
		}
	}
	var out strings.Builder
	skipped := 0
	for k, l := range lines {
		if !keep[k] {
			skipped++
			continue
		}
		if skipped > 0 {
			fmt.Fprintf(&out, "@@ %d unchanged lines @@\n", skipped)
			skipped = 0
		}
		fmt.Fprintf(&out, "%c %s\n", l.op, l.text)
	}
	if skipped > 0 {
		fmt.Fprintf(&out, "@@ %d unchanged lines @@\n", skipped)
	}
	return out.String()
}
