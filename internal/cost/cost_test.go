package cost_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/cost"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

func estimate(t *testing.T, stack string, cfg plan.Config) cost.Estimate {
	t.Helper()
	if cfg == nil {
		var err error
		cfg, err = plan.StackConfig(stack)
		require.NoError(t, err)
	}
	p, err := plan.RunConfig(stack, cfg, nil)
	require.NoError(t, err)
	return cost.Of(p)
}

func TestStackTotals(t *testing.T) {
	// Pinned: a change to the program or the price table that moves these is a reviewed change.
	require.Equal(t, 14.60, estimate(t, "dev", nil).MonthlyUSD)
	require.Equal(t, 122.05, estimate(t, "prod", nil).MonthlyUSD)
}

func TestItemsAddUpAndStateTheirBasis(t *testing.T) {
	for _, s := range []string{"dev", "prod"} {
		e := estimate(t, s, nil)
		sum := 0.0
		for _, it := range e.Items {
			require.NotEmpty(t, it.Resource, s)
			require.NotEmpty(t, it.Basis, s)
			require.GreaterOrEqual(t, it.USD, 0.0, s)
			sum += it.USD
		}
		require.InDelta(t, e.MonthlyUSD, sum, 0.005, s)
	}
}

func TestCostFollowsTheConfig(t *testing.T) {
	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	base := estimate(t, "prod", prod).MonthlyUSD

	perAZ := estimate(t, "prod", prod.With("natGateways", "perAz")).MonthlyUSD
	require.InDelta(t, 2*(39.00+3.65), perAZ-base, 0.01, "two more NAT gateways with their addresses")

	bigger := estimate(t, "prod", prod.With("instanceType", "t4g.medium")).MonthlyUSD
	require.InDelta(t, 2*730*(0.0384-0.0192), bigger-base, 0.01)

	unknown := estimate(t, "prod", prod.With("instanceType", "m8g.large"))
	found := false
	for _, it := range unknown.Items {
		found = found || strings.Contains(it.Basis, "no price in the table")
	}
	require.True(t, found, "an unpriced type is said, not silently free")
}

func TestDevPaysForOneAddressNotTwo(t *testing.T) {
	addresses := 0
	for _, it := range estimate(t, "dev", nil).Items {
		if strings.Contains(it.Basis, "public IPv4") {
			addresses++
		}
	}
	require.Equal(t, 1, addresses, "the node's launch address is released when it claims the Elastic IP")
}
