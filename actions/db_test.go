package actions

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/perfbot/perfbot/errs"
)

// TestIndexConcurrentlyWhileWriting builds an index on a table another session keeps inserting into.
func TestIndexConcurrentlyWhileWriting(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.db.exec(t, f.state, `CREATE TABLE ideas (id bigserial PRIMARY KEY, title text NOT NULL, owner_id int NOT NULL);
		INSERT INTO ideas (title, owner_id) SELECT md5(g::text), g % 1000 FROM generate_series(1, 200000) g`)
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "index ideas owner_id,title"))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	if !strings.Contains(r.Plan.DryRun, `CREATE INDEX CONCURRENTLY "idx_ideas_owner_id_title" ON "public"."ideas" ("owner_id", "title")`) {
		t.Errorf("dry run = %q", r.Plan.DryRun)
	}

	writer := f.db.pool(t, "studio-writer")
	wctx, stop := context.WithCancel(ctx)
	var inserted atomic.Int64
	werr := make(chan error, 1)
	go func() {
		for wctx.Err() == nil {
			_, err := writer.Exec(wctx, "INSERT INTO ideas (title, owner_id) VALUES ($1, $2)", "new", 7)
			if err != nil && wctx.Err() == nil {
				werr <- err
				return
			}
			inserted.Add(1)
		}
		werr <- nil
	}()
	for inserted.Load() < 10 { // the writer is writing before the build starts
		time.Sleep(5 * time.Millisecond)
	}
	before := inserted.Load()
	done, err := f.svc.Approve(ctx, r.ID, "alice")
	during := inserted.Load() - before
	stop()
	if err := <-werr; err != nil {
		t.Fatalf("writer failed during the index build: %v", err)
	}
	if err != nil || done.Status != StatusSucceeded {
		t.Fatalf("Approve = %+v, %v", done, err)
	}
	if during == 0 {
		t.Errorf("no row was written while the index was built")
	}
	t.Logf("%d rows written during the build; result: %s", during, done.Result)
	if n := countRows(t, f.state, `SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE c.relname = 'idx_ideas_owner_id_title' AND i.indisvalid`); n != 1 {
		t.Errorf("%d valid indexes named idx_ideas_owner_id_title, want 1", n)
	}
	again, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "index ideas owner_id,title"))
	wantKind(t, err, errs.Conflict)
	_ = again
}

func mustParse(t testing.TB, text string) Spec {
	t.Helper()
	s, err := ParseRequest(text)
	if err != nil {
		t.Fatalf("ParseRequest(%q): %v", text, err)
	}
	return s
}

// TestDBRequestsRefused checks that each bad request gets the right kind of error and changes nothing.
func TestDBRequestsRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.db.exec(t, f.state, `CREATE TABLE ideas (id int, title text); CREATE TABLE x (id int); INSERT INTO x VALUES (1);
		CREATE TABLE "ideas; DROP TABLE x" (id int)`)
	tests := []struct {
		name string
		spec Spec
		kind errs.Kind
		msg  string
	}{
		{"injection in table", Spec{Kind: Index, Table: "ideas; DROP TABLE x", Columns: []string{"id"}}, errs.Invalid, "not a table or column name"},
		{"quoted table", Spec{Kind: Analyze, Table: `"x"`}, errs.Invalid, "not a table or column name"},
		{"injection in column", Spec{Kind: Index, Table: "ideas", Columns: []string{"a,b) ; --"}}, errs.Invalid, "not a table or column name"},
		{"injection in schema", Spec{Kind: Analyze, Schema: "public; DROP TABLE x; --", Table: "ideas"}, errs.Invalid, "not a table or column name"},
		{"unknown table", Spec{Kind: Analyze, Table: "nosuch"}, errs.NotFound, "ideas, ideas; DROP TABLE x, x"},
		{"unknown schema", Spec{Kind: Analyze, Schema: "other", Table: "ideas"}, errs.NotFound, "no table other.ideas"},
		{"unknown column", Spec{Kind: Index, Table: "ideas", Columns: []string{"nosuch"}}, errs.NotFound, "its columns: id, title"},
		{"duplicate column", Spec{Kind: Index, Table: "ideas", Columns: []string{"id", "id"}}, errs.Invalid, "named twice"},
		{"malformed", Spec{Kind: Index, Table: "ideas"}, errs.Invalid, "at least one column"},
		{"unknown kind", Spec{Kind: "drop", Table: "ideas"}, errs.Invalid, "unknown action"},
		{"no such pid", Spec{Kind: Cancel, PID: 999999}, errs.NotFound, "no PostgreSQL backend with pid 999999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Request(ctx, "carol", "C1", tt.spec)
			wantKind(t, err, tt.kind)
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", err, tt.msg)
			}
		})
	}
	t.Run("action not enabled", func(t *testing.T) {
		f.cfg.Actions.Allowed = []string{"analyze"}
		defer func() { f.cfg.Actions.Allowed = testConfig(f.db.name).Actions.Allowed }()
		_, err := f.svc.Request(ctx, "carol", "C1", Spec{Kind: Index, Table: "ideas", Columns: []string{"id"}})
		wantKind(t, err, errs.Forbidden)
		if !strings.Contains(err.Error(), "enabled actions: analyze") {
			t.Errorf("message %q does not say what is enabled", err)
		}
	})
	t.Run("database not allowed", func(t *testing.T) {
		f.cfg.Actions.Databases = []string{"studio"}
		defer func() { f.cfg.Actions.Databases = []string{f.db.name} }()
		_, err := f.svc.Request(ctx, "carol", "C1", Spec{Kind: Analyze, Table: "ideas"})
		wantKind(t, err, errs.Forbidden)
		if !strings.Contains(err.Error(), "actions may change: studio") {
			t.Errorf("message %q does not say what is allowed", err)
		}
	})
	if n := countRows(t, f.state, "SELECT count(*) FROM action_requests"); n != 0 {
		t.Errorf("%d requests stored, want none", n)
	}
	if n := countRows(t, f.state, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT LIKE 'action\\_%'"); n != 0 {
		t.Errorf("%d indexes exist, want none", n)
	}
	if n := countRows(t, f.state, "SELECT count(*) FROM x"); n != 1 {
		t.Errorf("table x has %d rows, want 1", n)
	}
}

// TestTableLookupIsParameterised runs the catalog lookup itself on hostile names (past the name check):
// they are data, not SQL, so they are simply not found and nothing is dropped.
func TestTableLookupIsParameterised(t *testing.T) {
	f := newFixture(t, nil)
	f.db.exec(t, f.state, "CREATE TABLE x (id int)")
	for _, name := range []string{"ideas; DROP TABLE x", `"x"`, "x'; DROP TABLE x; --", "a,b) ; --"} {
		a := &tableAction{db: f.state, spec: Spec{Kind: Analyze, Schema: "public", Table: name}}
		err := a.lookup(context.Background())
		wantKind(t, err, errs.NotFound)
	}
	if n := countRows(t, f.state, "SELECT count(*) FROM pg_tables WHERE tablename = 'x'"); n != 1 {
		t.Fatal("table x is gone")
	}
	// And a real table with a hostile name is quoted, not pasted: ANALYZE touches only it.
	f.db.exec(t, f.state, `CREATE TABLE "x; DROP TABLE x" (id int)`)
	a := &tableAction{db: f.state, spec: Spec{Kind: Analyze, Schema: "public", Table: "x; DROP TABLE x"}, timeout: time.Second}
	if err := a.lookup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.execute(context.Background()); err != nil {
		t.Fatalf("ANALYZE of a quoted name: %v", err)
	}
	if n := countRows(t, f.state, "SELECT count(*) FROM pg_tables WHERE tablename = 'x'"); n != 1 {
		t.Fatal("table x is gone")
	}
}

// sleeper runs pg_sleep on its own connection and reports its pid and how the query ended.
func sleeper(t *testing.T, dsn string) (pid int32, ended <-chan error, conn *pgx.Conn) {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "studio-report"
	conn, err = pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	pid = int32(conn.PgConn().PID())
	done := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), "SELECT pg_sleep(60)")
		done <- err
	}()
	return pid, done, conn
}

func TestCancelBackend(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	for _, terminate := range []bool{false, true} {
		name := map[bool]string{false: "cancel", true: "terminate"}[terminate]
		t.Run(name, func(t *testing.T) {
			pid, ended, _ := sleeper(t, f.db.dsn)
			waitActive(t, f, pid)
			r, err := f.svc.Request(ctx, "carol", "C1", Spec{Kind: Cancel, PID: pid, Terminate: terminate})
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			done, err := f.svc.Approve(ctx, r.ID, "bob")
			if err != nil || done.Status != StatusSucceeded {
				t.Fatalf("Approve = %+v, %v", done, err)
			}
			select {
			case err := <-ended:
				var pe *pgconn.PgError
				if !terminate && (!errors.As(err, &pe) || pe.Code != "57014") {
					t.Errorf("sleeping query ended with %v, want query_canceled", err)
				}
				if terminate && err == nil {
					t.Error("terminated session's query ended without error")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the sleeping query is still running")
			}
			t.Logf("result: %s", done.Result)
		})
	}
	t.Run("own session", func(t *testing.T) {
		var pid int32
		if err := f.state.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Request(ctx, "carol", "C1", Spec{Kind: Cancel, PID: pid})
		wantKind(t, err, errs.Forbidden)
	})
	t.Run("background process", func(t *testing.T) {
		var pid int32
		if err := f.state.QueryRow(ctx, "SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend' LIMIT 1").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Request(ctx, "carol", "C1", Spec{Kind: Cancel, PID: pid})
		wantKind(t, err, errs.Forbidden)
	})
}

func waitActive(t *testing.T, f *fixture, pid int32) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if countRows(t, f.state, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", pid) == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("backend %d never became active", pid)
}
