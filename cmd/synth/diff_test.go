package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/plan"
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
	require.Contains(t, out, "cost: $122.05 → $122.05 a month (+0.00)")
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
	require.Contains(t, out, "cost: $108.04 → $122.05 a month (+14.01)")
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
	old := saved(t, "prod", prod.With("vpcCidr", "10.30.0.0/16").With("natGateways", "perAz"))
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
