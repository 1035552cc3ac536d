package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the repository root as seen from this package's directory.
const repoRoot = ".."

// lookTool finds a command the test needs; the test fails (not skips) without it, because the
// project's test command installs the stack's packages first.
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found (apt-get install %s, or run scripts/stack up): %v", name, pkg, err)
	}
	return p
}

func runTool(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestAlertRules(t *testing.T) {
	promtool := lookTool(t, "promtool", "prometheus")
	dir := filepath.Join(repoRoot, "deploy", "prometheus")
	t.Run("check", func(t *testing.T) {
		out := runTool(t, dir, promtool, "check", "rules", "alerts.yml")
		if !strings.Contains(out, "SUCCESS: 6 rules found") {
			t.Errorf("promtool check rules: want 6 rules, got:\n%s", out)
		}
	})
	t.Run("unit", func(t *testing.T) {
		runTool(t, dir, promtool, "test", "rules", "alerts_test.yml")
	})
	t.Run("labels", func(t *testing.T) {
		testRuleLabels(t, filepath.Join(dir, "alerts.yml"))
	})
}

type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert       string            `yaml:"alert"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// testRuleLabels checks what perfbot relies on: the runbook's alerts exist, each with severity,
// service="agentic-studio", a summary and a short hold.
func testRuleLabels(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading rules: %v", err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(raw, &rf); err != nil {
		t.Fatalf("parsing rules: %v", err)
	}
	var names []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			names = append(names, r.Alert)
			if r.Labels["service"] != "agentic-studio" {
				t.Errorf("%s: service label = %q, want agentic-studio", r.Alert, r.Labels["service"])
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity = %q, want warning or critical", r.Alert, s)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary annotation", r.Alert)
			}
			if r.For != "5s" {
				t.Errorf("%s: for = %q, want 5s", r.Alert, r.For)
			}
		}
	}
	want := []string{"HighAPILatencyP95", "HighErrorRate", "SlowDatabaseQueries",
		"HighMemoryUsage", "HighCPUUsage", "CrewAITaskFailures"}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("alerts = %v, want %v", names, want)
	}
}

// stackEnv is the environment for scripts/stack without any inherited PERFBOT_* setting.
func stackEnv(extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PERFBOT_") {
			env = append(env, kv)
		}
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// renderConfigs runs `scripts/stack render DIR`, the same code path `scripts/stack up` uses.
func renderConfigs(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(filepath.Join(repoRoot, "scripts", "stack"), "render", dir)
	cmd.Env = stackEnv(extra)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/stack render: %v\n%s", err, out)
	}
	return dir
}

type promConfig struct {
	Global struct {
		ScrapeInterval     string `yaml:"scrape_interval"`
		EvaluationInterval string `yaml:"evaluation_interval"`
	} `yaml:"global"`
	RuleFiles []string `yaml:"rule_files"`
	Alerting  struct {
		Alertmanagers []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"alertmanagers"`
	} `yaml:"alerting"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func TestPrometheusConfig(t *testing.T) {
	promtool := lookTool(t, "promtool", "prometheus")
	tests := []struct {
		name string
		env  map[string]string
		want map[string]string // job -> target
		am   string
	}{
		{
			name: "defaults",
			want: map[string]string{"agentic-studio": "127.0.0.1:18000", "node": "127.0.0.1:19100",
				"postgres": "127.0.0.1:19187", "redis": "127.0.0.1:19121",
				"prometheus": "127.0.0.1:19090", "alertmanager": "127.0.0.1:19093"},
			am: "127.0.0.1:19093",
		},
		{
			name: "ports overridden",
			env: map[string]string{"PERFBOT_APP_PORT": "28000", "PERFBOT_PROM_PORT": "29090",
				"PERFBOT_AM_PORT": "29093", "PERFBOT_NODE_EXPORTER_PORT": "29100",
				"PERFBOT_PG_EXPORTER_PORT": "29187", "PERFBOT_REDIS_EXPORTER_PORT": "29121"},
			want: map[string]string{"agentic-studio": "127.0.0.1:28000", "node": "127.0.0.1:29100",
				"postgres": "127.0.0.1:29187", "redis": "127.0.0.1:29121",
				"prometheus": "127.0.0.1:29090", "alertmanager": "127.0.0.1:29093"},
			am: "127.0.0.1:29093",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := renderConfigs(t, tc.env)
			file := filepath.Join(dir, "prometheus.yml")
			runTool(t, dir, promtool, "check", "config", file)
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var pc promConfig
			if err := yaml.Unmarshal(raw, &pc); err != nil {
				t.Fatalf("parsing rendered config: %v", err)
			}
			checkPromConfig(t, pc, tc.want, tc.am)
		})
	}
}

func checkPromConfig(t *testing.T, pc promConfig, want map[string]string, am string) {
	t.Helper()
	if pc.Global.ScrapeInterval != "1s" || pc.Global.EvaluationInterval != "1s" {
		t.Errorf("intervals = %s/%s, want 1s/1s", pc.Global.ScrapeInterval, pc.Global.EvaluationInterval)
	}
	rules, _ := filepath.Abs(filepath.Join(repoRoot, "deploy", "prometheus", "alerts.yml"))
	if len(pc.RuleFiles) != 1 || pc.RuleFiles[0] != rules {
		t.Errorf("rule_files = %v, want [%s]", pc.RuleFiles, rules)
	}
	got := map[string]string{}
	for _, sc := range pc.ScrapeConfigs {
		for _, s := range sc.StaticConfigs {
			got[sc.JobName] = strings.Join(s.Targets, ",")
		}
	}
	for job, target := range want {
		if got[job] != target {
			t.Errorf("job %s target = %q, want %q", job, got[job], target)
		}
	}
	if len(got) != len(want) {
		t.Errorf("jobs = %v, want exactly %v", got, want)
	}
	if a := pc.Alerting.Alertmanagers; len(a) != 1 || len(a[0].StaticConfigs) != 1 ||
		!slices.Equal(a[0].StaticConfigs[0].Targets, []string{am}) {
		t.Errorf("alertmanagers = %+v, want [%s]", a, am)
	}
}
