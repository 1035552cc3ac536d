package pg

// The SQL the PostgreSQL probe runs, one statement per diagnostic, all read-only and correct for
// PostgreSQL 13 and later. Queries about sessions are limited to the current database (the service's)
// and never list the probe's own backend.

// sqlConnections counts client backends server-wide against max_connections, since that limit is
// server-wide; "active" is the runbook's `state = 'active'` count.
const sqlConnections = `
SELECT count(*) FILTER (WHERE state = 'active')                       AS active,
       count(*)                                                        AS total,
       count(*) FILTER (WHERE datname = current_database())            AS in_db,
       current_setting('max_connections')::int                         AS max_conn,
       current_setting('superuser_reserved_connections')::int          AS reserved
FROM pg_stat_activity
WHERE backend_type = 'client backend'`

// sqlLongQueries lists statements running longer than $1 seconds (the runbook's query, minus the
// probe itself).
const sqlLongQueries = `
SELECT pid,
       extract(epoch FROM now() - query_start)::float8 AS secs,
       coalesce(state, ''), coalesce(wait_event_type || ':' || wait_event, ''),
       coalesce(query, '')
FROM pg_stat_activity
WHERE datname = current_database()
  AND pid <> pg_backend_pid()
  AND state = 'active'
  AND backend_type = 'client backend'
  AND now() - query_start > make_interval(secs => $1)
ORDER BY query_start
LIMIT 20`

// sqlLocks lists who blocks whom with pg_blocking_pids(), which, unlike the runbook's pg_locks
// self-join, also sees lock queues and parallel workers. How long the blocked session has waited
// comes from pg_locks.waitstart (PostgreSQL 14+); it is read through to_jsonb so the statement still
// parses on 13, where the statement's start is the best bound there is.
const sqlLocks = `
SELECT blocked.pid,
       b.pid, -- 0 for a prepared transaction, which has no session
       coalesce(blocked.query, ''),
       coalesce(blocker.query, ''),
       coalesce(blocker.state, ''),
       extract(epoch FROM now() - coalesce(
           (SELECT min((to_jsonb(l) ->> 'waitstart')::timestamptz)
              FROM pg_locks l WHERE l.pid = blocked.pid AND NOT l.granted),
           blocked.query_start))::float8 AS waited
FROM pg_stat_activity blocked
CROSS JOIN LATERAL unnest(pg_blocking_pids(blocked.pid)) AS b(pid)
LEFT JOIN pg_stat_activity blocker ON blocker.pid = b.pid
WHERE blocked.datname = current_database()
  AND blocked.wait_event_type = 'Lock'
  AND blocked.pid <> pg_backend_pid()
ORDER BY waited DESC
LIMIT 20`

// sqlIdleInTx lists sessions holding a transaction open while doing nothing, oldest first.
const sqlIdleInTx = `
SELECT pid,
       extract(epoch FROM now() - xact_start)::float8   AS xact_secs,
       extract(epoch FROM now() - state_change)::float8 AS idle_secs,
       state,
       coalesce(query, '')
FROM pg_stat_activity
WHERE datname = current_database()
  AND state IN ('idle in transaction', 'idle in transaction (aborted)')
  AND pid <> pg_backend_pid()
ORDER BY xact_start
LIMIT 20`

// sqlCacheHit reads the block counters of the current database and of its user tables' heaps.
// The ratio is computed in Go as hit / (hit + read).
const sqlCacheHit = `
SELECT current_database(),
       d.blks_hit, d.blks_read,
       coalesce((SELECT sum(heap_blks_hit)  FROM pg_statio_user_tables), 0)::int8,
       coalesce((SELECT sum(heap_blks_read) FROM pg_statio_user_tables), 0)::int8
FROM pg_stat_database d
WHERE d.datname = current_database()`

// sqlStatementsSchema finds the schema pg_stat_statements is installed in, if it is installed in the
// current database at all.
const sqlStatementsSchema = `
SELECT current_database(),
       (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_stat_statements')`

// sqlSlowStatements is formatted with the quoted schema-qualified view name. It orders by
// mean_exec_time: the runbook's mean_time is the name before PostgreSQL 13 (pg_stat_statements 1.8).
const sqlSlowStatements = `
SELECT s.calls, s.mean_exec_time, s.total_exec_time, s.rows, coalesce(s.query, ''), coalesce(s.queryid, 0)
FROM %s s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.calls > 0
ORDER BY s.mean_exec_time DESC
LIMIT 10`

// sqlMissingIndexes lists large user tables read mostly by sequential scans: at least $1 live rows,
// at least $2 sequential scans, more sequential than index scans, and at least $1 * $2 rows read by them.
const sqlMissingIndexes = `
SELECT schemaname, relname, n_live_tup, seq_scan, seq_tup_read, coalesce(idx_scan, 0)
FROM pg_stat_user_tables
WHERE n_live_tup >= $1
  AND seq_scan >= $2
  AND seq_scan > coalesce(idx_scan, 0)
  AND seq_tup_read >= $1::int8 * $2::int8
ORDER BY seq_tup_read DESC
LIMIT 10`

// sqlLongestActive is the service's statement that has been running longest right now (the runbook's
// "Database query time > 1s" trigger, as it stands at this moment rather than averaged since
// statistics began). It is measured with clock_timestamp(): now() is the probe transaction's start,
// which can be later than a statement that began a moment ago. Sessions of the applications in $1
// (LIKE patterns: maintenance, backups, perfbot itself) and maintenance statements are not the
// service's queries. A statement waiting for a lock names the sessions that block it.
const sqlLongestActive = `
SELECT pid, extract(epoch FROM clock_timestamp() - query_start)::float8 AS secs, coalesce(query, ''),
       coalesce(wait_event_type, ''), pg_blocking_pids(pid)
FROM pg_stat_activity
WHERE datname = current_database()
  AND pid <> pg_backend_pid()
  AND state = 'active'
  AND backend_type = 'client backend'
  AND NOT (coalesce(application_name, '') LIKE ANY ($1::text[]))
  AND query !~* '^\s*(create\s+(unique\s+)?index|reindex|vacuum|analyze|cluster|refresh\s+materialized)'
ORDER BY query_start
LIMIT 1`

// sqlLockEdges lists every wait for a lock in the database as (waiter, blocker, seconds waited),
// the graph from which the root blockers are found.
const sqlLockEdges = `
SELECT w.pid, b.pid,
       extract(epoch FROM clock_timestamp() - coalesce(
           (SELECT min((to_jsonb(l) ->> 'waitstart')::timestamptz)
              FROM pg_locks l WHERE l.pid = w.pid AND NOT l.granted),
           w.query_start))::float8 AS waited
FROM pg_stat_activity w
CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid)
WHERE w.datname = current_database()
  AND w.wait_event_type = 'Lock'
  AND w.pid <> pg_backend_pid()`

// sqlSessions describes the sessions with the given pids: who they are, what they run, and for how
// long their transaction has been open (measured with clock_timestamp(), not the probe's own
// transaction start).
const sqlSessions = `
SELECT pid, coalesce(application_name, ''), coalesce(state, ''),
       coalesce(extract(epoch FROM clock_timestamp() - coalesce(xact_start, query_start))::float8, 0),
       coalesce(query, '')
FROM pg_stat_activity
WHERE pid = ANY($1)`
