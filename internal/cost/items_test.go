package cost_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/immutable-edge/immutable-edge/internal/cost"
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// item returns the priced items of a resource whose basis contains want.
func item(t *testing.T, e cost.Estimate, resource, want string) cost.Item {
	t.Helper()
	for _, it := range e.Items {
		if strings.HasSuffix(it.Resource, "::"+resource) && strings.Contains(it.Basis, want) {
			return it
		}
	}
	require.Failf(t, "no such item", "%s with %q", resource, want)
	return cost.Item{}
}

func TestDetailedMonitoringIsPricedPerInstance(t *testing.T) {
	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	on := estimate(t, "prod", prod)
	require.Equal(t, 2*7*0.30, item(t, on, "prod-lt", "detailed monitoring").USD, "2 instances × 7 EC2 metrics")
	off := estimate(t, "prod", prod.With("detailedMonitoring", false))
	require.InDelta(t, 4.20, on.MonthlyUSD-off.MonthlyUSD, 0.005)
	for _, it := range off.Items {
		require.NotContains(t, it.Basis, "detailed monitoring")
	}
	bigger := estimate(t, "prod", prod.Set("fleet.desired", 3))
	require.Equal(t, 3*7*0.30, item(t, bigger, "prod-lt", "detailed monitoring").USD)
}

func TestSnapshotsAreCountedOnceOnTheStackThatBuilds(t *testing.T) {
	dev := estimate(t, "dev", nil)
	snap := item(t, dev, "dev-retention", "AMI snapshots")
	require.Equal(t, 1.30, snap.USD, "3 images × 8 GB × $0.054")
	require.Contains(t, snap.Basis, "3 images kept (image.keep)")
	prod := estimate(t, "prod", nil)
	require.Equal(t, 0.0, item(t, prod, "prod-lt", "AMI snapshots").USD, "prod runs the image dev built")

	// The count is what retention keeps: image.keep as the program applies it.
	cfg, err := plan.StackConfig("dev")
	require.NoError(t, err)
	more := estimate(t, "dev", cfg.Set("image.keep", 5))
	snap = item(t, more, "dev-retention", "AMI snapshots")
	require.Equal(t, 2.16, snap.USD, "5 images × 8 GB × $0.054")
	require.Contains(t, snap.Basis, "5 images kept (image.keep)")
}

func TestImageSizeIsThePackerVolume(t *testing.T) {
	root, err := plan.Root()
	require.NoError(t, err)
	hcl, err := os.ReadFile(filepath.Join(root, "images", "golden.pkr.hcl"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?s)variable "volume_size" \{.*?default\s*=\s*(\d+)`).FindSubmatch(hcl)
	require.NotNil(t, m, "images/golden.pkr.hcl declares volume_size with a default")
	gb, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	require.Equal(t, gb, cost.ImageGB, "the snapshot estimate follows the image's volume")
}

func TestS3EndpointTakesTheS3ShareOffTheNAT(t *testing.T) {
	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	with := estimate(t, "prod", prod)
	without := estimate(t, "prod", prod.With("s3Endpoint", false))
	require.InDelta(t, cost.NATS3GBPerMonth*0.052, without.MonthlyUSD-with.MonthlyUSD, 0.005)
	require.Equal(t, 0.0, item(t, with, "prod-s3", "S3 gateway endpoint on 3 route table(s)").USD)
	require.Contains(t, item(t, with, "prod-nat-eu-central-1a", "730 h").Basis, "− 15 GB of S3 traffic the S3 endpoint takes")
	require.NotContains(t, item(t, without, "prod-nat-eu-central-1a", "730 h").Basis, "S3")

	// An endpoint on only some of the tables a gateway serves saves nothing on it.
	p, err := plan.RunConfig("prod", prod, nil)
	require.NoError(t, err)
	for i, r := range p.Resources {
		if r.Type == "aws:ec2/vpcEndpoint:VpcEndpoint" {
			p.Resources[i] = r.With("routeTableIds", []any{"prod-private-eu-central-1a-id"})
		}
	}
	require.Equal(t, 39.00, item(t, cost.Of(p), "prod-nat-eu-central-1a", "730 h").USD)
}

func TestDashboardIsFreeOnlyWithinFiftyMetrics(t *testing.T) {
	body := func(n int) string {
		rows := strings.TrimSuffix(strings.Repeat(`["AWS/EC2","CPUUtilization"],`, n), ",")
		return `{"widgets":[{"type":"metric","properties":{"metrics":[` + rows + `]}}]}`
	}
	for n, want := range map[int]float64{1: 0, 50: 0, 51: 3.00} {
		p := plan.Of(plan.NewResource("aws:cloudwatch/dashboard:Dashboard", "t-dashboard", map[string]any{"dashboardBody": body(n)}))
		require.Equal(t, want, cost.Of(p).MonthlyUSD, "%d metrics", n)
	}
	p := plan.Of(plan.NewResource("aws:cloudwatch/dashboard:Dashboard", "a", map[string]any{"dashboardBody": body(1)}),
		plan.NewResource("aws:cloudwatch/dashboard:Dashboard", "b", map[string]any{"dashboardBody": body(1)}),
		plan.NewResource("aws:cloudwatch/dashboard:Dashboard", "c", map[string]any{"dashboardBody": body(1)}),
		plan.NewResource("aws:cloudwatch/dashboard:Dashboard", "d", map[string]any{"dashboardBody": body(1)}))
	require.Equal(t, 3.00, cost.Of(p).MonthlyUSD, "three dashboards free per account, the fourth is not")
}

func TestEveryChoiceLowersProd(t *testing.T) {
	prod, err := plan.StackConfig("prod")
	require.NoError(t, err)
	priced, err := cost.PriceChoices("prod", prod)
	require.NoError(t, err)
	require.Len(t, priced, len(cost.Choices))
	base := estimate(t, "prod", prod).MonthlyUSD
	for _, pr := range priced {
		require.Positive(t, pr.Saves(), pr.Name())
		require.NotEmpty(t, pr.TradeOff, pr.Name())
		if pr.Taken {
			require.Equal(t, base, pr.With, "%s: prod has it", pr.Name())
			continue
		}
		require.Equal(t, base, pr.Without, pr.Name())
		require.Equal(t, pr.With, cost.Of(pr.Plan).MonthlyUSD, "%s: the plan priced is the one returned", pr.Name())
	}
	require.True(t, cost.Choices[0].Taken(prod), "prod takes the S3 endpoint")
	require.False(t, cost.Choices[0].Taken(prod.Without("s3Endpoint")), "a default is not a choice the stack file makes")
	all, err := plan.RunConfig("prod", cost.Untaken(prod), nil)
	require.NoError(t, err)
	sum := 0.0
	for _, pr := range priced {
		if !pr.Taken {
			sum += pr.Saves()
		}
	}
	require.InDelta(t, base-sum, cost.Of(all).MonthlyUSD, 2.0, "the choices add up, give or take their overlap")
	require.LessOrEqual(t, cost.Of(all).MonthlyUSD, 110.0)
}
