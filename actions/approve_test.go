package actions

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfbot/perfbot/errs"
)

// ideasTable creates a small table the analyze action can run on.
func (f *fixture) ideasTable(t testing.TB) {
	f.db.exec(t, f.state, `CREATE TABLE ideas (id bigserial PRIMARY KEY, title text NOT NULL, owner_id int NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO ideas (title, owner_id) SELECT 'idea ' || g, g % 100 FROM generate_series(1, 1000) g`)
}

func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	db := newTestDB(t)
	var wg sync.WaitGroup
	errc := make(chan error, 6)
	for i := 0; i < 6; i++ {
		p := db.pool(t, "perfbot-test")
		wg.Add(1)
		go func() { defer wg.Done(); errc <- Migrate(context.Background(), p) }()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	p := db.pool(t, "perfbot-test")
	files, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, p, "SELECT count(*) FROM action_migrations"); n != len(files) {
		t.Errorf("%d migrations recorded, want each of the %d once", n, len(files))
	}
	if n := countRows(t, p, "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'action\\_%' AND tablename <> 'action_migrations'"); n != 2 {
		t.Errorf("%d action tables, want 2", n)
	}
}

func TestApprovalFlow(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(o *Options) { o.Incidents = channelIncidents{"C-inc": "INC-7"} })
	f.ideasTable(t)
	spec, err := ParseRequest("analyze ideas")
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.Request(ctx, "carol", "C-inc", spec)
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	if r.Status != StatusPending || r.IncidentRef != "INC-7" || r.Spec.Schema != "public" {
		t.Fatalf("request = %+v", r)
	}
	if want := f.clock.Now().Add(15 * time.Minute); !r.ExpiresAt.Equal(want) {
		t.Errorf("expires at %s, want %s", r.ExpiresAt, want)
	}
	if !strings.Contains(r.Plan.Text(), "planner statistics: never analyzed → analyzed now") {
		t.Errorf("plan = %q", r.Plan.Text())
	}

	_, err = f.svc.Approve(ctx, r.ID, "carol")
	wantKind(t, err, errs.Forbidden)
	_, err = f.svc.Approve(ctx, r.ID, "mallory")
	wantKind(t, err, errs.Forbidden)
	if got, _ := f.svc.Get(ctx, r.ID); got.Status != StatusPending {
		t.Fatalf("refused approvals changed the status to %s", got.Status)
	}

	done, err := f.svc.Approve(ctx, r.ID, "alice")
	if err != nil {
		t.Fatalf("Approve: %v", err)
	}
	if done.Status != StatusSucceeded || done.ApprovedBy != "alice" || done.FinishedAt.IsZero() {
		t.Fatalf("after approval: %+v", done)
	}
	if !strings.Contains(done.Result, "statistics of public.ideas updated") {
		t.Errorf("result = %q", done.Result)
	}
	_, err = f.svc.Approve(ctx, r.ID, "bob")
	wantKind(t, err, errs.Conflict)
	_, err = f.svc.Deny(ctx, r.ID, "bob")
	wantKind(t, err, errs.Conflict)

	want := []EventKind{EventRequested, EventRefused, EventRefused, EventApproved, EventExecuted, EventVerified}
	if got := f.rec.kinds(r.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("timeline = %v, want %v", got, want)
	}
	for _, ref := range f.rec.refs {
		if ref != "INC-7" {
			t.Errorf("event recorded for incident %q, want INC-7", ref)
		}
	}
	stored, err := f.svc.Events(ctx, r.ID)
	if err != nil || len(stored) != len(want) {
		t.Fatalf("stored events = %v, %v", stored, err)
	}
	if stored[3].Actor != "alice" || stored[1].Actor != "carol" {
		t.Errorf("stored actors: %+v", stored)
	}
}

func TestApprovalRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(o *Options) { o.Approvers = groupApprovers{"dave": true} })
	f.ideasTable(t)
	spec := Spec{Kind: Analyze, Table: "ideas"}
	newReq := func(t *testing.T) Request {
		r, err := f.svc.Request(ctx, "carol", "C1", spec)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Run("expired", func(t *testing.T) {
		r := newReq(t)
		f.clock.Advance(16 * time.Minute)
		defer f.clock.Advance(-16 * time.Minute)
		_, err := f.svc.Approve(ctx, r.ID, "alice")
		wantKind(t, err, errs.Conflict)
		if !strings.Contains(err.Error(), "expired") {
			t.Errorf("message %q does not say expired", err)
		}
		expired, err := f.svc.Expire(ctx)
		if err != nil || len(expired) != 1 || expired[0].ID != r.ID || expired[0].Status != StatusExpired {
			t.Fatalf("Expire = %+v, %v", expired, err)
		}
		_, err = f.svc.Approve(ctx, r.ID, "alice")
		wantKind(t, err, errs.Conflict)
	})
	t.Run("denied", func(t *testing.T) {
		r := newReq(t)
		_, err := f.svc.Deny(ctx, r.ID, "mallory")
		wantKind(t, err, errs.Forbidden)
		d, err := f.svc.Deny(ctx, r.ID, "bob")
		if err != nil || d.Status != StatusDenied || d.DeniedBy != "bob" {
			t.Fatalf("Deny = %+v, %v", d, err)
		}
		_, err = f.svc.Approve(ctx, r.ID, "alice")
		wantKind(t, err, errs.Conflict)
		if !strings.Contains(err.Error(), "denied by bob") {
			t.Errorf("message %q does not say who denied", err)
		}
	})
	t.Run("requester withdraws", func(t *testing.T) {
		r := newReq(t)
		if d, err := f.svc.Deny(ctx, r.ID, "carol"); err != nil || d.Status != StatusDenied {
			t.Fatalf("Deny by requester = %+v, %v", d, err)
		}
	})
	t.Run("group approver", func(t *testing.T) {
		r := newReq(t)
		if d, err := f.svc.Approve(ctx, r.ID, "dave"); err != nil || d.Status != StatusSucceeded {
			t.Fatalf("Approve by group member = %+v, %v", d, err)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		_, err := f.svc.Approve(ctx, "not-a-uuid", "alice")
		wantKind(t, err, errs.NotFound)
		_, err = f.svc.Approve(ctx, "6f1c1c8e-8a64-4d0b-9d8e-000000000000", "alice")
		wantKind(t, err, errs.NotFound)
	})
	if n := countRows(t, f.state, "SELECT count(*) FROM action_events WHERE kind = 'executed'"); n != 1 {
		t.Errorf("%d executions, want 1 (the group approver's)", n)
	}
}

// TestApproveExactlyOnceDB races 50 approvals from two Services with their own pools on one request.
func TestApproveExactlyOnceDB(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.ideasTable(t)
	other := f.service(t, f.db.pool(t, "perfbot-test"), nil)
	r, err := f.svc.Request(ctx, "carol", "C1", Spec{Kind: Analyze, Table: "ideas"})
	if err != nil {
		t.Fatal(err)
	}
	wins, conflicts := raceApprove(t, []*Service{f.svc, other}, r.ID, 50)
	if wins != 1 || conflicts != 49 {
		t.Errorf("%d approvals ran and %d conflicted, want 1 and 49", wins, conflicts)
	}
	if n := countRows(t, f.state, "SELECT count(*) FROM action_events WHERE kind = 'executed'"); n != 1 {
		t.Errorf("%d executions recorded, want 1", n)
	}
}

// raceApprove fires n Approve calls at once, alternating services and approvers, and counts outcomes.
func raceApprove(t testing.TB, svcs []*Service, id string, n int) (wins, conflicts int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			approver := []string{"alice", "bob"}[i%2]
			r, err := svcs[i%len(svcs)].Approve(context.Background(), id, approver)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && r.Status == StatusSucceeded:
				wins++
			case errs.KindOf(err) == errs.Conflict:
				conflicts++
			default:
				t.Errorf("approval %d: %+v, %v", i, r.Result, err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	return wins, conflicts
}
