package handlers_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// TestAShortIncidentSaysHowLongItLasted: an incident resolved 16 s after it was opened says "after 16s"
// in the reply, the timeline and the postmortem alike (not "after 0s", nor rounded to a minute).
func TestAShortIncidentSaysHowLongItLasted(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, stacktest.Database(t, "perfbot_handlers_inc"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := incidents.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	clock := &fixedClock{now: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)}
	store := incidents.New(pool, incidents.Options{Now: clock.Now})
	cfg := config.Default()
	h := handlers.New(cfg, app.NewBackends(cfg, nil), nil)
	h.Add(handlers.NewIncidents(store, &recordingWorkspace{}, cfg, nil, clock.Now).Commands()...)
	if _, err := h.Handle(ctx, handlers.Request{Text: "incident open checkout slow sev2", User: "U0ALICE", Channel: "C0PERF"}); err != nil {
		t.Fatal(err)
	}
	clock.Add(16 * time.Second)
	rep, err := h.Handle(ctx, handlers.Request{Text: "incident resolve cache flushed", User: "U0ALICE", Channel: "C0INC"})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Text.String(); !strings.Contains(got, " after 16s.") {
		t.Errorf("resolve reply %q, want it to say after 16s", got)
	}
	inc, err := store.ByChannel(ctx, "C0INC")
	if err != nil {
		t.Fatal(err)
	}
	md, err := store.Postmortem(ctx, inc.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, "| Duration | 16s ") || !strings.Contains(md, "resolved after 16s") {
		t.Errorf("postmortem does not say 16s in its summary and timeline:\n%s", md)
	}
}

type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fixedClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fixedClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
