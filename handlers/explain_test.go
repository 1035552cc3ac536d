package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/stacktest"
	"github.com/perfbot/perfbot/probes"
)

// TestDBOffersExplainAndExplainOffersIndex: /perf db's slowest statement offers Explain; the
// explain of that statement names the sequential scan of the large table with its statistics and
// offers the index request on the filtered column, pre-filled.
func TestDBOffersExplainAndExplainOffersIndex(t *testing.T) {
	ctx := context.Background()
	dsn := stacktest.Database(t, "handlers_explain")
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for _, q := range []string{
		`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`,
		`CREATE TABLE ideas (id int PRIMARY KEY, category text NOT NULL, title text NOT NULL)`,
		`INSERT INTO ideas SELECT g, 'c' || (g % 10), 'idea ' || g FROM generate_series(1, 20000) g`,
		`ANALYZE ideas`,
		`SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)`,
		`SELECT count(*) FROM ideas a, ideas b WHERE a.category = b.title`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	cfg := config.Default()
	cfg.Services[0].Postgres.DSN = dsn
	cfg.Actions.Allowed = []string{"index", "analyze", "explain-analyze"}
	b := app.NewBackends(cfg, nil)
	t.Cleanup(b.Close)
	h := handlers.New(cfg, b, nil)

	var explainCmd string
	stacktest.Eventually(t, 10*time.Second, 100*time.Millisecond, func() bool {
		rep, err := h.Handle(ctx, handlers.Request{Text: "db"})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range rep.Next {
			if n.Label == "Explain slowest" {
				explainCmd = n.Command
			}
		}
		return explainCmd != ""
	}, "/perf db offered no Explain step")
	rep, err := h.Handle(ctx, handlers.Request{Text: strings.TrimPrefix(explainCmd, "/perf ")})
	if err != nil {
		t.Fatalf("%s: %v", explainCmd, err)
	}
	var seq *probes.Finding
	for i, f := range rep.Findings {
		if f.Check == "Sequential scan of a large table" {
			seq = &rep.Findings[i]
		}
	}
	if seq == nil || seq.Subject != "public.ideas" || !strings.Contains(seq.Message, "n_distinct") {
		t.Fatalf("findings = %+v", rep.Findings)
	}
	var steps []string
	for _, n := range rep.Next {
		steps = append(steps, n.Command)
	}
	if !strings.Contains(strings.Join(steps, "|"), "/perf index public.ideas ") {
		t.Errorf("next steps = %v, want a pre-filled index request", steps)
	}
	titles := map[string]bool{}
	for _, tb := range rep.Tables {
		titles[tb.Title] = true
	}
	if !titles["Tables scanned"] || !titles["Column statistics (pg_stats)"] {
		t.Errorf("tables = %v", titles)
	}
}

// TestExplainUsage: bad input gets the usage; an unknown id says it is not found.
func TestExplainUsage(t *testing.T) {
	cfg := config.Default()
	cfg.Services[0].Postgres.DSN = stacktest.Database(t, "handlers_explain_usage")
	b := app.NewBackends(cfg, nil)
	t.Cleanup(b.Close)
	h := handlers.New(cfg, b, nil)
	for _, text := range []string{"explain", "explain abc", "explain 1 2 3", "explain 12 nosuchservice"} {
		_, err := h.Handle(context.Background(), handlers.Request{Text: text})
		if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "usage") {
			t.Errorf("%s: %v, want the usage", text, err)
		}
	}
	_, err := h.Handle(context.Background(), handlers.Request{Text: "explain 98765432101"})
	if errs.KindOf(err) != errs.NotFound {
		t.Errorf("unknown queryid: %v", err)
	}
}
