package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// TestPinSummariesArePlainText: a pin or :pushpin: reaction is recorded as plain text, so the
// incident status (which escapes summaries as data) shows it as written, not as a literal <@U…>.
func TestPinSummariesArePlainText(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, stacktest.Database(t, "perfbot_pin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := incidents.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := incidents.New(pool, incidents.Options{})
	inc, err := store.Open(ctx, incidents.OpenParams{Title: "slow", Service: "agentic-studio", OpenedBy: "U0ALICE", Source: "console"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetChannel(ctx, inc.ID, "C0INC", "inc-1-slow"); err != nil {
		t.Fatal(err)
	}
	tl := handlers.Timeline{Store: store}
	at := time.Now()
	tl.EventSeen(ctx, handlers.EventRecord{ID: "Ev1", Type: "pin_added", User: "U0BOB", Channel: "C0INC", ItemTS: "1700000000.123456", EventTime: at})
	tl.EventSeen(ctx, handlers.EventRecord{ID: "Ev2", Type: "reaction_added", Reaction: "pushpin", User: "U0CAROL", Channel: "C0INC", ItemTS: "1700000001.000001", EventTime: at})
	events, err := store.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[incidents.Kind]struct{ actor, summary string }{
		incidents.KindPin:      {"U0BOB", "pinned message 1700000000.123456"},
		incidents.KindReaction: {"U0CAROL", "marked message 1700000001.000001 with :pushpin:"},
	}
	for _, e := range events {
		w, ok := want[e.Kind]
		if !ok {
			continue
		}
		delete(want, e.Kind)
		if e.Actor != w.actor || e.Summary != w.summary {
			t.Errorf("%s: actor %q summary %q, want %q %q", e.Kind, e.Actor, e.Summary, w.actor, w.summary)
		}
		if strings.ContainsAny(e.Summary, "<>&") {
			t.Errorf("%s summary holds markup: %q", e.Kind, e.Summary)
		}
	}
	if len(want) != 0 {
		t.Errorf("not recorded: %v", want)
	}
}
