package actions

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// explainFixture is a fixture with explain-analyze enabled and a table of 20 000 rows.
func explainFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, func(o *Options) { o.Config.Actions.Allowed = append(o.Config.Actions.Allowed, string(ExplainAnalyze)) })
	for _, q := range []string{
		`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`,
		`CREATE TABLE ideas (id int PRIMARY KEY, category text NOT NULL, title text NOT NULL)`,
		`INSERT INTO ideas SELECT g, 'c' || (g % 10), 'idea ' || g FROM generate_series(1, 20000) g`,
		`ANALYZE ideas`,
	} {
		f.db.exec(t, f.state, q)
	}
	return f
}

// queryID runs text once and returns its pg_stat_statements queryid.
func queryID(t *testing.T, f *fixture, text, normalized string) int64 {
	t.Helper()
	ctx := context.Background()
	f.db.exec(t, f.state, text)
	var id int64
	stacktest.Eventually(t, 10*time.Second, 50*time.Millisecond, func() bool {
		return f.state.QueryRow(ctx, `SELECT queryid FROM pg_stat_statements WHERE query = $1
			AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`, normalized).Scan(&id) == nil
	}, "%q not in pg_stat_statements", normalized)
	return id
}

// TestExplainAnalyzeNeedsASecondPerson: EXPLAIN ANALYZE is only requested (planned without running);
// the requester cannot approve it; a second person's approval runs it once and the result carries
// the actual rows, the sequential scan, and the before/after numbers for the timeline.
func TestExplainAnalyzeNeedsASecondPerson(t *testing.T) {
	ctx := context.Background()
	f := explainFixture(t)
	const text = `SELECT count(*) FROM ideas WHERE category = title`
	id := queryID(t, f, text, text)
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, fmt.Sprintf("explain-analyze %d", id)))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	if r.Status != StatusPending || r.Spec.Statement != text || r.Result != "" || strings.Contains(r.Plan.Text(), "actual") {
		t.Fatalf("request = %+v\nplan: %s", r, r.Plan.Text())
	}
	if !strings.Contains(r.Plan.DryRun, "Seq Scan on public.ideas") {
		t.Errorf("dry run = %q", r.Plan.DryRun)
	}
	_, err = f.svc.Approve(ctx, r.ID, "carol")
	wantKind(t, err, errs.Forbidden)
	if got := f.rec.kinds(r.ID); !reflect.DeepEqual(got, []EventKind{EventRequested, EventRefused}) {
		t.Fatalf("before approval: events %v", got)
	}
	done, err := f.svc.Approve(ctx, r.ID, "bob")
	if err != nil || done.Status != StatusSucceeded {
		t.Fatalf("Approve = %+v, %v", done, err)
	}
	for _, want := range []string{"EXPLAIN ANALYZE of queryid", "Seq Scan on public.ideas", "actual 0 × 1 loops", "sequential scan of large table public.ideas"} {
		if !strings.Contains(done.Result, want) {
			t.Errorf("result lacks %q:\n%s", want, done.Result)
		}
	}
	want := []EventKind{EventRequested, EventRefused, EventApproved, EventExecuted, EventVerified}
	if got := f.rec.kinds(r.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("timeline = %v, want %v", got, want)
	}
	v := lastEvent(t, f.rec, r.ID, EventVerified)
	if v.Action != ExplainAnalyze || v.Target != fmt.Sprintf("statement %d", id) || len(v.Numbers) == 0 {
		t.Fatalf("verified event = %+v", v)
	}
	if n := v.Numbers[0]; n.Before < 1 || n.After != 1 {
		t.Errorf("rows estimated → actual = %+v, want the estimate and 1 (count(*) returns one row)", n)
	}
}

// TestExplainAnalyzeRefusals: a statement with parameters (no values to run it with) and a running
// statement with a side-effecting function are refused when requested.
func TestExplainAnalyzeRefusals(t *testing.T) {
	ctx := context.Background()
	f := explainFixture(t)
	id := queryID(t, f, `SELECT title FROM ideas WHERE id = 42`, `SELECT title FROM ideas WHERE id = $1`)
	_, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, fmt.Sprintf("explain-analyze %d", id)))
	wantKind(t, err, errs.Invalid)
	if !strings.Contains(err.Error(), "parameters") {
		t.Errorf("refusal = %v", err)
	}

	conn, err := f.state.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	pid := int32(conn.Conn().PgConn().PID())
	ended := sleepAgain(conn.Conn())
	queryStart(t, f, pid, time.Time{})
	_, err = f.svc.Request(ctx, "carol", "C1", mustParse(t, fmt.Sprintf("explain-analyze %d", pid)))
	wantKind(t, err, errs.Invalid)
	if !strings.Contains(err.Error(), "pg_sleep") {
		t.Errorf("refusal = %v", err)
	}
	signal(t, f, "pg_cancel_backend", pid)
	waitEnded(t, ended, "pg_sleep")
}

// lastEvent is the last event of kind the recorder got for request id.
func lastEvent(t *testing.T, r *recorder, id string, kind EventKind) Event {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if e := r.events[i]; e.RequestID == id && e.Kind == kind {
			return e
		}
	}
	t.Fatalf("no %s event for %s", kind, id)
	return Event{}
}
