package actions

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/internal/pgmigrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

var migrationSet = pgmigrate.Set{FS: migrations, Dir: "migrations", Table: "action_migrations", Lock: 0x616374696f6e73} // "actions"

// Pending lists the migrations not yet applied (for readiness checks).
func Pending(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	return pgmigrate.Pending(ctx, pool, migrationSet)
}

// Migrate applies the embedded migrations that are not yet applied, in order, once across replicas
// that start together.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	err := pgmigrate.Apply(ctx, pool, migrationSet)
	if err != nil {
		return fmt.Errorf("migrate actions: %w", err)
	}
	return nil
}
