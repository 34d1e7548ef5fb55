package cost

import (
	"github.com/immutable-edge/immutable-edge/internal/plan"
)

// Usage assumptions of the data tier.
const (
	// SecretCallsMonth is thousands of GetSecretValue calls a month: each container start reads its secrets.
	SecretCallsMonth = 10.0
)

// priceData prices the database, the cache and the secrets the stack (or RDS for it) creates.
func priceData(p *plan.Plan, add func(plan.Resource, float64, string, ...any)) {
	for _, r := range p.OfType("aws:rds/instance:Instance") {
		class, multi := r.Str("instanceClass"), r.Bool("multiAz")
		price, ok := dbHour[dbKey{class, multi}]
		deployment := map[bool]string{true: "Multi-AZ", false: "Single-AZ"}[multi]
		if !ok {
			add(r, 0, "%s %s: no price in the table (internal/cost/prices.go)", class, deployment)
		} else {
			add(r, price.USD*hoursPerMonth, "1 × %s PostgreSQL %s × 730 h × $%.3f (%s)", class, deployment, price.USD, price.Source)
		}
		gb := r.Num("allocatedStorage")
		storage := dbGP3GBMonth.USD
		if multi {
			storage *= 2 // a standby's storage is billed too
		}
		add(r, gb*storage, "%.0f GB gp3 × $%.3f/GB-month%s (%s); backups up to %.0f GB free", gb, storage,
			map[bool]string{true: " (Multi-AZ: twice)", false: ""}[multi], dbGP3GBMonth.Source, gb)
	}
	for _, r := range p.OfType("aws:elasticache/replicationGroup:ReplicationGroup") {
		node, n := r.Str("nodeType"), r.Num("numCacheClusters")
		price, ok := cacheHour[node]
		if !ok {
			add(r, 0, "%v × %s: no price in the table (internal/cost/prices.go)", n, node)
			continue
		}
		add(r, n*price.USD*hoursPerMonth, "%v × %s Redis OSS node × 730 h × $%.4f (%s); snapshots up to one node's memory free", n, node, price.USD, price.Source)
	}
	for _, r := range p.OfType("aws:secretsmanager/secret:Secret") {
		add(r, secretMonth.USD+SecretCallsMonth/10*secretCalls.USD, "1 secret × $%.2f + %.0fk calls assumed × $%.2f per 10k (%s)",
			secretMonth.USD, SecretCallsMonth, secretCalls.USD, secretMonth.Source)
	}
	// RDS keeps the master password in a secret of its own, billed like any other.
	for _, r := range p.OfType("aws:rds/instance:Instance") {
		if r.Bool("manageMasterUserPassword") {
			add(r, secretMonth.USD+SecretCallsMonth/10*secretCalls.USD, "the RDS-managed master password: 1 secret × $%.2f + %.0fk calls assumed × $%.2f per 10k",
				secretMonth.USD, SecretCallsMonth, secretCalls.USD)
		}
	}
}
