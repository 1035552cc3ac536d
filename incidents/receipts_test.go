package incidents

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAlertClaimNotCompletedIsReclaimedAfterLease: a process that claims an alert and dies before
// completing it must not make Alertmanager's retry a duplicate for ever, only for the lease.
func TestAlertClaimNotCompletedIsReclaimedAfterLease(t *testing.T) {
	const lease = 10 * time.Second
	st, clock := newStore(t, Options{AlertLease: lease})
	var calls atomic.Int32
	h := AlertHandler(st, AlertOptions{Token: "t", OnAlert: func(ctx context.Context, a Alert) error {
		calls.Add(1)
		_, err := st.HandleAlert(ctx, a)
		return err
	}})
	hook, err := ParseWebhook(readFiring(t))
	if err != nil {
		t.Fatal(err)
	}
	// The first process claims the alert and "crashes" during OnAlert: no completion, no release.
	if _, fresh, err := st.ClaimAlert(context.Background(), hook.Alerts[0]); err != nil || !fresh {
		t.Fatalf("first claim: fresh %v, %v", fresh, err)
	}
	steps := []struct {
		name      string
		advance   time.Duration
		new, dups int
	}{
		{"redelivery within the lease is a duplicate", lease - time.Second, 0, 1},
		{"redelivery after the lease is handled", 2 * time.Second, 1, 0},
		{"completed alert stays a duplicate", 0, 0, 1},
		{"completed alert stays a duplicate after the lease", 10 * lease, 0, 1},
	}
	wantCalls := int32(0)
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			clock.Advance(step.advance)
			rec, rep := post(t, h, "t", readFiring(t))
			if rec.Code != http.StatusOK || rep.New != step.new || rep.Duplicates != step.dups {
				t.Errorf("status %d, reply %+v; want new %d, duplicates %d", rec.Code, rep, step.new, step.dups)
			}
			wantCalls += int32(step.new)
			if calls.Load() != wantCalls {
				t.Errorf("OnAlert called %d times, want %d", calls.Load(), wantCalls)
			}
		})
	}
	if n := rowCounts(t, st)["incidents"]; n != 1 {
		t.Errorf("incidents = %d, want 1", n)
	}
}

func TestAlertClaimExpiredIsTakenOnce(t *testing.T) {
	st, clock := newStore(t, Options{AlertLease: time.Second})
	ctx := context.Background()
	a := Alert{Status: AlertFiring, StartsAt: t0, Fingerprint: "f1", Labels: map[string]string{"alertname": "A"}}
	first, fresh, err := st.ClaimAlert(ctx, a)
	if err != nil || !fresh {
		t.Fatalf("first claim: %v, %v", fresh, err)
	}
	clock.Advance(2 * time.Second)
	var wg sync.WaitGroup
	var won atomic.Int32
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, fresh, err := st.ClaimAlert(ctx, a); err != nil {
				t.Error(err)
			} else if fresh {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d concurrent claimers took the expired claim, want 1", won.Load())
	}
	// The first claimer wakes up and fails: its release must not drop the new holder's claim.
	if err := st.ReleaseAlert(ctx, first); err != nil {
		t.Fatal(err)
	}
	if _, fresh, _ := st.ClaimAlert(ctx, a); fresh {
		t.Error("a stale release dropped the current claim")
	}
}
