package actions

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// shownMessages keeps every request the clock showed, as the bot's approval messages would; it
// fails the first failFirst calls, like a Slack outage.
type shownMessages struct {
	mu        sync.Mutex
	shown     []Request
	failFirst int
}

func (m *shownMessages) ShowRequest(_ context.Context, r Request) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failFirst > 0 {
		m.failFirst--
		return errors.New("chat.update: service unavailable")
	}
	m.shown = append(m.shown, r)
	return nil
}

// of returns the statuses shown for request id, in order.
func (m *shownMessages) of(id string) []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Status
	for _, r := range m.shown {
		if r.ID == id {
			out = append(out, r.Status)
		}
	}
	return out
}

func (r *recorder) count(id string, kind EventKind) int {
	n := 0
	for _, k := range r.kinds(id) {
		if k == kind {
			n++
		}
	}
	return n
}

// TestExpiryOnTheClock: two processes tick at once; every request past its expiry is expired once,
// its approval message is shown expired (with where it was posted), the timeline records it once,
// and a click after that is refused. A message that cannot be updated is tried again later.
func TestExpiryOnTheClock(t *testing.T) {
	ctx := context.Background()
	msgs := &shownMessages{failFirst: 1}
	f := newFixture(t, func(o *Options) { o.Messages = msgs; o.Incidents = channelIncidents{"C-inc": "INC-1"} })
	f.ideasTable(t)
	other := f.service(t, f.db.pool(t, "perfbot-test"), func(o *Options) { o.Messages = msgs })
	var ids []string
	for i := range 3 {
		r, err := f.svc.Request(ctx, "carol", "C-inc", mustParse(t, "analyze ideas"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetMessage(ctx, r.ID, "C-inc", "1700000000.00000"+string(rune('1'+i))); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	noMessage, err := f.svc.Request(ctx, "carol", "C-inc", mustParse(t, "analyze ideas")) // its message was never recorded
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(16 * time.Minute)
	if _, err := f.svc.Request(ctx, "carol", "C-inc", mustParse(t, "analyze ideas")); err != nil { // not yet due
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for _, s := range []*Service{f.svc, other, f.svc, other} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Tick(ctx) }()
	}
	wg.Wait()
	all := append(ids, noMessage.ID)
	for _, id := range all {
		if n := countRows(t, f.state, "SELECT count(*) FROM action_events WHERE request_id = $1 AND kind = 'expired'", uuid.MustParse(id)); n != 1 {
			t.Errorf("%s: %d expired events stored, want 1", id, n)
		}
		if n := f.rec.count(id, EventExpired); n != 1 {
			t.Errorf("%s: told the timeline %d times, want 1", id, n)
		}
		r, _ := f.svc.Get(ctx, id)
		if r.Status != StatusExpired {
			t.Errorf("%s is %s, want expired", id, r.Status)
		}
		if _, err := f.svc.Approve(ctx, id, "alice"); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Errorf("Approve after expiry = %v, want refused as expired", err)
		}
	}
	// One message update failed: it is shown on a later tick, once.
	f.clock.Advance(2 * announceRetry)
	if err := f.svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	retold := 0
	for i, id := range all {
		retold += f.rec.count(id, EventExpired) - 1
		if got := msgs.of(id); len(got) != 1 || got[0] != StatusExpired {
			t.Errorf("%s shown as %v, want expired once", id, got)
		}
		if i < len(ids) {
			msgs.mu.Lock()
			for _, r := range msgs.shown {
				if r.ID == id && (r.MessageChannel != "C-inc" || !strings.HasPrefix(r.MessageTS, "1700000000.")) {
					t.Errorf("%s shown without its message: %q %q", id, r.MessageChannel, r.MessageTS)
				}
			}
			msgs.mu.Unlock()
		}
	}
	if retold != 1 { // the timeline is told again with the message; it keeps one event per request and kind
		t.Errorf("%d outcomes told the timeline twice, want the one whose message failed", retold)
	}
	if n := countRows(t, f.state, "SELECT count(*) FROM action_requests WHERE status = 'pending'"); n != 1 {
		t.Errorf("%d requests pending, want the one not yet due", n)
	}
}

// claimAsDead claims request r as a process that then stops: its lease lapses once the clock passes it.
func (f *fixture) claimAsDead(t *testing.T, r Request) {
	t.Helper()
	now := f.clock.Now()
	if _, ok, err := f.svc.store.claim(context.Background(), uuid.MustParse(r.ID), "alice", now, "dead-process",
		now.Add(30*time.Second), now.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("claim: %v, %v", ok, err)
	}
}

// TestRecoverIndexFromWhatIsThere: a process that stopped while building an index leaves its
// request executing. While its lease holds nobody touches it; then the clock decides from the
// database: a build still running is waited for, a valid index is a success, an invalid one is
// dropped and a failure, no index is a failure. Each outcome is shown and recorded once.
func TestRecoverIndexFromWhatIsThere(t *testing.T) {
	ctx := context.Background()
	msgs := &shownMessages{}
	f := newFixture(t, func(o *Options) { o.Messages = msgs })
	f.ideasTable(t)
	other := f.service(t, f.db.pool(t, "perfbot-test"), func(o *Options) { o.Messages = msgs })
	request := func(t *testing.T, text string) Request {
		r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, text))
		if err != nil {
			t.Fatal(err)
		}
		f.claimAsDead(t, r)
		return r
	}
	recoverOne := func(t *testing.T, r Request) Request {
		t.Helper()
		if _, err := other.Recover(ctx); err != nil {
			t.Fatalf("Recover: %v", err)
		}
		got, err := other.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	t.Run("lease still held", func(t *testing.T) {
		r := request(t, "index ideas title")
		if got := recoverOne(t, r); got.Status != StatusExecuting {
			t.Fatalf("recovered under a live lease: %s %q", got.Status, got.Result)
		}
		f.db.exec(t, f.state, `CREATE INDEX idx_ideas_title ON ideas (title)`) // what the process did before it stopped
		f.clock.Advance(time.Minute)
		got := recoverOne(t, r)
		if got.Status != StatusSucceeded || !strings.Contains(got.Result, "idx_ideas_title exists and is valid") {
			t.Errorf("valid index: %s %q", got.Status, got.Result)
		}
		if s := msgs.of(r.ID); len(s) != 1 || s[0] != StatusSucceeded {
			t.Errorf("shown %v, want succeeded once", s)
		}
		if f.rec.count(r.ID, EventVerified) != 1 {
			t.Errorf("timeline %v, want one verified", f.rec.kinds(r.ID))
		}
	})

	t.Run("invalid index dropped", func(t *testing.T) {
		f.db.exec(t, f.state, `CREATE TABLE dup (id int, owner_id int); INSERT INTO dup VALUES (1, 1), (2, 1)`)
		r := request(t, "index dup owner_id")
		// The stopped build left an invalid index (a unique build over duplicates fails the same way).
		if _, err := f.state.Exec(ctx, `CREATE UNIQUE INDEX CONCURRENTLY idx_dup_owner_id ON dup (owner_id)`); err == nil {
			t.Fatal("the unique build over duplicates succeeded")
		}
		if n, valid := indexState(t, f, "idx_dup_owner_id"); n != 1 || valid != 0 {
			t.Fatalf("%d indexes (%d valid), want one invalid", n, valid)
		}
		f.clock.Advance(time.Minute)
		got := recoverOne(t, r)
		if got.Status != StatusFailed || !strings.Contains(got.Result, "left it invalid; it was dropped") {
			t.Errorf("invalid index: %s %q", got.Status, got.Result)
		}
		if n, _ := indexState(t, f, "idx_dup_owner_id"); n != 0 {
			t.Errorf("%d invalid indexes left, want 0", n)
		}
		if f.rec.count(r.ID, EventFailed) != 1 || len(msgs.of(r.ID)) != 1 {
			t.Errorf("timeline %v, shown %v; want one failure of each", f.rec.kinds(r.ID), msgs.of(r.ID))
		}
	})

	t.Run("build still running, then done", func(t *testing.T) {
		r := request(t, "index ideas owner_id")
		commit := holdWriter(t, f, "ideas")
		built := make(chan error, 1)
		go func() {
			_, err := f.db.pool(t, "studio-admin").Exec(ctx, `CREATE INDEX CONCURRENTLY idx_ideas_owner_id ON ideas (owner_id)`)
			built <- err
		}()
		waitBuilding(t, f, "ideas")
		f.clock.Advance(time.Minute)
		if got := recoverOne(t, r); got.Status != StatusExecuting {
			t.Fatalf("decided while the build runs: %s %q", got.Status, got.Result)
		}
		commit()
		if err := <-built; err != nil {
			t.Fatalf("build: %v", err)
		}
		f.clock.Advance(time.Minute) // past the lease recovery took to look again
		if got := recoverOne(t, r); got.Status != StatusSucceeded {
			t.Errorf("after the build: %s %q", got.Status, got.Result)
		}
	})

	t.Run("no index", func(t *testing.T) {
		r := request(t, "index ideas created_at")
		f.clock.Advance(time.Minute)
		if got := recoverOne(t, r); got.Status != StatusFailed || !strings.Contains(got.Result, "does not exist") {
			t.Errorf("no index: %s %q", got.Status, got.Result)
		}
	})
}

// TestLateFinishDoesNotOverwriteRecovery: a process whose lease lapsed (it was cut off, not dead)
// and that then finishes keeps what recovery decided.
func TestLateFinishDoesNotOverwriteRecovery(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	f.ideasTable(t)
	r, err := f.svc.Request(ctx, "carol", "C1", mustParse(t, "index ideas title"))
	if err != nil {
		t.Fatal(err)
	}
	f.claimAsDead(t, r)
	f.clock.Advance(time.Minute)
	if _, err := f.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	_, ok, err := f.svc.store.finish(ctx, r.ID, "dead-process", StatusSucceeded, "late", f.clock.Now())
	if err != nil || ok {
		t.Fatalf("late finish = %v, %v; want refused", ok, err)
	}
	if got, _ := f.svc.Get(ctx, r.ID); got.Status != StatusFailed || got.Result == "late" {
		t.Errorf("%s %q, want the recovered failure", got.Status, got.Result)
	}
}
