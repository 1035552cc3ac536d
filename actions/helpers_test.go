package actions

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/internal/stacktest"
)

func randomSuffix(t testing.TB) string {
	t.Helper()
	return stacktest.RandomSuffix()
}

// testDB is a fresh database actions_test_<random>, dropped when the test ends.
type testDB struct {
	name string
	dsn  string
}

func newTestDB(t testing.TB) testDB {
	t.Helper()
	name, dsn := stacktest.NamedDatabase(t, "actions_test")
	return testDB{name: name, dsn: dsn}
}

// pool opens a pool on the database whose sessions carry application_name app; closed at cleanup.
func (d testDB) pool(t testing.TB, app string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = app
	cfg.MaxConns = 8
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

func (d testDB) exec(t testing.TB, p *pgxpool.Pool, sql string) {
	t.Helper()
	if _, err := p.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// testConfig allows every action on the test database and the given deployments; alice and bob approve.
func testConfig(db string, deps ...config.DeploymentLimit) *config.Config {
	c := config.Default()
	c.Actions.Approvers = []string{"alice", "bob"}
	c.Actions.Allowed = []string{"scale", "limits", "analyze", "index", "cancel"}
	c.Actions.Databases = []string{db}
	c.Actions.Deployments = deps
	return c
}

// clock is a settable clock for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Microsecond)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recorder keeps every event it is given, as the incidents timeline would.
type recorder struct {
	mu     sync.Mutex
	events []Event
	refs   []string
}

func (r *recorder) Record(_ context.Context, ref string, e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	r.refs = append(r.refs, ref)
	return nil
}

func (r *recorder) kinds(id string) []EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []EventKind
	for _, e := range r.events {
		if e.RequestID == id {
			out = append(out, e.Kind)
		}
	}
	return out
}

type groupApprovers map[string]bool

func (g groupApprovers) IsApprover(_ context.Context, user string) (bool, error) { return g[user], nil }

type channelIncidents map[string]string

func (c channelIncidents) IncidentFor(_ context.Context, ch string) (string, error) {
	return c[ch], nil
}

// fixture is one migrated test database with a Service over it.
type fixture struct {
	db    testDB
	state *pgxpool.Pool
	svc   *Service
	clock *clock
	rec   *recorder
	cfg   *config.Config
}

func newFixture(t testing.TB, mutate func(*Options)) *fixture {
	t.Helper()
	db := newTestDB(t)
	state := db.pool(t, "perfbot-test")
	if err := Migrate(context.Background(), state); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	f := &fixture{db: db, state: state, clock: newClock(), rec: &recorder{}, cfg: testConfig(db.name)}
	f.svc = f.service(t, state, mutate)
	return f
}

// service builds another Service over the fixture's database (another "bot process" when given its own pool).
func (f *fixture) service(t testing.TB, state *pgxpool.Pool, mutate func(*Options)) *Service {
	t.Helper()
	o := Options{Config: f.cfg, State: state, DB: state, Recorder: f.rec, Now: f.clock.Now,
		Log:           slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		VerifyTimeout: 5 * time.Second}
	if mutate != nil {
		mutate(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func wantKind(t testing.TB, err error, want errs.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want kind %v", want)
	}
	if got := errs.KindOf(err); got != want {
		t.Fatalf("error %q has kind %v, want %v", err, got, want)
	}
}

func countRows(t testing.TB, p *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := p.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
