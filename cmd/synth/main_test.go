package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/plandiff"
)

func synth(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestJSONIsByteIdenticalAcrossRuns(t *testing.T) {
	for _, s := range []string{"dev", "prod"} {
		code, first, stderr := synth("-stack", s, "-format", "json")
		require.Equal(t, 0, code, stderr)
		_, second, _ := synth("-stack", s, "-format", "json")
		require.Equal(t, first, second, "%s: same config, same bytes", s)

		var doc struct {
			Project   string `json:"project"`
			Stack     string `json:"stack"`
			Resources []struct {
				URN, Type, Name, Parent string
				DependsOn               []string       `json:"dependsOn"`
				Inputs                  map[string]any `json:"inputs"`
			} `json:"resources"`
			Outputs map[string]any `json:"outputs"`
		}
		require.NoError(t, json.Unmarshal([]byte(first), &doc))
		require.Equal(t, "immutable-edge", doc.Project)
		require.Equal(t, s, doc.Stack)
		require.NotEmpty(t, doc.Resources)
		require.Equal(t, map[string]string{"dev": plan.BuiltAMI, "prod": plan.DefaultAMI}[s], doc.Outputs["amiId"])
		var lt map[string]any
		for _, r := range doc.Resources {
			if r.Type == "aws:ec2/launchTemplate:LaunchTemplate" {
				lt = r.Inputs
			}
		}
		require.Equal(t, "required", lt["metadataOptions"].(map[string]any)["httpTokens"], "inputs carry schema names")

		var contract struct {
			Policy []struct{ Rule, Ref, Resource, Status, Reason string } `json:"policy"`
			Cost   struct {
				MonthlyUSD float64 `json:"monthlyUsd"`
				Items      []struct {
					Resource string  `json:"resource"`
					USD      float64 `json:"usd"`
					Basis    string  `json:"basis"`
				} `json:"items"`
			} `json:"cost"`
		}
		dec := json.NewDecoder(strings.NewReader(first))
		require.NoError(t, dec.Decode(&contract))
		require.NotEmpty(t, contract.Policy)
		for _, r := range contract.Policy {
			require.Contains(t, []string{"pass", "fail", "waived"}, r.Status)
			require.NotEmpty(t, r.Rule)
			require.NotEmpty(t, r.Ref)
		}
		require.Positive(t, contract.Cost.MonthlyUSD)
		require.NotEmpty(t, contract.Cost.Items)
		requireExactKeys(t, first)
	}
}

func TestTextShowsTheComponentTree(t *testing.T) {
	code, out, _ := synth("-stack", "prod")
	require.Equal(t, 0, code)
	require.Contains(t, out, "immutable-edge:fleet:Fleet prod\n  aws:autoscaling/group:Group prod-asg")
	require.Contains(t, out, "metadataOptions.httpTokens=required")
	require.Contains(t, out, "\noutputs:\n")
	require.Contains(t, out, "policy: 76 rules applied")
	require.Contains(t, out, ", 0 fail\n")
	require.Contains(t, out, "cost: $123.77 a month")
}

// readTests are what each stack's program reads from the account: dev builds its AMI, so only
// prod reads the parameter.
var readTests = []struct {
	stack, token string
	args         map[string]any
	field, want  string // a result field and its value
}{
	{"prod", "aws:ssm/getParameter:getParameter", map[string]any{"name": "/immutable-edge/prod/ami-id"}, "value", plan.DefaultAMI},
	{"prod", "aws:index/getCallerIdentity:getCallerIdentity", map[string]any{}, "accountId", plan.Account},
	{"prod", "aws:index/getPartition:getPartition", map[string]any{}, "partition", "aws"},
	{"dev", "aws:index/getAvailabilityZones:getAvailabilityZones", map[string]any{"state": "available"}, "id", "eu-central-1"},
	{"dev", "aws:ssm/getParameter:getParameter", nil, "", ""}, // want "": no such read
}

func TestJSONListsWhatTheProgramRead(t *testing.T) {
	for _, tt := range readTests {
		t.Run(tt.stack+" "+tt.token, func(t *testing.T) {
			code, out, stderr := synth("-stack", tt.stack, "-format", "json")
			require.Equal(t, 0, code, stderr)
			var doc plandiff.Document
			require.NoError(t, json.Unmarshal([]byte(out), &doc))
			var got []plandiff.Lookup
			for _, r := range doc.Reads {
				if r.Token == tt.token {
					got = append(got, r)
				}
			}
			if tt.want == "" {
				require.Empty(t, got)
				return
			}
			require.Len(t, got, 1, "each read once")
			require.Equal(t, tt.args, got[0].Args)
			require.Equal(t, tt.want, got[0].Result[tt.field])
		})
	}
}

func TestTextListsWhatTheProgramRead(t *testing.T) {
	for _, tt := range []struct {
		stack    string
		want     []string
		unwanted string
	}{
		{"prod", []string{
			"\nreads aws:index/getAvailabilityZones state=available → eu-central-1a, eu-central-1b, eu-central-1c\n" +
				"reads aws:index/getCallerIdentity → 123456789012\n" +
				"reads aws:index/getPartition → aws\n" +
				"reads aws:ssm/getParameter /immutable-edge/prod/ami-id → ami-0123456789abcdef0\n\npolicy: ",
		}, ""},
		{"dev", []string{"reads aws:index/getPartition → aws\n\npolicy: "}, "getParameter"},
	} {
		t.Run(tt.stack, func(t *testing.T) {
			code, out, stderr := synth("-stack", tt.stack)
			require.Equal(t, 0, code, stderr)
			for _, w := range tt.want {
				require.Contains(t, out, w)
			}
			if tt.unwanted != "" {
				require.NotContains(t, out, tt.unwanted)
			}
		})
	}
}

func TestBadConfigNamesTheKeyAndPrintsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
	b, err := os.ReadFile(filepath.Join(mustRoot(t), "Pulumi.dev.yaml"))
	require.NoError(t, err)
	bad := strings.Replace(string(b), "immutable-edge:azCount:", "immutable-edge:azCuont:", 1)
	bad = strings.Replace(bad, "    max: 1\n", "    max: 2\n", 1)
	require.NotEqual(t, string(b), bad)
	require.NoError(t, os.WriteFile(path, []byte(bad), 0o600))

	code, out, stderr := synth("-stack", "dev", "-config-file", path)
	require.Equal(t, 2, code)
	require.Empty(t, out)
	require.Contains(t, stderr, "immutable-edge:azCuont: unknown key (did you mean azCount?)")
	require.Contains(t, stderr, "immutable-edge:fleet.max: must be 1 when edge is eip")
}

// TestMissingRequiredTagIsOneLine: a tag the stack requires but aws:defaultTags lacks is one
// config error, not a policy failure on every taggable resource.
func TestMissingRequiredTagIsOneLine(t *testing.T) {
	cfg, err := plan.StackConfig("dev")
	require.NoError(t, err)
	b, err := cfg.With("requiredTags", []string{"Owner", "CostCenter", "Team"}).YAML()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
	require.NoError(t, os.WriteFile(path, b, 0o600))

	code, out, stderr := synth("-stack", "dev", "-config-file", path)
	require.Equal(t, 2, code)
	require.Empty(t, out)
	require.Equal(t, "synth: stack dev:\n  aws:defaultTags: lacks tag Team, which immutable-edge:requiredTags requires on every taggable resource\n", stderr)
}

func TestBadFlags(t *testing.T) {
	code, out, stderr := synth("-format", "yaml")
	require.Equal(t, 2, code)
	require.Empty(t, out)
	require.Contains(t, stderr, "-format")
	code, _, stderr = synth("-stack", "staging")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "Pulumi.staging.yaml")
	code, out, stderr = synth("-format", "mermaid", "-graph", "tree")
	require.Equal(t, 2, code)
	require.Empty(t, out)
	require.Contains(t, stderr, "-graph")
	code, _, stderr = synth("-format", "json", "-graph", "full")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "needs -format mermaid")
}

// requireExactKeys checks the document has exactly design.md's keys, top level and per entry.
func requireExactKeys(t *testing.T, doc string) {
	t.Helper()
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(doc), &top))
	require.ElementsMatch(t, []string{"project", "stack", "resources", "reads", "outputs", "policy", "cost"}, keysOf(top))
	var parts struct {
		Resources []map[string]json.RawMessage `json:"resources"`
		Reads     []map[string]json.RawMessage `json:"reads"`
		Policy    []map[string]json.RawMessage `json:"policy"`
		Cost      map[string]json.RawMessage   `json:"cost"`
	}
	require.NoError(t, json.Unmarshal([]byte(doc), &parts))
	require.ElementsMatch(t, []string{"urn", "type", "name", "parent", "dependsOn", "inputs"}, keysOf(parts.Resources[0]))
	require.ElementsMatch(t, []string{"token", "args", "result"}, keysOf(parts.Reads[0]))
	require.ElementsMatch(t, []string{"rule", "ref", "resource", "status", "reason"}, keysOf(parts.Policy[0]))
	require.ElementsMatch(t, []string{"monthlyUsd", "items", "range"}, keysOf(parts.Cost))
	var items []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(parts.Cost["items"], &items))
	require.ElementsMatch(t, []string{"resource", "usd", "basis"}, keysOf(items[0]))
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func mustRoot(t *testing.T) string {
	t.Helper()
	root, err := plan.Root()
	require.NoError(t, err)
	return root
}
