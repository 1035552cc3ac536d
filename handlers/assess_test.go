package handlers_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

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
// and waits until /perf assess reports the right trigger with the measured value, and its headline
// names the cause (or, where the fault is the symptom itself, the symptom and that nothing explains it).
func TestAssessReportsEachInjectedFault(t *testing.T) {
	cases := []struct {
		name     string
		fault    studiosim.Fault
		check    string
		subject  string
		status   probes.Status // the finding's status; CRIT when unset
		headline []string      // what the headline must say
		db       bool          // the service's PostgreSQL is configured too
		redis    bool          // the simulator has a Redis of its own, limited to what it holds after the fault
	}{
		{name: "latency", fault: studiosim.Fault{Kind: "latency", Endpoint: "/api/ideas", Delay: 800 * time.Millisecond},
			check: "API p95 latency", subject: "/api/ideas", headline: []string{"/api/ideas", "no cause found"}},
		{name: "errors", fault: studiosim.Fault{Kind: "errors", Endpoint: "/api/projects", Rate: 0.5},
			check: "Error rate", subject: "/api/projects", headline: []string{"/api/projects", "no cause found"}},
		{name: "crewai", fault: studiosim.Fault{Kind: "crewai_failures", Rate: 0.9, Agent: "writer"},
			check: "CrewAI task errors", subject: "agent writer", headline: []string{"agent writer"}},
		{name: "openai429", fault: studiosim.Fault{Kind: "openai_429", Rate: 0.6},
			check: "OpenAI errors", headline: []string{"Likely cause: ", "OpenAI calls failed"}},
		{name: "openailatency", fault: studiosim.Fault{Kind: "openai_latency", Delay: 4 * time.Second},
			check: "OpenAI p95 latency", headline: []string{"OpenAI p95 "}},
		{name: "slowsql", fault: studiosim.Fault{Kind: "slow_sql", Endpoint: "/api/ideas", Seconds: 1.5}, db: true,
			check: "DB query time", headline: []string{"Likely cause: ", "pg_sleep", "explains"}},
		{name: "lock", fault: studiosim.Fault{Kind: "lock", Table: "projects"}, db: true,
			check: "DB blocking locks", headline: []string{"Likely cause: pid ", `application "studiosim-batch"`, "blocks", "explains"}},
		{name: "idleintx", fault: studiosim.Fault{Kind: "idle_in_tx", Connections: 4}, db: true,
			check: "DB idle in transaction", headline: []string{"idle in a transaction"}},
		{name: "redismemory", fault: studiosim.Fault{Kind: "redis_memory", MB: 24}, redis: true,
			check: "Redis memory", headline: []string{"maxmemory", "noeviction"}},
		{name: "podmemory", fault: studiosim.Fault{Kind: "pod_memory", Rate: 0.95},
			check: "Pod memory of limit", headline: []string{"of its memory limit", "95"}},
		{name: "podcpu", fault: studiosim.Fault{Kind: "pod_cpu", Rate: 0.98},
			check: "Pod CPU of limit", headline: []string{"of its CPU limit", "throttled"}},
		{name: "healthy", db: true},
	}
	jobs := map[string]string{}
	sims := map[string]*stacktest.Sim{}
	redisOf := map[string]string{}
	for _, c := range cases {
		if c.redis {
			addr, _ := stacktest.StartRedis(t)
			redisOf[c.name] = addr
		}
		sims[c.name] = stacktest.StartSimWith(t, 15, studiosim.Options{RedisAddr: redisOf[c.name]})
		jobs["sim-"+c.name] = sims[c.name].Addr
	}
	prom := stacktest.StartPrometheus(t, jobs)
	for _, c := range cases {
		if c.fault.Kind != "" {
			if _, err := sims[c.name].Client.Inject(context.Background(), c.fault); err != nil {
				t.Fatalf("inject %s: %v", c.name, err)
			}
		}
		if c.redis {
			limitRedis(t, redisOf[c.name])
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := simConfig(sims[c.name], "sim-"+c.name, prom.URL, c.db)
			cfg.Services[0].Redis.Addr = redisOf[c.name]
			if c.fault.Kind == "" {
				checkHealthy(t, cfg)
				return
			}
			want := c.status
			if want == probes.OK {
				want = probes.Crit
			}
			var rep handlers.Report
			stacktest.Eventually(t, 120*time.Second, 2*time.Second, func() bool {
				rep = assess(t, cfg)
				f, ok := find(rep, c.check, c.subject)
				return ok && f.Status >= want && headlineSays(rep.Headline, c.headline)
			}, "no %s %q finding with a headline saying %q; last report:\n%s", want, c.check, c.headline, lazy(func() string { return rep.Headline + "\n" + findingMessages(rep) }))
			f, _ := find(rep, c.check, c.subject)
			if f.Threshold > 0 && f.Value <= f.Threshold {
				t.Errorf("finding value %v does not exceed its threshold %v", f.Value, f.Threshold)
			}
			if rep.Status != probes.Crit {
				t.Errorf("report status = %s, want CRIT", rep.Status)
			}
			t.Logf("%s: %s", c.name, rep.Headline)
		})
	}
}

// simConfig is the service config for one simulator: its job, its pods, and its database if asked.
func simConfig(sim *stacktest.Sim, job, promURL string, db bool) *config.Config {
	cfg := stacktest.ServiceConfig(job, promURL, sim.URL)
	cfg.Services[0].Prometheus.PodSelector = fmt.Sprintf(`namespace=%q, pod=~"%s-.*"`, sim.Namespace, sim.Deployment)
	if db {
		cfg.Services[0].Postgres.DSN = sim.DSN
	}
	return cfg
}

// limitRedis sets maxmemory just above what the Redis at addr holds now, with noeviction: the
// state of a cache that has filled up, where the next writes fail with OOM.
func limitRedis(t *testing.T, addr string) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	var used int64
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			used, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used+used/50, 10)).Err(); err != nil {
		t.Fatal(err)
	}
}

func headlineSays(h string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(h, p) {
			return false
		}
	}
	return true
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
		if f.Status >= probes.Warn {
			t.Errorf("healthy simulator has a %s finding: %s %s: %s", f.Status, f.Check, f.Subject, f.Message)
		}
	}
	if !strings.HasPrefix(rep.Headline, "OK") {
		t.Errorf("headline = %q, want OK", rep.Headline)
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

// lazy formats as what its function returns when the message is printed, not when it is passed.
type lazy func() string

func (l lazy) String() string { return l() }
