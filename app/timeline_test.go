package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/incidents"
)

// TestPinSummariesArePlainText: a pin or pushpin reaction is recorded as plain text with no chat
// markup (no mention syntax, no emoji shortcode), so every renderer shows it as written.
func TestPinSummariesArePlainText(t *testing.T) {
	ctx := context.Background()
	store, inc := openIncident(t, "slow")
	if err := store.SetChannel(ctx, inc.ID, "C0INC", "inc-1-slow"); err != nil {
		t.Fatal(err)
	}
	tl := app.Timeline{Store: store}
	at := time.Now()
	tl.EventSeen(ctx, handlers.EventRecord{ID: "Ev1", Type: "pin_added", User: "U0BOB", Channel: "C0INC", ItemTS: "1700000000.123456", EventTime: at})
	tl.EventSeen(ctx, handlers.EventRecord{ID: "Ev2", Type: "reaction_added", Reaction: "pushpin", User: "U0CAROL", Channel: "C0INC", ItemTS: "1700000001.000001", EventTime: at})
	events, err := store.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[incidents.Kind]struct{ actor, summary string }{
		incidents.KindPin:      {"U0BOB", "pinned message 1700000000.123456"},
		incidents.KindReaction: {"U0CAROL", "marked message 1700000001.000001 with a pushpin reaction"},
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
		if strings.ContainsAny(e.Summary, "<>:*`") {
			t.Errorf("%s summary holds chat markup: %q", e.Kind, e.Summary)
		}
	}
	if len(want) != 0 {
		t.Errorf("not recorded: %v", want)
	}
}
