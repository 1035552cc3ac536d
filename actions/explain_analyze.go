package actions

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/explain"
	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

// explainAnalyzeAction runs EXPLAIN ANALYZE on one slow SELECT, the runbook's
// `EXPLAIN ANALYZE SELECT * FROM users WHERE email = …`: the statement really runs, so it waits for a
// second person, and runs once, in a read-only transaction under a statement timeout.
type explainAnalyzeAction struct {
	db        *pgxpool.Pool
	spec      Spec
	timeout   time.Duration // the statement_timeout
	largeRows int64
	st        explain.Statement
	estimate  explain.Explanation
	result    explain.Explanation
}

// buildExplainAnalyze binds explain-analyze to the service's database; its statement timeout is
// the kind's deadline less a margin, so the server stops the statement before the deadline fires.
func (s *Service) buildExplainAnalyze(spec Spec) action {
	d := s.deadline(ExplainAnalyze)
	large := int64(10000)
	if len(s.cfg.Services) > 0 && s.cfg.Services[0].Postgres.SeqScanMinRows > 0 {
		large = s.cfg.Services[0].Postgres.SeqScanMinRows
	}
	return &explainAnalyzeAction{db: s.db, spec: spec, timeout: d - min(d/10, 5*time.Second), largeRows: large}
}

func (a *explainAnalyzeAction) plan(ctx context.Context) (Plan, error) {
	if a.spec.Statement != "" { // pinned at the request: approval runs what was shown
		a.st = explain.Statement{Text: a.spec.Statement, PID: a.spec.PID, QueryID: a.spec.QueryID}
	} else {
		st, err := explain.Find(ctx, a.db, a.spec.QueryID)
		if err != nil {
			return Plan{}, err
		}
		a.st = st
	}
	if err := explain.CheckAnalyzable(a.st.Text); err != nil {
		return Plan{}, err
	}
	est, err := explain.Run(ctx, a.db, a.st, explain.Options{Timeout: min(a.timeout, 10*time.Second), LargeRows: a.largeRows})
	if err != nil {
		return Plan{}, err
	}
	a.estimate = est
	from := fmt.Sprintf("estimated %.0f rows at cost %.0f", est.Root.PlanRows, est.Root.TotalCost)
	if a.st.Calls > 0 {
		from += fmt.Sprintf("; %.0f ms mean over %d calls", a.st.MeanMs, a.st.Calls)
	}
	return Plan{
		Summary: fmt.Sprintf("EXPLAIN ANALYZE %s: %s", a.st.Source(), probes.RedactSQL(a.st.Text)),
		Changes: []Change{{What: "plan of " + a.st.Source(), From: from, To: "measured rows and times, from one run"}},
		DryRun: "it is one plain SELECT with no volatile function, and EXPLAIN without ANALYZE planned it: " +
			textfmt.Truncate(strings.Join(est.Lines(), " / "), 600),
		Warnings: []string{fmt.Sprintf("the statement runs for real, once, in a read-only transaction stopped after %s (statement_timeout)",
			a.timeout.Round(time.Second))},
	}, nil
}

// pin keeps the statement's text, and whether it came from a backend, with the request.
func (a *explainAnalyzeAction) pin(spec Spec) Spec {
	spec.Statement = a.st.Text
	if a.st.PID > 0 {
		spec.PID, spec.QueryID = a.st.PID, 0
	}
	return spec
}

func (a *explainAnalyzeAction) execute(ctx context.Context) (string, error) {
	e, err := explain.Run(ctx, a.db, a.st, explain.Options{Analyze: true, Timeout: a.timeout, LargeRows: a.largeRows})
	if err != nil {
		return "", err
	}
	a.result = e
	return fmt.Sprintf("EXPLAIN ANALYZE of %s ran in %.1f ms (planning %.1f ms):\n%s", a.st.Source(), e.ExecutionMs,
		e.PlanningMs, strings.Join(e.Lines(), "\n")), nil
}

// verify names what the measured plan shows: sequential scans of large tables, estimates far off.
func (a *explainAnalyzeAction) verify(context.Context) (string, error) {
	var notes []string
	for _, s := range a.result.SeqScans() {
		notes = append(notes, fmt.Sprintf("sequential scan of large table %s (~%.0f rows)", s.Table.Qualified(), s.Table.Rows))
	}
	a.result.Root.Walk(func(n explain.Node, _ int) {
		if n.ActualRows >= 0 && misestimated(n.PlanRows, n.ActualRows) {
			notes = append(notes, fmt.Sprintf("%s estimated %.0f rows but returned %.0f: its statistics may be stale (ANALYZE)",
				n.Label(), n.PlanRows, n.ActualRows))
		}
	})
	if len(notes) == 0 {
		return "no sequential scan of a large table, and the estimates hold", nil
	}
	return strings.Join(notes, "; "), nil
}

// misestimated is an estimate 10× off the actual rows (at least 100 rows apart).
func misestimated(est, actual float64) bool {
	hi, lo := max(est, actual), max(min(est, actual), 1)
	return hi-lo >= 100 && hi/lo >= 10
}

// numbers are the root's estimated rows against its actual rows, and the statement's mean time
// (from pg_stat_statements, when known) against the measured one.
func (a *explainAnalyzeAction) numbers() []Number {
	src := a.st.Source()
	out := []Number{{Name: "rows of " + src + " (estimated → actual)", Before: a.estimate.Root.PlanRows, After: a.result.Root.ActualRows}}
	if a.st.MeanMs > 0 {
		out = append(out, Number{Name: "time of " + src + " (mean → measured)", Unit: "ms", Before: a.st.MeanMs, After: a.result.ExecutionMs})
	}
	return out
}

// settle: EXPLAIN ANALYZE changes nothing, and what it measured went with the process that ran it.
func (a *explainAnalyzeAction) settle(context.Context, Request) (settlement, error) {
	return failed("EXPLAIN ANALYZE changes nothing, and its measurements were lost with that process; ask again"), nil
}
