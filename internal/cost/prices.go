package cost

// PriceDate spans the days the table's prices were checked against their sources, each Price's
// Source saying which: the pull of 2026-08-26, the snapshot, detailed-monitoring and
// health-check entries checked on 2026-12-01, and the data tier's read on 2026-12-03 from AWS
// pricing-feed snapshots of 2024-09-28 (RDS) and 2025-03-14 (ElastiCache).
const PriceDate = "2026-08-26 to 2026-12-03"

// Price is one eu-central-1 on-demand list price in USD, with where it comes from.
type Price struct {
	USD    float64
	Unit   string
	Source string // where the figure was read; "=" notes a region-independent price
}

// hoursPerMonth is AWS's billing month for hourly prices.
const hoursPerMonth = 730

// instanceHour is the Linux on-demand price per hour by instance type (eu-central-1).
// Source: SkyPilot's AWS catalogue (skypilot-org/skypilot-catalog catalogs/v7/aws/vms.csv,
// rows eu-central-1), cross-checked for t4g.small against an AWS Price List API pull of
// 2026-08-26 and for t3.* against a rate table of 2026-01.
var instanceHour = map[string]float64{
	"t4g.nano": 0.0048, "t4g.micro": 0.0096, "t4g.small": 0.0192, "t4g.medium": 0.0384,
	"t4g.large": 0.0768, "t4g.xlarge": 0.1536,
	"t3.micro": 0.012, "t3.small": 0.024, "t3.medium": 0.048,
	"m7g.medium": 0.0489, "m7g.large": 0.0978,
	"c7g.medium": 0.04125, "c7g.large": 0.0825,
}

// Prices the estimate uses besides instance hours.
var (
	gp3GBMonth = Price{0.0952, "GB-month", "AWS Price List EUC1-EBS:VolumeUsage.gp3, pulled 2026-08-26; 3,000 IOPS and 125 MB/s included"}
	natHour    = Price{0.052, "NAT gateway-hour", "two eu-central-1 cost write-ups (undated) agree"}
	natGB      = Price{0.052, "GB processed", "two eu-central-1 cost write-ups (undated); one test fixture shows 0.045"}
	albHour    = Price{0.027, "ALB-hour", "AWS Price List pull for eu-central-1, 2026-08-26"}
	albLCUHour = Price{0.008, "LCU-hour", "AWS Price List pull for eu-central-1, 2026-08-26"}
	ipv4Hour   = Price{0.005, "public IPv4 address-hour", "= all regions since 2024-02-01 (EUC1-PublicIPv4:InUseAddress, 2026-08-26)"}
	logsGB     = Price{0.63, "GB ingested", "CloudWatch Logs standard ingestion, eu-central-1, 2026-08-26; used for vended flow logs too (no Frankfurt vended rate found: an upper bound)"}
	logsStored = Price{0.0324, "GB-month stored", "CloudWatch Logs storage, eu-central-1, 2026-08-26"}
	s3GBMonth  = Price{0.0245, "GB-month", "AWS Price List EUC1-TimedStorage-ByteHrs, checked 2026-06-30"}
	ecrGBMonth = Price{0.10, "GB-month", "an eu-central-1 cost write-up (undated)"}
	zoneMonth  = Price{0.50, "hosted zone-month", "= global; aws.amazon.com/route53/pricing read 2026-09-20"}
	queriesM   = Price{0.40, "million standard queries", "= global; alias queries to an ALB are free (same page)"}

	kmsKeyMonth   = Price{1.00, "customer managed key-month", "= all regions; aws.amazon.com/kms/pricing (20,000 requests a month free); each automatic rotation may add up to $1 a month for its first two rotations"}
	alarmMetric   = Price{0.10, "standard alarm metric-month", "aws.amazon.com/cloudwatch/pricing, confirmed for us-east-1; the same list price assumed for eu-central-1"}
	customMetric  = Price{0.30, "custom metric-month (first 10,000)", "aws.amazon.com/cloudwatch/pricing, confirmed for us-east-1; the same list price assumed for eu-central-1"}
	dashboardMo   = Price{3.00, "dashboard-month", "= all regions; aws.amazon.com/cloudwatch/pricing"}
	healthCheckMo = Price{0.50, "health check-month (AWS endpoint)", route53Page + "; the first 50 health checks for AWS endpoints are free"}
	healthHTTPSMo = Price{1.00, "optional feature-month (AWS endpoint): HTTPS, string matching, fast interval, latency", route53Page + "; charged even within the free 50"}
	// What a check of a non-AWS endpoint would cost instead, for the basis.
	healthNonAWSMo      = Price{0.75, "health check-month (non-AWS endpoint)", route53Page}
	healthNonAWSHTTPSMo = Price{2.00, "optional feature-month (non-AWS endpoint)", route53Page}

	snapshotGBMonth = Price{0.054, "GB-month of EBS snapshot, standard tier", "AWS Price List EUC1-EBS:SnapshotUsage as a pricing test fixture and a 2026 cost note both quote it, checked 2026-12-01; billed on the blocks stored (repost.aws/knowledge-center/ebs-snapshot-billing)"}
	gatewayEndpoint = Price{0, "gateway endpoint", "\"Gateway endpoints ... come at no additional charge\", docs.aws.amazon.com/prescriptive-guidance/latest/aws-startup-security-baseline/wkld-12.html, checked 2026-12-01"}
)

// The data tier's prices. RDS and ElastiCache come from AWS's own pricing feed
// (b0.p.awsstatic.com/pricing/2.0/meteredUnitMaps) as committed in yeo/ec2.shop:
// data/rds/rds-postgresql-ondemand.json at 44337592ba034dd0cdd1e71a1670b17f8c3f6002 (feed of
// 2024-09-28) and data/elasticache/elasticache.json at 73696e380ae600b175f859850a726edebd1de72f
// (feed of 2025-03-14), their "EU (Frankfurt)" rows, read 2026-12-03; the SKU names each row.
const (
	rdsFeed   = "AWS pricing feed of 2024-09-28, EU (Frankfurt), SKU "
	cacheFeed = "AWS pricing feed of 2025-03-14, EU (Frankfurt), SKU "
)

// dbKey is an RDS instance class and whether it runs Multi-AZ (one standby).
type dbKey struct {
	class string
	multi bool
}

// dbHour is RDS for PostgreSQL instance-hours.
var dbHour = map[dbKey]Price{
	{"db.t4g.micro", false}:  {0.019, "instance-hour", rdsFeed + "Q2VA4XH2YFYXPGX4"},
	{"db.t4g.micro", true}:   {0.037, "instance-hour", rdsFeed + "6NCF44T6CKVRT8R8"},
	{"db.t4g.small", false}:  {0.037, "instance-hour", rdsFeed + "NGGDEX2H83AGNVX3"},
	{"db.t4g.small", true}:   {0.074, "instance-hour", rdsFeed + "FUFQ92X3CPTNDE4G"},
	{"db.t4g.medium", false}: {0.074, "instance-hour", rdsFeed + "596K8TRZR9XJEFZH"},
	{"db.t4g.medium", true}:  {0.149, "instance-hour", rdsFeed + "SQR58ADNESHHQW36"},
	{"db.t3.micro", false}:   {0.021, "instance-hour", rdsFeed + "VJNEKAFRR6K9PXWQ"},
	{"db.t3.micro", true}:    {0.042, "instance-hour", rdsFeed + "K2QSXBBBGUKKQ3K2"},
}

// cacheHour is Redis OSS node-hours (Valkey's are 20% lower, ElastiCache FAQ; the feed's
// Valkey rows are exactly 0.8 times these).
var cacheHour = map[string]Price{
	"cache.t4g.micro":  {0.018, "node-hour", cacheFeed + "HSZWURMZTX87RN43"},
	"cache.t4g.small":  {0.036, "node-hour", cacheFeed + "MRUNQ3RP27WEXN3K"},
	"cache.t4g.medium": {0.072, "node-hour", cacheFeed + "BBKFGCMGK8UW94AT"},
}

var (
	// No eu-central-1 source was found for RDS gp3 storage: us-east-1's list price stands in, a
	// lower bound (Frankfurt's rates run above Virginia's, as its instance-hours do).
	dbGP3GBMonth = Price{0.115, "GB-month", "us-east-1's RDS gp3 PostgreSQL price (AWS Price List AmazonRDS us-east-1, as quoted 2026-08-12); no eu-central-1 source found: a lower bound"}
	secretMonth  = Price{0.40, "secret-month", "aws.amazon.com/secrets-manager/pricing as transcribed on 2026-09-20 (api-evangelist amazon-secrets-manager plans)"}
	secretCalls  = Price{0.05, "10,000 API calls", "same page"}
)

// dynamoWriteM prices the firings table's writes. No eu-central-1 source was found; us-east-1's
// rate stands in (a few cents a year either way).
var dynamoWriteM = Price{0.625, "million on-demand write request units", "us-east-1's on-demand rate (aws.amazon.com/dynamodb/pricing/on-demand, as quoted in 2026); no eu-central-1 source found"}

// route53Page is where the health-check prices come from.
const route53Page = "= global; aws.amazon.com/route53/pricing as transcribed verbatim on 2026-09-20 (api-evangelist/amazon-route53-resolver plans/amazon-route53-resolver-plans-pricing.yml), checked 2026-12-01"

// ec2DetailedMetrics is how many EC2 metrics detailed monitoring sends each minute per instance,
// each billed as a custom metric: "In basic monitoring for EC2 instances, seven pre-selected
// metrics are available at the five-minute frequency"
// (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ec2-metricscollected.html); detailed
// monitoring sends the same ones every minute and "10 Detailed Monitoring Metrics" are in the
// account's always-free allowance (aws.amazon.com/cloudwatch/pricing), checked 2026-12-01.
const ec2DetailedMetrics = 7

// The account's always-free CloudWatch allowance (aws.amazon.com/cloudwatch/pricing), credited
// to the stack whose config sets freeTier. Two allowances are applied to every stack, because
// each stack uses one unit of an allowance far larger than one stack's share: Route 53's 50
// health checks for AWS endpoints, and CloudWatch's "3 Dashboards for up to 50 metrics per
// month" (each stack has one dashboard of fewer than 50 metrics, so an account holding up to
// three such stacks pays for none).
const (
	freeAlarmMetrics    = 10
	freeCustomMetrics   = 10 // custom and detailed-monitoring metrics together
	freeDashboards      = 3
	freeDashboardMetric = 50  // a dashboard with more metrics is not in the free tier
	freeLogsGB          = 5.0 // ingestion, and separately storage
	freeHealthChecks    = 50
)
