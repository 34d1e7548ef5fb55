package observability

// Instance metrics: the CloudWatch agent publishes them under the stack's namespace with the
// single dimension Stack (rolled up over the group's instances), so their count and cost do not
// grow with instance replacements. internal/bootstrap renders the agent configuration that
// produces them; a stack test checks the two agree.
const (
	DimStack = "Stack"

	MetricMemory      = "mem_used_percent"                          // agent mem plugin
	MetricDisk        = "disk_used_percent"                         // agent disk plugin, root file system
	MetricRequests    = "haproxy_frontend_http_requests_total"      // HAProxy exporter, per minute (delta)
	Metric5xx         = "haproxy_frontend_http_responses_5xx_total" // HAProxy exporter, renamed from code="5xx"
	MetricServersUp   = "haproxy_service_active_servers"            // per service backend; Minimum 0 = a service down
	MetricResponseAvg = "haproxy_service_response_time_average_seconds"
	MetricOOMKills    = "node_vmstat_oom_kill" // node exporter
	// MetricCertDays is published by the eip node's certificate hook and timer.
	MetricCertDays = "CertificateDaysToExpiry"
	// MetricJobFailed is published by job.sh once a firing, with DimJob.
	MetricJobFailed = "JobFailed"
	DimJob          = "Job"
)

// AWS-published metrics the alarms and the dashboard read.
const (
	nsEC2     = "AWS/EC2"
	nsASG     = "AWS/AutoScaling"
	nsALB     = "AWS/ApplicationELB"
	nsACM     = "AWS/CertificateManager"
	nsRoute53 = "AWS/Route53"
	nsEvents  = "AWS/Events"
)
