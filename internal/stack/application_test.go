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
		{Name: "CACHE_TOKEN", Source: bootstrap.SourceSecretsManager, ID: "immutable-edge/voting/cache", Key: "token"},
		{Name: "DATABASE_URL", Source: bootstrap.SourceSSM, ID: "/immutable-edge/voting/database-url"},
	}, worker.Secrets)
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
	require.Equal(t, []string{fmt.Sprintf(arn, "ssm") + "parameter/immutable-edge/voting/database-url"}, statement(t, doc, "SecretParameters").Resource,
		"one parameter, though two services read it")
	require.Equal(t, []string{fmt.Sprintf(arn, "secretsmanager") + "secret:immutable-edge/voting/cache-??????"}, statement(t, doc, "Secrets").Resource)
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
		require.Contains(t, text, "database-url", "the reference is there")
		for _, value := range plan.SecretValues {
			require.NotContains(t, text, value)
		}
	}
}

func names(services []bootstrap.Service) []string {
	var out []string
	for _, s := range services {
		out = append(out, s.Name)
	}
	return out
}
