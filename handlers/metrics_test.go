package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/handlers"
)

// TestCommandsAreCounted: a probe command shows in perfbot's own metrics, with its failed probes.
func TestCommandsAreCounted(t *testing.T) {
	cfg := config.Default()
	cfg.Commands = config.Commands{Deadline: config.Duration(2 * time.Second), ProbeTimeout: config.Duration(time.Second)}
	cfg.Services[0].Redis.Addr = closedPort(t)
	before := count(t, `perfbot_probe_failures_total{probe="redis",reason="error"}`)
	if _, err := handlers.New(cfg, app.NewBackends(cfg, nil), nil).Handle(context.Background(), handlers.Request{Text: "redis"}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, `perfbot_probe_failures_total{probe="redis",reason="error"}`); got != before+1 {
		t.Errorf("redis failures = %v, want %v", got, before+1)
	}
	if n, err := testutil.GatherAndCount(prometheus.DefaultGatherer, "perfbot_commands_total", "perfbot_command_duration_seconds"); err != nil || n < 2 {
		t.Errorf("command metrics: %d series, %v", n, err)
	}
}

// count reads one series' value from the default registry (0 when absent).
func count(t *testing.T, series string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	name, labels, _ := strings.Cut(strings.TrimSuffix(series, "}"), "{")
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if !strings.Contains(labels, lp.GetName()+`="`+lp.GetValue()+`"`) {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
