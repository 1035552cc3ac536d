package explain_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/explain"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// bigDB is a fresh database with a table of 20 000 rows (10 categories, no index but the primary
// key) and pg_stat_statements.
func bigDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, stacktest.Database(t, "explain_test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for _, q := range []string{
		`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`,
		`CREATE TABLE ideas (id int PRIMARY KEY, category text NOT NULL, title text NOT NULL)`,
		`INSERT INTO ideas SELECT g, 'c' || (g % 10), 'idea ' || g FROM generate_series(1, 20000) g`,
		`ANALYZE ideas`,
		`CREATE SEQUENCE ids`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return pool
}

func run(t *testing.T, pool *pgxpool.Pool, text string) (explain.Explanation, error) {
	t.Helper()
	return explain.Run(context.Background(), pool, explain.Statement{Text: text, PID: 1},
		explain.Options{Timeout: 5 * time.Second, LargeRows: 10000})
}

// TestSeqScanByQueryID: a statement recorded by pg_stat_statements is found by its queryid, and its
// plan names the sequential scan of the large table, the filtered column and its statistics.
func TestSeqScanByQueryID(t *testing.T) {
	ctx := context.Background()
	pool := bigDB(t)
	const text = `SELECT count(*) FROM ideas WHERE category = title`
	if _, err := pool.Exec(ctx, text); err != nil {
		t.Fatal(err)
	}
	var id int64
	stacktest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool {
		err := pool.QueryRow(ctx, `SELECT queryid FROM pg_stat_statements WHERE query = $1
			AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`, text).Scan(&id)
		return err == nil
	}, "statement not in pg_stat_statements")
	st, err := explain.Find(ctx, pool, id)
	if err != nil {
		t.Fatalf("Find(%d): %v", id, err)
	}
	if st.QueryID != id || st.Calls < 1 {
		t.Fatalf("statement = %+v", st)
	}
	e, err := explain.Run(ctx, pool, st, explain.Options{Timeout: 5 * time.Second, LargeRows: 10000})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	scans := e.SeqScans()
	if len(scans) != 1 || scans[0].Table.Qualified() != "public.ideas" || scans[0].Table.Rows < 20000 {
		t.Fatalf("seq scans = %+v; plan:\n%s", scans, strings.Join(e.Lines(), "\n"))
	}
	cols := map[string]explain.Column{}
	for _, c := range scans[0].Table.Columns {
		cols[c.Name] = c
	}
	if c, ok := cols["category"]; !ok || c.NDistinct == nil || *c.NDistinct != 10 || c.Indexed {
		t.Errorf("columns = %+v, want category with n_distinct 10, not indexed", scans[0].Table.Columns)
	}
	if scans[0].Table.LastAnalyzed() == nil || scans[0].Table.Size == 0 {
		t.Errorf("table = %+v, want its size and last analyze", scans[0].Table)
	}
	if lines := strings.Join(e.Lines(), "\n"); !strings.Contains(lines, "Seq Scan on public.ideas") || e.Analyzed {
		t.Errorf("plan:\n%s", lines)
	}
}

// TestByPIDOfRunningQuery: the statement a backend is running is found by its pid and explained.
func TestByPIDOfRunningQuery(t *testing.T) {
	ctx := context.Background()
	pool := bigDB(t)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pid := int32(conn.Conn().PgConn().PID())
	qctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := conn.Exec(qctx, `SELECT count(*) FROM ideas i, generate_series(1, 100000000) g WHERE i.category = 'c3' AND g > i.id`)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		conn.Release()
	})
	stacktest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		var state string
		err := pool.QueryRow(ctx, `SELECT coalesce(state, '') FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%generate_series%'`, pid).Scan(&state)
		return err == nil && state == "active"
	}, "backend %d never ran the query", pid)
	st, err := explain.Find(ctx, pool, int64(pid))
	if err != nil {
		t.Fatalf("Find(pid %d): %v", pid, err)
	}
	if st.PID != pid || st.State != "active" || !strings.Contains(st.Text, "generate_series") {
		t.Fatalf("statement = %+v", st)
	}
	e, err := explain.Run(ctx, pool, st, explain.Options{Timeout: 5 * time.Second, LargeRows: 10000})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	lines := strings.Join(e.Lines(), "\n")
	if !strings.Contains(lines, "public.ideas") || !strings.Contains(lines, "Function Scan") {
		t.Errorf("plan:\n%s", lines)
	}
	if strings.Contains(lines, "'c3'") {
		t.Errorf("the plan shows a constant of the statement:\n%s", lines)
	}
}

// TestRefusesDDLAndSideEffects: DDL, writes, row locks, SELECT … INTO, several statements and
// volatile functions are refused before anything runs; the table is untouched.
func TestRefusesDDLAndSideEffects(t *testing.T) {
	ctx := context.Background()
	pool := bigDB(t)
	for _, text := range []string{
		`DROP TABLE ideas`,
		`CREATE INDEX ON ideas (category)`,
		`ALTER TABLE ideas ADD COLUMN x int`,
		`UPDATE ideas SET title = 'x'`,
		`DELETE FROM ideas`,
		`WITH gone AS (DELETE FROM ideas RETURNING *) SELECT count(*) FROM gone`,
		`SELECT * INTO ideas_copy FROM ideas`,
		`SELECT * FROM ideas WHERE id = 1 FOR UPDATE`,
		`SELECT 1; DROP TABLE ideas`,
		`SELECT nextval('ids')`,
		`SELECT pg_terminate_backend(pg_backend_pid())`,
		`SELECT "nextval"('ids')`,
		`/* select */ TRUNCATE ideas`,
	} {
		_, err := run(t, pool, text)
		if errs.KindOf(err) != errs.Invalid {
			t.Errorf("%s: err = %v, want a refusal (invalid)", text, err)
		}
	}
	var n, seq int64
	if err := pool.QueryRow(ctx, `SELECT count(*), (SELECT last_value FROM ids) FROM ideas`).Scan(&n, &seq); err != nil || n != 20000 || seq != 1 {
		t.Fatalf("after the refusals: %d rows, sequence at %d, %v", n, seq, err)
	}
	for _, text := range []string{`SELECT count(*) FROM ideas WHERE title LIKE '%;%'`, `  (SELECT 1) ;`, `SELECT random() FROM ideas LIMIT 1`} {
		if _, err := run(t, pool, text); err != nil {
			t.Errorf("%s: %v, want a plan", text, err)
		}
	}
}

// TestParameters: a statement with $n is explained with GENERIC_PLAN on PostgreSQL 16+, and on older
// servers the refusal says why; EXPLAIN ANALYZE of it is refused on every server.
func TestParameters(t *testing.T) {
	ctx := context.Background()
	pool := bigDB(t)
	var version int
	if err := pool.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	e, err := run(t, pool, `SELECT * FROM ideas WHERE category = $1`)
	if version >= 160000 {
		if err != nil || !e.Generic {
			t.Fatalf("PostgreSQL %d: %+v, %v; want a generic plan", version, e, err)
		}
	} else if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "GENERIC_PLAN") {
		t.Fatalf("PostgreSQL %d: err = %v, want a refusal naming GENERIC_PLAN", version, err)
	}
	if err := explain.CheckAnalyzable(`SELECT * FROM ideas WHERE category = $1`); errs.KindOf(err) != errs.Invalid {
		t.Errorf("CheckAnalyzable with a parameter: %v", err)
	}
	if err := explain.CheckAnalyzable(`SELECT * FROM ideas WHERE title = '$1'`); err != nil {
		t.Errorf("CheckAnalyzable with $1 inside a literal: %v", err)
	}
}

// TestNotFound: an id that is neither a backend nor a queryid says so.
func TestNotFound(t *testing.T) {
	pool := bigDB(t)
	_, err := explain.Find(context.Background(), pool, 987654321987)
	if errs.KindOf(err) != errs.NotFound {
		t.Fatalf("err = %v, want not found", err)
	}
}
