package stack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// Every hostile value of issue 16 fails the program with an error naming its key, registers
// nothing, and fails fast: the 100,000 tags that took synth past 120 s included.
func TestHostileValuesFailClosed(t *testing.T) {
	cases, err := plan.HostileValues()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 30)
	for _, h := range cases {
		t.Run(h.Name, func(t *testing.T) {
			base, err := plan.StackConfig(h.Stack)
			require.NoError(t, err)
			cfg, err := plan.Edit(base, h.Key, h.Path, h.Value, h.Tags)
			require.NoError(t, err)
			start := time.Now()
			_, loadErr := config.Load(plan.Project, h.Stack, cfg)
			require.Less(t, time.Since(start), 200*time.Millisecond, "Load must refuse hostile input at once")
			require.Error(t, loadErr)
			require.Contains(t, config.ErrorKeys(loadErr), h.WantKey, "error: %v", loadErr)
			require.Contains(t, loadErr.Error(), h.WantKey+": ", "the message names the key")
			p, err := plan.RunConfig(h.Stack, cfg, nil)
			require.Error(t, err)
			require.Contains(t, config.ErrorKeys(err), h.WantKey)
			require.Empty(t, p.Resources, "a hostile config must fail before any resource is registered")
		})
	}
}

// The same edits minus the hostile part are accepted, so each case is refused for its value,
// not because the edit itself breaks the config: the boundary values just inside each limit.
func TestHostileBoundariesAreAccepted(t *testing.T) {
	for _, tc := range plan.Accepted {
		base, err := plan.StackConfig(tc.Stack)
		require.NoError(t, err)
		cfg, err := plan.Edit(base, tc.Key, tc.Path, tc.Value, tc.Tags)
		require.NoError(t, err)
		_, err = config.Load(plan.Project, tc.Stack, cfg)
		require.NoError(t, err, tc.Name)
	}
}
