// Package pgmigrate applies a package's embedded SQL migrations to PostgreSQL, once, even when
// several replicas start at the same moment.
package pgmigrate

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Set is one package's migrations: the *.sql files of Dir in FS, applied in name order and recorded
// in Table, serialized across replicas by the advisory lock Lock.
type Set struct {
	FS    fs.FS
	Dir   string
	Table string
	Lock  int64
}

// Apply runs every migration of s not yet recorded, in one transaction under a transaction-scoped
// advisory lock: replicas starting at once apply each migration exactly once, and the losers find
// nothing left to do.
func Apply(ctx context.Context, pool *pgxpool.Pool, s Set) error {
	names, err := fs.Glob(s.FS, path.Join(s.Dir, "*.sql"))
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	table := pgx.Identifier{s.Table}.Sanitize()
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.Lock); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
			version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create %s: %w", s.Table, err)
		}
		for _, name := range names {
			if err := apply(ctx, tx, s, table, name); err != nil {
				return err
			}
		}
		return nil
	})
}

// Pending lists the migrations of s not recorded as applied (all of them when its table does not
// exist yet), without taking the lock: for readiness checks.
func Pending(ctx context.Context, pool *pgxpool.Pool, s Set) ([]string, error) {
	names, err := fs.Glob(s.FS, path.Join(s.Dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.Table).Scan(&exists); err != nil {
		return nil, fmt.Errorf("look for %s: %w", s.Table, err)
	}
	var applied []string
	if exists {
		err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(version), '{}') FROM `+pgx.Identifier{s.Table}.Sanitize()).Scan(&applied)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", s.Table, err)
		}
	}
	var pending []string
	for _, name := range names {
		if v := strings.TrimSuffix(path.Base(name), ".sql"); !slices.Contains(applied, v) {
			pending = append(pending, v)
		}
	}
	return pending, nil
}

func apply(ctx context.Context, tx pgx.Tx, s Set, table, name string) error {
	version := strings.TrimSuffix(path.Base(name), ".sql")
	var done bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE version = $1)`, version).Scan(&done); err != nil {
		return fmt.Errorf("check migration %s: %w", version, err)
	}
	if done {
		return nil
	}
	sql, err := fs.ReadFile(s.FS, name)
	if err != nil {
		return fmt.Errorf("read migration %s: %w", version, err)
	}
	if _, err := tx.Exec(ctx, string(sql)); err != nil {
		return fmt.Errorf("apply migration %s: %w", version, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (version) VALUES ($1)`, version); err != nil {
		return fmt.Errorf("record migration %s: %w", version, err)
	}
	return nil
}
