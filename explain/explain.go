// Package explain shows the plan of a slow PostgreSQL statement: it finds the statement (by its
// pg_stat_statements queryid, or the one a backend runs, by pid), refuses anything but a plain SELECT,
// runs EXPLAIN (FORMAT JSON) in a read-only transaction under a statement timeout, and reads the
// size and planner statistics of the tables the plan scans. EXPLAIN ANALYZE (which runs the
// statement) is left to the approval-gated action that calls Run with Analyze set.
package explain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/errs"
)

// Statement is the statement to explain and where it came from.
type Statement struct {
	// Text is the statement as PostgreSQL recorded it: normalized with $n in place of constants
	// (pg_stat_statements), or as the client sent it (pg_stat_activity).
	Text string
	// QueryID or PID says where Text came from; exactly one is set.
	QueryID int64
	PID     int32
	// Calls, MeanMs and RowsPerCall are pg_stat_statements' numbers (zero for a backend's statement).
	Calls       int64
	MeanMs      float64
	RowsPerCall float64
	// State is the backend's state (active, idle, …) for a statement found by pid.
	State string
}

// Source names where the statement came from, e.g. "queryid 123" or "pid 456".
func (s Statement) Source() string {
	if s.PID > 0 {
		return "pid " + strconv.Itoa(int(s.PID))
	}
	return "queryid " + strconv.FormatInt(s.QueryID, 10)
}

// Find looks id up as a client backend's pid of this database first (when it can be a pid), then as
// a queryid of pg_stat_statements. Errors are errs kinds users read.
func Find(ctx context.Context, db *pgxpool.Pool, id int64) (Statement, error) {
	if id > 0 && id <= math.MaxInt32 {
		st, ok, err := byPID(ctx, db, int32(id))
		if err != nil || ok {
			return st, err
		}
	}
	return byQueryID(ctx, db, id)
}

func byPID(ctx context.Context, db *pgxpool.Pool, pid int32) (Statement, bool, error) {
	var text, state, database string
	var same bool
	err := db.QueryRow(ctx, `SELECT coalesce(query, ''), coalesce(state, ''), coalesce(datname, ''),
			datname = current_database()
		FROM pg_stat_activity WHERE pid = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
		pid).Scan(&text, &state, &database, &same)
	if errors.Is(err, pgx.ErrNoRows) {
		return Statement{}, false, nil
	}
	if err != nil {
		return Statement{}, false, fmt.Errorf("look up backend %d: %w", pid, err)
	}
	switch {
	case !same:
		return Statement{}, true, errs.Invalidf("backend %d is connected to database %s; perfbot explains statements of its own database", pid, database)
	case text == "<insufficient privilege>":
		return Statement{}, true, errs.Forbiddenf("perfbot's database role may not read the statement of backend %d (grant it pg_read_all_stats)", pid)
	case text == "":
		return Statement{}, true, errs.NotFoundf("backend %d has not run a statement yet", pid)
	}
	return Statement{Text: text, PID: pid, State: state}, true, nil
}

func byQueryID(ctx context.Context, db *pgxpool.Pool, id int64) (Statement, error) {
	var schema *string
	if err := db.QueryRow(ctx, `SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'pg_stat_statements'`).Scan(&schema); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Statement{}, fmt.Errorf("look for pg_stat_statements: %w", err)
	}
	if schema == nil {
		return Statement{}, errs.NotFoundf("there is no backend with pid %d, and pg_stat_statements is not installed to look it up as a queryid", id)
	}
	view := pgx.Identifier{*schema, "pg_stat_statements"}.Sanitize()
	st := Statement{QueryID: id}
	err := db.QueryRow(ctx, `SELECT coalesce(query, ''), calls, mean_exec_time, rows::float8 / greatest(calls, 1)
		FROM `+view+` WHERE queryid = $1 AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY calls DESC LIMIT 1`, id).Scan(&st.Text, &st.Calls, &st.MeanMs, &st.RowsPerCall)
	if errors.Is(err, pgx.ErrNoRows) {
		return Statement{}, errs.NotFoundf("no running backend has pid %d and pg_stat_statements has no statement with queryid %d in this database (see `/perf db`)", id, id)
	}
	if err != nil {
		return Statement{}, fmt.Errorf("look up queryid %d: %w", id, err)
	}
	if st.Text == "" || st.Text == "<insufficient privilege>" {
		return Statement{}, errs.Forbiddenf("perfbot's database role may not read the text of statement %d (grant it pg_read_all_stats)", id)
	}
	return st, nil
}

// CheckAnalyzable refuses, with the reason, a statement EXPLAIN ANALYZE must not run: anything but
// one plain SELECT, or one with parameters it has no values for.
func CheckAnalyzable(text string) error {
	s, err := checkReadOnly(text)
	if err != nil {
		return err
	}
	if s.params {
		return genericPlanPossible(context.Background(), nil, true)
	}
	return nil
}

// Options bound one explanation.
type Options struct {
	// Analyze runs the statement (EXPLAIN ANALYZE); only the approval-gated action sets it.
	Analyze bool
	// Timeout is the statement_timeout of the read-only transaction.
	Timeout time.Duration
	// LargeRows is the row count from which a sequentially scanned table is large.
	LargeRows int64
}

// Run checks st is a plain SELECT and explains it in a read-only transaction under o.Timeout. A
// statement with parameters is explained with GENERIC_PLAN on PostgreSQL 16 and later; on older
// servers, and for ANALYZE (which needs values), it is refused with the reason.
func Run(ctx context.Context, db *pgxpool.Pool, st Statement, o Options) (Explanation, error) {
	s, err := checkReadOnly(st.Text)
	if err != nil {
		return Explanation{}, err
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	tx, err := db.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly,
		BeginQuery: fmt.Sprintf("BEGIN READ ONLY; SET LOCAL statement_timeout = %d; SET LOCAL lock_timeout = %d",
			o.Timeout.Milliseconds(), o.Timeout.Milliseconds())})
	if err != nil {
		return Explanation{}, fmt.Errorf("begin read-only transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := checkFunctions(ctx, tx, s); err != nil {
		return Explanation{}, err
	}
	e := Explanation{Statement: st, Analyzed: o.Analyze}
	if s.params {
		if err := genericPlanPossible(ctx, tx, o.Analyze); err != nil {
			return Explanation{}, err
		}
		e.Generic = true
	}
	raw, err := runExplain(ctx, tx, st.Text, e.Generic, o.Analyze)
	if err != nil {
		return Explanation{}, err
	}
	if err := e.parse(raw); err != nil {
		return Explanation{}, err
	}
	if err := e.readTables(ctx, tx, o.LargeRows); err != nil {
		return Explanation{}, err
	}
	return e, nil
}

func genericPlanPossible(ctx context.Context, tx pgx.Tx, analyze bool) error {
	if analyze {
		return errs.Invalidf("the statement has parameters ($1, …) and no values for them, so EXPLAIN ANALYZE cannot run it; explain a running backend's statement by its pid instead")
	}
	var version int
	if err := tx.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return fmt.Errorf("read the server version: %w", err)
	}
	if version < 160000 {
		return errs.Invalidf("the statement has parameters ($1, …): pg_stat_statements keeps it without its constants, and "+
			"explaining it without values needs EXPLAIN (GENERIC_PLAN), which PostgreSQL 16 added; this server is %d.%d. "+
			"Explain a running backend's statement by its pid instead", version/10000, version%10000)
	}
	return nil
}

// runExplain runs EXPLAIN and returns its JSON. A generic plan goes over the simple protocol, where
// $n stay unbound; checkReadOnly has already refused text holding a second statement.
func runExplain(ctx context.Context, tx pgx.Tx, text string, generic, analyze bool) ([]byte, error) {
	opts := "VERBOSE, FORMAT JSON"
	mode := pgx.QueryExecModeExec
	if generic {
		opts, mode = "GENERIC_PLAN, "+opts, pgx.QueryExecModeSimpleProtocol
	}
	if analyze {
		opts = "ANALYZE, BUFFERS, " + opts
	}
	var raw []byte
	if err := tx.QueryRow(ctx, "EXPLAIN ("+opts+") "+text, mode).Scan(&raw); err != nil {
		return nil, pgErr(err, "EXPLAIN")
	}
	return raw, nil
}
