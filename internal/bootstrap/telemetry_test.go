package bootstrap_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/immutable-edge/immutable-edge/internal/bootstrap"
)

// agentSchema is the CloudWatch agent's own configuration schema (testdata/cwagent-schema.md
// says which release it is from).
func agentSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/cwagent-schema.json")
	require.NoError(t, err)
	defer f.Close()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	require.NoError(t, c.AddResource("cwagent-schema.json", f))
	return c.MustCompile("cwagent-schema.json")
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	return v
}

func TestAgentConfigPassesTheAgentsSchema(t *testing.T) {
	t.Parallel()
	schema := agentSchema(t)
	for name, s := range variants(t) {
		cfg, err := bootstrap.AgentConfig(s)
		require.NoError(t, err)
		doc := decode(t, cfg)
		require.NoError(t, schema.Validate(doc), name)

		// The schema leaves the plugin objects and "agent" open, so their keys are checked here.
		metrics := doc["metrics"].(map[string]any)
		collected := metrics["metrics_collected"].(map[string]any)
		require.Equal(t, []any{"mem_used_percent"}, collected["mem"].(map[string]any)["measurement"], name)
		disk := collected["disk"].(map[string]any)
		require.Equal(t, []any{"used_percent"}, disk["measurement"], name)
		require.Equal(t, []any{"/"}, disk["resources"], name)
		for _, plugin := range []string{"mem", "disk"} {
			require.Equal(t, map[string]any{bootstrap.DimStack: s.Stack}, collected[plugin].(map[string]any)["append_dimensions"], name)
		}
		require.ElementsMatch(t, []string{"metrics_collection_interval", "omit_hostname", "region"}, keysOf(doc["agent"].(map[string]any)), name)
		require.Equal(t, "ImmutableEdge/"+s.Stack, metrics["namespace"], name) // its own namespace, the only one its role may write
	}
	// The validator is live: what the agent's translator would reject fails here too.
	cfg, err := bootstrap.AgentConfig(stackFor(t, "dev"))
	require.NoError(t, err)
	for what, breakIt := range map[string]func(map[string]any){
		"drop_original_metrics under metrics": func(d map[string]any) {
			d["metrics"].(map[string]any)["drop_original_metrics"] = []any{"*"}
		},
		"a typo in a log file entry": func(d map[string]any) {
			files := d["logs"].(map[string]any)["logs_collected"].(map[string]any)["files"].(map[string]any)
			files["collect_list"].([]any)[0].(map[string]any)["log_group"] = "x"
		},
		"a typo in the EMF processor": func(d map[string]any) {
			prom := d["logs"].(map[string]any)["metrics_collected"].(map[string]any)["prometheus"].(map[string]any)
			prom["emf_processor"].(map[string]any)["metric_namespaces"] = "x"
		},
	} {
		doc := decode(t, cfg)
		breakIt(doc)
		require.Error(t, agentSchema(t).Validate(doc), what)
	}
}

func TestAgentShipsEveryLogGroupTheStackCreates(t *testing.T) {
	t.Parallel()
	for name, s := range variants(t) {
		cfg, err := bootstrap.AgentConfig(s)
		require.NoError(t, err)
		doc := decode(t, cfg)
		logs := doc["logs"].(map[string]any)
		var groups []string
		for _, f := range logs["logs_collected"].(map[string]any)["files"].(map[string]any)["collect_list"].([]any) {
			groups = append(groups, f.(map[string]any)["log_group_name"].(string))
		}
		groups = append(groups, logs["metrics_collected"].(map[string]any)["prometheus"].(map[string]any)["log_group_name"].(string))
		require.ElementsMatch(t, bootstrap.LogGroups(s.Project, s.Stack), groups, name)
		for _, g := range groups {
			require.True(t, strings.HasPrefix(g, bootstrap.LogGroupPrefix(s.Project, s.Stack)), "%s: %s is where the role may write", name, g)
		}
	}
}

// promConfig is the part of Prometheus' configuration the agent's scrape file uses.
type promConfig struct {
	ScrapeConfigs []struct {
		JobName       string              `yaml:"job_name"`
		MetricsPath   string              `yaml:"metrics_path"`
		Params        map[string][]string `yaml:"params"`
		StaticConfigs []struct {
			Targets []string          `yaml:"targets"`
			Labels  map[string]string `yaml:"labels"`
		} `yaml:"static_configs"`
		Relabel []relabelRule `yaml:"metric_relabel_configs"`
	} `yaml:"scrape_configs"`
}

// relabelRule is one metric_relabel_configs entry, applied with Prometheus' semantics: source
// label values joined by ";", the regex anchored at both ends, replace by default.
type relabelRule struct {
	SourceLabels []string `yaml:"source_labels"`
	Regex        string   `yaml:"regex"`
	TargetLabel  string   `yaml:"target_label"`
	Replacement  string   `yaml:"replacement"`
	Action       string   `yaml:"action"`
}

// relabel applies the rules to one series; false means the series is dropped.
func relabel(t *testing.T, rules []relabelRule, labels map[string]string) (map[string]string, bool) {
	out := map[string]string{}
	for k, v := range labels {
		out[k] = v
	}
	for _, r := range rules {
		re, err := regexp.Compile("^(?:" + r.Regex + ")$")
		require.NoError(t, err, r.Regex)
		var vals []string
		for _, l := range r.SourceLabels {
			vals = append(vals, out[l])
		}
		value := strings.Join(vals, ";")
		switch r.Action {
		case "keep":
			if !re.MatchString(value) {
				return nil, false
			}
		case "drop":
			if re.MatchString(value) {
				return nil, false
			}
		case "", "replace":
			if m := re.FindStringSubmatchIndex(value); m != nil {
				out[r.TargetLabel] = string(re.ExpandString(nil, r.Replacement, value, m))
			}
		default:
			t.Fatalf("relabel action %q is not simulated", r.Action)
		}
	}
	return out, true
}

func prometheusConfig(t *testing.T, s bootstrap.Stack) promConfig {
	t.Helper()
	text, err := bootstrap.PrometheusConfig(s)
	require.NoError(t, err)
	var pc promConfig
	dec := yaml.NewDecoder(strings.NewReader(text))
	require.NoError(t, dec.Decode(&pc))
	return pc
}

func TestPrometheusScrapesLocalExportersAndKeepsOnlyWhatIsDeclared(t *testing.T) {
	t.Parallel()
	for name, s := range variants(t) {
		pc := prometheusConfig(t, s)
		require.Len(t, pc.ScrapeConfigs, 2, name)
		targets := map[string]string{}
		for _, sc := range pc.ScrapeConfigs {
			require.Len(t, sc.StaticConfigs, 1, name)
			targets[sc.JobName] = strings.Join(sc.StaticConfigs[0].Targets, ",")
			require.Equal(t, map[string]string{bootstrap.DimStack: s.Stack}, sc.StaticConfigs[0].Labels, name)
		}
		require.Equal(t, map[string]string{"haproxy": "127.0.0.1:8404", "node": "127.0.0.1:9100"}, targets, name)

		// What survives relabelling is exactly what the agent turns into metrics.
		doc := decode(t, mustAgent(t, s))
		declared := map[string][]string{}
		emf := doc["logs"].(map[string]any)["metrics_collected"].(map[string]any)["prometheus"].(map[string]any)["emf_processor"].(map[string]any)
		for _, d := range emf["metric_declaration"].([]any) {
			decl := d.(map[string]any)
			job := strings.Trim(decl["label_matcher"].(string), "^$")
			for _, sel := range decl["metric_selectors"].([]any) {
				declared[job] = append(declared[job], strings.Trim(sel.(string), "^$"))
			}
		}
		samples := map[string][]map[string]string{
			"haproxy": {
				{"__name__": "haproxy_frontend_http_responses_total", "proxy": "https", "code": "5xx"},
				{"__name__": "haproxy_frontend_http_responses_total", "proxy": "https", "code": "2xx"},
				{"__name__": "haproxy_frontend_http_requests_total", "proxy": "https"},
				{"__name__": "haproxy_frontend_http_requests_total", "proxy": "stats"},
				{"__name__": "haproxy_backend_active_servers", "proxy": "svc_web"},
				{"__name__": "haproxy_backend_active_servers", "proxy": "not_found"},
				{"__name__": "haproxy_backend_response_time_average_seconds", "proxy": "svc_web"},
				{"__name__": "haproxy_process_uptime_seconds"},
			},
			"node": {{"__name__": "node_vmstat_oom_kill"}, {"__name__": "node_load1"}},
		}
		for _, sc := range pc.ScrapeConfigs {
			var kept []string
			for _, in := range samples[sc.JobName] {
				if out, ok := relabel(t, sc.Relabel, in); ok {
					kept = append(kept, out["__name__"])
				}
			}
			slices.Sort(kept)
			want := slices.Clone(declared[sc.JobName])
			slices.Sort(want)
			require.Equal(t, want, kept, "%s %s: each kept series is declared, each declared one is kept", name, sc.JobName)
		}
	}
}

func mustAgent(t *testing.T, s bootstrap.Stack) string {
	t.Helper()
	cfg, err := bootstrap.AgentConfig(s)
	require.NoError(t, err)
	return cfg
}
