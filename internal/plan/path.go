package plan

import (
	"fmt"
	"strconv"
	"strings"
)

// setPath sets the value at a dotted path ("rules.0.status") inside a decoded JSON-like
// document of maps and lists. With build, missing objects on the way are created and a nil v
// removes a map key; without it, every step but the last must exist. It panics on a bad path:
// both callers build test inputs, where a wrong path is a bug in the test.
func setPath(doc any, path string, v any, build bool) {
	parts := strings.Split(path, ".")
	node := doc
	for i, p := range parts {
		last := i == len(parts)-1
		switch n := node.(type) {
		case map[string]any:
			switch {
			case last && v == nil && build:
				delete(n, p)
			case last:
				n[p] = v
			default:
				if _, ok := n[p]; !ok && build {
					n[p] = map[string]any{}
				}
				node = n[p]
			}
		case []any:
			idx, err := strconv.Atoi(p)
			if err != nil || idx < 0 || idx >= len(n) {
				panic(fmt.Sprintf("plan: %s has no item %s", path, p))
			}
			if last {
				n[idx] = v
			}
			node = n[idx]
		default:
			panic(fmt.Sprintf("plan: %s: %s is not structured", path, p))
		}
	}
}
