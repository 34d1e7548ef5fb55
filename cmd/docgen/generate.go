package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/immutable-edge/immutable-edge/account/isolation"
	"github.com/immutable-edge/immutable-edge/account/setup"
	"github.com/immutable-edge/immutable-edge/internal/awsapi"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/cost"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

// stackFacts is what one committed stack's synth knows.
type stackFacts struct {
	name     string
	cfg      *config.Config
	plan     *plan.Plan
	results  []policy.Result
	estimate cost.Estimate
	text     string // synth's text output
	mermaid  string // synth's system diagram
}

// generate computes every block from the committed stacks and the program's own data.
func generate(root string) (map[string]string, error) {
	table, err := awsapi.Load()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "docgen")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }() // scratch: the synth binary and a bad config
	run, err := buildSynth(root, dir)
	if err != nil {
		return nil, err
	}
	stacks := map[string]*stackFacts{}
	names, err := plan.Stacks()
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		f, err := facts(root, name, run)
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", name, err)
		}
		stacks[name] = f
	}
	account, err := accountPlan(root)
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	checks, err := permissionCounts(table, stacks, account)
	if err != nil {
		return nil, err
	}
	schema, err := configTable(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		return nil, err
	}
	configError, err := badConfig(root, dir, run)
	if err != nil {
		return nil, err
	}
	isolated, err := isolation.FromPlan(account, stacks["dev"].plan, stacks["prod"].plan)
	if err != nil {
		return nil, fmt.Errorf("refusal table: %w", err)
	}
	refusals, err := setup.RefusalTable(isolated)
	if err != nil {
		return nil, fmt.Errorf("refusal table: %w", err)
	}
	hostile, err := hostileInput(root)
	if err != nil {
		return nil, err
	}
	boot, err := bootFigures(root)
	if err != nil {
		return nil, err
	}
	choices, err := costChoices(stacks["prod"])
	if err != nil {
		return nil, fmt.Errorf("cost choices: %w", err)
	}
	return map[string]string{
		"system-prod":     fence("mermaid", stacks["prod"].mermaid),
		"system-dev":      fence("mermaid", stacks["dev"].mermaid),
		"synth-dev":       fence("", shortSynth(stacks["dev"].text)),
		"figures":         figures(stacks, account, checks, table),
		"config-table":    schema,
		"policy-rules":    policyRules(),
		"cost-dev":        costTable(stacks["dev"].estimate),
		"cost-prod":       costTable(stacks["prod"].estimate),
		"cost-voting":     costTable(stacks["voting"].estimate),
		"cost-choices":    choices,
		"deploy-policies": policySizes(account),
		"refusals":        refusals,
		"api-table":       apiTable(table),
		"provider-checks": providerChecks(table, stacks),
		"config-error":    fence("", configError),
		"stacks":          stackTable(stacks),
		"hostile-input":   hostile,
		"boot-figures":    boot,
	}, nil
}

// facts plans, checks and prices a committed stack, and takes synth's own renderings.
func facts(root, name string, synth synthRunner) (*stackFacts, error) {
	p, err := plan.Run(name, filepath.Join(root, "Pulumi."+name+".yaml"))
	if err != nil {
		return nil, err
	}
	cfg, results, err := policy.EvaluatePlan(p)
	if err != nil {
		return nil, err
	}
	text, err := synth("-stack", name)
	if err != nil {
		return nil, err
	}
	mermaid, err := synth("-stack", name, "-format", "mermaid")
	if err != nil {
		return nil, err
	}
	return &stackFacts{name: name, cfg: cfg, plan: p, results: results, estimate: cost.Of(p), text: text, mermaid: mermaid}, nil
}

// synthRunner runs the offline synth command with arguments.
type synthRunner func(args ...string) (string, error)

// buildSynth builds the offline synth command once, into dir, and returns a runner of it from
// the repository root, as a reader of the docs would run it: its stdout, or when it fails its
// stderr.
func buildSynth(root, dir string) (synthRunner, error) {
	bin := filepath.Join(dir, "synth")
	build := exec.Command("go", "build", "-o", bin, "./cmd/synth")
	build.Dir, build.Stderr = root, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build synth: %w", err)
	}
	return func(args ...string) (string, error) {
		var stdout, stderr strings.Builder
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, &stdout, &stderr
		if err := cmd.Run(); err != nil { // a failing synth says why on stderr
			return stderr.String(), fmt.Errorf("synth %s: %w", strings.Join(args, " "), err)
		}
		return stdout.String(), nil
	}, nil
}

// accountPlan plans the committed account program.
func accountPlan(root string) (*plan.Plan, error) {
	cfg, err := plan.ReadConfigFile(filepath.Join(root, "account", "Pulumi.account.yaml"))
	if err != nil {
		return nil, err
	}
	return plan.RunProject(setup.Project, "account", cfg, nil, setup.Deploy)
}

func fence(lang, body string) string {
	return "```" + lang + "\n" + strings.TrimRight(body, "\n") + "\n```"
}

// shortSynth keeps the head of synth's text output, the fleet component, the reads and the
// first lines of the policy and cost sections, as a reader's first look.
func shortSynth(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var out []string
	keep := func(from int, n int) {
		for i := from; i < len(lines) && i < from+n; i++ {
			out = append(out, lines[i])
		}
		out = append(out, "…")
	}
	out = append(out, lines[0], "…")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "immutable-edge:fleet:Fleet"):
			keep(i, 3)
		case strings.HasPrefix(l, "reads ") && (i == 0 || !strings.HasPrefix(lines[i-1], "reads ")):
			keep(i, 4)
		case strings.HasPrefix(l, "policy:"):
			keep(i, 2)
		case strings.HasPrefix(l, "cost:"):
			keep(i, 5)
		}
	}
	return strings.Join(out, "\n")
}

// badConfig is what synth prints for dev's config with a misspelt key and a second node on the
// eip edge: every problem at once, each naming its key.
func badConfig(root, dir string, synth synthRunner) (string, error) {
	raw, err := os.ReadFile(filepath.Join(root, "Pulumi.dev.yaml"))
	if err != nil {
		return "", err
	}
	bad := strings.Replace(string(raw), "immutable-edge:azCount:", "immutable-edge:azCuont:", 1)
	bad = strings.Replace(bad, "\n    max: 1\n", "\n    max: 2\n", 1)
	if bad == string(raw) {
		return "", errors.New("badConfig: Pulumi.dev.yaml no longer has the lines it edits")
	}
	file := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		return "", err
	}
	out, err := synth("-stack", "dev", "-config-file", file)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return "", fmt.Errorf("synth with a bad config should fail: %w", err)
	}
	lines := []string{"$ go run ./cmd/synth -stack dev -config-file bad.yaml"}
	return strings.Join(append(lines, strings.Split(strings.TrimRight(out, "\n"), "\n")...), "\n"), nil
}
