package stack_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

func rules(p *plan.Plan) []plan.Resource {
	return append(p.OfType(tIngress), p.OfType(tEgress)...)
}

func TestNoSSHAndEveryRuleDescribed(t *testing.T) {
	for _, s := range stacks {
		p := stackPlan(t, s)
		for _, sg := range p.OfType(tSecurityGroup) {
			require.NotEmpty(t, sg.Str("description"), "%s %s: described", s, sg.Name)
			require.True(t, sg.Get("ingress").IsNull(), "%s %s: rules are separate resources", s, sg.Name)
		}
		for _, r := range rules(p) {
			require.NotEmpty(t, r.Str("description"), "%s %s: every rule says why", s, r.Name)
			require.Equal(t, "tcp", r.Str("ipProtocol"), "%s %s: no all-protocol rules", s, r.Name)
			from, to := r.Get("fromPort").NumberValue(), r.Get("toPort").NumberValue()
			require.Equal(t, from, to, "%s %s: one port per rule", s, r.Name)
			require.False(t, from <= 22 && 22 <= to, "%s %s: nothing opens SSH", s, r.Name)
			require.False(t, from <= 3389 && 3389 <= to, "%s %s: nothing opens RDP", s, r.Name)
			hasCIDR, hasPeer := r.Str("cidrIpv4") != "", r.Str("referencedSecurityGroupId") != ""
			require.True(t, hasCIDR != hasPeer, "%s %s: a CIDR or a group, not both", s, r.Name)
			if hasCIDR {
				require.Equal(t, "0.0.0.0/0", r.Str("cidrIpv4"), "%s %s: the only CIDR is the internet; our tiers use references", s, r.Name)
			}
		}
	}
}

func TestWorldIngressOnlyOn80And443(t *testing.T) {
	for _, tc := range []struct{ stack, openGroup string }{{"dev", "dev-instance-id"}, {"prod", "prod-edge-id"}} {
		var open []float64
		for _, r := range stackPlan(t, tc.stack).OfType(tIngress) {
			if r.Str("cidrIpv4") == "0.0.0.0/0" {
				require.Equal(t, tc.openGroup, r.Str("securityGroupId"), "%s %s: only the edge is open to the world", tc.stack, r.Name)
				open = append(open, r.Get("fromPort").NumberValue())
			}
		}
		slices.Sort(open)
		require.Equal(t, []float64{80, 443}, open, tc.stack)
	}
}

func TestProdInstancesAdmitOnlyTheLoadBalancer(t *testing.T) {
	p := stackPlan(t, "prod")
	var instanceIn []plan.Resource
	for _, r := range p.OfType(tIngress) {
		if r.Str("securityGroupId") == "prod-instance-id" {
			instanceIn = append(instanceIn, r)
		}
	}
	require.Len(t, instanceIn, 1)
	require.Equal(t, "prod-edge-id", instanceIn[0].Str("referencedSecurityGroupId"), "by SG reference, not CIDR")
	require.Equal(t, float64(config.ProxyPort), instanceIn[0].Get("fromPort").NumberValue())
	var edgeOut []plan.Resource
	for _, r := range p.OfType(tEgress) {
		if r.Str("securityGroupId") == "prod-edge-id" {
			edgeOut = append(edgeOut, r)
		}
	}
	require.Len(t, edgeOut, 1)
	require.Equal(t, "prod-instance-id", edgeOut[0].Str("referencedSecurityGroupId"), "the ALB may only reach the instances")
}

func TestInstanceEgressIsNarrow(t *testing.T) {
	for _, s := range stacks {
		var ports []float64
		for _, r := range stackPlan(t, s).OfType(tEgress) {
			if r.Str("securityGroupId") == s+"-instance-id" {
				ports = append(ports, r.Get("fromPort").NumberValue())
			}
		}
		slices.Sort(ports)
		require.Equal(t, []float64{80, 443}, ports, s)
	}
}

func TestIAMPoliciesAreScoped(t *testing.T) {
	for _, s := range stacks {
		p := stackPlan(t, s)
		policies := p.OfType(tRolePolicy)
		require.Len(t, policies, 3, "%s: instance runtime, flow logs, external-check alarm forwarding", s)
		for _, rp := range policies {
			doc, err := iampolicy.Parse(rp.Str("policy"))
			require.NoError(t, err, "%s %s", s, rp.Name)
			for _, st := range doc.Statement {
				require.Equal(t, "Allow", st.Effect)
				for _, a := range st.Action {
					require.NotContains(t, a, "*", "%s %s %s: no wildcard actions", s, rp.Name, st.Sid)
				}
				if slices.Contains(st.Resource, "*") {
					for _, a := range st.Action {
						require.Contains(t, policy.Unscopable, a, "%s %s %s: %s must name its resources", s, rp.Name, st.Sid, a)
					}
				}
				for _, r := range st.Resource {
					if r != "*" {
						require.True(t, strings.HasPrefix(r, "arn:aws:"), "%s %s: %s", s, st.Sid, r)
					}
				}
			}
			if rp.Name == s+"-runtime" {
				pull := statement(t, doc, "EcrPull")
				require.ElementsMatch(t, []string{
					"arn:aws:ecr:eu-central-1:" + plan.Account + ":repository/immutable-edge/" + s + "/web",
					"arn:aws:ecr:eu-central-1:" + plan.Account + ":repository/immutable-edge/" + s + "/api",
				}, pull.Resource, "%s: ECR pull only from the stack's repositories", s)
				logs := statement(t, doc, "AgentLogs")
				for _, r := range logs.Resource {
					require.Contains(t, r, ":log-group:/immutable-edge/"+s+"/instance/", s)
				}
				ready := statement(t, doc, "ReportReady")
				require.Equal(t, []string{"arn:aws:autoscaling:eu-central-1:" + plan.Account + ":autoScalingGroup:*:autoScalingGroupName/*"}, ready.Resource)
				require.Equal(t, s, ready.Condition["StringEquals"]["aws:ResourceTag/Stack"], "%s: only groups of this stack", s)
				metrics := statement(t, doc, "AgentMetrics")
				require.NotEmpty(t, metrics.Condition["StringEquals"]["cloudwatch:namespace"], "%s: metrics limited to our namespaces", s)
			}
		}
	}
}

func statement(t *testing.T, d iampolicy.Document, sid string) iampolicy.Statement {
	t.Helper()
	for _, st := range d.Statement {
		if st.Sid == sid {
			return st
		}
	}
	t.Fatalf("no statement %s", sid)
	return iampolicy.Statement{}
}

func TestRolesLiveUnderTheStackPathWithItsBoundary(t *testing.T) {
	for _, s := range stacks {
		p := stackPlan(t, s)
		boundary := "arn:aws:iam::123456789012:policy/immutable-edge/immutable-edge-" + s + "-boundary"
		roles := p.OfType(tRole)
		require.NotEmpty(t, roles)
		for _, role := range roles {
			require.Equal(t, "/immutable-edge/"+s+"/", role.Str("path"), role.Name)
			require.Equal(t, boundary, role.Str("permissionsBoundary"), role.Name)
		}
		profile := one(t, p, "aws:iam/instanceProfile:InstanceProfile")
		require.Equal(t, "/immutable-edge/"+s+"/", profile.Str("path"))
		require.Equal(t, "arn:aws:iam::123456789012:role/immutable-edge/"+s+"/"+s+"-role", p.Outputs["instanceRoleArn"])
	}
	// Without the key the roles still get the path, and no boundary.
	cfg, err := plan.StackConfig("dev")
	require.NoError(t, err)
	p, err := plan.RunConfig("dev", cfg.Without("permissionsBoundary"), nil)
	require.NoError(t, err)
	for _, role := range p.OfType(tRole) {
		require.Equal(t, "/immutable-edge/dev/", role.Str("path"), role.Name)
		require.Empty(t, role.Str("permissionsBoundary"), role.Name)
	}
}

func TestRolesTrustOneService(t *testing.T) {
	for _, s := range stacks {
		trusted := map[string]string{}
		for _, role := range stackPlan(t, s).OfType(tRole) {
			doc, err := iampolicy.Parse(role.Str("assumeRolePolicy"))
			require.NoError(t, err)
			require.Len(t, doc.Statement, 1, role.Name)
			st := doc.Statement[0]
			require.Equal(t, []string{"sts:AssumeRole"}, st.Action, role.Name)
			require.Len(t, st.Principal, 1, "%s: service principal only", role.Name)
			trusted[role.Name] = st.Principal["Service"].(string)
		}
		want := map[string]string{
			s + "-role":      "ec2.amazonaws.com",
			s + "-flow-logs": "vpc-flow-logs.amazonaws.com",
			// EventBridge forwards the us-east-1 external-check alarm to the stack region.
			s + "-forward": "events.amazonaws.com",
		}
		require.Equal(t, want, trusted, s)
		attach := one(t, stackPlan(t, s), "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
		require.Equal(t, "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", attach.Str("policyArn"), "%s: Session Manager instead of SSH", s)
	}
}

func TestRepositoriesAreImmutableAndScanned(t *testing.T) {
	for _, s := range stacks {
		repos := stackPlan(t, s).OfType(tRepository)
		require.Len(t, repos, 2, "%s: one repository per service", s)
		for _, r := range repos {
			require.Equal(t, "IMMUTABLE", r.Str("imageTagMutability"), r.Name)
			require.True(t, r.Get("imageScanningConfiguration.scanOnPush").BoolValue(), r.Name)
			require.Equal(t, "KMS", r.Str("encryptionConfigurations.0.encryptionType"), r.Name)
			require.True(t, strings.HasPrefix(r.Str("name"), "immutable-edge/"+s+"/"), r.Name)
		}
		for _, lp := range stackPlan(t, s).OfType("aws:ecr/lifecyclePolicy:LifecyclePolicy") {
			require.Contains(t, lp.Str("policy"), `"countType":"imageCountMoreThan","countNumber":`+map[string]string{"dev": "20", "prod": "50"}[s], lp.Name)
		}
	}
}

func TestEveryTaggableResourceCarriesTheStackTags(t *testing.T) {
	for _, s := range stacks {
		cfg, err := plan.StackConfig(s)
		require.NoError(t, err)
		want := map[string]string{"Project": "immutable-edge", "Stack": s, "Owner": "platform-team", "CostCenter": "web-" + s}
		require.Contains(t, cfg["aws:defaultTags"], `"CostCenter":"web-`+s+`"`, "the stack file declares the cost tags")
		for _, r := range stackPlan(t, s).Resources {
			if !r.Custom {
				continue
			}
			if slices.Contains(policy.Untaggable, r.Type) {
				require.Nil(t, r.Tags(), "%s %s: listed as not taggable but has tags", s, r.Name)
				continue
			}
			require.Contains(t, policy.Taggable, r.Type, "%s: classify %s as taggable or not", s, r.Type)
			got := r.Tags()
			for k, v := range want {
				require.Equal(t, v, got[k], "%s %s %s: tag %s", s, r.Type, r.Name, k)
			}
			require.NotEmpty(t, got["Name"], "%s %s: Name tag", s, r.Name)
		}
	}
}

// TestInstancesPublishOnlyTheirStacksMetrics asks the evaluator whether each stack's instance
// role may publish into each namespace: its own only, so dev's instances cannot feed prod's
// alarms (http-5xx, service-down) with made-up figures.
func TestInstancesPublishOnlyTheirStacksMetrics(t *testing.T) {
	runtime := map[string]iampolicy.Document{}
	for _, s := range stacks {
		for _, rp := range stackPlan(t, s).OfType(tRolePolicy) {
			if rp.Name == s+"-runtime" {
				doc, err := iampolicy.Parse(rp.Str("policy"))
				require.NoError(t, err)
				runtime[s] = doc
			}
		}
		require.Contains(t, runtime, s)
	}
	for _, tc := range []struct {
		role, namespace string
		allowed         bool
	}{
		{"dev", "ImmutableEdge/dev", true},
		{"prod", "ImmutableEdge/prod", true},
		{"dev", "ImmutableEdge/prod", false}, // dev forging prod's alarm metrics
		{"prod", "ImmutableEdge/dev", false},
		{"dev", "ImmutableEdge", false}, // the namespace the stacks once shared
		{"dev", "ImmutableEdge/dev-eu", false},
		{"dev", "AWS/ApplicationELB", false},
	} {
		req := iampolicy.Request{Action: "cloudwatch:PutMetricData", Resource: "*",
			Context: map[string]string{"cloudwatch:namespace": tc.namespace, "aws:RequestedRegion": "eu-central-1"}}
		ok, err := iampolicy.Allows(req, runtime[tc.role])
		require.NoError(t, err)
		require.Equal(t, tc.allowed, ok, "%s's instances publishing to %s", tc.role, tc.namespace)
	}
}
