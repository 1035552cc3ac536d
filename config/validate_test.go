package config

import (
	"strings"
	"testing"
)

func TestLoadedFileGetsNoLocalStackValues(t *testing.T) {
	for name, raw := range map[string]string{
		"no services":        "time_zone: UTC\n",
		"service without":    "services:\n  - kubernetes: {namespace: shop}\n",
		"empty service list": "services: []\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Parse([]byte(raw), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range c.Services {
				if s.Name != "" || s.Prometheus.URL != "" || s.HealthURL != "" || s.Prometheus.Selector != "" {
					t.Errorf("defaults invented %q %q %q %q", s.Name, s.Prometheus.URL, s.HealthURL, s.Prometheus.Selector)
				}
			}
			if err := c.Validate(); err == nil {
				t.Fatal("a config without a named service and its Prometheus validated")
			}
		})
	}
	c, _ := Parse([]byte("services:\n  - kubernetes: {namespace: shop}\n"), env(nil))
	err := c.Validate()
	for _, want := range []string{"services[0].name: must be set", "services[0].prometheus.url: must be set"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q not reported in %v", want, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "health_url") {
		t.Errorf("health_url is optional, but: %v", err)
	}
}

func TestDefaultServesTheLocalStack(t *testing.T) {
	c := Default()
	s := c.Services[0]
	if s.Name != "agentic-studio" || s.Prometheus.URL != "http://127.0.0.1:19090" ||
		s.HealthURL != "http://127.0.0.1:18000/health/detailed" || s.Prometheus.Selector != `job="agentic-studio"` {
		t.Fatalf("default service = %+v", s)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateChecksTimesAndSlackIDs(t *testing.T) {
	base := "services:\n  - name: a\n    prometheus: {url: 'http://p:9090'}\n"
	cases := []struct {
		name, yaml string
		want       []string // empty: valid
	}{
		{"ids", "incidents:\n  on_call: [U0ALICE001, W012AB]\n  levels:\n    - {name: one, after: 0s, page: [S0SRE]}\n    - {name: two, after: 30m, page: [U0BOB00001]}\nactions: {approvers: [U0ALICE001], approver_group: S0APPROVE}\n", nil},
		{"negative deadline", "commands: {deadline: -1s, probe_timeout: -2s}\n", []string{"commands.deadline", "commands.probe_timeout: -2s must be positive"}},
		{"share probes per process", "state: {share_probes: process}\n", nil},
		{"share probes nowhere", "state: {share_probes: cluster}\n", []string{`state.share_probes: "cluster" must be "redis" or "process"`}},
		{"negative after", "incidents:\n  levels:\n    - {name: one, after: -1m}\n", []string{"incidents.levels[0].after: -1m0s must not be negative"}},
		{"names not ids", "incidents:\n  on_call: [alice, '<!channel>', S0GROUP]\n", []string{`on_call[0]: "alice"`, `on_call[1]: "<!channel>"`, `on_call[2]: "S0GROUP"`}},
		{"page", "incidents:\n  levels:\n    - {name: one, page: [u0lower, 'U1> <!channel']}\n", []string{`page[0]: "u0lower"`, `page[1]: "U1> <!channel"`}},
		{"approvers", "actions: {approvers: [bob@example.com, S0GROUP, U1], approver_group: U0ALICE001}\n", []string{
			`approvers[0]`, `approvers[1]: "S0GROUP"`, `approvers[2]: "U1"`, `approver_group: "U0ALICE001"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(base+tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q not reported in:\n%v", w, err)
				}
			}
		})
	}
}

func TestValidateBackendThresholds(t *testing.T) {
	c := Default()
	c.Services[0].Postgres.ConnectionsWarn = 0.97
	c.Services[0].Redis.MemoryCrit = 1.5
	c.Services[0].Thresholds.MinRequests = -1
	err := c.Validate()
	for _, want := range []string{"postgres.connections_warn: 0.97 is above connections_crit", "redis.memory_crit: 1.5 is not a fraction", "thresholds.min_requests"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
}
