package config

import "time"

// Default returns the configuration perfbot uses for the local stack, when there is no configuration
// file: agentic-studio, the stack's Prometheus and health endpoint, and the runbook's thresholds.
func Default() *Config {
	c := &Config{Services: []Service{{Name: "agentic-studio",
		Prometheus: Prometheus{URL: "http://127.0.0.1:19090"},
		HealthURL:  "http://127.0.0.1:18000/health/detailed"}}}
	c.ApplyDefaults()
	return c
}

// ApplyDefaults fills every unset field that has a sensible default. It is the one place defaults live.
// Where a service is and what it is called have none: a service's name and Prometheus URL must be
// set (Validate says so), and its health URL is optional.
func (c *Config) ApplyDefaults() {
	for i := range c.Services {
		c.Services[i].applyDefaults()
	}
	def(&c.Commands.Deadline, Duration(8*time.Second))
	def(&c.Commands.ProbeTimeout, Duration(4*time.Second))
	def(&c.HTTP.Listen, "127.0.0.1:18081")
	def(&c.Slack.Workers, 16)
	def(&c.State.PostgresDSN, "postgres://postgres@127.0.0.1:5432/perfbot?sslmode=disable")
	def(&c.State.RedisAddr, "127.0.0.1:6379")
	def(&c.State.ShareProbes, ShareRedis)
	def(&c.State.WorkLease, Duration(20*time.Second))
	def(&c.TimeZone, "UTC")
	def(&c.Actions.Expiry, Duration(15*time.Minute))
	def(&c.Actions.ShutdownWait, Duration(20*time.Second))
	def(&c.Actions.RolloutWait, Duration(3*time.Minute))
	if c.Actions.Deadlines == nil {
		c.Actions.Deadlines = map[string]Duration{}
	}
	for kind, d := range DefaultActionDeadlines {
		if c.Actions.Deadlines[kind] == 0 {
			c.Actions.Deadlines[kind] = d
		}
	}
	if len(c.Incidents.MayResolve) == 0 {
		c.Incidents.MayResolve = []string{MayResolveResponders, MayResolveOnCall}
	}
	if len(c.Incidents.Levels) == 0 {
		c.Incidents.Levels = []EscalationLevel{
			{Name: "Level 1: developer on-call", After: 0},
			{Name: "Level 2: senior engineer", After: Duration(30 * time.Minute)},
			{Name: "Level 3: engineering manager", After: Duration(60 * time.Minute)},
		}
	}
	c.applyPeopleDefaults()
}

func (s *Service) applyDefaults() {
	if s.Name != "" {
		def(&s.Prometheus.Selector, `job="`+s.Name+`"`)
	}
	def(&s.Prometheus.NodeSelector, `job="node"`)
	def(&s.Prometheus.Window, Duration(5*time.Minute))
	m := &s.Metrics
	def(&m.RequestDuration, "http_request_duration_seconds")
	def(&m.RequestsTotal, "http_requests_total")
	def(&m.StatusLabel, "status")
	def(&m.EndpointLabel, "endpoint")
	def(&m.CrewTasksTotal, "crewai_tasks_total")
	def(&m.CrewTaskDuration, "crewai_task_duration_seconds")
	def(&m.AgentLabel, "agent")
	def(&m.AICallsTotal, "ai_api_calls_total")
	def(&m.ProviderLabel, "provider")
	def(&m.OpenAIDuration, "openai_api_duration_seconds")
	def(&m.OpenAIErrorsTotal, "openai_api_errors_total")
	def(&s.Kubernetes.Namespace, "agentic-studio")
	def(&s.Kubernetes.Deployment, s.Name)
	def(&s.Kubernetes.Container, "app")
	def(&s.Postgres.LongQuery, Duration(5*time.Minute))
	def(&s.Postgres.SeqScanMinRows, 10000)
	def(&s.Postgres.ConnectionsWarn, 0.80)
	def(&s.Postgres.ConnectionsCrit, 0.95)
	def(&s.Postgres.IdleInTransaction, Duration(30*time.Second))
	def(&s.Postgres.CacheHitWarn, 0.99)
	if s.Postgres.IgnoreApplications == nil {
		s.Postgres.IgnoreApplications = []string{"perfbot", "pg_dump", "pg_basebackup", "pg_restore"}
	}
	def(&s.Redis.MemoryWarn, 0.85)
	def(&s.Redis.MemoryCrit, 0.95)
	def(&s.Redis.SlowCommand, Duration(10*time.Millisecond))
	def(&s.Prometheus.PodSelector, `namespace="`+s.Kubernetes.Namespace+`", pod=~"`+s.Kubernetes.Deployment+`-[a-z0-9]+-[a-z0-9]+"`)
	t := &s.Thresholds
	def(&t.P95Latency, Duration(500*time.Millisecond))
	def(&t.ErrorRate, 0.01)
	def(&t.DBQueryTime, Duration(time.Second))
	def(&t.MemoryUsage, 0.85)
	def(&t.CPUUsage, 0.80)
	def(&t.CrewAIErrors, 0.05)
	def(&t.OpenAIP95, Duration(10*time.Second))
	def(&t.MinRequests, 20)
	def(&s.Logs.Since, Duration(time.Hour))
	if len(s.Logs.Patterns) == 0 {
		s.Logs.Patterns = []Pattern{
			{Name: "errors", Regex: `ERROR`},
			{Name: "timeout/connection/memory", Regex: `(?i)(timeout|connection|memory)`},
			{Name: "slow query", Regex: `(?i)slow query`},
			{Name: "rate limit", Regex: `(?i)rate limit`},
		}
	}
}

func def[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
