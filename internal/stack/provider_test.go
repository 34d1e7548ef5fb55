package stack_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/awsapi"
	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/stack"
)

// TestProviderAcceptsWhatTheStacksPlan checks every planned resource's inputs against the
// provider's own schema and validators at the table's revision (internal/awsapi): what mocks
// accept but the provider would reject (a name too long, an enum value it does not know, two
// arguments that conflict) fails here, not at pulumi up.
func TestProviderAcceptsWhatTheStacksPlan(t *testing.T) {
	table, err := awsapi.Load()
	require.NoError(t, err)
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			p, err := plan.Run(stack, "")
			require.NoError(t, err)
			var problems []string
			checked, unchecked := 0, 0
			for _, r := range p.Resources {
				if !r.Custom || !strings.HasPrefix(r.Type, "aws:") || r.Type == "pulumi:providers:aws" {
					continue
				}
				res, err := table.Check(r.Type, r.Name, r.Inputs.Mappable())
				require.NoError(t, err)
				for _, v := range res.Violations {
					problems = append(problems, r.Type+" "+r.Name+": "+v.String())
				}
				checked += res.Checked
				unchecked += len(res.Unchecked)
			}
			require.Empty(t, problems, "%d inputs the provider would reject:\n%s", len(problems), strings.Join(problems, "\n"))
			t.Logf("%s: %d values checked against the provider's validators, %d whose validator the table cannot evaluate", stack, checked, unchecked)
		})
	}
}

// TestLongestNamesPassTheProvider plans the longest project and stack names the config
// accepts, for both edges, and checks every planned input with the provider's validators; one
// character more is a config error naming the stack, before any resource.
func TestLongestNamesPassTheProvider(t *testing.T) {
	table, err := awsapi.Load()
	require.NoError(t, err)
	longest := func(n int) string { return strings.Repeat("abcdefghij", 3)[:n] }
	for _, tc := range []struct {
		name, file, project, stack string
		wantKey                    string // "" means it plans and passes
	}{
		{"eip, this project, 27 characters", "dev", "immutable-edge", longest(12), ""},
		{"alb, this project, 27 characters", "prod", "immutable-edge", longest(12), ""},
		{"alb, the longest stack a load balancer name allows", "prod", "abcdef", longest(20), ""},
		{"eip, a short project and a long stack", "dev", "p", longest(25), ""},
		{"alb, a stack one character too long for the load balancer", "prod", "abcde", longest(21), "stack"},
		{"alb, a stack too long for the target group", "prod", "abcd", longest(22), "stack"},
		{"28 characters", "dev", "immutable-edge", longest(13), "stack"},
		{"eip, the longest service name and domain too", "dev", "immutable-edge", longest(12) + "+long", ""},
		{"alb, the longest service name and domain too", "prod", "abcdef", longest(20) + "+long", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := plan.ReadConfigFile("../../Pulumi." + tc.file + ".yaml")
			require.NoError(t, err)
			stackName, long := strings.CutSuffix(tc.stack, "+long")
			cfg = retarget(cfg, tc.file, tc.project, stackName)
			if long {
				cfg = longest253(t, cfg)
			}
			p, err := plan.RunProject(tc.project, stackName, cfg, nil, stack.Deploy)
			if tc.wantKey != "" {
				var ke *config.KeyError
				require.ErrorAs(t, err, &ke)
				require.Equal(t, tc.wantKey, ke.Key)
				require.Contains(t, err.Error(), "stack name", "the message names what to shorten")
				if stackName == longest(22) {
					require.Contains(t, err.Error(), "the target group's name")
				}
				t.Log(err)
				require.Empty(t, customResources(p), "nothing is registered")
				return
			}
			require.NoError(t, err)
			var problems []string
			for _, r := range customResources(p) {
				res, err := table.Check(r.Type, r.Name, r.Inputs.Mappable())
				require.NoError(t, err)
				for _, v := range res.Violations {
					problems = append(problems, r.Type+" "+r.Name+": "+v.String())
				}
			}
			require.Empty(t, problems, strings.Join(problems, "\n"))
		})
	}
}

// retarget rewrites a committed stack config for another project and stack name: the tags and
// names that carry them follow.
func retarget(cfg plan.Config, from, project, stackName string) plan.Config {
	out := plan.Config{}
	for k, v := range cfg {
		v = strings.ReplaceAll(v, "immutable-edge/"+from+"/", project+"/"+stackName+"/")
		v = strings.ReplaceAll(v, `"Stack":"`+from+`"`, `"Stack":"`+stackName+`"`)
		v = strings.ReplaceAll(v, `"Project":"immutable-edge"`, `"Project":"`+project+`"`)
		v = strings.ReplaceAll(v, "immutable-edge-"+from+"-boundary", project+"-"+stackName+"-boundary")
		out[k] = v
	}
	return out
}

func customResources(p *plan.Plan) []plan.Resource {
	var out []plan.Resource
	if p == nil {
		return nil
	}
	for _, r := range p.Resources {
		if r.Custom && strings.HasPrefix(r.Type, "aws:") && r.Type != "pulumi:providers:aws" {
			out = append(out, r)
		}
	}
	return out
}

// longest253 gives the config the longest domain and service names it accepts: a domain of 64
// characters (ACM's limit on the certificate's first name), a web host of 249 under it (so the
// "api." host stays within DNS's 253), 63-character labels, and 32-character service names.
func longest253(t *testing.T, cfg plan.Config) plan.Config {
	t.Helper()
	label := strings.Repeat("d", 63)
	domain := strings.Repeat("e", 60) + ".com"
	require.Len(t, domain, config.MaxDomainLength)
	host := label + "." + label + "." + strings.Repeat("h", 56) + "." + domain
	require.Len(t, host, 249)
	web, api := strings.Repeat("w", 32), strings.Repeat("a", 32)
	out := maps.Clone(cfg)
	out["immutable-edge:domain"] = domain
	delete(out, "immutable-edge:subjectAlternativeNames")
	out["immutable-edge:services"] = `[{"name":"` + web + `","image":"` + web + `:1.4.2","port":3000,"host":"` + host + `","healthPath":"/ready"},` +
		`{"name":"` + api + `","image":"` + api + `:2.0.1","port":3001,"host":"api.` + host + `","healthPath":"/ready"}]`
	return out
}
