package actions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/errs"
)

// tableAction is analyze or index on one table of the service's database. Every identifier reaches
// SQL through pgx.Identifier.Sanitize, and only after the catalog confirmed it exists.
type tableAction struct {
	db      *pgxpool.Pool
	spec    Spec
	timeout time.Duration
	tbl     tableInfo
	before  time.Time // database clock just before ANALYZE ran
}

// tableInfo is what the catalog says about the target table.
type tableInfo struct {
	oid          uint32
	database     string
	mayChange    bool // perfbot's role owns the table (or is superuser)
	partitioned  bool // relkind p: a partitioned table, which has no storage of its own
	size         int64
	liveRows     int64
	modified     int64
	lastAnalyzed *time.Time
}

func (a *tableAction) table() string { return pgx.Identifier{a.spec.Schema, a.spec.Table}.Sanitize() }

func (a *tableAction) plan(ctx context.Context) (Plan, error) {
	if err := a.lookup(ctx); err != nil {
		return Plan{}, err
	}
	if !a.tbl.mayChange {
		return Plan{}, errs.Forbiddenf("perfbot's database role does not own %s.%s, so it cannot %s it",
			a.spec.Schema, a.spec.Table, a.spec.Kind)
	}
	if a.spec.Kind == Analyze {
		return a.planAnalyze(), nil
	}
	return a.planIndex(ctx)
}

// lookup finds the table in the catalog by name (as query parameters, never as SQL text).
func (a *tableAction) lookup(ctx context.Context) error {
	err := a.db.QueryRow(ctx, `SELECT c.oid, current_database(),
			pg_has_role(current_user, c.relowner, 'USAGE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
			pg_total_relation_size(c.oid), coalesce(s.n_live_tup, 0), coalesce(s.n_mod_since_analyze, 0),
			greatest(s.last_analyze, s.last_autoanalyze), c.relkind = 'p'
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
		WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'm')`,
		a.spec.Schema, a.spec.Table).Scan(&a.tbl.oid, &a.tbl.database, &a.tbl.mayChange, &a.tbl.size,
		&a.tbl.liveRows, &a.tbl.modified, &a.tbl.lastAnalyzed, &a.tbl.partitioned)
	if errors.Is(err, pgx.ErrNoRows) {
		return a.tableNotFound(ctx)
	}
	if err != nil {
		return fmt.Errorf("look up table %s.%s: %w", a.spec.Schema, a.spec.Table, err)
	}
	return nil
}

func (a *tableAction) tableNotFound(ctx context.Context) error {
	rows, err := a.db.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'm') ORDER BY c.relname LIMIT 20`, a.spec.Schema)
	if err != nil {
		return fmt.Errorf("list tables of schema %s: %w", a.spec.Schema, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list tables of schema %s: %w", a.spec.Schema, err)
	}
	return errs.NotFoundf("there is no table %s.%s; tables in %s: %s", a.spec.Schema, a.spec.Table,
		a.spec.Schema, listOrNone(names, "none"))
}

func (a *tableAction) planAnalyze() Plan {
	from := "never analyzed"
	if a.tbl.lastAnalyzed != nil {
		from = "analyzed " + a.tbl.lastAnalyzed.UTC().Format(time.RFC3339)
	}
	return Plan{
		Summary: fmt.Sprintf("ANALYZE %s.%s in database %s", a.spec.Schema, a.spec.Table, a.tbl.database),
		Changes: []Change{{What: "planner statistics", From: from, To: "analyzed now"}},
		DryRun: fmt.Sprintf("table exists and perfbot's role may analyze it; ~%d rows, %d changed since the last analyze, %s",
			a.tbl.liveRows, a.tbl.modified, byteSize(a.tbl.size)),
	}
}

func (a *tableAction) execute(ctx context.Context) (string, error) {
	if a.spec.Kind == Index {
		return a.createIndex(ctx)
	}
	if err := a.db.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&a.before); err != nil {
		return "", fmt.Errorf("read the database clock: %w", err)
	}
	start := time.Now()
	if _, err := a.db.Exec(ctx, "ANALYZE "+a.table()); err != nil {
		return "", dbErr(err, "ANALYZE %s.%s", a.spec.Schema, a.spec.Table)
	}
	return fmt.Sprintf("ANALYZE %s.%s took %s", a.spec.Schema, a.spec.Table, time.Since(start).Round(time.Millisecond)), nil
}

func (a *tableAction) verify(ctx context.Context) (string, error) {
	if a.spec.Kind == Index {
		return a.verifyIndex(ctx)
	}
	var last *time.Time
	var rows float64
	deadline := time.Now().Add(a.timeout)
	for {
		err := a.db.QueryRow(ctx, `SELECT s.last_analyze, c.reltuples FROM pg_class c
			LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid WHERE c.oid = $1`, a.tbl.oid).Scan(&last, &rows)
		if err != nil {
			return "", fmt.Errorf("read back statistics of %s.%s: %w", a.spec.Schema, a.spec.Table, err)
		}
		if last != nil && !last.Before(a.before) {
			return fmt.Sprintf("statistics of %s.%s updated at %s (~%.0f rows)", a.spec.Schema, a.spec.Table,
				last.UTC().Format(time.RFC3339), rows), nil
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("ANALYZE finished; the statistics timestamp of %s.%s is not yet reported", a.spec.Schema, a.spec.Table), nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// columns returns the table's column names in order, and their attribute numbers by name.
func (a *tableAction) columns(ctx context.Context) ([]string, map[string]int16, error) {
	rows, err := a.db.Query(ctx, `SELECT attname, attnum FROM pg_attribute
		WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, a.tbl.oid)
	if err != nil {
		return nil, nil, fmt.Errorf("list columns of %s.%s: %w", a.spec.Schema, a.spec.Table, err)
	}
	var names []string
	nums := map[string]int16{}
	var name string
	var num int16
	_, err = pgx.ForEachRow(rows, []any{&name, &num}, func() error {
		names = append(names, name)
		nums[name] = num
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list columns of %s.%s: %w", a.spec.Schema, a.spec.Table, err)
	}
	return names, nums, nil
}

func byteSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f, i = f/1024, i+1
	}
	return fmt.Sprintf("%.0f %s", f, units[i])
}

// indexName derives the index name idx_<table>_<col>_<col>, cut to PostgreSQL's 63 bytes.
func indexName(table string, cols []string) string {
	n := "idx_" + table + "_" + strings.Join(cols, "_")
	for len(n) > 63 {
		r := []rune(n)
		n = string(r[:len(r)-1])
	}
	return n
}

func hasDuplicate(cols []string) bool {
	s := slices.Clone(cols)
	slices.Sort(s)
	return len(slices.Compact(s)) != len(cols)
}
