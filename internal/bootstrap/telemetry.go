package bootstrap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/immutable-edge/immutable-edge/internal/config"
)

// Paths of the CloudWatch agent and of the log files it ships.
const (
	AgentConfigFile      = "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"
	PrometheusConfigFile = "/opt/aws/amazon-cloudwatch-agent/etc/prometheus.yaml"
	// LogDir holds HAProxy's and the containers' log files, split out of syslog by the AMI's rsyslog rule.
	LogDir = "/var/log/immutable-edge"
)

// NodeExporterPort is where the AMI's prometheus-node-exporter listens.
const NodeExporterPort = config.NodeExporterPort

// CertMetric is the custom metric the eip node publishes: days left on its certificate.
const CertMetric = "CertificateDaysToExpiry"

// DimStack is the one dimension of every instance metric: the stack, so the metrics outlive
// instance replacements and roll up over the group.
const DimStack = "Stack"

// logSource is one file the agent ships and the log group (under the stack's prefix) it goes to.
type logSource struct{ group, file string }

// logSources in a fixed order; the metrics group holds the agent's Prometheus EMF records.
var logSources = []logSource{
	{"system", "/var/log/syslog"},
	{"haproxy", LogDir + "/haproxy.log"},
	{"containers", LogDir + "/containers.log"},
	{"cloud-init", "/var/log/cloud-init-output.log"},
}

const metricsLogGroup = "metrics"

// LogGroupPrefix is where the stack's instance log groups live (the instance role may write there).
func LogGroupPrefix(project, stack string) string { return "/" + project + "/" + stack + "/instance/" }

// LogGroups are the log groups the agent writes to; the stack creates them, the agent never does.
func LogGroups(project, stack string) []string {
	var out []string
	for _, l := range logSources {
		out = append(out, LogGroupPrefix(project, stack)+l.group)
	}
	return append(out, LogGroupPrefix(project, stack)+metricsLogGroup)
}

// scraped is one Prometheus metric kept after relabelling, as it appears in CloudWatch.
type scraped struct {
	job, name, unit string
	eipOnly         bool // the alb edge has the load balancer's own figure
}

// scrapedMetrics are the only Prometheus series the agent keeps; each becomes one CloudWatch
// metric (Stack dimension), so this list is also the bill.
var scrapedMetrics = []scraped{
	{job: "haproxy", name: "haproxy_frontend_http_requests_total", unit: "Count"},
	{job: "haproxy", name: "haproxy_frontend_http_responses_5xx_total", unit: "Count"},
	{job: "haproxy", name: "haproxy_service_active_servers", unit: "Count"},
	{job: "haproxy", name: "haproxy_service_response_time_average_seconds", unit: "Seconds", eipOnly: true},
	{job: "node", name: "node_vmstat_oom_kill", unit: "Count"},
}

func (s Stack) scraped(job string) []scraped {
	var out []scraped
	for _, m := range scrapedMetrics {
		if m.job == job && (!m.eipOnly || s.Edge.Mode == "eip") {
			out = append(out, m)
		}
	}
	return out
}

// Metrics lists every metric the instances publish in the stack's namespace.
func Metrics(s Stack) []string {
	out := []string{"mem_used_percent", "disk_used_percent"}
	for _, job := range []string{"haproxy", "node"} {
		for _, m := range s.scraped(job) {
			out = append(out, m.name)
		}
	}
	if s.Edge.Mode == "eip" {
		out = append(out, CertMetric)
	}
	return out
}

// AgentConfig renders the CloudWatch agent's configuration: memory and root-disk use, the
// Prometheus scrape turned into metrics (EMF), and the log files, each to its group.
func AgentConfig(s Stack) (string, error) {
	dims := map[string]string{DimStack: s.Stack}
	var files []map[string]any
	for _, l := range logSources {
		files = append(files, map[string]any{
			"file_path": l.file, "log_group_name": LogGroupPrefix(s.Project, s.Stack) + l.group, "log_stream_name": "{instance_id}",
		})
	}
	var declarations []map[string]any
	units := map[string]string{}
	for _, job := range []string{"haproxy", "node"} {
		var selectors []string
		for _, m := range s.scraped(job) {
			selectors = append(selectors, "^"+m.name+"$")
			units[m.name] = m.unit
		}
		declarations = append(declarations, map[string]any{
			"source_labels": []string{"job"}, "label_matcher": "^" + job + "$",
			"dimensions": [][]string{{DimStack}}, "metric_selectors": selectors,
		})
	}
	doc := map[string]any{
		// No host or instance dimension: a replacement keeps writing the same metrics.
		"agent": map[string]any{"metrics_collection_interval": 60, "omit_hostname": true, "region": s.Region},
		"metrics": map[string]any{
			"namespace": s.Namespace,
			"metrics_collected": map[string]any{
				"mem": map[string]any{"measurement": []string{"mem_used_percent"}, "append_dimensions": dims},
				// The disk plugin adds path and fstype dimensions: only the Stack roll-up is sent.
				"disk": map[string]any{"measurement": []string{"used_percent"}, "resources": []string{"/"},
					"drop_device": true, "append_dimensions": dims, "drop_original_metrics": []string{"disk_used_percent"}},
			},
			"aggregation_dimensions": [][]string{{DimStack}},
		},
		"logs": map[string]any{
			"force_flush_interval": 15,
			"logs_collected":       map[string]any{"files": map[string]any{"collect_list": files}},
			"metrics_collected": map[string]any{"prometheus": map[string]any{
				"log_group_name":         LogGroupPrefix(s.Project, s.Stack) + metricsLogGroup,
				"prometheus_config_path": PrometheusConfigFile,
				"emf_processor": map[string]any{
					"metric_declaration_dedup": true, "metric_namespace": s.Namespace,
					"metric_unit": units, "metric_declaration": declarations,
				},
			}},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", fmt.Errorf("bootstrap: agent config: %w", err)
	}
	return string(b) + "\n", nil
}

// PrometheusConfig renders the agent's scrape configuration: HAProxy's exporter and the node
// exporter on localhost, relabelled down to the series the stack alarms on and shows.
func PrometheusConfig(s Stack) (string, error) {
	keep := func(job string) string {
		var names []string
		for _, m := range s.scraped(job) {
			names = append(names, m.name)
		}
		return strings.Join(names, "|")
	}
	var b bytes.Buffer
	err := tmpl.ExecuteTemplate(&b, "prometheus.yaml.tmpl", map[string]any{
		"Stack": s.Stack, "DimStack": DimStack, "StatsPort": config.StatsPort, "NodePort": NodeExporterPort,
		"KeepHAProxy": keep("haproxy"), "KeepNode": keep("node"),
	})
	if err != nil {
		return "", fmt.Errorf("bootstrap: prometheus config: %w", err)
	}
	return b.String(), nil
}

// telemetryFiles are the CloudWatch agent's configuration files. The syslog rules that split
// out HAProxy's and the containers' logs, and the certificate-metric timer, are the same for
// every stack and are baked into the AMI (images/files).
func telemetryFiles(s Stack) ([]File, error) {
	agent, err := AgentConfig(s)
	if err != nil {
		return nil, err
	}
	prom, err := PrometheusConfig(s)
	if err != nil {
		return nil, err
	}
	return []File{
		{Path: AgentConfigFile, Permissions: "0644", Content: agent},
		{Path: PrometheusConfigFile, Permissions: "0644", Content: prom},
	}, nil
}

// PublishedMetrics lists the instance metrics a rendered user-data makes its instances publish.
func PublishedMetrics(userData string) ([]string, error) {
	files, err := Files(userData)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.Path == StackFile {
			var s Stack
			if err := json.Unmarshal([]byte(f.Content), &s); err != nil {
				return nil, fmt.Errorf("bootstrap: %s: %w", StackFile, err)
			}
			return Metrics(s), nil
		}
	}
	return nil, fmt.Errorf("bootstrap: user-data has no %s", StackFile)
}
