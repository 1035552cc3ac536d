package actions

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/perfbot/perfbot/errs"
)

// holdWriter opens a transaction that has written to table and keeps it open: CREATE INDEX
// CONCURRENTLY waits for it after it has created its (still invalid) index. commit ends it.
func holdWriter(t *testing.T, f *fixture, table string) (commit func()) {
	t.Helper()
	tx := openTx(t, f, "INSERT INTO "+table+" (title, owner_id) VALUES ('held', 1)")
	return func() {
		if err := tx.Commit(context.Background()); err != nil {
			t.Errorf("commit the held writer: %v", err)
		}
	}
}

// openTx runs stmt in a transaction of its own session and leaves the transaction open.
func openTx(t *testing.T, f *fixture, stmt string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, f.db.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		t.Fatal(err)
	}
	return tx
}

// waitBuilding waits until a CREATE INDEX CONCURRENTLY on table waits for writers after creating its
// index, and returns the builder's pid.
func waitBuilding(t *testing.T, f *fixture, table string) int32 {
	t.Helper()
	for i := 0; i < 250; i++ {
		var pid int32
		err := f.state.QueryRow(context.Background(), `SELECT pid FROM pg_stat_progress_create_index
			WHERE relid = $1::regclass AND phase = 'waiting for writers before build'`, table).Scan(&pid)
		if err == nil {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no CREATE INDEX CONCURRENTLY on %s is waiting for writers", table)
	return 0
}

// indexState returns how many indexes are named name and how many of them are valid.
func indexState(t *testing.T, f *fixture, name string) (n, valid int) {
	t.Helper()
	err := f.state.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE i.indisvalid)
		FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = $1`, name).Scan(&n, &valid)
	if err != nil {
		t.Fatal(err)
	}
	return n, valid
}

// TestIndexSameNameConcurrently: a second build of the same index, which finds the name taken by a
// build still in progress, fails without dropping the first one's index.
func TestIndexSameNameConcurrently(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.ideasTable(t)
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "index ideas owner_id"))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	commit := holdWriter(t, f, "ideas")
	first := make(chan Request, 1)
	go func() {
		done, err := f.svc.Approve(ctx, r.ID, "alice")
		if err != nil {
			t.Errorf("Approve: %v", err)
		}
		first <- done
	}()
	waitBuilding(t, f, "ideas")

	// The second request planned before the first created its index; this is its execution.
	b := &tableAction{db: f.state, spec: Spec{Kind: Index, Schema: "public", Table: "ideas", Columns: []string{"owner_id"}}}
	if err := b.lookup(ctx); err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() { _, err := b.createIndex(ctx); second <- err }()
	select {
	case err := <-second:
		wantKind(t, err, errs.Conflict)
		second <- err
	case <-time.After(2 * time.Second): // blocked behind the first build: it is trying to drop its index
	}
	// Had the second build failed after all, its clean-up would find the first one's index invalid
	// (still being built) and must leave it.
	note, err := b.dropFailedIndex(ctx)
	if err != nil || !strings.Contains(note, "left in place while another index build runs") {
		t.Errorf("clean-up during the first build = %q, %v; want it left in place", note, err)
	}
	if n, _ := indexState(t, f, "idx_ideas_owner_id"); n != 1 {
		t.Errorf("%d indexes idx_ideas_owner_id during the first build, want 1", n)
	}
	commit()
	if done := <-first; done.Status != StatusSucceeded {
		t.Errorf("first build: %s %q", done.Status, done.Result)
	}
	t.Logf("second build: %v", <-second)
	if n, valid := indexState(t, f, "idx_ideas_owner_id"); n != 1 || valid != 1 {
		t.Errorf("%d indexes idx_ideas_owner_id (%d valid), want 1 valid", n, valid)
	}
}

// TestIndexFailedBuildCleansUp: a build that fails after creating its index drops that invalid index.
func TestIndexFailedBuildCleansUp(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.ideasTable(t)
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "index ideas title"))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	commit := holdWriter(t, f, "ideas")
	first := make(chan Request, 1)
	go func() {
		done, _ := f.svc.Approve(ctx, r.ID, "alice")
		first <- done
	}()
	signal(t, f, "pg_cancel_backend", waitBuilding(t, f, "ideas"))
	commit() // DROP INDEX CONCURRENTLY waits for the writer too
	done := <-first
	if done.Status != StatusFailed || !strings.Contains(done.Result, "canceling statement") {
		t.Errorf("status %s, result %q; want the cancelled build", done.Status, done.Result)
	}
	if n, _ := indexState(t, f, "idx_ideas_title"); n != 0 {
		t.Errorf("%d indexes idx_ideas_title left after the failed build, want 0", n)
	}
}

// TestIndexPlanChecks: an index on the same columns is pointed out, and a partitioned table is refused.
func TestIndexPlanChecks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.db.exec(t, f.state, `CREATE TABLE pairs (a int, b int, c int); CREATE INDEX pairs_ab ON pairs (a, b);
		CREATE TABLE events (id int, at timestamptz NOT NULL) PARTITION BY RANGE (at);
		CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`)
	warnings := []struct {
		text, want string
	}{
		{"index pairs a,b", "an index on the same columns exists already: pairs_ab"},
		{"index pairs b,a", ""},
		{"index pairs a", ""},
		{"index pairs a,b,c", ""},
	}
	for _, tt := range warnings {
		t.Run(tt.text, func(t *testing.T) {
			r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, tt.text))
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			got := strings.Join(r.Plan.Warnings, "; ")
			if (tt.want == "" && got != "") || !strings.Contains(got, tt.want) {
				t.Errorf("warnings %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("partitioned table", func(t *testing.T) {
		_, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "index events at"))
		wantKind(t, err, errs.Invalid)
		if !strings.Contains(err.Error(), "create it on each partition, then attach it") {
			t.Errorf("message %q does not say what to do", err)
		}
	})
	t.Run("partition and analyze", func(t *testing.T) {
		for _, text := range []string{"index events_2024 at", "analyze events"} {
			if _, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, text)); err != nil {
				t.Errorf("%s: %v", text, err)
			}
		}
	})
}
