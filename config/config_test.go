package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseAppliesRunbookDefaults(t *testing.T) {
	c, err := Parse([]byte("services:\n  - name: agentic-studio\n    prometheus: {url: 'http://prometheus:9090'}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	th := c.Services[0].Thresholds
	if th.P95Latency.D() != 500*time.Millisecond || th.ErrorRate != 0.01 || th.DBQueryTime.D() != time.Second ||
		th.MemoryUsage != 0.85 || th.CPUUsage != 0.80 {
		t.Fatalf("thresholds are not the runbook's: %+v", th)
	}
	m := c.Services[0].Metrics
	if m.RequestDuration != "http_request_duration_seconds" || m.EndpointLabel != "endpoint" || m.AICallsTotal != "ai_api_calls_total" {
		t.Fatalf("metric names are not the runbook's: %+v", m)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestParseRejectsUnknownKeys(t *testing.T) {
	_, err := Parse([]byte("services:\n  - name: a\n    promethus: {}\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "promethus") {
		t.Fatalf("want an error naming the unknown key, got %v", err)
	}
}

func TestEnvExpansionSkipsComments(t *testing.T) {
	raw := "# uses ${NOT_THIS}\nslack:\n  bot_token: ${BOT} # from ${ALSO_NOT}\n  app_token: ${APP}\n"
	c, err := Parse([]byte(raw), env(map[string]string{"BOT": "xoxb-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.BotToken != "xoxb-1" {
		t.Fatalf("bot token = %q", c.Slack.BotToken)
	}
	if strings.Join(c.MissingEnv, ",") != "APP" {
		t.Fatalf("missing = %v, want [APP]", c.MissingEnv)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	raw := `services:
  - name: a
    prometheus: {url: "ftp://x", selector: "{job=\"a\"}"}
    thresholds: {error_rate: 2, cpu_usage: 1.5}
  - name: a
commands: {deadline: 1s, probe_timeout: 5s}
time_zone: Nowhere/Land
slack: {bot_token: xapp-wrong}
`
	c, err := Parse([]byte(raw), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	if err == nil {
		t.Fatal("no problems reported")
	}
	for _, want := range []string{"prometheus.url", "selector", "error_rate", "cpu_usage", "used twice", "probe_timeout", "time_zone", "bot_token"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problem %q not reported in:\n%v", want, err)
		}
	}
}

func TestRepositoryConfigIsValid(t *testing.T) {
	c, err := Load("../perfbot.yaml", env(map[string]string{"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("../perfbot.yaml"); err != nil {
		t.Fatal(err)
	}
}

// TestValidatePeople: teams, announcement channels, the update cadence and terminal users are checked,
// every problem at once.
func TestValidatePeople(t *testing.T) {
	raw := `services:
  - name: a
    prometheus: {url: "http://127.0.0.1:9090"}
teams:
  - {name: Database, group: "C0NOTAGROUP"}
  - {name: ops}
  - {name: ops, users: [bob]}
incidents:
  announce: {a: "#status", b: C0STATUS}
  update_every: {sev1: -5m, sev9: 1h}
terminal:
  users: {alice: alice}
`
	c, err := Parse([]byte(raw), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	if err == nil {
		t.Fatal("no problems reported")
	}
	for _, want := range []string{`teams[0].name: "Database"`, `teams[0].group: "C0NOTAGROUP"`, "teams[1]: set group", `teams[2].name: "ops" is used twice`,
		"teams[2].users", `incidents.announce.a: "#status"`, "incidents.announce.b: not a configured service",
		"incidents.update_every.sev1", "incidents.update_every.sev9: not a severity", "terminal.users.alice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problem %q not reported in:\n%v", want, err)
		}
	}
}
