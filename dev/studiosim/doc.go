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
//	                         studiosim_*, process_* and go_*
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
//	{"kind":"memory_growth","mb_per_sec":20,"max_mb":512}       the process retains touched memory
//
// The database faults behave as they would in the real app: a lock, slow SQL or hogged
// connections hold pool connections, and once the pool (-pool) is exhausted every endpoint
// waits for a connection and fails with `database connection timeout` (503).
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
