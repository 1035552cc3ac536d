package studiosim

import (
	"context"
	"strings"
	"testing"
)

func TestSchemaSeededWithoutCategoryIndex(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	// A second simulator on the same database must not seed again.
	newTestEnv(t, nil)
	for table, want := range map[string]int{"ideas": 20000, "projects": 200} {
		var n int
		if err := e.pg.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s has %d rows (%v), want %d", table, n, err, want)
		}
	}
	var indexed int
	err := e.pg.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'ideas' AND indexdef LIKE '%(category%'`).Scan(&indexed)
	if err != nil || indexed != 0 {
		t.Fatalf("ideas.category has %d indexes (%v), want none", indexed, err)
	}
	rows, err := e.pg.Query(ctx, "EXPLAIN "+ideasSQL, "ai", ideasPageLimit)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "Seq Scan on ideas") {
		t.Errorf("ideas query plan has no sequential scan:\n%s", p)
	}
}
