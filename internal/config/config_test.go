package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

func TestSubnetsAreStableAndDisjoint(t *testing.T) {
	zones := []string{"eu-central-1a", "eu-central-1b", "eu-central-1c"}
	public, private, err := config.Subnets("10.20.0.0/16", zones)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"eu-central-1a": "10.20.0.0/20", "eu-central-1b": "10.20.16.0/20", "eu-central-1c": "10.20.32.0/20"}, public)
	require.Equal(t, map[string]string{"eu-central-1a": "10.20.128.0/20", "eu-central-1b": "10.20.144.0/20", "eu-central-1c": "10.20.160.0/20"}, private)

	// Adding a zone never moves an existing subnet.
	public2, private2, err := config.Subnets("10.20.0.0/16", zones[:2])
	require.NoError(t, err)
	for z, c := range public2 {
		require.Equal(t, public[z], c)
		require.Equal(t, private[z], private2[z])
	}

	var tests = []struct {
		cidr    string
		zones   int
		wantErr bool
	}{
		{"10.0.0.0/16", 6, false},
		{"192.168.0.0/24", 2, false}, // /28 subnets: the smallest AWS allows
		{"172.16.0.0/12", 2, true},   // AWS VPCs are /16 at most
		{"192.168.0.0/25", 2, true},
		{"10.0.0.0/16", 9, true},
		{"fd00::/56", 2, true},
		{"10.0.0.1/16", 2, true},
		{"100.64.0.0/16", 2, true},
	}
	for _, tc := range tests {
		_, _, err := config.Subnets(tc.cidr, make([]string, tc.zones))
		require.Equal(t, tc.wantErr, err != nil, "%s with %d zones: %v", tc.cidr, tc.zones, err)
	}
}

func TestDefaultsDependOnTheEdge(t *testing.T) {
	base, err := plan.StackConfig("dev")
	require.NoError(t, err)
	minimal := plan.Config{}
	for _, k := range []string{"aws:region", "edge", "domain", "hostedZoneId", "services", "alertEmail", "monthlyBudgetUsd"} {
		full := k
		if k != "aws:region" {
			full = config.Namespace + ":" + k
		}
		minimal[full] = base[full]
	}
	eip, err := config.Load("immutable-edge", "dev", minimal)
	require.NoError(t, err)
	require.Equal(t, config.Fleet{Min: 1, Max: 1, Desired: 1}, eip.Fleet)
	require.Equal(t, config.SubnetsPublic, eip.InstanceSubnets)
	require.Equal(t, config.NATNone, eip.NATGateways)
	require.Equal(t, "/immutable-edge/dev/ami-id", eip.Image.Parameter)
	require.Equal(t, config.ArchARM64, eip.Image.Architecture)
	require.Equal(t, config.DefaultImageKeep, *eip.Image.Keep)
	require.Equal(t, "t4g.micro", eip.InstanceType)
	require.Equal(t, config.DefaultHealthPath, eip.Services[0].HealthPath)
	require.False(t, eip.S3Endpoint, "no NAT gateway, nothing for an S3 endpoint to save")
	require.True(t, eip.DetailedMonitoring)
	require.True(t, eip.Protect, "a stack keeps its data unless it says protect: false")
	require.True(t, *eip.ALB.DeletionProtection)
	require.Equal(t, config.DefaultUnhealthyMinutes, eip.UnhealthyMinutes())

	disposable, err := config.Load("immutable-edge", "dev", minimal.With("protect", "false").With("healing", map[string]any{"unhealthyMinutes": 0}))
	require.NoError(t, err)
	require.False(t, disposable.Protect)
	require.False(t, *disposable.ALB.DeletionProtection, "deletion protection follows protect unless alb.deletionProtection is set")
	require.Zero(t, disposable.UnhealthyMinutes(), "0 turns self-healing off")

	alb, err := config.Load("immutable-edge", "prod", minimal.With("edge", "alb"))
	require.NoError(t, err)
	require.Equal(t, config.Fleet{Min: 2, Max: 4, Desired: 2}, alb.Fleet)
	require.Equal(t, config.SubnetsPrivate, alb.InstanceSubnets)
	require.Equal(t, config.NATSingle, alb.NATGateways)
	require.Equal(t, 2, alb.AZCount)
	require.True(t, alb.S3Endpoint, "S3 traffic skips the NAT gateway by default")
	require.True(t, alb.DetailedMonitoring)
	require.Equal(t, map[string]string{"Project": "immutable-edge", "Stack": "prod"}, alb.Tags())
}

func TestCertificateNamesNoServiceUsesRedirect(t *testing.T) {
	base, err := plan.StackConfig("prod")
	require.NoError(t, err)
	for _, tc := range []struct {
		name                 string
		sans                 []string
		redirects, certNames []string
	}{
		{"committed prod: www", []string{"www.example.com"}, []string{"www.example.com"},
			[]string{"example.com", "api.example.com", "www.example.com"}},
		{"a service host or the domain is no redirect", []string{"api.example.com", "example.com"}, nil,
			[]string{"example.com", "api.example.com"}},
		{"sorted, once", []string{"www.example.com", "old.example.com", "www.example.com"}, []string{"old.example.com", "www.example.com"},
			[]string{"example.com", "api.example.com", "old.example.com", "www.example.com"}},
	} {
		c, err := config.Load("immutable-edge", "prod", base.With("subjectAlternativeNames", tc.sans))
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.redirects, c.RedirectNames(), tc.name)
		require.Equal(t, tc.certNames, c.CertificateNames(), tc.name)
		for _, n := range tc.redirects {
			require.Contains(t, c.RecordNames(), n, "%s: a redirect name needs a DNS record to reach the edge", tc.name)
		}
	}
}

func TestUnknownKeysSuggestTheNearest(t *testing.T) {
	base, err := plan.StackConfig("dev")
	require.NoError(t, err)
	for _, tc := range []struct{ key, want string }{
		{"instancetype", "did you mean instanceType?"},
		{"monthlyBudget", "did you mean monthlyBudgetUsd?"},
		{"vpcCIDR", "did you mean vpcCidr?"},
		{"replicas", "known keys: alarms, alb, alertEmail"},
	} {
		_, err := config.Load("immutable-edge", "dev", base.With(tc.key, "x"))
		require.ErrorContains(t, err, "immutable-edge:"+tc.key+": unknown key")
		require.ErrorContains(t, err, tc.want)
	}
}

func TestImageReferences(t *testing.T) {
	base, err := plan.StackConfig("dev")
	require.NoError(t, err)
	for ref, ok := range map[string]bool{
		"web:1.4.2":     true,
		"web:v1_2-rc.1": true,
		"web@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef":     true,
		"web:1.0@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": true,
		"web@sha256:abc":                     false,
		"web:-bad":                           false,
		"web:":                               false,
		"Web:1.0":                            false,
		"localhost:5000/web:1.0":             false,
		"1234.dkr.ecr.x.amazonaws.com/web:1": false,
	} {
		_, err := config.Load("immutable-edge", "dev", base.Set("services.0.image", ref))
		require.Equal(t, ok, err == nil, "%s: %v", ref, err)
	}
}

// TestPulumiYAMLDeclaresEveryKey keeps Pulumi.yaml's config: block and the loader in step.
func TestPulumiYAMLDeclaresEveryKey(t *testing.T) {
	root, err := plan.Root()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	require.NoError(t, err)
	var project struct {
		Name    string `yaml:"name"`
		Runtime string `yaml:"runtime"`
		Config  map[string]struct {
			Type        string `yaml:"type"`
			Description string `yaml:"description"`
			Default     any    `yaml:"default"`
		} `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(b, &project))
	require.Equal(t, "immutable-edge", project.Name)
	require.Equal(t, "go", project.Runtime)
	var declared []string
	for k, v := range project.Config {
		name, ok := cutNamespace(k)
		require.True(t, ok, "%s: project keys live in the immutable-edge namespace", k)
		require.NotEmpty(t, v.Type, k)
		require.NotEmpty(t, v.Description, k)
		require.Nil(t, v.Default, "%s: defaults live in internal/config only", k)
		declared = append(declared, name)
	}
	slices.Sort(declared)
	require.Equal(t, config.Keys, declared)
}

func cutNamespace(k string) (string, bool) {
	p := config.Namespace + ":"
	if len(k) > len(p) && k[:len(p)] == p {
		return k[len(p):], true
	}
	return "", false
}

// encoding/json alone ignores trailing data, lets the last of two equal keys win and matches
// keys regardless of case; Load refuses all three, naming the key.
func TestStructuredValuesAreStrict(t *testing.T) {
	for raw, want := range map[string]string{
		`{"tags":{"Owner":"a","Owner":"b"}}`:          "aws:defaultTags.tags.Owner",
		`{"tags":{"Owner":"a"}} {"tags":{}}`:          "aws:defaultTags",
		`{"Tags":{"Owner":"a"}}`:                      "aws:defaultTags.Tags",
		`{"tags":{"Owner":"a"},"tags":{"Owner":"b"}}`: "aws:defaultTags.tags",
	} {
		_, err := config.Load("immutable-edge", "dev", map[string]string{config.KeyDefaultTags: raw})
		require.Contains(t, config.ErrorKeys(err), want, raw)
	}
	_, err := config.Load("immutable-edge", "dev", map[string]string{"immutable-edge:fleet": `{"Max":3}`})
	require.ErrorContains(t, err, "immutable-edge:fleet.Max: unknown key (did you mean max?)")
}
