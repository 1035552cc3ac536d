package actions

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
)

// TestRecoverScaleFromWhatIsThere: after the process running a scale stops, the clock reads the
// deployment: replicas at the target is a success (the scale went through before the process
// died), anything else a failure.
func TestRecoverScaleFromWhatIsThere(t *testing.T) {
	ctx := context.Background()
	kcfg := kubeConfig(t)
	k := newKubeTarget(t, kcfg, 1)
	msgs := &shownMessages{}
	f := newFixture(t, func(o *Options) {
		o.Kube, o.Messages = k.cs, msgs
		o.Config.Actions.Deployments = append(o.Config.Actions.Deployments, k.limit(1, 6))
	})
	for _, tt := range []struct {
		name    string
		scaled  bool
		status  Status
		message string
	}{
		{"scaled before it stopped", true, StatusSucceeded, "is 5, as requested"},
		{"stopped before scaling", false, StatusFailed, "is 3, not 4: the scale did not take effect"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k.setReplicas(t, 3)
			target := "5"
			if !tt.scaled {
				target = "4"
			}
			r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "scale agentic-studio "+target))
			if err != nil {
				t.Fatal(err)
			}
			f.claimAsDead(t, r)
			if tt.scaled {
				k.setReplicas(t, 5)
			}
			f.clock.Advance(time.Minute)
			got, err := f.svc.Recover(ctx)
			if err != nil || len(got) != 1 || got[0].ID != r.ID {
				t.Fatalf("Recover = %+v, %v", got, err)
			}
			if got[0].Status != tt.status || !strings.Contains(got[0].Result, tt.message) {
				t.Errorf("%s %q; want %s with %q", got[0].Status, got[0].Result, tt.status, tt.message)
			}
			if s := msgs.of(r.ID); len(s) != 1 || s[0] != tt.status {
				t.Errorf("shown %v, want %s once", s, tt.status)
			}
		})
	}
}

// holdLock takes a lock on table in another session, so ANALYZE (which needs SHARE UPDATE
// EXCLUSIVE) waits for it; release ends the lock's transaction.
func holdLock(t *testing.T, f *fixture, table string) (release func()) {
	t.Helper()
	tx := openTx(t, f, "LOCK TABLE "+table+" IN SHARE UPDATE EXCLUSIVE MODE")
	return func() {
		if err := tx.Rollback(context.Background()); err != nil {
			t.Errorf("release the lock: %v", err)
		}
	}
}

// waitAnalyzeBlocked waits until an ANALYZE waits for a lock.
func waitAnalyzeBlocked(t *testing.T, f *fixture) {
	t.Helper()
	for range 500 {
		if countRows(t, f.state, `SELECT count(*) FROM pg_stat_activity
			WHERE query LIKE 'ANALYZE %' AND wait_event_type = 'Lock' AND datname = current_database()`) > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no ANALYZE is waiting for its lock")
}

// TestDeadlineStopsAnAction: an action that cannot finish is stopped at its kind's deadline and
// fails saying so; the kinds have their own deadlines, long for CREATE INDEX CONCURRENTLY.
func TestDeadlineStopsAnAction(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(o *Options) {
		o.Config.Actions.Deadlines = map[string]config.Duration{"analyze": config.Duration(time.Second)}
	})
	f.ideasTable(t)
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "analyze ideas"))
	if err != nil {
		t.Fatal(err)
	}
	release := holdLock(t, f, "ideas") // held past the deadline: ANALYZE can never finish in time
	defer release()
	done, err := f.svc.Approve(ctx, r.ID, "alice")
	if err != nil || done.Status != StatusFailed || !strings.Contains(done.Result, "stopped at its deadline of 1s (actions.deadlines.analyze)") {
		t.Fatalf("Approve = %s %q, %v; want failed at the deadline", done.Status, done.Result, err)
	}
	if d := done.Deadline.Sub(done.DecidedAt); d != time.Second {
		t.Errorf("stored deadline %s after the approval, want 1s", d)
	}
	if f.rec.count(r.ID, EventFailed) != 1 {
		t.Errorf("timeline %v, want the failure", f.rec.kinds(r.ID))
	}
	def := testConfig("x")
	if s := f.service(t, f.state, func(o *Options) { o.Config = def }); s.deadline(Index) < time.Hour || s.deadline(Scale) > 5*time.Minute {
		t.Errorf("default deadlines: index %s, scale %s", s.deadline(Index), s.deadline(Scale))
	}
}

// TestShutdownWaitsForRunningActions: shutdown refuses new approvals and waits for the action it
// runs; the action finishes and its outcome is stored normally.
func TestShutdownWaitsForRunningActions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.ideasTable(t)
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "analyze ideas"))
	if err != nil {
		t.Fatal(err)
	}
	waiting, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "analyze ideas"))
	if err != nil {
		t.Fatal(err)
	}
	release := holdLock(t, f, "ideas")
	approved := make(chan Request, 1)
	go func() { done, _ := f.svc.Approve(ctx, r.ID, "alice"); approved <- done }()
	waitAnalyzeBlocked(t, f)
	stopped := make(chan error, 1)
	go func() { stopped <- f.svc.Shutdown(ctx) }() // no bound: waits for the action
	for !f.svc.stopping.Load() {
		time.Sleep(time.Millisecond)
	}
	_, err = f.svc.Approve(ctx, waiting.ID, "alice")
	wantKind(t, err, errs.Unavailable)
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) while an action was running", err)
	default:
	}
	release()
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if done := <-approved; done.Status != StatusSucceeded {
		t.Errorf("the action finished as %s %q", done.Status, done.Result)
	}
}

// TestShutdownLeavesRunningActionsToRecovery: when shutdown stops waiting, the running action's
// outcome is not recorded (the process is about to close its pools), its lease lapses, and another
// process decides the outcome from the target: never half-recorded.
func TestShutdownLeavesRunningActionsToRecovery(t *testing.T) {
	ctx := context.Background()
	msgs := &shownMessages{}
	f := newFixture(t, nil)
	f.ideasTable(t)
	other := f.service(t, f.db.pool(t, "perfbot-test"), func(o *Options) { o.Messages = msgs })
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "analyze ideas"))
	if err != nil {
		t.Fatal(err)
	}
	release := holdLock(t, f, "ideas")
	approved := make(chan error, 1)
	go func() { _, err := f.svc.Approve(ctx, r.ID, "alice"); approved <- err }()
	waitAnalyzeBlocked(t, f)
	sctx, cancel := context.WithCancel(ctx)
	cancel() // the shutdown budget is spent
	if err := f.svc.Shutdown(sctx); err == nil {
		t.Fatal("Shutdown waited for nothing")
	}
	release() // the ANALYZE now completes, after the process gave up on it
	if err := <-approved; errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("Approve after shutdown gave up = %v, want Unavailable", err)
	}
	got, _ := other.Get(ctx, r.ID)
	if got.Status != StatusExecuting || countRows(t, f.state, `SELECT count(*) FROM action_events WHERE kind IN ('verified', 'failed')`) != 0 {
		t.Fatalf("the abandoned action recorded %s %q", got.Status, got.Result)
	}
	if recovered, _ := other.Recover(ctx); len(recovered) != 0 {
		t.Fatalf("recovered under a live lease: %+v", recovered)
	}
	f.clock.Advance(time.Minute)
	recovered, err := other.Recover(ctx)
	if err != nil || len(recovered) != 1 || recovered[0].Status != StatusSucceeded || !strings.Contains(recovered[0].Result, "statistics of public.ideas were updated") {
		t.Fatalf("Recover = %+v, %v", recovered, err)
	}
	if s := msgs.of(r.ID); len(s) != 1 || s[0] != StatusSucceeded {
		t.Errorf("shown %v, want succeeded once", s)
	}
}
