package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// hostileInput loads every hostile value of plan/hostile.json into its committed stack and
// tabulates the key each refusal names; a value that is accepted, or refused under another
// key, fails the generation, so the table only ever shows what Load really does.
func hostileInput(root string) (string, error) {
	cases, err := plan.HostileValues()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d hostile values, each refused with an error naming its key (%d keys); %d TLS policies allowed.\n\n",
		len(cases), len(plan.HostileKeys(cases)), len(config.SSLPolicies))
	b.WriteString("| hostile value | stack | refused by |\n|---|---|---|\n")
	for _, h := range cases {
		base, err := plan.ReadConfigFile(filepath.Join(root, "Pulumi."+h.Stack+".yaml"))
		if err != nil {
			return "", err
		}
		raw, err := plan.Edit(base, h.Key, h.Path, h.Value, h.Tags)
		if err != nil {
			return "", err
		}
		_, err = config.Load(plan.Project, h.Stack, raw)
		if err == nil || !slices.Contains(config.ErrorKeys(err), h.WantKey) {
			return "", fmt.Errorf("hostile value %q: want an error naming %s, got %w", h.Name, h.WantKey, err)
		}
		fmt.Fprintf(&b, "| %s%s | %s | `%s` |\n", h.Name, shown(h), h.Stack, h.WantKey)
	}
	return b.String(), nil
}

// shown is the value itself when it is short enough for a table cell.
func shown(h plan.Hostile) string {
	if h.Value == "" || len(h.Value) > 48 {
		return ""
	}
	v := strings.ReplaceAll(h.Value, "|", `\|`)
	return ": `" + v + "`"
}
