package actions

import (
	"context"
	"fmt"
	"strings"

	"github.com/perfbot/perfbot/errs"
)

// Change is one value an action changes, from its current to its target value ("replicas", "3", "5").
type Change struct {
	What string `json:"what"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Plan is what an action will do, computed from the live state before anyone approves it.
type Plan struct {
	// Summary is one line, e.g. "scale agentic-studio/agentic-studio to 5 replicas".
	Summary string   `json:"summary"`
	Changes []Change `json:"changes,omitempty"`
	// DryRun says what the dry run did and that it was accepted.
	DryRun string `json:"dry_run"`
	// Warnings are reasons to think twice that do not block the request (an HPA, a large table).
	Warnings []string `json:"warnings,omitempty"`
}

// Text renders the plan as plain lines: summary, "what: from → to" changes, dry run, warnings.
func (p Plan) Text() string {
	var b strings.Builder
	b.WriteString(p.Summary)
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "\n%s: %s → %s", c.What, c.From, c.To)
	}
	if p.DryRun != "" {
		fmt.Fprintf(&b, "\ndry run: %s", p.DryRun)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "\nwarning: %s", w)
	}
	return b.String()
}

// action is one change bound to its target. plan reads the live state, validates and dry-runs;
// execute makes the change (after plan, on the same value); verify checks it took effect.
type action interface {
	plan(ctx context.Context) (Plan, error)
	execute(ctx context.Context) (string, error)
	verify(ctx context.Context) (string, error)
}

// pinner is an action whose plan identifies its target more closely than the spec names it (a pid
// names a session only while it lives); pin records that identity in the spec stored with the request.
type pinner interface {
	pin(Spec) Spec
}

// changedSince returns a Conflict when a value a scale, limits, rollback or restart change starts from moved between the
// request (requested) and its approval (now): what was approved was computed from the old value. The
// other actions' From values describe live activity (a query's running time, the last analyze) and
// are not compared.
func changedSince(kind Kind, requested, now Plan) error {
	if kind != Scale && kind != Limits && kind != Rollback && kind != Restart {
		return nil
	}
	was := map[string]string{}
	for _, c := range requested.Changes {
		was[c.What] = c.From
	}
	for _, c := range now.Changes {
		if from, ok := was[c.What]; ok && from != c.From {
			return errs.Conflictf("%s changed from %s to %s since the request; ask again", c.What, from, c.From)
		}
	}
	return nil
}
