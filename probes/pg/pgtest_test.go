package pg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/probes"
)

// pgTestServer is the machine's PostgreSQL; PERFBOT_TEST_PG overrides it (a DSN without a database name).
func pgTestServer() string {
	if s := os.Getenv("PERFBOT_TEST_PG"); s != "" {
		return s
	}
	return "postgres://postgres@127.0.0.1:5432"
}

func pgTestDSN(db string) string { return pgTestServer() + "/" + db + "?sslmode=disable" }

// pgTestDB is a database of its own for one test, dropped when the test ends.
type pgTestDB struct {
	Name string
	Pool *pgxpool.Pool
}

func pgTestRandom() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// pgTestAdmin runs one statement in the postgres database.
func pgTestAdmin(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pgTestDSN("postgres"))
	if err != nil {
		t.Fatalf("connect to PostgreSQL at %s (is it running?): %v", pgTestServer(), err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// pgTestNewDB creates probes_test_<random> and a pool to it; both go away when the test ends.
func pgTestNewDB(t testing.TB) *pgTestDB {
	t.Helper()
	name := "probes_test_" + pgTestRandom()
	ident := pgx.Identifier{name}.Sanitize()
	pgTestAdmin(t, "CREATE DATABASE "+ident)
	t.Cleanup(func() { pgTestAdmin(t, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)") })
	cfg, err := pgxpool.ParseConfig(pgTestDSN(name))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pool for %s: %v", name, err)
	}
	t.Cleanup(pool.Close)
	return &pgTestDB{Name: name, Pool: pool}
}

// Conn opens a separate session on the test database, closed when the test ends.
func (d *pgTestDB) Conn(t testing.TB) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), pgTestDSN(d.Name))
	if err != nil {
		t.Fatalf("connect to %s: %v", d.Name, err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// Exec runs statements on the test database's pool.
func (d *pgTestDB) Exec(t testing.TB, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := d.Pool.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// pgTestEnv is an Env for the test database with the default service and short test thresholds.
func pgTestEnv(pool *pgxpool.Pool, edit func(*config.Service)) *probes.Env {
	svc, _ := config.Default().Service("")
	if edit != nil {
		edit(&svc)
	}
	return &probes.Env{Service: svc, Now: time.Now(), Window: 5 * time.Minute, Postgres: pool}
}
