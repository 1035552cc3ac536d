package incidents

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/internal/stacktest"
)

// testDB creates a fresh database incidents_test_<random>, returns a pool on it (not yet
// migrated) and drops it when the test or benchmark ends.
func testDB(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(stacktest.Database(tb, "incidents_test"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.MaxConns = 12
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// testClock is a settable clock safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// seqIDs returns a deterministic ID source: 00000000-0000-4000-8000-000000000001, …
func seqIDs() IDSource {
	var mu sync.Mutex
	n := 0
	return func() uuid.UUID {
		mu.Lock()
		defer mu.Unlock()
		n++
		return uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012d", n))
	}
}

// t0 is the tests' reference time.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// newStore migrates a fresh database and returns a Store on it with a test clock and IDs.
func newStore(tb testing.TB, opts Options) (*Store, *testClock) {
	tb.Helper()
	pool := testDB(tb)
	if err := Migrate(context.Background(), pool); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	clock := newClock(t0)
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.NewID == nil {
		opts.NewID = seqIDs()
	}
	return New(pool, opts), clock
}
