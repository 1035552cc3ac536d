package incidents

import (
	"context"
	"embed"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/internal/pgmigrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

var migrationSet = pgmigrate.Set{FS: migrationFS, Dir: "migrations", Table: "schema_migrations", Lock: 0x7065726662_6f74} // "perfbot"

// Pending lists the migrations not yet applied (for readiness checks).
func Pending(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	return pgmigrate.Pending(ctx, pool, migrationSet)
}

// Migrate applies every embedded migration not yet recorded in schema_migrations, in name order,
// once across replicas that start together.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgmigrate.Apply(ctx, pool, migrationSet)
}
