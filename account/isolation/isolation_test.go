package isolation_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/account/isolation"
	"github.com/immutable-edge/immutable-edge/account/setup"
	"github.com/immutable-edge/immutable-edge/internal/iampolicy"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

func roles(t *testing.T) setup.Roles {
	t.Helper()
	cfg, err := plan.ReadConfigFile("../Pulumi.account.yaml")
	require.NoError(t, err)
	p, err := plan.RunProject(setup.Project, setup.AccountStack, cfg, nil, setup.Deploy)
	require.NoError(t, err)
	r, err := isolation.FromPlan(p, stackPlans(t)...)
	require.NoError(t, err)
	return r
}

var stacks struct {
	sync.Once
	plans []*plan.Plan
	err   error
}

// stackPlans plans the committed dev and prod stacks of the main program (once: their keys'
// policies are the stacks' side of the table), from the repository root, where it finds images/.
func stackPlans(t *testing.T) []*plan.Plan {
	t.Helper()
	stacks.Do(func() {
		t.Chdir("../..")
		for _, s := range []string{"dev", "prod"} {
			p, err := plan.Run(s, "")
			if err != nil {
				stacks.err = err
				return
			}
			stacks.plans = append(stacks.plans, p)
		}
	})
	require.NoError(t, stacks.err)
	return stacks.plans
}

// TestCrossStackAttemptsAreRefused weighs each attempt of the refusal table as IAM does: it
// must be refused; the same kind of request on the right stack's resource must be allowed
// (so a blanket deny cannot pass); and with the attempt's guard removed it must be allowed (so
// the guard, not something incidental, is what refuses it).
func TestCrossStackAttemptsAreRefused(t *testing.T) {
	r := roles(t)
	attempts := setup.Attempts(r)
	require.GreaterOrEqual(t, len(attempts), 15)
	families := map[string]int{}
	for _, a := range attempts {
		t.Run(a.Name, func(t *testing.T) {
			ok, why, err := r.Decide(a.Role, a.Request)
			require.NoError(t, err)
			require.False(t, ok, "the %s role may %s on %s", a.Role, a.Request.Action, a.Request.Resource)
			if a.Own != nil {
				ok, why, err := r.Decide(a.OwnRole, *a.Own)
				require.NoError(t, err)
				require.True(t, ok, "the %s role may not %s on its own %s: %s", a.OwnRole, a.Own.Action, a.Own.Resource, why)
			}
			ok, _, err = a.Loosen(r).Decide(a.Role, a.Request)
			require.NoError(t, err)
			require.True(t, ok, "without its guard (%s) the attempt is still refused (%s): the guard is not what bites", a.Guard, why)
			// The guard is removed from a copy: the roles are unchanged.
			ok, _, err = r.Decide(a.Role, a.Request)
			require.NoError(t, err)
			require.False(t, ok)
			families[a.Family]++
		})
	}
	for _, f := range []string{"EC2 image", "EC2 snapshot", "EC2 instance", "EC2 VPC", "KMS", "IAM", "S3", "SSM", "CloudWatch", "Secrets"} {
		require.NotZero(t, families[f], "no attempt of family %s", f)
	}
	t.Logf("%d attempts in %d families, all refused, each allowed once its guard is removed", len(attempts), len(families))
}

// TestStackNamesCannotOverlap: dev's name patterns (<name>-*) match every name of a stack
// called dev-eu, so the account program refuses such a pair, naming the key.
func TestStackNamesCannotOverlap(t *testing.T) {
	cfg, err := plan.ReadConfigFile("../Pulumi.account.yaml")
	require.NoError(t, err)
	var stacks []map[string]any
	require.NoError(t, json.Unmarshal([]byte(cfg["immutable-edge-account:stacks"]), &stacks))
	for _, extra := range []string{"dev-eu", "account"} {
		more := append(append([]map[string]any{}, stacks...), map[string]any{"name": extra, "hostedZoneId": "Z0123456789EUEXAMPLE"})
		_, err = plan.RunProject(setup.Project, setup.AccountStack, cfg.With("immutable-edge-account:stacks", more), nil, setup.Deploy)
		require.ErrorContains(t, err, fmt.Sprintf("immutable-edge-account:stacks[%d].name", len(stacks)), extra)
	}
	// The overlap is real: dev's role would reach a dev-eu bucket by its pattern.
	r := roles(t)
	ok, _, err := r.Decide("dev", iampolicy.Request{Action: "s3:PutBucketPolicy", Resource: "arn:aws:s3:::immutable-edge-dev-eu-certs-1"})
	require.NoError(t, err)
	require.True(t, ok)
}

// TestSecretsArePerStack: each stack's deploy role decrypts its own secrets, the preview role
// dev's (previewSecrets) and never prod's, and every secrets key is the account stack's by tag.
func TestSecretsArePerStack(t *testing.T) {
	r := roles(t)
	for _, tc := range []struct {
		role, key string
		want      bool
	}{
		{"dev", "dev", true}, {"prod", "prod", true}, {"preview", "dev", true},
		{"dev", "prod", false}, {"prod", "dev", false}, {"preview", "prod", false},
	} {
		ok, why, err := r.Decide(tc.role, iampolicy.Request{Action: "kms:Decrypt", Resource: r.SecretsKeys[tc.key]})
		require.NoError(t, err)
		require.Equal(t, tc.want, ok, "%s decrypting %s's secrets: %s", tc.role, tc.key, why)
	}
	cfg, err := plan.ReadConfigFile("../Pulumi.account.yaml")
	require.NoError(t, err)
	p, err := plan.RunProject(setup.Project, setup.AccountStack, cfg, nil, setup.Deploy)
	require.NoError(t, err)
	for _, stack := range []string{"dev", "prod"} {
		key, ok := p.Find("aws:kms/key:Key", "immutable-edge-"+stack+"-secrets")
		require.True(t, ok)
		require.Equal(t, setup.AccountStack, key.Str("tags.Stack"), "no stack role may manage a secrets key")
		require.True(t, key.Protect)
	}
	require.Equal(t, map[string]string{
		"dev":    "awskms://alias/immutable-edge/dev/secrets?region=eu-central-1",
		"prod":   "awskms://alias/immutable-edge/prod/secrets?region=eu-central-1",
		"voting": "awskms://alias/immutable-edge/voting/secrets?region=eu-central-1",
	}, p.Outputs["stackSecretsProviders"])
}
