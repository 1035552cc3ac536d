package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perfbot/perfbot/actions"
	"github.com/perfbot/perfbot/app"
)

// TestActionInPostmortem: a rollback's events reach the incident timeline with its kind, target and
// before/after numbers, and the postmortem lists it in the actions table and the key numbers.
func TestActionInPostmortem(t *testing.T) {
	ctx := context.Background()
	store, inc := openIncident(t, "errors after deploy")
	rec := app.ActionRecorder{Store: store}
	at := time.Now().UTC().Truncate(time.Second)
	base := actions.Event{RequestID: "8b1f7c52-0000-4000-8000-000000000001", Summary: "roll back agentic-studio/agentic-studio from revision 7 to revision 6",
		Action: actions.Rollback, Target: "agentic-studio/agentic-studio"}
	steps := []struct {
		kind    actions.EventKind
		actor   string
		numbers []actions.Number
	}{
		{actions.EventRequested, "U0CAROL", nil},
		{actions.EventApproved, "U0BOB", nil},
		{actions.EventExecuted, "U0BOB", nil},
		{actions.EventVerified, "", []actions.Number{{Name: "revision of agentic-studio/agentic-studio", Before: 7, After: 8},
			{Name: "ready replicas of agentic-studio/agentic-studio", Before: 1, After: 3}}},
	}
	for i, s := range steps {
		e := base
		e.Kind, e.Actor, e.Numbers, e.At = s.kind, s.actor, s.numbers, at.Add(time.Duration(i)*time.Second)
		if err := rec.Record(ctx, inc.ID.String(), e); err != nil {
			t.Fatalf("record %s: %v", s.kind, err)
		}
	}
	md, err := store.Postmortem(ctx, inc.ID, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| rollback | agentic-studio/agentic-studio |",
		"| revision of agentic-studio/agentic-studio | 7 | 8 |",
		"| ready replicas of agentic-studio/agentic-studio | 1 | 3 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("postmortem lacks %q:\n%s", want, md)
		}
	}
}
