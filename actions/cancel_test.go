package actions

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/perfbot/perfbot/errs"
)

// queryStart reads the query_start of an active backend, waiting until it runs a statement that
// started after since (zero: any).
func queryStart(t *testing.T, f *fixture, pid int32, since time.Time) time.Time {
	t.Helper()
	for i := 0; i < 250; i++ {
		var start *time.Time
		err := f.state.QueryRow(context.Background(), `SELECT query_start FROM pg_stat_activity
			WHERE pid = $1 AND state = 'active'`, pid).Scan(&start)
		if err == nil && start != nil && start.After(since) {
			return *start
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("backend %d never ran a statement started after %s", pid, since)
	return time.Time{}
}

// signal sends pg_cancel_backend or pg_terminate_backend to pid from the test's own session.
func signal(t *testing.T, f *fixture, fn string, pid int32) {
	t.Helper()
	var ok bool
	if err := f.state.QueryRow(context.Background(), "SELECT "+fn+"($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("%s(%d) = %t, %v", fn, pid, ok, err)
	}
}

// sleepAgain starts another pg_sleep on conn, in the same session as before.
func sleepAgain(conn *pgx.Conn) chan error {
	done := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), "SELECT pg_sleep(60)")
		done <- err
	}()
	return done
}

func waitEnded(t *testing.T, ended <-chan error, what string) {
	t.Helper()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s is still running", what)
	}
}

// TestCancelSessionChanged: a cancel or terminate approved after its target changed — the statement
// it was asked about ended and another began, or the pid now belongs to another session — signals
// nothing and fails with a conflict.
func TestCancelSessionChanged(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)

	t.Run("new statement in the same session", func(t *testing.T) {
		pid, ended, conn := sleeper(t, f.db.dsn)
		first := queryStart(t, f, pid, time.Time{})
		r, err := f.svc.Request(ctx, "carol", "C1", Spec{Kind: Cancel, PID: pid})
		if err != nil {
			t.Fatalf("Request: %v", err)
		}
		signal(t, f, "pg_cancel_backend", pid) // the statement ends by itself meanwhile
		waitEnded(t, ended, "the first statement")
		second := sleepAgain(conn)
		defer waitEnded(t, second, "the second statement")
		defer signal(t, f, "pg_cancel_backend", pid)
		started := queryStart(t, f, pid, first)

		done, err := f.svc.Approve(ctx, r.ID, "bob")
		if err != nil {
			t.Fatalf("Approve: %v", err)
		}
		if done.Status != StatusFailed || !strings.Contains(done.Result, "the session changed since the request; ask again") {
			t.Errorf("status %s, result %q; want failed with the session conflict", done.Status, done.Result)
		}
		time.Sleep(200 * time.Millisecond) // a stray signal would have landed by now
		select {
		case err := <-second:
			second <- err
			t.Fatalf("the new statement was cancelled: %v", err)
		default:
		}
		if now := queryStart(t, f, pid, time.Time{}); !now.Equal(started) {
			t.Errorf("backend %d runs a statement started %s, want the one started %s", pid, now, started)
		}
	})

	t.Run("pid of another session", func(t *testing.T) {
		pid, ended, _ := sleeper(t, f.db.dsn)
		queryStart(t, f, pid, time.Time{})
		r, err := f.svc.Request(ctx, "carol", "C1", Spec{Kind: Cancel, PID: pid, Terminate: true})
		if err != nil {
			t.Fatalf("Request: %v", err)
		}
		defer waitEnded(t, ended, "the sleeping query")
		defer signal(t, f, "pg_terminate_backend", pid)
		// The pid cannot be made to be reused on demand; the stored request is made to name a session
		// that started earlier, which is what approval sees after the pid was reused.
		f.db.exec(t, f.state, `UPDATE action_requests SET spec = jsonb_set(spec, '{backend_start}',
			to_jsonb('2001-02-03T04:05:06.789Z'::text)) WHERE id = '`+r.ID+`'`)

		done, err := f.svc.Approve(ctx, r.ID, "bob")
		if err != nil {
			t.Fatalf("Approve: %v", err)
		}
		if done.Status != StatusFailed || !strings.Contains(done.Result, "the session changed since the request; ask again") {
			t.Errorf("status %s, result %q; want failed with the session conflict", done.Status, done.Result)
		}
		if n := countRows(t, f.state, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid); n != 1 {
			t.Fatalf("backend %d is gone", pid)
		}
	})
}

// TestCancelSignalIsConditional: the signal itself names the pinned session and statement, so a change
// between the approval's re-check and the signal still signals nothing.
func TestCancelSignalIsConditional(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	pid, ended, conn := sleeper(t, f.db.dsn)
	first := queryStart(t, f, pid, time.Time{})
	a, spec, err := f.svc.build(ctx, Spec{Kind: Cancel, PID: pid})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.plan(ctx); err != nil {
		t.Fatal(err)
	}
	spec = a.(pinner).pin(spec)
	if spec.BackendStart == nil || spec.QueryStart == nil || !spec.QueryStart.Equal(first) {
		t.Fatalf("pinned spec = %+v, want backend_start and query_start %s", spec, first)
	}
	signal(t, f, "pg_cancel_backend", pid)
	waitEnded(t, ended, "the first statement")
	second := sleepAgain(conn)
	defer waitEnded(t, second, "the second statement")
	defer signal(t, f, "pg_cancel_backend", pid)
	queryStart(t, f, pid, first)

	stale := &cancelAction{db: f.state, spec: spec}
	_, err = stale.execute(ctx)
	wantKind(t, err, errs.Conflict)
	if !strings.Contains(err.Error(), "the session changed since the request; ask again") {
		t.Errorf("message %q", err)
	}
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-second:
		second <- err
		t.Fatalf("the new statement was cancelled: %v", err)
	default:
	}
}
