package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/plandiff"
)

// saved writes the JSON plan of a config to a file, as a base branch's CI would.
func saved(t *testing.T, stack string, cfg plan.Config) string {
	t.Helper()
	path := writeConfig(t, stack, cfg)
	code, out, stderr := synth("-stack", stack, "-config-file", path, "-format", "json")
	require.Equal(t, 0, code, stderr)
	file := filepath.Join(t.TempDir(), "old.json")
	require.NoError(t, os.WriteFile(file, []byte(out), 0o600))
	return file
}

// writeConfig writes a raw config back as a Pulumi.<stack>.yaml.
func writeConfig(t *testing.T, stack string, cfg plan.Config) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("config:\n")
	for k, v := range cfg {
		// JSON is valid YAML, and so is a quoted scalar.
		if strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
			b.WriteString("  " + k + ": " + v + "\n")
		} else {
			b.WriteString("  " + k + ": \"" + v + "\"\n")
		}
	}
	path := filepath.Join(t.TempDir(), "Pulumi."+stack+".yaml")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

func TestDiffOfAPlanWithItselfIsEmpty(t *testing.T) {
	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	code, out, stderr := synth("-stack", "prod", "-diff", saved(t, "prod", prod))
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, "no changes\n0 to create, 0 to update, 0 to replace, 0 to delete\n")
	require.Contains(t, out, "cost: $123.77 → $123.77 a month (+0.00)")
}

func TestDiffOfAnInstanceTypeShowsTheRefresh(t *testing.T) {
	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	old := saved(t, "prod", prod.With("instanceType", "t4g.micro"))
	code, out, stderr := synth("-stack", "prod", "-diff", old)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, "~  aws:ec2/launchTemplate:LaunchTemplate prod-lt (update: new version)\n      instanceType: \"t4g.micro\" → \"t4g.small\"\n")
	require.Contains(t, out, "~  aws:autoscaling/group:Group prod-asg (instance refresh: launch template prod-lt gets a new version")
	require.Contains(t, out, "0 to create, 1 to update, 0 to replace, 0 to delete\n")
	require.Contains(t, out, "cost: $109.76 → $123.77 a month (+14.01)")
}

func TestDiffShowsUserDataAsText(t *testing.T) {
	dev, err := plan.StackConfig("dev")
	require.NoError(t, err)
	old := saved(t, "dev", dev.Set("services.1.port", 3002))
	code, out, stderr := synth("-stack", "dev", "-diff", old)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, "userData (decoded):\n")
	require.Contains(t, out, "      -             \"port\": 3002,\n      +             \"port\": 3001,\n")
	require.NotContains(t, out, "userData: \"", "never base64")
}

func TestDiffShowsReplacementsCreatesAndDeletes(t *testing.T) {
	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	old := saved(t, "prod", prod.With("vpcCidr", "10.30.0.0/16").With("natGateways", "perAz").With("monthlyBudgetUsd", "400"))
	code, out, stderr := synth("-stack", "prod", "-diff", old)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, "+- aws:ec2/vpc:Vpc prod-vpc (replace: cidrBlock)\n      cidrBlock: \"10.30.0.0/16\" → \"10.20.0.0/16\"\n")
	require.Contains(t, out, "+- aws:ec2/subnet:Subnet prod-private-eu-central-1a (replace: cidrBlock)")
	require.Contains(t, out, "-  aws:ec2/natGateway:NatGateway prod-nat-eu-central-1b\n")
	require.Contains(t, out, "to replace, 4 to delete\n", "two NAT gateways and their addresses go")
}

func TestDiffOfSomethingElseIsAnError(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "old.json")
	require.NoError(t, os.WriteFile(bad, []byte("not json"), 0o600))
	code, out, stderr := synth("-stack", "dev", "-diff", bad)
	require.Equal(t, 2, code)
	require.Empty(t, out)
	require.Contains(t, stderr, "-diff")
}

// otherAMI is a second AMI id, as if images/promote.sh had set prod's parameter to a new build.
const otherAMI = "ami-0aaaabbbbccccdddd"

// prodDocuments are prod's documents with the default AMI behind its parameter and with otherAMI.
func prodDocuments(t *testing.T) (before, after plandiff.Document) {
	t.Helper()
	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	env := plan.Environment{
		Region:     "eu-central-1",
		Zones:      []string{"eu-central-1a", "eu-central-1b", "eu-central-1c"},
		Parameters: map[string]string{"/immutable-edge/prod/ami-id": otherAMI},
	}
	for _, side := range []struct {
		env *plan.Environment
		doc *plandiff.Document
	}{{nil, &before}, {&env, &after}} {
		p, err := plan.RunConfig("prod", prod, side.env)
		require.NoError(t, err)
		s, err := check(p)
		require.NoError(t, err)
		*side.doc, err = document(s)
		require.NoError(t, err)
	}
	return before, after
}

func TestDiffAttributesANewAMIToItsRead(t *testing.T) {
	before, after := prodDocuments(t)
	for _, tt := range []struct {
		name   string
		render func(old, cur plandiff.Document) string
		want   []string
	}{
		{"text", plandiff.Text, []string{
			"~  aws:ec2/launchTemplate:LaunchTemplate prod-lt (update: new version)\n" +
				"      imageId: \"ami-0123456789abcdef0\" → \"ami-0aaaabbbbccccdddd\" (from read aws:ssm/getParameter /immutable-edge/prod/ami-id)\n",
			"~  aws:autoscaling/group:Group prod-asg (instance refresh: launch template prod-lt",
			"~  read aws:ssm/getParameter /immutable-edge/prod/ami-id: ami-0123456789abcdef0 → ami-0aaaabbbbccccdddd\n",
			"0 to create, 1 to update, 0 to replace, 0 to delete\n",
		}},
		{"markdown", plandiff.Markdown, []string{
			"| ~ | `prod-lt` | `aws:ec2/launchTemplate:LaunchTemplate` | update: new version<br>" +
				"`imageId`: `\"ami-0123456789abcdef0\"` → `\"ami-0aaaabbbbccccdddd\"` (from read `aws:ssm/getParameter /immutable-edge/prod/ami-id`) |\n",
			"**Reads:** 1 changed, 0 new, 0 gone.\n",
			"| ~ | `aws:ssm/getParameter /immutable-edge/prod/ami-id` | `ami-0123456789abcdef0` → `ami-0aaaabbbbccccdddd` |\n",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := tt.render(before, after)
			for _, w := range tt.want {
				require.Contains(t, out, w)
			}
			require.Equal(t, 1, strings.Count(out, "from read"), "only the launch template takes the AMI id")
		})
	}
}

func TestDiffOfADocumentWithoutReads(t *testing.T) {
	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	var old map[string]json.RawMessage
	raw, err := os.ReadFile(saved(t, "prod", prod.With("instanceType", "t4g.micro")))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &old))
	delete(old, "reads") // as synth wrote it before it recorded reads
	raw, err = json.Marshal(old)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "old.json")
	require.NoError(t, os.WriteFile(file, raw, 0o600))

	code, out, stderr := synth("-stack", "prod", "-diff", file)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, "      instanceType: \"t4g.micro\" → \"t4g.small\"\n")
	require.Contains(t, out, "reads: not compared (a plan written before synth recorded reads has none)\n")
	require.NotContains(t, out, "read aws:", "a missing list is not four new reads")

	base, err := plandiff.Read(file)
	require.NoError(t, err)
	_, head := prodDocuments(t)
	body := plandiff.Markdown(base, head)
	require.Contains(t, body, "**Reads:** not compared (a plan written before synth recorded reads has none).\n")
	require.Contains(t, body, "`imageId`: `\"ami-0123456789abcdef0\"` → `\"ami-0aaaabbbbccccdddd\"`<br>")
	require.NotContains(t, body, "from read", "nothing to attribute the new AMI to")
}
