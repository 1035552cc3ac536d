package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/studiosim"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/stacktest"
	"github.com/perfbot/perfbot/probes"
)

func assess(t *testing.T, cfg *config.Config) handlers.Report {
	t.Helper()
	b := app.NewBackends(cfg, nil)
	t.Cleanup(b.Close)
	rep, err := handlers.New(cfg, b, nil).Handle(context.Background(), handlers.Request{Text: "assess", User: "U1"})
	if err != nil {
		t.Fatalf("assess: %v", err)
	}
	return rep
}

func find(rep handlers.Report, check, subject string) (probes.Finding, bool) {
	for _, f := range rep.Findings {
		if f.Check == check && (subject == "" || f.Subject == subject) {
			return f, true
		}
	}
	return probes.Finding{}, false
}

// TestAssessReportsEachInjectedFault runs one simulator per fault, all scraped by one Prometheus,
// and waits until /perf assess reports the right trigger as CRIT with the measured value.
func TestAssessReportsEachInjectedFault(t *testing.T) {
	cases := []struct {
		name    string
		fault   studiosim.Fault
		check   string
		subject string
		top     bool // the finding must rank first
		db      bool // the service's PostgreSQL is configured too
	}{
		{name: "latency", fault: studiosim.Fault{Kind: "latency", Endpoint: "/api/ideas", Delay: 800 * time.Millisecond}, check: "API p95 latency", subject: "/api/ideas", top: true},
		{name: "errors", fault: studiosim.Fault{Kind: "errors", Endpoint: "/api/projects", Rate: 0.5}, check: "Error rate", subject: "/api/projects", top: true},
		{name: "crewai", fault: studiosim.Fault{Kind: "crewai_failures", Rate: 0.7}, check: "CrewAI task errors"},
		{name: "openai429", fault: studiosim.Fault{Kind: "openai_429", Rate: 0.6}, check: "OpenAI errors"},
		{name: "openailatency", fault: studiosim.Fault{Kind: "openai_latency", Delay: 4 * time.Second}, check: "OpenAI p95 latency"},
		{name: "slowsql", fault: studiosim.Fault{Kind: "slow_sql", Endpoint: "/api/ideas", Seconds: 1.5}, check: "DB query time", db: true},
		{name: "healthy"},
	}
	jobs := map[string]string{}
	sims := map[string]*stacktest.Sim{}
	for _, c := range cases {
		sims[c.name] = stacktest.StartSim(t, 15)
		jobs["sim-"+c.name] = sims[c.name].Addr
	}
	prom := stacktest.StartPrometheus(t, jobs)
	for _, c := range cases {
		if c.fault.Kind != "" {
			if _, err := sims[c.name].Client.Inject(context.Background(), c.fault); err != nil {
				t.Fatalf("inject %s: %v", c.name, err)
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := stacktest.ServiceConfig("sim-"+c.name, prom.URL, sims[c.name].URL)
			if c.db {
				cfg.Services[0].Postgres.DSN = sims[c.name].DSN
			}
			if c.fault.Kind == "" {
				checkHealthy(t, cfg)
				return
			}
			var rep handlers.Report
			stacktest.Eventually(t, 90*time.Second, 2*time.Second, func() bool {
				rep = assess(t, cfg)
				f, ok := find(rep, c.check, c.subject)
				return ok && f.Status == probes.Crit
			}, "no CRIT %q finding; last headline: %s", c.check, func() string { return rep.Headline }())
			f, _ := find(rep, c.check, c.subject)
			if f.Value <= f.Threshold || f.Threshold == 0 {
				t.Errorf("finding value %v does not exceed its threshold %v", f.Value, f.Threshold)
			}
			if c.top {
				if got := rep.Findings[0]; got.Check != c.check || got.Subject != c.subject {
					t.Errorf("top finding = %s on %s, want %s on %s", got.Check, got.Subject, c.check, c.subject)
				}
				if !strings.Contains(rep.Headline, c.subject) {
					t.Errorf("headline %q does not name %s", rep.Headline, c.subject)
				}
			}
			if rep.Status != probes.Crit {
				t.Errorf("report status = %s, want CRIT", rep.Status)
			}
		})
	}
}

func checkHealthy(t *testing.T, cfg *config.Config) {
	// Let the simulator build up a minute of traffic first, then expect every trigger within bounds.
	var rep handlers.Report
	stacktest.Eventually(t, 60*time.Second, 2*time.Second, func() bool {
		rep = assess(t, cfg)
		f, ok := find(rep, "API p95 latency", "all endpoints")
		return ok && f.Status != probes.Unknown
	}, "no traffic seen")
	for _, f := range rep.Findings {
		if f.Status == probes.Crit {
			t.Errorf("healthy simulator has a CRIT finding: %s %s: %s", f.Check, f.Subject, f.Message)
		}
	}
	if !strings.HasPrefix(rep.Headline, "OK") && rep.Status == probes.Crit {
		t.Errorf("headline = %q", rep.Headline)
	}
	for _, s := range rep.Sections {
		if s.Err != "" {
			t.Errorf("section %s failed: %s", s.Title, s.Err)
		}
	}
}

// TestAssessWithPrometheusDown: a hung or stopped Prometheus makes its probes say so within the deadline,
// while the health probe still reports.
func TestAssessWithPrometheusDown(t *testing.T) {
	sim := stacktest.StartSim(t, 5)
	prom := stacktest.StartPrometheus(t, map[string]string{"sim-down": sim.Addr})
	cfg := stacktest.ServiceConfig("sim-down", prom.URL, sim.URL)
	cfg.Commands.Deadline = config.Duration(3 * time.Second)
	cfg.Commands.ProbeTimeout = config.Duration(time.Second)

	check := func(t *testing.T, want string) {
		start := time.Now()
		rep := assess(t, cfg)
		elapsed := time.Since(start)
		if elapsed > cfg.Commands.Deadline.D()+time.Second {
			t.Errorf("report took %s, past the %s deadline", elapsed, cfg.Commands.Deadline.D())
		}
		var promFailed int
		for _, s := range rep.Sections {
			switch s.Probe {
			case "health":
				if s.Err != "" || s.Status != probes.OK {
					t.Errorf("health probe should still report OK, got %s %q", s.Status, s.Err)
				}
			default:
				if !strings.Contains(s.Err, want) {
					t.Errorf("section %s: err %q, want it to say %q", s.Title, s.Err, want)
				}
				promFailed++
			}
		}
		if promFailed == 0 {
			t.Fatal("no Prometheus sections in the report")
		}
		if !strings.Contains(rep.Headline, "could not run") {
			t.Errorf("headline %q does not say checks could not run", rep.Headline)
		}
	}
	t.Run("hung", func(t *testing.T) {
		prom.Pause(t)
		defer prom.Resume()
		check(t, "timed out")
	})
	t.Run("stopped", func(t *testing.T) {
		prom.Kill()
		check(t, "unreachable")
	})
}

// TestMalformedCommands: usage errors are Invalid and say how to use the command.
func TestMalformedCommands(t *testing.T) {
	cfg := config.Default()
	h := handlers.New(cfg, app.NewBackends(cfg, nil), nil)
	for _, text := range []string{"assess --bogus", "nosuch", "api 5x", "assess agentic-studio 48h", "db nosuchservice"} {
		t.Run(text, func(t *testing.T) {
			_, err := h.Handle(context.Background(), handlers.Request{Text: text})
			if err == nil {
				t.Fatal("no error")
			}
			if msg := fmt.Sprint(err); !strings.Contains(msg, "/perf") {
				t.Errorf("error %q carries no usage", msg)
			}
		})
	}
}
