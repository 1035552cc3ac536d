package probes

// Registry names every probe perfbot has, in one explicit table (no self-registration).
// Handlers pick probes from it by name.
func Registry() map[string]Probe {
	list := []Probe{
		{Name: "health", Title: "Health endpoint", Needs: NeedsHTTP, Run: Health},
		{Name: "targets", Title: "Scrape targets", Needs: NeedsPrometheus, Run: Targets},
		{Name: "api_latency", Title: "API p95 latency", Needs: NeedsPrometheus, Run: APILatency},
		{Name: "api_errors", Title: "Error rate", Needs: NeedsPrometheus, Run: APIErrors},
		{Name: "slow_endpoints", Title: "Slow endpoints", Needs: NeedsPrometheus, Run: SlowEndpoints},
		{Name: "scope", Title: "Scope", Needs: NeedsPrometheus, Run: Scope},
		{Name: "crewai", Title: "CrewAI tasks", Needs: NeedsPrometheus, Run: CrewAI},
		{Name: "ai", Title: "AI APIs", Needs: NeedsPrometheus, Run: AI},
		{Name: "node", Title: "Node resources", Needs: NeedsPrometheus, Run: Node},
		{Name: "process_memory", Title: "Service memory", Needs: NeedsPrometheus, Run: ProcessMemory},
		{Name: "postgres", Title: "PostgreSQL", Needs: NeedsPostgres, Run: Postgres},
		{Name: "db_query_time", Title: "DB query time", Needs: NeedsPostgres, Run: PGQueryTime},
		{Name: "redis", Title: "Redis", Needs: NeedsRedis, Run: Redis},
		{Name: "kube_pods", Title: "Pods", Needs: NeedsKube, Run: KubePods},
		{Name: "kube_changes", Title: "Recent changes", Needs: NeedsKube, Run: KubeChanges},
		{Name: "kube_resources", Title: "Requests and limits", Needs: NeedsKube, Run: KubeResources},
		{Name: "logs", Title: "Logs", Needs: NeedsKube, Run: Logs},
	}
	m := make(map[string]Probe, len(list))
	for _, p := range list {
		m[p.Name] = p
	}
	return m
}
