package policy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
	"github.com/immutable-edge/immutable-edge/internal/policy"
)

// TestEnvironmentSecretsRuleKnowsASecretByItsNameOrValue: a literal under a name that says
// secret, a URL with a password and an AWS key fail; names about a secret (its id, file or
// length), empty values and plain settings pass.
func TestEnvironmentSecretsRuleKnowsASecretByItsNameOrValue(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		fail        bool
	}{
		{"DB_PASSWORD", "hunter22", true},
		{"api_key", "k-123", true},
		{"SECRET_KEY_BASE", "abc", true},
		{"GITHUB_TOKEN", "ghp_x", true},
		{"PGPASSWORD", "x", true},
		{"COMPASS_HEADING", "north", false},
		{"DATABASE_URL", "postgres://app:hunter2@db:5432/app", true},
		{"UPSTREAM", "AKIAABCDEFGHIJKLMNOP", true},
		{"AWS_ACCESS_KEY_ID", "from-the-role", false},
		{"JWT_SECRET_FILE", "/run/secrets/JWT", false},
		{"TOKEN_TTL", "3600", false},
		{"SESSION_SECRET", "", false},
		{"DATABASE_URL", "postgres://db:5432/app", false},
		{"LOG_LEVEL", "debug", false},
		{"KEYBOARD_LAYOUT", "us", false},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			cfg := &config.Config{Edge: "alb", Services: []config.Service{
				{Name: "web"}, {Name: "worker", Environment: map[string]string{tc.name: tc.value}},
			}}
			all, err := policy.Evaluate(plan.Of(launchTemplate()), cfg)
			require.NoError(t, err)
			var got []policy.Result
			for _, r := range all {
				if r.Rule == "IE_ENV_SECRETS" {
					got = append(got, r)
				}
			}
			require.Len(t, got, 1, "one verdict per launch template")
			if !tc.fail {
				require.Equal(t, policy.Pass, got[0].Status, got[0].Reason)
				return
			}
			require.Equal(t, policy.Fail, got[0].Status)
			require.Contains(t, got[0].Reason, "immutable-edge:services[1].environment."+tc.name+" ", "names the key")
			require.Contains(t, got[0].Reason, "move it to services[1].secrets")
			require.NotContains(t, got[0].Reason, tc.value, "the report never repeats the value")
		})
	}
}
