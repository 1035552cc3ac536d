// Package pg holds the PostgreSQL probes: every diagnostic of `/perf db` in one read-only
// transaction, and the runbook's "DB query time" trigger.
package pg

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// The PostgreSQL probe's own limits. Thresholds that vary by service live in config.Service.
const (
	// CacheMinBlocks is how many block accesses a database needs before its hit ratio means anything.
	CacheMinBlocks = 10000
	// SeqScanMinScans is how many sequential scans a large table needs to be a missing-index candidate.
	SeqScanMinScans = 10

	pgDefaultTimeout = 10 * time.Second      // statement_timeout when ctx has no deadline
	pgTimeoutMargin  = 50 * time.Millisecond // statement_timeout fires this long before ctx does
)

// pgCheck is one diagnostic run inside the probe's read-only transaction; it adds to r.
type pgCheck struct {
	name string
	run  func(ctx context.Context, tx pgx.Tx, env *probes.Env, r *probes.Result) error
}

var (
	checkConnections = pgCheck{"connections", pgConnections}
	checkLongQueries = pgCheck{"long queries", pgLongQueries}
	checkLocks       = pgCheck{"blocking locks", pgLocks}
	checkIdleInTx    = pgCheck{"idle in transaction", pgIdleInTx}
	checkCacheHit    = pgCheck{"cache hit ratio", pgCacheHit}
	checkStatements  = pgCheck{"slow statements", pgSlowStatements}
	checkQueryTime   = pgCheck{"query time", pgQueryTime}
	checkIndexes     = pgCheck{"missing indexes", pgMissingIndexes}
)

// Database is `/perf db`: every PostgreSQL diagnostic in one read-only transaction, merged into one Result.
// A diagnostic that fails (a missing privilege, say) becomes an UNKNOWN finding and the others still run.
var Database = probes.Probe{Name: "postgres", Title: "PostgreSQL", Needs: probes.NeedsPostgres, Run: database}

func database(ctx context.Context, env *probes.Env) (probes.Result, error) {
	return runPG(ctx, env, "postgres", "PostgreSQL", checkConnections, checkQueryTime, checkLongQueries, checkLocks,
		checkIdleInTx, checkCacheHit, checkStatements, checkIndexes)
}

// QueryTime is the runbook's trigger "Database query time > 1s": the statement running longest now is
// CRIT past the threshold. (Means since statistics began are /perf db's business: they stay high long
// after a slow spell has ended.)
var QueryTime = probes.Probe{Name: "db_query_time", Title: "DB query time", Needs: probes.NeedsPostgres, Run: queryTime}

func queryTime(ctx context.Context, env *probes.Env) (probes.Result, error) {
	return runPG(ctx, env, "postgres.query_time", "DB query time", checkQueryTime)
}

// Sessions is the assessment's view of the database's sessions: connections against max_connections,
// transactions held open and idle, and who blocks whom down to the root blocker. These are causes
// the runbook's Issue 3 names (connection pool exhaustion, locks), so /perf assess needs them, not
// only /perf db.
var Sessions = probes.Probe{Name: "db_sessions", Title: "DB sessions and locks", Needs: probes.NeedsPostgres, Run: sessions}

func sessions(ctx context.Context, env *probes.Env) (probes.Result, error) {
	return runPG(ctx, env, "postgres.sessions", "DB sessions and locks", checkConnections, checkIdleInTx, checkLocks)
}

// runPG runs checks in one read-only transaction. With several checks each runs under a savepoint,
// so one failing statement does not abort the rest. Past ctx's deadline it returns what it has and the error.
func runPG(ctx context.Context, env *probes.Env, name, title string, checks ...pgCheck) (probes.Result, error) {
	r := probes.Result{Probe: name, Title: title}
	if env == nil || env.Postgres == nil {
		return r, probes.ErrNotConfigured
	}
	tx, err := beginReadOnly(ctx, env.Postgres)
	if err != nil {
		return r, fmt.Errorf("postgres: begin read-only transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // read-only: nothing to commit
	var summary []string
	for _, c := range checks {
		if err := runCheck(ctx, tx, env, &r, c, len(checks) > 1); err != nil {
			if ctx.Err() != nil || len(checks) == 1 {
				r.Summary = strings.Join(summary, "; ")
				return r, fmt.Errorf("postgres %s: %w", c.name, err)
			}
			r.Add(probes.Finding{Check: "DB " + c.name, Status: probes.Unknown, Message: "could not check " + c.name + ": " + err.Error()})
		}
		if s := r.Summary; s != "" {
			summary = append(summary, s)
			r.Summary = ""
		}
	}
	r.Summary = strings.Join(summary, "; ")
	return r, nil
}

func runCheck(ctx context.Context, tx pgx.Tx, env *probes.Env, r *probes.Result, c pgCheck, savepoint bool) error {
	if !savepoint {
		return c.run(ctx, tx, env, r)
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := c.run(ctx, sp, env, r); err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	return sp.Commit(ctx)
}

// beginReadOnly starts `BEGIN READ ONLY` and, in the same round trip, SET LOCAL statement_timeout and
// lock_timeout to what is left of ctx's deadline (minus a margin), so the server gives up before we do.
func beginReadOnly(ctx context.Context, pool *pgxpool.Pool) (pgx.Tx, error) {
	timeout := pgDefaultTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d)-pgTimeoutMargin, 10*time.Millisecond)
	}
	ms := strconv.FormatInt(timeout.Milliseconds(), 10)
	return pool.BeginTx(ctx, pgx.TxOptions{
		AccessMode: pgx.ReadOnly,
		// BeginQuery overrides the options above; it is one simple-protocol round trip.
		BeginQuery: "BEGIN READ ONLY; SET LOCAL statement_timeout = " + ms + "; SET LOCAL lock_timeout = " + ms,
	})
}

func pgPID(p int32) string { return strconv.FormatInt(int64(p), 10) }

func pgConnections(ctx context.Context, tx pgx.Tx, env *probes.Env, r *probes.Result) error {
	var active, total, inDB, maxConn, reserved int64
	if err := tx.QueryRow(ctx, sqlConnections).Scan(&active, &total, &inDB, &maxConn, &reserved); err != nil {
		return err
	}
	usage := float64(total) / float64(max(maxConn, 1))
	pc := env.Service.Postgres
	st, th := probes.LevelStatus(usage, pc.ConnectionsWarn, pc.ConnectionsCrit)
	r.Add(probes.Finding{Check: "DB connections", Signal: probes.SigDBConnections, Status: st, Value: 100 * usage, Threshold: 100 * th, Unit: "%",
		Message: fmt.Sprintf("%d of max_connections %d in use (%.0f %%; %d reserved for superusers), %d active, %d to this database",
			total, maxConn, 100*usage, reserved, active, inDB)})
	r.Summary = fmt.Sprintf("%d/%d connections (%d active)", total, maxConn, active)
	return nil
}

func pgLongQueries(ctx context.Context, tx pgx.Tx, env *probes.Env, r *probes.Result) error {
	limit := env.Service.Postgres.LongQuery.D()
	rows, err := tx.Query(ctx, sqlLongQueries, limit.Seconds())
	if err != nil {
		return err
	}
	t := probes.Table{Title: "Long-running queries (> " + limit.String() + ")", Columns: []string{"pid", "running", "state", "wait", "query"}}
	longest := 0.0
	var p int32
	var secs float64
	var state, wait, query string
	_, err = pgx.ForEachRow(rows, []any{&p, &secs, &state, &wait, &query}, func() error {
		longest = max(longest, secs)
		t.Rows = append(t.Rows, []string{pgPID(p), textfmt.Seconds(secs), state, wait, probes.RedactSQL(query)})
		return nil
	})
	if err != nil {
		return err
	}
	f := probes.Finding{Check: "DB long-running queries", Value: longest, Threshold: limit.Seconds(), Unit: "s",
		Message: "no query has run longer than " + limit.String()}
	if n := len(t.Rows); n > 0 {
		f.Status = probes.Warn
		f.Message = fmt.Sprintf("%d queries running longer than %s, the longest for %s", n, limit, textfmt.Seconds(longest))
		r.Tables = append(r.Tables, t)
	}
	r.Add(f)
	r.Summary = fmt.Sprintf("%d long queries", len(t.Rows))
	return nil
}

func pgLocks(ctx context.Context, tx pgx.Tx, env *probes.Env, r *probes.Result) error {
	rows, err := tx.Query(ctx, sqlLocks)
	if err != nil {
		return err
	}
	t := probes.Table{Title: "Blocking locks", Columns: []string{"blocked", "blocking", "waited", "blocked statement", "blocking statement"}}
	limit := env.Service.Thresholds.DBQueryTime.D().Seconds()
	var blocked, blocking int32
	var blockedQ, blockingQ, blockingState string
	var waited float64
	_, err = pgx.ForEachRow(rows, []any{&blocked, &blocking, &blockedQ, &blockingQ, &blockingState, &waited}, func() error {
		t.Rows = append(t.Rows, []string{pgPID(blocked), pgPID(blocking), textfmt.Seconds(waited), probes.RedactSQL(blockedQ), probes.RedactSQL(blockingQ)})
		return nil
	})
	if err != nil {
		return err
	}
	edges, err := readLockEdges(ctx, tx)
	if err != nil {
		return err
	}
	trees := rootBlockers(edges)
	if len(t.Rows) == 0 && len(trees) == 0 {
		r.Add(probes.Finding{Check: "DB blocking locks", Signal: probes.SigDBLock, Threshold: limit, Unit: "s", Message: "no session is waiting for a lock"})
		r.Summary = "0 blocked"
		return nil
	}
	r.Tables = append(r.Tables, t)
	roots := make([]int32, 0, len(trees))
	for _, tr := range trees {
		roots = append(roots, tr.root)
	}
	who, err := readSessions(ctx, tx, roots)
	if err != nil {
		return err
	}
	for i, tr := range trees {
		if i == 3 {
			break
		}
		r.Add(rootBlockerFinding(tr, who[tr.root], limit))
	}
	if len(trees) == 0 { // waits in a cycle: the deadlock detector will break it
		r.Add(probes.Finding{Check: "DB blocking locks", Signal: probes.SigDBLock, Status: probes.Warn, Threshold: limit, Unit: "s",
			Message: fmt.Sprintf("%d sessions wait for each other's locks (a deadlock the server will break)", len(t.Rows))})
	}
	r.Summary = fmt.Sprintf("%d blocked", len(t.Rows))
	return nil
}

func pgIdleInTx(ctx context.Context, tx pgx.Tx, env *probes.Env, r *probes.Result) error {
	idleLimit := env.Service.Postgres.IdleInTransaction.D()
	rows, err := tx.Query(ctx, sqlIdleInTx)
	if err != nil {
		return err
	}
	t := probes.Table{Title: "Idle in transaction", Columns: []string{"pid", "in tx", "idle", "state", "last statement"}}
	oldest := 0.0
	var p int32
	var xact, idle float64
	var state, query string
	_, err = pgx.ForEachRow(rows, []any{&p, &xact, &idle, &state, &query}, func() error {
		oldest = max(oldest, xact)
		t.Rows = append(t.Rows, []string{pgPID(p), textfmt.Seconds(xact), textfmt.Seconds(idle), state, probes.RedactSQL(query)})
		return nil
	})
	if err != nil {
		return err
	}
	f := probes.Finding{Check: "DB idle in transaction", Signal: probes.SigDBIdleInTx, Value: oldest, Threshold: idleLimit.Seconds(), Unit: "s",
		Message: "no session is idle in a transaction"}
	if len(t.Rows) > 0 {
		r.Tables = append(r.Tables, t)
		f.Message = fmt.Sprintf("%d sessions idle in a transaction, the oldest open for %s", len(t.Rows), textfmt.Seconds(oldest))
		if oldest > idleLimit.Seconds() {
			f.Status = probes.Warn
			if len(t.Rows) >= 3 || oldest > 10*idleLimit.Seconds() {
				f.Status = probes.Crit // the pool is going, or a transaction holds its locks for minutes
			}
		}
	}
	r.Add(f)
	return nil
}

// pgCacheHit computes the share of block requests served from shared buffers: hit / (hit + read).
// The runbook's `(sum(heap_blks_hit) - sum(heap_blks_read)) / sum(heap_blks_hit)` is wrong: it is not
// a share of anything (50 hits and 50 reads give 0, not 0.5, and more reads than hits go negative),
// because reads belong in the denominator, not subtracted from the numerator.
func pgCacheHit(ctx context.Context, tx pgx.Tx, env *probes.Env, r *probes.Result) error {
	var db string
	var hit, read, heapHit, heapRead int64
	if err := tx.QueryRow(ctx, sqlCacheHit).Scan(&db, &hit, &read, &heapHit, &heapRead); err != nil {
		return err
	}
	t := probes.Table{Title: "Cache hit ratio", Columns: []string{"scope", "hit", "read", "ratio"}}
	for _, s := range []struct {
		name      string
		hit, read int64
	}{{"database " + db, hit, read}, {"table heaps", heapHit, heapRead}} {
		t.Rows = append(t.Rows, []string{s.name, strconv.FormatInt(s.hit, 10), strconv.FormatInt(s.read, 10), pgRatio(s.hit, s.read)})
	}
	r.Tables = append(r.Tables, t)
	f := probes.Finding{Check: "DB cache hit ratio", Signal: probes.SigDBCacheHit, LowerIsWorse: true, Subject: db,
		Threshold: 100 * env.Service.Postgres.CacheHitWarn, Unit: "%"}
	if hit+read == 0 {
		f.Message = "no blocks requested yet in " + db
		r.Add(f)
		return nil
	}
	f.Value = 100 * float64(hit) / float64(hit+read)
	f.Message = fmt.Sprintf("%.2f %% of %d block requests served from shared buffers since the statistics were reset", f.Value, hit+read)
	if f.Value < f.Threshold && hit+read >= CacheMinBlocks {
		f.Status = probes.Warn
	}
	r.Add(f)
	r.Summary = fmt.Sprintf("cache hit %.2f %%", f.Value)
	return nil
}

func pgRatio(hit, read int64) string {
	if hit+read == 0 {
		return "-"
	}
	return textfmt.Percent(float64(hit) / float64(hit+read))
}

func pgSlowStatements(ctx context.Context, tx pgx.Tx, env *probes.Env, r *probes.Result) error {
	var db string
	var schema *string
	if err := tx.QueryRow(ctx, sqlStatementsSchema).Scan(&db, &schema); err != nil {
		return err
	}
	if schema == nil {
		r.Add(probes.Finding{Check: "Slow statements", Status: probes.Unknown, Subject: db,
			Message: "pg_stat_statements is not installed in " + db +
				": add it to shared_preload_libraries and run CREATE EXTENSION pg_stat_statements to see the slowest statements"})
		return nil
	}
	view := pgx.Identifier{*schema, "pg_stat_statements"}.Sanitize()
	rows, err := tx.Query(ctx, fmt.Sprintf(sqlSlowStatements, view))
	if err != nil {
		return err
	}
	t := probes.Table{Title: "Slowest statements (mean)", Columns: []string{"mean", "calls", "total", "statement"}}
	limit := env.Service.Thresholds.DBQueryTime.D()
	f := probes.Finding{Check: "Slow statements", Subject: db, Threshold: float64(limit.Milliseconds()), Unit: "ms",
		Message: "no statements recorded yet"}
	var calls, nrows, queryID int64
	var mean, total float64
	var query string
	_, err = pgx.ForEachRow(rows, []any{&calls, &mean, &total, &nrows, &query, &queryID}, func() error {
		if len(t.Rows) == 0 {
			f.Value, f.Evidence = mean, statementEvidence(queryID)
			f.Message = fmt.Sprintf("slowest mean %s over %d calls since statistics were reset: %s", textfmt.Seconds(mean/1000), calls, probes.RedactSQL(query))
		}
		t.Rows = append(t.Rows, []string{textfmt.Seconds(mean / 1000), strconv.FormatInt(calls, 10), textfmt.Seconds(total / 1000), probes.RedactSQL(query)})
		return nil
	})
	if err != nil {
		return err
	}
	if f.Value > f.Threshold {
		f.Status = probes.Warn // a mean over all time: a hint, not proof that queries are slow now
	}
	if len(t.Rows) > 0 {
		r.Tables = append(r.Tables, t)
		r.Summary = "slowest mean " + textfmt.Seconds(f.Value/1000)
	}
	r.Add(f)
	return nil
}

func pgQueryTime(ctx context.Context, tx pgx.Tx, env *probes.Env, r *probes.Result) error {
	limit := env.Service.Thresholds.DBQueryTime.D()
	f := probes.Finding{Check: "DB query time", Signal: probes.SigDBQueryTime, Threshold: float64(limit.Milliseconds()), Unit: "ms",
		Message: "no statement of the service is running"}
	ignore := make([]string, 0, len(env.Service.Postgres.IgnoreApplications))
	for _, a := range env.Service.Postgres.IgnoreApplications {
		ignore = append(ignore, likePrefix(a))
	}
	var pid int32
	var secs float64
	var query, wait string
	var blockers []int32
	err := tx.QueryRow(ctx, sqlLongestActive, ignore).Scan(&pid, &secs, &query, &wait, &blockers)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return err
	default:
		f.Value, f.Subject = max(secs, 0)*1000, fmt.Sprintf("pid %d", pid)
		f.Evidence = "pg_stat_activity"
		f.Message = fmt.Sprintf("longest running statement %s (pid %d): %s", textfmt.Seconds(max(secs, 0)), pid, probes.RedactSQL(query))
		if wait == "Lock" && len(blockers) > 0 {
			f.Message += fmt.Sprintf("; it waits for a lock held by pid %d", blockers[0])
		}
		if f.Value > f.Threshold {
			f.Status = probes.Crit
		}
	}
	r.Summary = "longest running statement " + textfmt.Seconds(max(secs, 0))
	r.Add(f)
	return nil
}

// likePrefix is a LIKE pattern matching names that start with p (its % and _ escaped).
func likePrefix(p string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(p) + "%"
}

func pgMissingIndexes(ctx context.Context, tx pgx.Tx, env *probes.Env, r *probes.Result) error {
	minRows := env.Service.Postgres.SeqScanMinRows
	if minRows <= 0 {
		minRows = 10000
	}
	rows, err := tx.Query(ctx, sqlMissingIndexes, minRows, int64(SeqScanMinScans))
	if err != nil {
		return err
	}
	t := probes.Table{Title: "Missing-index candidates", Columns: []string{"table", "rows", "seq scans", "idx scans", "seq rows read"}}
	var schema, table string
	var live, seq, seqRead, idx int64
	_, err = pgx.ForEachRow(rows, []any{&schema, &table, &live, &seq, &seqRead, &idx}, func() error {
		name := pgx.Identifier{schema, table}.Sanitize()
		t.Rows = append(t.Rows, []string{name, strconv.FormatInt(live, 10), strconv.FormatInt(seq, 10),
			strconv.FormatInt(idx, 10), strconv.FormatInt(seqRead, 10)})
		r.Add(probes.Finding{Check: "DB missing index", Status: probes.Warn, Subject: name, Value: float64(seq), Threshold: SeqScanMinScans, Unit: "seq scans",
			Message: fmt.Sprintf("%s (%d rows) was read by %d sequential scans and %d index scans; hint: CREATE INDEX CONCURRENTLY ON %s (<column filtered on>)",
				name, live, seq, idx, name)})
		return nil
	})
	if err != nil {
		return err
	}
	if len(t.Rows) == 0 {
		r.Add(probes.Finding{Check: "DB missing index", Message: fmt.Sprintf("no table of %d+ rows is read mostly by sequential scans", minRows)})
		return nil
	}
	r.Tables = append(r.Tables, t)
	r.Summary = fmt.Sprintf("%d missing-index candidates", len(t.Rows))
	return nil
}
