package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/perfbot/perfbot/errs"
)

// largeTable is the size above which an index build is called out as slow.
const largeTable = 1 << 30

func (a *tableAction) indexName() string { return indexName(a.spec.Table, a.spec.Columns) }

// indexSQL is the statement the index action runs, every identifier quoted by pgx.
func (a *tableAction) indexSQL() string {
	cols := make([]string, len(a.spec.Columns))
	for i, c := range a.spec.Columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	return fmt.Sprintf("CREATE INDEX CONCURRENTLY %s ON %s (%s)",
		pgx.Identifier{a.indexName()}.Sanitize(), a.table(), strings.Join(cols, ", "))
}

func (a *tableAction) planIndex(ctx context.Context) (Plan, error) {
	s := a.spec
	if hasDuplicate(s.Columns) {
		return Plan{}, errs.Invalidf("a column is named twice in %s. Usage: %s", strings.Join(s.Columns, ","), usage[Index])
	}
	names, nums, err := a.columns(ctx)
	if err != nil {
		return Plan{}, err
	}
	keys := make([]int16, len(s.Columns))
	for i, c := range s.Columns {
		n, ok := nums[c]
		if !ok {
			return Plan{}, errs.NotFoundf("table %s.%s has no column %s; its columns: %s", s.Schema, s.Table, c,
				strings.Join(names, ", "))
		}
		keys[i] = n
	}
	name := a.indexName()
	var exists, valid bool
	err = a.db.QueryRow(ctx, `SELECT true, coalesce(i.indisvalid, false) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_index i ON i.indexrelid = c.oid
		WHERE n.nspname = $1 AND c.relname = $2`, s.Schema, name).Scan(&exists, &valid)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Plan{}, fmt.Errorf("look up index %s: %w", name, err)
	}
	if exists {
		return Plan{}, errs.Conflictf("%s.%s already exists (valid: %t)", s.Schema, name, valid)
	}
	p := Plan{
		Summary: fmt.Sprintf("CREATE INDEX CONCURRENTLY %s on %s.%s (%s) in database %s", name, s.Schema, s.Table,
			strings.Join(s.Columns, ", "), a.tbl.database),
		Changes: []Change{{What: "index " + name, From: "absent", To: "valid"}},
		DryRun: fmt.Sprintf("table and columns exist, the name is free, perfbot's role owns the table; will run: %s",
			a.indexSQL()),
	}
	var same []string
	rows, err := a.db.Query(ctx, `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = $1 AND i.indkey::int2[] = $2::int2[]`, a.tbl.oid, keys)
	if err == nil {
		same, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return Plan{}, fmt.Errorf("look for indexes on the same columns: %w", err)
	}
	if len(same) > 0 {
		p.Warnings = append(p.Warnings, "an index on the same columns exists already: "+strings.Join(same, ", "))
	}
	if a.tbl.size > largeTable {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s.%s is %s: the build takes a while (writes go on meanwhile)",
			s.Schema, s.Table, byteSize(a.tbl.size)))
	}
	return p, nil
}

// createIndex builds the index without blocking writes; if the build fails it drops the invalid
// index it leaves behind, so a retry can start clean.
func (a *tableAction) createIndex(ctx context.Context) (string, error) {
	start := time.Now()
	_, err := a.db.Exec(ctx, a.indexSQL())
	if err == nil {
		return fmt.Sprintf("created index %s.%s concurrently in %s", a.spec.Schema, a.indexName(),
			time.Since(start).Round(time.Millisecond)), nil
	}
	werr := dbErr(err, "CREATE INDEX CONCURRENTLY %s", a.indexName())
	drop := "DROP INDEX CONCURRENTLY IF EXISTS " + pgx.Identifier{a.spec.Schema, a.indexName()}.Sanitize()
	if _, derr := a.db.Exec(context.WithoutCancel(ctx), drop); derr != nil {
		return "", fmt.Errorf("%w (and dropping the invalid index failed: %v)", werr, derr)
	}
	return "", werr
}

func (a *tableAction) verifyIndex(ctx context.Context) (string, error) {
	var valid, ready bool
	var size int64
	err := a.db.QueryRow(ctx, `SELECT i.indisvalid, i.indisready, pg_relation_size(c.oid) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_index i ON i.indexrelid = c.oid
		WHERE n.nspname = $1 AND c.relname = $2`, a.spec.Schema, a.indexName()).Scan(&valid, &ready, &size)
	if err != nil {
		return "", fmt.Errorf("read back index %s: %w", a.indexName(), err)
	}
	if !valid || !ready {
		return "", fmt.Errorf("index %s.%s exists but is not valid (indisvalid=%t, indisready=%t)",
			a.spec.Schema, a.indexName(), valid, ready)
	}
	return fmt.Sprintf("index %s.%s is valid (%s)", a.spec.Schema, a.indexName(), byteSize(size)), nil
}

// dbErr turns a PostgreSQL error into the kind users see, saying what was being done.
func dbErr(err error, format string, a ...any) error {
	what := fmt.Sprintf(format, a...)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", what, err)
	}
	kind := errs.Internal
	switch {
	case pe.Code == "42501": // insufficient_privilege
		kind = errs.Forbidden
	case pe.Code == "42P07": // duplicate_table (the index exists)
		kind = errs.Conflict
	case strings.HasPrefix(pe.Code, "42"), strings.HasPrefix(pe.Code, "22"): // syntax, data
		kind = errs.Invalid
	case pe.Code == "57014", strings.HasPrefix(pe.Code, "55"), strings.HasPrefix(pe.Code, "40"):
		kind = errs.Conflict // cancelled, lock not available, serialization / deadlock
	case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "57"):
		kind = errs.Unavailable
	}
	if kind == errs.Internal {
		return fmt.Errorf("%s: %w", what, err)
	}
	return &errs.Error{Kind: kind, Msg: what + ": " + pe.Message}
}
