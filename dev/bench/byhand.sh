#!/usr/bin/env bash
# The runbook's initial assessment done by hand: its own commands (curl to Prometheus, psql,
# redis-cli, kubectl) for the checks /perf assess makes, one after another, against the same stack.
# PROM, HEALTH, DATABASE_URL, REDIS (host:port), KUBECONFIG and NS come from the environment.
set -uo pipefail
q() { curl -sfG "$PROM/api/v1/query" --data-urlencode "query=$1" >/dev/null; }
qr() {
  local end start
  end=$(date +%s)
  start=$((end - 1800))
  curl -sfG "$PROM/api/v1/query_range" --data-urlencode "query=$1" \
    --data-urlencode "start=$start" --data-urlencode "end=$end" --data-urlencode step=15s >/dev/null
}
sel='job="agentic-studio"'
# 1. system health
kubectl get pods -A >/dev/null
curl -sf "$HEALTH" >/dev/null
q up
# step 1: application layer
qr "histogram_quantile(0.95, sum by (endpoint, le) (rate(http_request_duration_seconds_bucket{$sel}[5m])))"
q "sum by (endpoint) (rate(http_requests_total{$sel,status=~\"5..\"}[5m])) / sum by (endpoint) (rate(http_requests_total{$sel}[5m]))"
q "topk(10, sum by (endpoint) (rate(http_request_duration_seconds_sum{$sel}[5m])) / sum by (endpoint) (rate(http_request_duration_seconds_count{$sel}[5m])))"
kubectl -n "$NS" logs deployment/agentic-studio --since=1h 2>/dev/null | grep -cE "ERROR|timeout|connection|memory|slow query" >/dev/null
q "sum by (agent) (rate(crewai_tasks_total{$sel,status=\"error\"}[5m]))"
q "histogram_quantile(0.95, sum by (agent, le) (rate(crewai_task_duration_seconds_bucket{$sel}[5m])))"
q "sum by (provider) (rate(ai_api_calls_total{$sel}[5m]))"
# step 2: database layer
psql -X -q "$DATABASE_URL" -c "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'" \
  -c "SELECT pid, now() - query_start AS duration, query FROM pg_stat_activity WHERE state <> 'idle' AND now() - query_start > interval '5 minutes'" \
  -c "SELECT blocked.pid, blocking.pid FROM pg_stat_activity blocked JOIN pg_stat_activity blocking ON blocking.pid = ANY(pg_blocking_pids(blocked.pid))" \
  -c "SELECT max_conn.setting::int, count(*) FROM pg_stat_activity, (SELECT setting FROM pg_settings WHERE name = 'max_connections') max_conn GROUP BY 1" >/dev/null
q pg_stat_database_numbackends
# step 3: infrastructure and Redis
kubectl -n "$NS" get pods -o wide >/dev/null
kubectl -n "$NS" describe pods 2>/dev/null | grep -A5 "Limits\|Requests" >/dev/null
kubectl get events -A --field-selector reason=OOMKilled >/dev/null
redis-cli -h "${REDIS%:*}" -p "${REDIS#*:}" info memory >/dev/null
redis-cli -h "${REDIS%:*}" -p "${REDIS#*:}" info commandstats >/dev/null
redis-cli -h "${REDIS%:*}" -p "${REDIS#*:}" slowlog get 10 >/dev/null
# recent changes: the deployment's rollout history
kubectl -n "$NS" rollout history deployment/agentic-studio >/dev/null
