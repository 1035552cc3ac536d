package studiosim

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// categories are the values of ideas.category, the column /api/ideas filters by. It has no
// index on purpose: every request is a real sequential scan.
var categories = []string{"ai", "fintech", "health", "climate", "devtools", "education", "retail", "security"}

const schemaSQL = `
CREATE TABLE IF NOT EXISTS ideas (
	id         bigserial PRIMARY KEY,
	title      text        NOT NULL,
	category   text        NOT NULL,
	status     text        NOT NULL,
	score      integer     NOT NULL,
	body       text        NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS projects (
	id         integer PRIMARY KEY,
	name       text        NOT NULL,
	owner      text        NOT NULL,
	views      bigint      NOT NULL DEFAULT 0,
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS agent_runs (
	id          bigserial PRIMARY KEY,
	topic       text        NOT NULL,
	status      text        NOT NULL,
	error       text,
	tasks       integer     NOT NULL DEFAULT 0,
	started_at  timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz
)`

const seedIdeasSQL = `
INSERT INTO ideas (title, category, status, score, body, created_at)
SELECT 'Idea #' || g,
       ($2::text[])[1 + g % cardinality($2::text[])],
       CASE WHEN g % 5 = 0 THEN 'archived' ELSE 'open' END,
       (g * 7919) % 1000,
       repeat(md5(g::text), 8),
       now() - make_interval(mins => g)
FROM generate_series(1, $1::int) AS g`

const seedProjectsSQL = `
INSERT INTO projects (id, name, owner, views, updated_at)
SELECT g, 'Project ' || g, 'founder' || (g % 37), (g * 31) % 500, now() - make_interval(hours => g)
FROM generate_series(1, $1::int) AS g
ON CONFLICT (id) DO NOTHING`

// schemaLockKey serialises schema creation between simulators sharing one database.
const schemaLockKey = 0x57d105

// ensureSchema creates the tables if missing and seeds empty ones, once.
func ensureSchema(ctx context.Context, pool *pgxpool.Pool, ideas, projects int) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, schemaLockKey); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, schemaSQL); err != nil {
			return fmt.Errorf("create tables: %w", err)
		}
		var have bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ideas)`).Scan(&have); err != nil {
			return fmt.Errorf("count ideas: %w", err)
		}
		if !have {
			if _, err := tx.Exec(ctx, seedIdeasSQL, ideas, categories); err != nil {
				return fmt.Errorf("seed ideas: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, seedProjectsSQL, projects); err != nil {
			return fmt.Errorf("seed projects: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ensure schema: %w", err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE ideas, projects`); err != nil {
		return fmt.Errorf("analyze seeded tables: %w", err)
	}
	return nil
}

// isMissingDatabase reports whether err says the database does not exist.
func isMissingDatabase(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "3D000"
}

// createDatabase creates the database cfg names, through the server's postgres database, so
// that a fresh server needs no setup step. A concurrent creation is not an error.
func createDatabase(ctx context.Context, cfg *pgx.ConnConfig) error {
	admin := cfg.Copy()
	name := admin.Database
	admin.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to create database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P04") {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
