package journal_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/internal/stacktest"
	"github.com/perfbot/perfbot/journal"
)

func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, stacktest.Database(t, "perfbot_journal"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := journal.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

// claimUntil claims as s until it gets want entries (leases lapse on the database's clock).
func claimUntil(t *testing.T, s *journal.Store, want int) []journal.Entry {
	t.Helper()
	var got []journal.Entry
	stacktest.Eventually(t, 10*time.Second, 20*time.Millisecond, func() bool {
		es, err := s.Claim(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, es...)
		return len(got) >= want
	}, "%s claims %d entries", s.Owner(), want)
	return got
}

// TestWorkOfADeadReplicaIsTakenUpWithItsProgress: work accepted by one replica, which recorded where its
// answer is and then stopped renewing, is claimed by another once the lease lapses, with the progress and
// a second attempt; it is never claimed while leased or once done.
func TestWorkOfADeadReplicaIsTakenUpWithItsProgress(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	dead := journal.New(pool, "replica-a", 300*time.Millisecond)
	live := journal.New(pool, "replica-b", time.Minute)

	fresh, err := dead.Accept(ctx, "E1", "slash_commands", []byte(`{"text":"assess"}`))
	if err != nil || !fresh {
		t.Fatalf("first accept: fresh=%v err=%v", fresh, err)
	}
	if again, err := live.Accept(ctx, "E1", "slash_commands", []byte(`{}`)); err != nil || again {
		t.Fatalf("a second accept of E1 must report known work: fresh=%v err=%v", again, err)
	}
	if _, err := dead.Accept(ctx, "E2", "events_api", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := dead.Mark(ctx, "E1", "placeholder", "1700000000.000100"); err != nil {
		t.Fatal(err)
	}
	if err := dead.Done(ctx, "E2"); err != nil {
		t.Fatal(err)
	}
	if es, err := live.Claim(ctx, 10); err != nil || len(es) != 0 {
		t.Fatalf("leased work must not be claimed: %v %v", es, err)
	}
	got := claimUntil(t, live, 1)
	if len(got) != 1 || got[0].ID != "E1" {
		t.Fatalf("claimed %+v, want only E1 (E2 is done)", got)
	}
	e := got[0]
	if e.Kind != "slash_commands" || string(e.Payload) != `{"text":"assess"}` || e.Attempts != 2 ||
		e.Progress["placeholder"] != "1700000000.000100" {
		t.Fatalf("claimed entry %+v", e)
	}
	// Now leased to the live replica for a minute: the dead one cannot have it back.
	if es, err := dead.Claim(ctx, 10); err != nil || len(es) != 0 {
		t.Fatalf("work leased to replica-b was claimed again: %v %v", es, err)
	}
	if err := live.Done(ctx, "E1"); err != nil {
		t.Fatal(err)
	}
	if n, err := live.Forget(ctx, 0); err != nil || n != 2 {
		t.Fatalf("forget closed entries: n=%d err=%v, want 2", n, err)
	}
}

// TestReleasedWorkIsTakenAtOnce: a stopping replica releases work it will not start; the next claim
// takes it without waiting for the lease. Renewing keeps work that is still running.
func TestReleasedWorkIsTakenAtOnce(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	stopping := journal.New(pool, "replica-a", time.Hour)
	other := journal.New(pool, "replica-b", time.Hour)
	for _, id := range []string{"R1", "R2"} {
		if _, err := stopping.Accept(ctx, id, "slash_commands", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Release(ctx, "R1"); err != nil {
		t.Fatal(err)
	}
	if es, _ := other.Claim(ctx, 10); len(es) != 0 {
		t.Fatalf("a replica released work it does not hold: %+v", es)
	}
	if err := stopping.Release(ctx, "R1"); err != nil {
		t.Fatal(err)
	}
	if err := stopping.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	got := claimUntil(t, other, 1)
	if len(got) != 1 || got[0].ID != "R1" {
		t.Fatalf("claimed %+v, want R1 only (R2 is still leased)", got)
	}
}

// TestConcurrentClaimsNeverShareWork: replicas claiming at the same moment each get different entries
// and together all of them.
func TestConcurrentClaimsNeverShareWork(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	gone := journal.New(pool, "gone", 100*time.Millisecond)
	const n = 60
	var want []string
	for i := range n {
		id := "C" + string(rune('A'+i/26)) + string(rune('a'+i%26))
		want = append(want, id)
		if _, err := gone.Accept(ctx, id, "events_api", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := journal.New(pool, "replica-"+string(rune('0'+r)), time.Hour)
			stacktest.Eventually(t, 15*time.Second, 10*time.Millisecond, func() bool {
				es, err := s.Claim(ctx, 7)
				if err != nil {
					t.Error(err)
					return true
				}
				mu.Lock()
				defer mu.Unlock()
				for _, e := range es {
					got = append(got, e.ID)
				}
				return len(got) >= n
			}, "all entries claimed")
		}()
	}
	wg.Wait()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("claimed %d entries (%v), want each of %d exactly once", len(got), got, n)
	}
}
