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
	require.Equal(t, 17.40, estimate(t, "dev", nil).MonthlyUSD)
	require.Equal(t, 123.77, estimate(t, "prod", nil).MonthlyUSD)
}

func TestItemsAddUpAndStateTheirBasis(t *testing.T) {
	for _, s := range []string{"dev", "prod", "voting"} {
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
	require.InDelta(t, 2*(38.22+3.65), perAZ-base, 0.01, "two more NAT gateways with their addresses, each relieved by the S3 endpoint")

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

func TestFreeTierIsCreditedOnlyWhereTheConfigSaysSo(t *testing.T) {
	dev, err := plan.StackConfig("dev")
	require.NoError(t, err)
	credited := estimate(t, "dev", dev)
	list := estimate(t, "dev", dev.With("freeTier", false))
	// 9 alarm metrics, 10 of the 8 custom and 7 detailed-monitoring metrics, and the flow and
	// instance logs fit the allowance; the dashboard is free either way (3 per account).
	require.InDelta(t, 9*0.10+10*0.30+(2+0.5)*0.63+(2+0.5)*0.0324, list.MonthlyUSD-credited.MonthlyUSD, 0.02)
	require.Equal(t, 22.97, list.MonthlyUSD, "dev at list price")
	for _, e := range []struct {
		est  cost.Estimate
		want bool
	}{{credited, true}, {list, false}, {estimate(t, "prod", nil), false}} {
		found := false
		for _, it := range e.est.Items {
			found = found || strings.Contains(it.Basis, "free allowance") && !strings.Contains(it.Basis, "health check") && !strings.Contains(it.Basis, "dashboard")
		}
		require.Equal(t, e.want, found)
	}
}

func TestEstimateIncludesObservability(t *testing.T) {
	items := map[string]string{}
	for _, it := range estimate(t, "prod", nil).Items {
		items[it.Resource[strings.LastIndex(it.Resource, "::")+2:]] += it.Basis
	}
	require.Contains(t, items["prod-key"], "customer managed key")
	require.Contains(t, items["prod-dashboard"], "1 dashboard of 25 metrics (1 of them within the account's free allowance) × $3.00")
	require.Contains(t, items["prod-alb-5xx"], "2 alarm metric(s)", "metric math pays per metric read")
	require.Contains(t, items["prod-lt"], "6 custom metrics")
	require.Contains(t, items["prod-instance-system"], "GB ingested")
	dev := map[string]string{}
	for _, it := range estimate(t, "dev", nil).Items {
		dev[it.Resource[strings.LastIndex(it.Resource, "::")+2:]] += it.Basis
	}
	require.Contains(t, dev["dev-external"], "HTTPS option $1.00")
	require.Contains(t, dev["dev-external"], "the Elastic IP is in the account")
	require.Contains(t, items["prod-external"], "HTTPS option $1.00 (assumed an AWS endpoint: the load balancer is in the account")
}
