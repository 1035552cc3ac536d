package incidents

import (
	"fmt"
	"strings"
)

// preventionRule suggests a prevention measure when a finding's text matches any of its words.
type preventionRule struct {
	words   []string
	suggest func(inc Incident, f Finding) string
}

// preventionRules follow the runbook's solutions for each kind of problem.
var preventionRules = []preventionRule{
	{[]string{"missing index", "missing-index", "sequential scan", "seq scan", "seq_scan"}, func(_ Incident, f Finding) string {
		return fmt.Sprintf("Add the missing index%s with `CREATE INDEX CONCURRENTLY` in a migration, and check new queries' plans (`EXPLAIN ANALYZE`) in database migration reviews.", on(f.Subject))
	}},
	{[]string{"latency", "p95", "response time"}, func(inc Incident, _ Finding) string {
		return fmt.Sprintf("Define a latency SLO for %s and alert on p95 latency (runbook trigger: p95 > 500 ms) before users notice; add load tests for the slow endpoints to CI.", svc(inc))
	}},
	{[]string{"error rate", "5xx", "errors"}, func(_ Incident, _ Finding) string {
		return "Add circuit breakers and retries with exponential backoff around failing dependencies, better error handling, and an alert on error rate > 1 %."
	}},
	{[]string{"oom", "memory"}, func(_ Incident, f Finding) string {
		return fmt.Sprintf("Set memory requests and limits%s from observed usage, look for leaks (release connections and large objects), and alert at 85 %% memory.", on(f.Subject))
	}},
	{[]string{"cpu"}, func(_ Incident, f Finding) string {
		return fmt.Sprintf("Configure autoscaling on CPU%s and alert at 80 %% CPU; plan capacity from load tests.", on(f.Subject))
	}},
	{[]string{"connection", "pool"}, func(_ Incident, _ Finding) string {
		return "Tune the database connection pool (size, overflow, timeout) and alert when active connections approach the pool size."
	}},
	{[]string{"lock", "blocking"}, func(_ Incident, _ Finding) string {
		return "Set `lock_timeout` and `statement_timeout` for application sessions and keep transactions short, so one query cannot block the rest."
	}},
	{[]string{"slow quer", "query time", "long-running", "long running", "slow statement"}, func(_ Incident, f Finding) string {
		return fmt.Sprintf("Review the slowest statements%s from `pg_stat_statements` with `EXPLAIN ANALYZE`, keep statistics fresh (`ANALYZE`), and cache query results where possible.", on(f.Subject))
	}},
	{[]string{"cache hit"}, func(_ Incident, _ Finding) string {
		return "Find what reads cold data (cache hit ratio fell); size `shared_buffers` for the working set and alert when the hit ratio drops."
	}},
	{[]string{"redis", "eviction", "maxmemory"}, func(_ Incident, _ Finding) string {
		return "Size Redis `maxmemory` for the working set, choose an eviction policy deliberately, and alert on evictions."
	}},
	{[]string{"openai", "ai api", "rate limit", "rate-limit"}, func(_ Incident, _ Finding) string {
		return "Protect the AI provider calls: client-side rate limiting, caching of similar requests, retries with backoff, and a fallback model."
	}},
	{[]string{"crewai", "agent", "task"}, func(_ Incident, _ Finding) string {
		return "Optimise agent prompts and crew workflows, run independent tasks in parallel, and use smaller models where they suffice."
	}},
}

// actionPrevention suggests a measure for each kind of change made during the incident.
var actionPrevention = map[string]func(a pmAction) string{
	"scale": func(a pmAction) string {
		return fmt.Sprintf("Configure autoscaling (a HorizontalPodAutoscaler)%s so it scales without a manual, approved change next time.", on(a.Target))
	},
	"limits": func(a pmAction) string {
		return fmt.Sprintf("Make the resource limits changed during the incident%s permanent in the deployment manifests, and review them against usage.", on(a.Target))
	},
	"index": func(a pmAction) string {
		return fmt.Sprintf("Add the index created during the incident%s to the schema migrations so every environment has it.", on(a.Target))
	},
	"analyze": func(a pmAction) string {
		return fmt.Sprintf("Tune autovacuum/autoanalyze%s so statistics stay fresh without a manual `ANALYZE`.", on(a.Target))
	},
	"cancel": func(_ pmAction) string {
		return "Set `statement_timeout` so runaway queries end on their own instead of needing a manual cancel."
	},
}

// prevention suggests measures from the ranked findings and the actions taken, each once.
func prevention(inc Incident, findings []rankedFinding, acts []pmAction) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, f := range findings {
		text := strings.ToLower(f.Check + " " + f.Message)
		for _, r := range preventionRules {
			if containsAny(text, r.words) {
				add(r.suggest(inc, f.Finding))
				break
			}
		}
	}
	for _, a := range acts {
		if s, ok := actionPrevention[a.Action]; ok && a.Outcome == "executed" {
			add(s(a))
		}
	}
	return out
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func on(subject string) string {
	if subject == "" {
		return ""
	}
	return " on " + code(subject)
}

func svc(inc Incident) string {
	if inc.Service == "" {
		return "the service"
	}
	return code(inc.Service)
}
