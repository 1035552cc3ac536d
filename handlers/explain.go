package handlers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/explain"
	"github.com/perfbot/perfbot/internal/textfmt"
	"github.com/perfbot/perfbot/probes"
)

const explainUsage = "usage: /perf explain <queryid|pid> [service]  e.g. /perf explain 4242 (queryids are in `/perf db`)"

// explainMargin is how long before the command's deadline EXPLAIN's statement_timeout fires.
const explainMargin = 200 * time.Millisecond

func (h *Handlers) explainCommand() Command {
	return Command{Name: "explain", Usage: "explain <queryid|pid> [service]",
		Summary: "the plan of a slow statement (EXPLAIN, never ANALYZE) with its tables' size and statistics (runbook: Query Optimization)",
		Example: "/perf explain 4242",
		Run:     h.explain}
}

func (h *Handlers) explain(ctx context.Context, req Request, args []string) (Report, error) {
	if len(args) == 0 || len(args) > 2 {
		return Report{}, errs.Invalidf("explain takes a queryid or a backend pid. %s", explainUsage)
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || id == 0 {
		return Report{}, errs.Invalidf("%q is not a queryid or a backend pid. %s", args[0], explainUsage)
	}
	svc := ""
	if len(args) == 2 {
		if _, ok := h.cfg.Service(args[1]); !ok {
			return Report{}, errs.Invalidf("no service %q (services: %s). %s", args[1], strings.Join(h.cfg.ServiceNames(), ", "), explainUsage)
		}
		svc = args[1]
	}
	env, err := h.envs.Env(svc, 0)
	if err != nil {
		return Report{}, err
	}
	if env.Postgres == nil {
		return Report{}, errs.Unavailablef("no PostgreSQL is configured for %s", env.Service.Name)
	}
	if err := env.Broken[probes.NeedsPostgres]; err != nil {
		return Report{}, errs.Unavailablef("the database of %s cannot be reached: %v", env.Service.Name, err)
	}
	start := time.Now()
	st, err := explain.Find(ctx, env.Postgres, id)
	if err != nil {
		return Report{}, err
	}
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d)-explainMargin, 50*time.Millisecond)
	}
	large := env.Service.Postgres.SeqScanMinRows
	if large <= 0 {
		large = 10000
	}
	e, err := explain.Run(ctx, env.Postgres, st, explain.Options{Timeout: timeout, LargeRows: large})
	if err != nil {
		return Report{}, err
	}
	rep := explainReport(e, id, env.Service.Name, h.allowed)
	rep.Elapsed = time.Since(start)
	h.log.Info("command done", "cmd", "explain", "service", env.Service.Name, "user", req.User, "status", rep.Status.String())
	return rep, nil
}

// explainReport turns an explanation into a report: findings for sequential scans of large tables and
// stale statistics, the plan as a tree, the tables and their column statistics, and the next steps.
func explainReport(e explain.Explanation, id int64, service string, allowed func(action string) bool) Report {
	kind := "estimated plan"
	if e.Generic {
		kind = "generic plan (parameters without values)"
	}
	rep := Report{Command: "/perf explain", Service: service, Title: "Plan of " + e.Statement.Source() + " in " + service}
	seen := map[string]bool{}
	for _, s := range e.SeqScans() {
		if seen[s.Table.Qualified()] { // a self-join scans one table twice: one finding is enough
			continue
		}
		seen[s.Table.Qualified()] = true
		rep.Findings = append(rep.Findings, seqScanFinding(s))
		if cols := indexCandidates(s.Table); len(cols) > 0 && allowed("index") {
			rep.Next = append(rep.Next, NextStep{Label: "Index " + s.Table.Name + "(" + strings.Join(cols, ",") + ")",
				Command: "/perf index " + s.Table.Qualified() + " " + strings.Join(cols, ",")})
		}
	}
	for _, t := range e.Tables {
		if f, stale := staleFinding(t); stale {
			rep.Findings = append(rep.Findings, f)
			if !allowed("analyze") {
				continue
			}
			rep.Next = append(rep.Next, NextStep{Label: "Analyze " + t.Name, Command: "/perf analyze " + t.Qualified()})
		}
	}
	if allowed("explain-analyze") && explain.CheckAnalyzable(e.Statement.Text) == nil {
		rep.Next = append(rep.Next, NextStep{Label: "EXPLAIN ANALYZE", Command: "/perf explain-analyze " + strconv.FormatInt(id, 10)})
	}
	rep.Headline = fmt.Sprintf("%s, %s: %s", e.Root.Label(), kind, explainVerdict(rep.Findings))
	if len(rep.Findings) == 0 {
		rep.Findings = append(rep.Findings, probes.Finding{Check: "Plan", Subject: e.Statement.Source(),
			Message: "no sequential scan of a large table and no stale statistics in the plan"})
	}
	for _, f := range rep.Findings {
		rep.Status = probes.Worst(rep.Status, f.Status)
	}
	rep.Tables = append(rep.Tables, statementTable(e.Statement), planTable(e, kind), tablesTable(e.Tables))
	if t := columnsTable(e.Tables); len(t.Rows) > 0 {
		rep.Tables = append(rep.Tables, t)
	}
	return rep
}

func explainVerdict(fs []probes.Finding) string {
	if len(fs) == 0 {
		return "no sequential scan of a large table"
	}
	return fs[0].Message
}

func seqScanFinding(s explain.SeqScan) probes.Finding {
	msg := fmt.Sprintf("%s reads all ~%.0f rows (%s) of %s for ~%.0f", s.Node.Type, s.Table.Rows, textfmt.Bytes(s.Table.Size),
		s.Table.Qualified(), s.Node.PlanRows)
	if s.Node.ActualRows >= 0 {
		msg += fmt.Sprintf(" (actually %.0f)", s.Node.ActualRows)
	}
	msg += " rows"
	if len(s.Table.Columns) > 0 {
		var cs []string
		for _, c := range s.Table.Columns {
			cs = append(cs, c.Name+" ("+columnStats(c)+")")
		}
		msg += "; it filters on " + strings.Join(cs, ", ")
	}
	if cols := indexCandidates(s.Table); len(cols) > 0 {
		msg += "; an index on " + strings.Join(cols, ", ") + " may help"
	}
	return probes.Finding{Check: "Sequential scan of a large table", Status: probes.Warn, Subject: s.Table.Qualified(),
		Value: s.Table.Rows, Unit: "rows", Evidence: "EXPLAIN", Message: msg}
}

// indexCandidates are the unindexed columns a sequential scan filters on, at most two.
func indexCandidates(t explain.Table) []string {
	var out []string
	for _, c := range t.Columns {
		if !c.Indexed && len(out) < 2 {
			out = append(out, c.Name)
		}
	}
	return out
}

// staleFinding: a table never analyzed, or with more than a fifth of its rows changed since.
func staleFinding(t explain.Table) (probes.Finding, bool) {
	last := t.LastAnalyzed()
	switch {
	case last == nil && t.Rows > 0:
		return probes.Finding{Check: "Table statistics", Status: probes.Warn, Subject: t.Qualified(),
			Message: fmt.Sprintf("%s (~%.0f rows) was never analyzed: the planner guesses its row counts", t.Qualified(), t.Rows)}, true
	case last != nil && t.Rows > 0 && float64(t.Modified) > 0.2*t.Rows:
		return probes.Finding{Check: "Table statistics", Status: probes.Warn, Subject: t.Qualified(),
			Message: fmt.Sprintf("%d rows of %s changed since its last analyze at %s", t.Modified, t.Qualified(), last.UTC().Format(time.RFC3339))}, true
	}
	return probes.Finding{}, false
}

func columnStats(c explain.Column) string {
	if c.NDistinct == nil {
		return "no statistics"
	}
	s := "n_distinct " + textfmt.Value(*c.NDistinct, "")
	if c.Correlation != nil {
		s += ", correlation " + textfmt.Value(*c.Correlation, "")
	}
	return s
}

func statementTable(st explain.Statement) probes.Table {
	t := probes.Table{Title: "Statement", Columns: []string{"source", "calls", "mean", "rows per call", "statement"}}
	calls, mean, rows := "-", "-", "-"
	if st.Calls > 0 {
		calls, mean, rows = strconv.FormatInt(st.Calls, 10), textfmt.Seconds(st.MeanMs/1000), textfmt.Value(st.RowsPerCall, "")
	}
	src := st.Source()
	if st.State != "" {
		src += " (" + st.State + ")"
	}
	t.Rows = [][]string{{src, calls, mean, rows, probes.RedactSQL(st.Text)}}
	return t
}

func planTable(e explain.Explanation, kind string) probes.Table {
	t := probes.Table{Title: "Plan (" + kind + ")", Columns: []string{"node", "est. rows", "actual rows", "condition"}}
	e.Root.Walk(func(n explain.Node, depth int) {
		label := strings.Repeat("  ", depth)
		if depth > 0 {
			label += "-> "
		}
		actual := "-"
		if n.ActualRows >= 0 {
			actual = fmt.Sprintf("%.0f × %.0f", n.ActualRows, n.Loops)
		}
		t.Rows = append(t.Rows, []string{label + n.Label(), fmt.Sprintf("%.0f", n.PlanRows), actual, n.Filter})
	})
	return t
}

func tablesTable(ts []explain.Table) probes.Table {
	t := probes.Table{Title: "Tables scanned", Columns: []string{"table", "rows", "size", "with indexes", "last analyze", "last autoanalyze", "changed since"}}
	for _, x := range ts {
		t.Rows = append(t.Rows, []string{x.Qualified(), fmt.Sprintf("%.0f", x.Rows), textfmt.Bytes(x.Size), textfmt.Bytes(x.TotalSize),
			stamp(x.LastAnalyze), stamp(x.LastAutoanalyze), strconv.FormatInt(x.Modified, 10)})
	}
	return t
}

func columnsTable(ts []explain.Table) probes.Table {
	t := probes.Table{Title: "Column statistics (pg_stats)", Columns: []string{"table", "column", "n_distinct", "correlation", "indexed"}}
	for _, x := range ts {
		for _, c := range x.Columns {
			nd, corr, idx := "-", "-", "no"
			if c.NDistinct != nil {
				nd = textfmt.Value(*c.NDistinct, "")
			}
			if c.Correlation != nil {
				corr = textfmt.Value(*c.Correlation, "")
			}
			if c.Indexed {
				idx = "yes"
			}
			t.Rows = append(t.Rows, []string{x.Qualified(), c.Name, nd, corr, idx})
		}
	}
	return t
}

func stamp(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
