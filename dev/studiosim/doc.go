// Package studiosim is a small, real stand-in for agentic-studio: an HTTP API backed by
// PostgreSQL and Redis, a simulated CrewAI crew calling a simulated OpenAI, the runbook's
// Prometheus metrics, log lines the logs probe reads, a built-in steady load, and an admin API
// that injects real faults and clears them.
//
// # Endpoints
//
//	GET  /api/ideas          best open ideas of a category: a sequential scan (ideas.category has
//	                         no index) plus a per-category summary cached in Redis
//	GET  /api/projects       most viewed projects, then UPDATE of one project's view count
//	POST /api/agents/run     records an agent_runs row and starts a crew (researcher, writer,
//	                         reviewer); 202 at once, or 200 with the outcome with ?wait=true
//	GET  /health/detailed    database and Redis checked actively, OpenAI from its recent calls;
//	                         status healthy, degraded (200) or unhealthy (503)
//	GET  /metrics            http_request_duration_seconds, http_requests_total,
//	                         crewai_tasks_total, crewai_task_duration_seconds, ai_api_calls_total,
//	                         openai_api_duration_seconds, openai_api_errors_total, db_pool_*,
//	                         studiosim_*, process_* and go_*, and per simulated pod (see
//	                         below) the cAdvisor and kube-state-metrics resource series
//	POST   /admin/faults       inject: 201 with the fault and its id, 400 on bad input
//	GET    /admin/faults       list: {"faults": [...]}
//	DELETE /admin/faults/{id}  clear one: 204, or 404
//	DELETE /admin/faults       clear all: 204
//
// # Faults
//
// Each fault is real: it changes what the process, PostgreSQL or Redis actually do.
//
//	{"kind":"latency","endpoint":"/api/ideas","delay":"800ms"}  sleep in that handler
//	{"kind":"errors","endpoint":"/api/ideas","rate":0.2}        that fraction answers 500
//	{"kind":"slow_sql","endpoint":"/api/ideas","seconds":1.5}   the query runs pg_sleep; no endpoint: all
//	{"kind":"lock","table":"projects"}                          a session holds every projects row lock
//	{"kind":"idle_in_tx","connections":3}                       pool connections idle in transaction
//	{"kind":"redis_memory","mb":256}                            keys studiosim:fill:<id>:<n>, 1 MB each
//	{"kind":"openai_latency","delay":"3s"}                      added to every OpenAI call
//	{"kind":"openai_429","rate":0.5}                            that fraction of calls answer 429
//	{"kind":"crewai_failures","rate":0.3}                       that fraction of agent tasks fail
//	{"kind":"crewai_failures","rate":1,"agent":"writer"}        only the writer's tasks fail
//	{"kind":"memory_growth","mb_per_sec":20,"max_mb":512}       the process retains touched memory
//	{"kind":"pod_memory","pod":1,"rate":0.95}                   that pod's working set at 95 % of its limit
//	{"kind":"pod_cpu","rate":0.98}                              every pod at 98 % of its CPU limit, throttled
//
// The database faults behave as they would in the real app: a lock, slow SQL or hogged
// connections hold pool connections, and once the pool (-pool) is exhausted every endpoint
// waits for a connection and fails with `database connection timeout` (503).
//
// # Simulated pods
//
// The simulator reports itself as a Deployment's pods (Options.Namespace, Deployment, Pods;
// by default 3 pods in namespace default with 512 MiB and 0.5 cores each), one container
// "app" per pod, the way the kubelet's cAdvisor and kube-state-metrics expose them:
//
//	container_memory_working_set_bytes{namespace,pod,container}         33-43 % of the limit (34/38/42 % ±1 %)
//	container_cpu_usage_seconds_total{namespace,pod,container}          rises at 10-30 % of the limit,
//	                                                                    a little more under traffic
//	container_spec_memory_limit_bytes{namespace,pod,container}
//	container_spec_cpu_quota, container_spec_cpu_period                 quota/period = CPU limit in cores
//	container_cpu_cfs_periods_total, container_cpu_cfs_throttled_periods_total
//	                                                                    10 periods/s; throttled above 85 %
//	kube_pod_container_resource_limits{namespace,pod,container,resource="memory",unit="byte"}
//	kube_pod_container_resource_limits{namespace,pod,container,resource="cpu",unit="core"}
//
// pod_memory and pod_cpu move these series only: the process itself does not grow or spin.
//
// # Log lines
//
// One line per event, `2026-11-26T19:46:58.123Z LEVEL message key=value ...` (see LineHandler):
//
//	ERROR request failed endpoint=/api/ideas status=500 method=GET duration=12.3ms error=...
//	WARN slow query duration=1.203s table=ideas endpoint=/api/ideas
//	ERROR database connection timeout endpoint=/api/ideas table=ideas waited=3s pool_size=10
//	ERROR database query timeout endpoint=/api/projects table=projects waited=15s
//	WARN openai rate limit hit status=429 agent=writer model=gpt-4o retry_after=1s
//	ERROR openai request timeout agent=writer model=gpt-4o waited=30s
//	ERROR crewai task failed agent=writer run_id=42 error=...
//	WARN fault injected id=... kind=lock table=projects
package studiosim
