// Package cost estimates what a Plan costs per month from a dated eu-central-1 price table.
// It prices what the plan configures (instance types and counts, volumes, gateways, addresses)
// and states every usage assumption (traffic, log and storage volume) in the item's basis.
package cost

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// Usage assumptions for what the plan cannot know; each item's basis repeats the one it uses.
const (
	NATGBPerMonth         = 20.0 // data through each NAT gateway
	NATS3GBPerMonth       = 15.0 // of it, ECR image layers and other S3 objects (what an S3 gateway endpoint takes off the NAT)
	ALBAverageLCUs        = 1.0  // a small site stays near one LCU
	FlowLogGBPerMonth     = 2.0  // flow-log volume per VPC
	BucketGB              = 1.0  // logs or certificate state per bucket
	RepositoryGB          = 1.0  // images kept per repository
	QueriesMillionPerName = 0.1  // non-alias DNS queries per name a month
	InstanceLogGBPerGroup = 0.1  // each instance's lines in each of its log groups a month
	JobWritesPerFiring    = 2.0  // the claim and the end record (a lost race's write is rejected, and billed)
	JobFiringsPerMonth    = 31.0 // a daily job
)

// KeyFreeTier is the stack config key that credits the account's always-free allowance to this
// stack's estimate (set it on one stack per account).
const KeyFreeTier = "immutable-edge:freeTier"

// Item is one priced resource (the synth JSON's cost items).
type Item struct {
	Resource string  `json:"resource"` // URN
	USD      float64 `json:"usd"`
	Basis    string  `json:"basis"`
}

// Estimate is the monthly cost of a plan, at the groups' desired capacity, and its range.
type Estimate struct {
	MonthlyUSD float64 `json:"monthlyUsd"`
	Items      []Item  `json:"items"`
	// Range is the whole estimate again at the fewest and the most instances the groups run
	// for long: their min and max size where scaling policies move them, their desired capacity
	// otherwise (a fixed group's maxSize above it is a rollout's room for minutes, not a size).
	Range Range `json:"range"`
}

// Range is the estimate at the two ends of the groups' capacity.
type Range struct {
	Min AtCapacity `json:"min"`
	Max AtCapacity `json:"max"`
}

// AtCapacity is the monthly cost with a number of instances running all month.
type AtCapacity struct {
	Instances  int     `json:"instances"`
	MonthlyUSD float64 `json:"monthlyUsd"`
}

// Of prices every resource of the plan that costs money, at desired capacity and across the range.
func Of(p *plan.Plan) Estimate {
	e := at(p, func(g plan.Resource) float64 { return g.Num("desiredCapacity") })
	groups := p.OfType("aws:autoscaling/group:Group")
	scales := map[string]bool{} // by URN: a scaling policy moves the group
	for _, g := range groups {
		scales[g.URN] = len(p.ScalingPolicies(g)) > 0
	}
	for _, end := range []struct {
		into *AtCapacity
		size string
	}{{&e.Range.Min, "minSize"}, {&e.Range.Max, "maxSize"}} {
		count := func(g plan.Resource) float64 {
			if scales[g.URN] {
				return g.Num(end.size)
			}
			return g.Num("desiredCapacity")
		}
		for _, g := range groups {
			end.into.Instances += int(count(g))
		}
		end.into.MonthlyUSD = at(p, count).MonthlyUSD
	}
	return e
}

// at prices the plan with each group running count(group) instances.
func at(p *plan.Plan, count func(plan.Resource) float64) Estimate {
	var items []Item
	add := func(r plan.Resource, usd float64, format string, a ...any) {
		items = append(items, Item{Resource: r.URN, USD: cents(usd), Basis: fmt.Sprintf(format, a...)})
	}
	edgeEIP := false
	for _, r := range p.OfType("aws:ec2/eip:Eip") {
		held := false
		for _, n := range p.OfType("aws:ec2/natGateway:NatGateway") {
			held = held || n.Str("allocationId") == r.ID
		}
		edgeEIP = edgeEIP || !held
		add(r, ipv4Hour.USD*hoursPerMonth, "1 public IPv4 address × 730 h × $%.3f", ipv4Hour.USD)
	}
	for _, g := range p.OfType("aws:autoscaling/group:Group") {
		priceFleet(p, g, count(g), edgeEIP, add)
	}
	priceNAT(p, add)
	for _, r := range p.OfType("aws:lb/loadBalancer:LoadBalancer") {
		zones := float64(r.Len("subnets"))
		add(r, (albHour.USD+albLCUHour.USD*ALBAverageLCUs+ipv4Hour.USD*zones)*hoursPerMonth,
			"730 h × ($%.3f + %.0f LCU assumed × $%.3f + %.0f public IPv4, one per zone, × $%.3f)",
			albHour.USD, ALBAverageLCUs, albLCUHour.USD, zones, ipv4Hour.USD)
	}
	free := allowanceFor(p)
	for _, r := range p.OfType("aws:ec2/flowLog:FlowLog") {
		retention := 30.0
		for _, g := range p.OfType("aws:cloudwatch/logGroup:LogGroup") {
			if g.Str("namePrefix") != "" && g.Num("retentionInDays") > 0 {
				retention = g.Num("retentionInDays")
			}
		}
		usd, basis := free.logs(FlowLogGBPerMonth, retention)
		add(r, usd, "%.0f GB/month assumed: %s", FlowLogGBPerMonth, basis)
	}
	priceObservability(p, free, count, add)
	priceImages(p, add)
	for _, r := range p.OfType("aws:s3/bucketV2:BucketV2") {
		add(r, BucketGB*s3GBMonth.USD, "%.0f GB assumed × $%.4f/GB-month", BucketGB, s3GBMonth.USD)
	}
	for _, r := range p.OfType("aws:ecr/repository:Repository") {
		add(r, RepositoryGB*ecrGBMonth.USD, "%.0f GB of images assumed × $%.2f/GB-month", RepositoryGB, ecrGBMonth.USD)
	}
	priceDNS(p, add)
	for _, r := range p.OfType("aws:dynamodb/table:Table") {
		writes := JobWritesPerFiring * JobFiringsPerMonth / 1e6
		add(r, writes*dynamoWriteM.USD, "%.0f writes a firing × %.0f firings a month assumed × $%.3f per million on-demand writes (%s); a week of items, a few KB, rounds to nothing stored",
			JobWritesPerFiring, JobFiringsPerMonth, dynamoWriteM.USD, dynamoWriteM.Source)
	}
	priceData(p, add)
	slices.SortFunc(items, func(a, b Item) int {
		return cmp.Or(cmp.Compare(b.USD, a.USD), cmp.Compare(a.Resource, b.Resource)) // dearest first
	})
	total := 0.0
	for _, it := range items {
		total += it.USD
	}
	if items == nil {
		items = []Item{}
	}
	return Estimate{MonthlyUSD: cents(total), Items: items}
}

// priceFleet prices n instances of a group and their root volumes, and their public addresses
// unless the edge's Elastic IP replaces them.
func priceFleet(p *plan.Plan, g plan.Resource, n float64, edgeEIP bool, add func(plan.Resource, float64, string, ...any)) {
	lt, ok := p.ByID(g.Str("launchTemplate.id"))
	if !ok {
		return
	}
	typ := lt.Str("instanceType")
	hour, known := instanceHour[typ]
	if !known {
		add(g, 0, "%v × %s: no price in the table (internal/cost/prices.go)", n, typ)
	} else {
		add(g, n*hour*hoursPerMonth, "%v × %s × 730 h × $%.4f", n, typ, hour)
	}
	gb := lt.Num("blockDeviceMappings.0.ebs.volumeSize")
	add(lt, n*gb*gp3GBMonth.USD, "%v × %.0f GB gp3 × $%.4f/GB-month", n, gb, gp3GBMonth.USD)
	if lt.Bool("networkInterfaces.0.associatePublicIpAddress") && !edgeEIP {
		add(lt, n*ipv4Hour.USD*hoursPerMonth, "%v public IPv4 × 730 h × $%.3f", n, ipv4Hour.USD)
	}
}

// priceNAT prices each NAT gateway's hours and the data it processes. An S3 gateway endpoint on
// every private route table the gateway serves takes the S3 share of that data (ECR keeps image
// layers in S3) off it; the endpoint itself has no charge.
func priceNAT(p *plan.Plan, add func(plan.Resource, float64, string, ...any)) {
	endpointTables := map[string]bool{}
	for _, e := range p.OfType("aws:ec2/vpcEndpoint:VpcEndpoint") {
		if e.Str("vpcEndpointType") != "Gateway" || !strings.HasSuffix(e.Str("serviceName"), ".s3") {
			continue
		}
		for _, id := range e.Strings("routeTableIds") {
			endpointTables[id] = true
		}
		add(e, 0, "S3 gateway endpoint on %d route table(s): no hourly or per-GB charge (%s)", e.Len("routeTableIds"), gatewayEndpoint.Source)
	}
	for _, n := range p.OfType("aws:ec2/natGateway:NatGateway") {
		routes, viaEndpoint := 0, 0
		for _, r := range p.OfType("aws:ec2/route:Route") {
			if r.Str("natGatewayId") == n.ID {
				routes++
				if endpointTables[r.Str("routeTableId")] {
					viaEndpoint++
				}
			}
		}
		if routes > 0 && viaEndpoint == routes {
			add(n, natHour.USD*hoursPerMonth+natGB.USD*(NATGBPerMonth-NATS3GBPerMonth),
				"730 h × $%.3f + (%.0f GB assumed − %.0f GB of S3 traffic the S3 endpoint takes) × $%.3f/GB",
				natHour.USD, NATGBPerMonth, NATS3GBPerMonth, natGB.USD)
			continue
		}
		add(n, natHour.USD*hoursPerMonth+natGB.USD*NATGBPerMonth,
			"730 h × $%.3f + %.0f GB assumed × $%.3f/GB", natHour.USD, NATGBPerMonth, natGB.USD)
	}
}

// priceDNS: the hosted zone exists already (one share per stack); alias records to the ALB are
// free to query, plain A records are not.
func priceDNS(p *plan.Plan, add func(plan.Resource, float64, string, ...any)) {
	records := p.OfType("aws:route53/record:Record")
	if len(records) == 0 {
		return
	}
	add(records[0], zoneMonth.USD, "share of the existing hosted zone: $%.2f a month, counted once per stack", zoneMonth.USD)
	for _, r := range records {
		if r.Str("type") == "A" && r.Len("aliases") == 0 {
			add(r, QueriesMillionPerName*queriesM.USD, "%.1f million queries assumed × $%.2f", QueriesMillionPerName, queriesM.USD)
		}
	}
}

func cents(usd float64) float64 { return math.Round(usd*100) / 100 }
