package app_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/incidents"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// openIncident opens an incident titled title in a fresh state database and returns its store.
func openIncident(t *testing.T, title string) (*incidents.Store, incidents.Incident) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, stacktest.Database(t, "perfbot_app"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := incidents.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := incidents.New(pool, incidents.Options{})
	inc, err := store.Open(ctx, incidents.OpenParams{Title: title, Service: "agentic-studio", OpenedBy: "U0ALICE", Source: "console"})
	if err != nil {
		t.Fatal(err)
	}
	return store, inc
}
