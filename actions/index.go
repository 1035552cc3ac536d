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

// indexCleanupTimeout bounds dropping the invalid index a failed build left; the failure then says
// the index is still there.
const indexCleanupTimeout = 2 * time.Minute

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
	if a.tbl.partitioned {
		return Plan{}, errs.Invalidf("%s.%s is a partitioned table, on which CREATE INDEX CONCURRENTLY cannot run: "+
			"create it on each partition, then attach it", s.Schema, s.Table)
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
		WHERE i.indrelid = $1 AND string_to_array(i.indkey::text, ' ')::int2[] = $2::int2[]`, a.tbl.oid, keys)
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

// createIndex builds the index without blocking writes. If the build fails after creating its index,
// it drops the invalid index it left behind, so a retry can start clean; it never drops an index it
// did not create (the name taken by another build, or an index that existed before).
func (a *tableAction) createIndex(ctx context.Context) (string, error) {
	s, name := a.spec, a.indexName()
	var before *uint32
	if err := a.db.QueryRow(ctx, "SELECT to_regclass($1)::oid", pgx.Identifier{s.Schema, name}.Sanitize()).Scan(&before); err != nil {
		return "", fmt.Errorf("look up index %s.%s: %w", s.Schema, name, err)
	}
	if before != nil {
		return "", errs.Conflictf("index %s.%s was created by someone else since the request; nothing was changed", s.Schema, name)
	}
	start := time.Now()
	_, err := a.db.Exec(ctx, a.indexSQL())
	if err == nil {
		return fmt.Sprintf("created index %s.%s concurrently in %s", s.Schema, name,
			time.Since(start).Round(time.Millisecond)), nil
	}
	werr := dbErr(err, "CREATE INDEX CONCURRENTLY %s", name)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P07" || pe.Code == "23505") {
		// The name was taken by another build before this one created anything: that index is not ours.
		return "", errs.Conflictf("index %s.%s was created by someone else meanwhile; nothing was dropped (%s)",
			s.Schema, name, pe.Message)
	}
	// Past the deadline too, but bounded: a DROP INDEX CONCURRENTLY waits for the table's writers.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), indexCleanupTimeout)
	defer cancel()
	note, derr := a.dropFailedIndex(cctx)
	if derr != nil {
		return "", fmt.Errorf("%w (and dropping the invalid index failed: %v)", werr, derr)
	}
	if note != "" {
		return "", fmt.Errorf("%w (%s)", werr, note)
	}
	return "", werr
}

// invalidIndexQuery finds the index a failed build left: named so, invalid, and not being built by
// anyone now. A build whose index perfbot's role may not see counts as possibly this one.
const invalidIndexQuery = `SELECT c.oid, EXISTS (SELECT 1 FROM pg_stat_progress_create_index p
		WHERE p.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND (p.index_relid = c.oid OR p.index_relid IS NULL OR p.relid IS NULL))
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_index i ON i.indexrelid = c.oid
	WHERE n.nspname = $1 AND c.relname = $2 AND NOT i.indisvalid`

// dropFailedIndex drops the invalid index a failed build of this action left behind. It returns a
// note when there is one it must leave, because a build that may own it is still running.
func (a *tableAction) dropFailedIndex(ctx context.Context) (string, error) {
	s, name := a.spec, a.indexName()
	var oid uint32
	var building bool
	err := a.db.QueryRow(ctx, invalidIndexQuery, s.Schema, name).Scan(&oid, &building)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil // the build failed before creating it, or it is valid after all
	}
	if err != nil {
		return "", fmt.Errorf("look up the invalid index %s.%s: %w", s.Schema, name, err)
	}
	if building {
		return fmt.Sprintf("the invalid index %s.%s is left in place while another index build runs; "+
			"drop it with DROP INDEX CONCURRENTLY when that ends", s.Schema, name), nil
	}
	if _, err := a.db.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+pgx.Identifier{s.Schema, name}.Sanitize()); err != nil {
		return "", err
	}
	return "", nil
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
