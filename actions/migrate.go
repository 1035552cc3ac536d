package actions

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrateLock is the advisory-lock key that serialises migrations across replicas ("actions" in ASCII).
const migrateLock int64 = 0x616374696f6e73

// Migrate applies the embedded migrations that are not yet applied, in order. Replicas starting at once
// are serialised by a PostgreSQL advisory lock, so each migration runs once.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate actions: acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return fmt.Errorf("migrate actions: take advisory lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock) //nolint:errcheck

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS action_schema_migrations (
		version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate actions: create version table: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate actions: list migrations: %w", err)
	}
	sort.Strings(files)
	for _, f := range files {
		if err := applyMigration(ctx, conn, f); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *pgxpool.Conn, file string) error {
	base := strings.TrimPrefix(file, "migrations/")
	version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
	if err != nil {
		return fmt.Errorf("migrate actions: %s has no version number: %w", base, err)
	}
	var done bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM action_schema_migrations WHERE version = $1)",
		version).Scan(&done); err != nil {
		return fmt.Errorf("migrate actions: read version %d: %w", version, err)
	}
	if done {
		return nil
	}
	sql, err := migrations.ReadFile(file)
	if err != nil {
		return fmt.Errorf("migrate actions: read %s: %w", base, err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate actions: begin %s: %w", base, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, string(sql)); err != nil {
		return fmt.Errorf("migrate actions: apply %s: %w", base, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO action_schema_migrations (version) VALUES ($1)", version); err != nil {
		return fmt.Errorf("migrate actions: record %s: %w", base, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate actions: commit %s: %w", base, err)
	}
	return nil
}
