package incidents

import (
	"context"
	"io/fs"
	"sync"
	"testing"
)

func TestMigrateConcurrently(t *testing.T) {
	pool := testDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errc := make(chan error, 5)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- Migrate(ctx, pool)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	var applied int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(migrationFS, "migrations/*.sql")
	if applied != len(files) || applied == 0 {
		t.Errorf("schema_migrations has %d rows, want %d (one per embedded migration)", applied, len(files))
	}
	for _, table := range []string{"incidents", "timeline_events", "escalations", "postmortems", "alert_receipts"} {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = $1`, table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: found %d (err %v)", table, n, err)
		}
	}
	if err := Migrate(ctx, pool); err != nil {
		t.Errorf("Migrate again: %v", err)
	}
}
