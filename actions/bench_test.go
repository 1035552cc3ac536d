package actions

import (
	"context"
	"testing"

	"github.com/perfbot/perfbot/errs"
)

// BenchmarkApprove measures Approve under contention on PostgreSQL: two Services with their own pools
// (two bot processes) race for each request; the winner runs ANALYZE on a 1000-row table.
//
//	go test -bench Approve -run '^$' ./actions/
func BenchmarkApprove(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, nil)
	f.ideasTable(b)
	svcs := []*Service{f.svc, f.service(b, f.db.pool(b, "perfbot-test"), nil)}
	spec := Spec{Kind: Analyze, Table: "ideas"}

	// race-8: one request per iteration, 8 simultaneous clicks; exactly one runs it.
	b.Run("race-8", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			r, err := f.svc.Request(ctx, "carol", "C1", spec)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if wins, conflicts := raceApprove(b, svcs, r.ID, 8); wins != 1 || conflicts != 7 {
				b.Fatalf("%d wins, %d conflicts", wins, conflicts)
			}
		}
	})

	// late-click: clicks on a request that already ran, in parallel; each must be refused (Conflict).
	b.Run("late-click-parallel", func(b *testing.B) {
		r, err := f.svc.Request(ctx, "carol", "C1", spec)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.svc.Approve(ctx, r.ID, "alice"); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				i++
				if _, err := svcs[i%2].Approve(ctx, r.ID, "bob"); errs.KindOf(err) != errs.Conflict {
					b.Errorf("late approval: %v", err)
				}
			}
		})
	})
}
