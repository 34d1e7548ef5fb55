package config_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/config"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// FuzzLoad plants one value in a committed stack's config (plan.Edit: a raw key, a field inside
// a structured key, or generated tags) and loads it. Whatever the input, Load returns at once,
// and either every problem is a KeyError naming a key or the config is valid and loads the same
// twice. The seed corpus (testdata/fuzz/FuzzLoad) holds every value of plan/hostile.json.
func FuzzLoad(f *testing.F) {
	edits, err := plan.CommittedEdits()
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, stack, key, path, value string, tags int) {
		stack, raw, err := edits.Apply(stack, key, path, value, tags)
		if err != nil {
			t.Skip("the edit does not apply to this stack's config")
		}
		start := time.Now()
		c, err := config.Load(plan.Project, stack, raw)
		require.Less(t, time.Since(start), time.Second, "Load must be quick on any input")
		if err != nil {
			requireKeyErrors(t, err)
			return
		}
		require.NoError(t, c.Validate())
		again, err := config.Load(plan.Project, stack, raw)
		require.NoError(t, err)
		require.Equal(t, c, again)
	})
}

// requireKeyErrors checks that err joins only KeyErrors, each naming a key.
func requireKeyErrors(t *testing.T, err error) {
	t.Helper()
	joined, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "Load joins its errors: %v", err)
	for _, e := range joined.Unwrap() {
		var ke *config.KeyError
		require.True(t, errors.As(e, &ke), "not a KeyError: %v", e)
		require.NotEmpty(t, ke.Key)
		require.NotEmpty(t, ke.Reason)
	}
}

// The committed seed corpus of both fuzz targets holds every hostile value and every accepted
// edit; UPDATE_SEEDS=1 rewrites it after plan/hostile.json changes.
func TestSeedCorpusHoldsEveryHostileValue(t *testing.T) {
	requireSeedCorpus(t, "testdata/fuzz/FuzzLoad")
	requireSeedCorpus(t, "../bootstrap/testdata/fuzz/FuzzRender")
}

func requireSeedCorpus(t *testing.T, dir string) {
	t.Helper()
	cases, err := plan.HostileValues()
	require.NoError(t, err)
	stale, err := plan.CheckSeedCorpus(dir, append(cases, plan.Accepted...), os.Getenv("UPDATE_SEEDS") != "")
	require.NoError(t, err)
	require.Empty(t, stale, "seed files missing or stale; run UPDATE_SEEDS=1 go test ./internal/config")
}
