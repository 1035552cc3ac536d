package probes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/perfbot/perfbot/config"
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
func pgTestEnv(pool *pgxpool.Pool, edit func(*config.Service)) *Env {
	svc, _ := config.Default().Service("")
	if edit != nil {
		edit(&svc)
	}
	return &Env{Service: svc, Now: time.Now(), Window: 5 * time.Minute, Postgres: pool}
}

// testEventually polls cond every 100ms until it is true or timeout passes.
func testEventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testTable returns the result's table with the given title prefix.
func testTable(r Result, prefix string) (Table, bool) {
	for _, t := range r.Tables {
		if strings.HasPrefix(t.Title, prefix) {
			return t, true
		}
	}
	return Table{}, false
}

// testFinding returns the first finding whose Check is check.
func testFinding(r Result, check string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Check == check {
			return f, true
		}
	}
	return Finding{}, false
}

// testText is everything in a result a person would read, for leak checks.
func testText(r Result) string {
	var b strings.Builder
	b.WriteString(r.Summary + "\n")
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s %s %s\n", f.Check, f.Subject, f.Message)
	}
	for _, t := range r.Tables {
		b.WriteString(t.Title + "\n")
		for _, row := range t.Rows {
			b.WriteString(strings.Join(row, " | ") + "\n")
		}
	}
	return b.String()
}

// redisTestServer is a throwaway redis-server on a unix socket in a temp dir, so tests can change its
// config (maxmemory, slowlog) and stop it without touching the shared Redis.
type redisTestServer struct {
	Sock   string
	Cmd    *exec.Cmd
	Client *redis.Client
}

// redisTestStart starts redis-server with extra config args and stops it (by PID) when the test ends.
func redisTestStart(t testing.TB, args ...string) *redisTestServer {
	t.Helper()
	dir, err := os.MkdirTemp("", "rt") // short: unix socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "redis.sock")
	base := []string{"--port", "0", "--unixsocket", sock, "--dir", dir, "--save", "", "--appendonly", "no",
		"--enable-debug-command", "local", "--logfile", filepath.Join(dir, "redis.log")}
	cmd := exec.Command("redis-server", append(base, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT) // in case a test stopped it
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	s := &redisTestServer{Sock: sock, Cmd: cmd}
	s.Client = redis.NewClient(&redis.Options{Network: "unix", Addr: sock, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = s.Client.Close() })
	testEventually(t, 10*time.Second, "redis-server on "+sock, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return s.Client.Ping(ctx).Err() == nil
	})
	return s
}

// testHangingListener accepts TCP connections on loopback and never answers: a backend that hangs.
func testHangingListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}
