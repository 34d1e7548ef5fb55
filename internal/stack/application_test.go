package stack_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// TestVotingAppRunsWebServicesAWorkerAndTheirSecrets: the voting stack's worker gets a
// repository and a unit like the web services but no route, no backend and no say in the edge's
// health; its secrets reach the instance as references only, and the instance role may read
// exactly those, decrypting with the stack's key through SSM and Secrets Manager only.
func TestVotingAppRunsWebServicesAWorkerAndTheirSecrets(t *testing.T) {
	p := stackPlan(t, "voting")
	ud, err := base64.StdEncoding.DecodeString(one(t, p, tLaunchTemplate).Str("userData"))
	require.NoError(t, err)
	s := stackFile(t, string(ud))
	require.Equal(t, []string{"vote", "result", "worker"}, names(s.Services))
	require.Equal(t, []string{"vote", "result"}, names(s.WebServices()))
	worker := s.Services[2]
	require.Zero(t, worker.Port)
	require.Empty(t, worker.Host)
	require.Equal(t, []bootstrap.Secret{
		{Name: "DATABASE_URL", Source: bootstrap.SourceDatabase, Key: "url"},
		{Name: "REDIS_URL", Source: bootstrap.SourceCache, Key: "url"},
		{Name: "WEBHOOK_TOKEN", Source: bootstrap.SourceSecretsManager, ID: "immutable-edge/voting/webhook", Key: "token"},
	}, worker.Secrets)
	require.Equal(t, &bootstrap.Endpoint{Host: "immutable-edge-voting.c0ffee0123ab.eu-central-1.rds.amazonaws.com", Port: 5432, Name: "votes",
		SecretARN: "arn:aws:secretsmanager:eu-central-1:" + plan.Account + ":secret:rds!db-0123abcd-voting-db-AbCdEf"}, s.Database,
		"where the database answers and the secret RDS keeps its password in: references only")
	require.Equal(t, "arn:aws:secretsmanager:eu-central-1:"+plan.Account+":secret:immutable-edge/voting/cache-token-AbCdEf", s.Cache.SecretARN)
	require.Equal(t, map[string]string{"OPTION_A": "Cats", "OPTION_B": "Dogs"}, s.Services[0].Environment)

	files, err := bootstrap.Files(string(ud))
	require.NoError(t, err)
	var haproxy string
	for _, f := range files {
		if f.Path == bootstrap.HAProxyFile {
			haproxy = f.Content
		}
	}
	require.Contains(t, haproxy, "backend svc_result")
	require.NotContains(t, haproxy, "svc_worker", "nothing routes to a worker, and it does not gate the edge's health")

	var repos []string
	for _, r := range p.OfType("aws:ecr/repository:Repository") {
		repos = append(repos, r.Str("name"))
	}
	require.ElementsMatch(t, []string{"immutable-edge/voting/vote", "immutable-edge/voting/result", "immutable-edge/voting/worker"}, repos)

	doc, err := iampolicy.Parse(findPolicy(t, p, "voting-runtime"))
	require.NoError(t, err)
	arn := "arn:aws:%s:eu-central-1:" + plan.Account + ":"
	require.Equal(t, []string{fmt.Sprintf(arn, "ssm") + "parameter/immutable-edge/voting/session-key"}, statement(t, doc, "SecretParameters").Resource)
	require.Equal(t, []string{
		fmt.Sprintf(arn, "secretsmanager") + "secret:immutable-edge/voting/cache-token-AbCdEf",
		fmt.Sprintf(arn, "secretsmanager") + "secret:immutable-edge/voting/webhook-??????",
	}, statement(t, doc, "Secrets").Resource, "the webhook by name, the cache's token by ARN, each once though several services read them")
	db := statement(t, doc, "DatabaseSecret")
	require.Equal(t, []string{fmt.Sprintf(arn, "secretsmanager") + "secret:rds!db-0123abcd-voting-db-AbCdEf"}, db.Resource)
	require.Equal(t, fmt.Sprintf(arn, "rds")+"db:immutable-edge-voting", db.Condition["StringEquals"]["aws:ResourceTag/aws:rds:primaryDBInstanceArn"],
		"only while RDS says the secret is this database's")
	key := statement(t, doc, "SecretsKey")
	require.Equal(t, []string{"kms:Decrypt"}, key.Action)
	require.Equal(t, []string{"arn:aws:kms:eu-central-1:" + plan.Account + ":key/0123abcd-voting-key"}, key.Resource)
	require.Equal(t, []any{"secretsmanager.eu-central-1.amazonaws.com", "ssm.eu-central-1.amazonaws.com"}, key.Condition["StringEquals"]["kms:ViaService"])

	dev, err := iampolicy.Parse(findPolicy(t, stackPlan(t, "dev"), "dev-runtime"))
	require.NoError(t, err)
	for _, st := range dev.Statement {
		require.NotContains(t, []string{"SecretParameters", "Secrets", "SecretsKey"}, st.Sid, "a stack without secrets reads none")
	}
}

// TestNoSecretValueReachesThePlan plans the voting stack with the secret values the mocked
// account would hold and finds none of them in the plan JSON or the user-data: the program
// handles references only.
func TestNoSecretValueReachesThePlan(t *testing.T) {
	p := stackPlan(t, "voting")
	doc, err := json.Marshal(p)
	require.NoError(t, err)
	ud, err := base64.StdEncoding.DecodeString(one(t, p, tLaunchTemplate).Str("userData"))
	require.NoError(t, err)
	files, err := bootstrap.Files(string(ud))
	require.NoError(t, err)
	var decoded strings.Builder
	for _, f := range files {
		decoded.WriteString(f.Content)
	}
	for _, text := range []string{string(doc), string(ud), decoded.String()} {
		require.Contains(t, text, "session-key", "the reference is there")
		for _, value := range plan.SecretValues {
			require.NotContains(t, text, value)
		}
		require.NotContains(t, text, plan.CacheToken, "the cache token the program makes is a secret too")
	}
	require.Contains(t, string(doc), plan.Redacted, "the token reaches the cache and its secret as a secret")
}

// TestTheDataTierIsReachedByReferenceOnly follows the voting stack's chain edge → instance →
// database and cache: each hop is a security-group rule naming the other group, on exactly
// the tier's port; the data tier has no public address, no rule from an address range, and
// no egress at all.
func TestTheDataTierIsReachedByReferenceOnly(t *testing.T) {
	p := stackPlan(t, "voting")
	group := func(name string) plan.Resource {
		r, ok := p.Find("aws:ec2/securityGroup:SecurityGroup", name)
		require.True(t, ok, name)
		return r
	}
	instance, database, cache := group("voting-instance"), group("voting-database"), group("voting-cache")
	rules := func(token, sg string) []plan.Resource {
		var out []plan.Resource
		for _, r := range p.OfType(token) {
			if r.Str("securityGroupId") == sg {
				out = append(out, r)
			}
		}
		return out
	}
	const ingress, egress = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	for _, tier := range []struct {
		sg   plan.Resource
		port float64
	}{{database, 5432}, {cache, 6379}} {
		in := rules(ingress, tier.sg.ID)
		require.Len(t, in, 1, tier.sg.Name)
		require.Equal(t, instance.ID, in[0].Str("referencedSecurityGroupId"), "from the instances' group")
		require.Empty(t, in[0].Str("cidrIpv4"))
		require.Equal(t, tier.port, in[0].Num("fromPort"))
		require.Equal(t, tier.port, in[0].Num("toPort"))
		require.Empty(t, rules(egress, tier.sg.ID), "the data tier starts no connection")
		out := 0
		for _, r := range rules(egress, instance.ID) {
			if r.Str("referencedSecurityGroupId") == tier.sg.ID {
				out++
				require.Equal(t, tier.port, r.Num("fromPort"))
				require.Equal(t, tier.port, r.Num("toPort"))
				continue
			}
			require.NotEqual(t, tier.port, r.Num("fromPort"), "no other rule to the tier's port")
		}
		require.Equal(t, 1, out, "instance egress to %s", tier.sg.Name)
	}
	db := one(t, p, "aws:rds/instance:Instance")
	require.Equal(t, []string{database.ID}, db.Strings("vpcSecurityGroupIds"))
	require.False(t, db.Bool("publiclyAccessible"))
	redis := one(t, p, "aws:elasticache/replicationGroup:ReplicationGroup")
	require.Equal(t, []string{cache.ID}, redis.Strings("securityGroupIds"))
	// The edge reaches the instances on 80 and 443 only; nothing from the internet reaches the tier.
	for _, r := range rules(ingress, instance.ID) {
		require.Contains(t, []float64{80, 443}, r.Num("fromPort"))
	}
}

func names(services []bootstrap.Service) []string {
	var out []string
	for _, s := range services {
		out = append(out, s.Name)
	}
	return out
}
