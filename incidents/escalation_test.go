package incidents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/errs"
)

// countingPager counts pages per (incident, level) and can fail on demand.
type countingPager struct {
	mu    sync.Mutex
	pages map[string]int
	fail  error
	delay time.Duration
}

func newPager() *countingPager { return &countingPager{pages: map[string]int{}} }

func (p *countingPager) Page(ctx context.Context, inc Incident, l Level) error {
	time.Sleep(p.delay)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	p.pages[fmt.Sprintf("%d/L%d", inc.Number, l.Number)]++
	return nil
}

func (p *countingPager) count(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pages[key]
}

func (p *countingPager) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, v := range p.pages {
		n += v
	}
	return n
}

func openN(t *testing.T, st *Store, n int) []Incident {
	t.Helper()
	var out []Incident
	for i := range n {
		inc, err := st.Open(context.Background(), OpenParams{Title: fmt.Sprintf("incident %d", i), Service: "svc"})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SetChannel(context.Background(), inc.ID, fmt.Sprintf("C%d", inc.Number), ""); err != nil {
			t.Fatal(err)
		}
		out = append(out, inc)
	}
	return out
}

// claimConcurrently runs two ClaimDue loops at now until neither finds anything, and returns
// how many times each (incident number, level) was claimed.
func claimConcurrently(t *testing.T, st *Store, now time.Time) map[string]int {
	t.Helper()
	var mu sync.Mutex
	claims := map[string]int{}
	numbers := map[uuid.UUID]int64{}
	incs, _ := st.ListOpen(context.Background())
	for _, i := range incs {
		numbers[i.ID] = i.Number
	}
	var wg sync.WaitGroup
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := st.ClaimDue(context.Background(), now, fmt.Sprintf("claimer-%d", c), 2)
				if err != nil {
					t.Errorf("claimer %d: %v", c, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, e := range got {
					claims[fmt.Sprintf("%d/L%d", numbers[e.IncidentID], e.Level.Number)]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return claims
}

func TestClaimDueExactlyOnceWithTwoClaimers(t *testing.T) {
	st, _ := newStore(t, Options{})
	incs := openN(t, st, 15)
	steps := []struct {
		at   time.Duration
		want int // level due at this step
	}{{time.Minute, 1}, {29 * time.Minute, 0}, {31 * time.Minute, 2}, {45 * time.Minute, 0}, {61 * time.Minute, 3}, {3 * time.Hour, 0}}
	for _, step := range steps {
		t.Run(fmt.Sprintf("at %s", step.at), func(t *testing.T) {
			claims := claimConcurrently(t, st, t0.Add(step.at))
			wantTotal := 0
			if step.want > 0 {
				wantTotal = len(incs)
			}
			total := 0
			for key, n := range claims {
				total += n
				if n != 1 {
					t.Errorf("%s claimed %d times", key, n)
				}
			}
			if total != wantTotal {
				t.Errorf("claimed %d escalations, want %d: %v", total, wantTotal, claims)
			}
			for _, inc := range incs {
				if step.want > 0 && claims[fmt.Sprintf("%d/L%d", inc.Number, step.want)] != 1 {
					t.Errorf("incident %d level %d not claimed", inc.Number, step.want)
				}
			}
		})
	}
	tl, err := st.Timeline(context.Background(), incs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	esc := 0
	for _, e := range tl {
		if e.Kind == KindEscalated {
			esc++
		}
	}
	if esc != 3 {
		t.Errorf("incident 1 has %d escalated events, want 3", esc)
	}
}

func TestFireDueTwoProcessesClockPasses30And60(t *testing.T) {
	st, clock := newStore(t, Options{})
	procs := []*Store{st, secondProcess(t, st)} // two replicas, each with its own pool
	ctx := context.Background()
	incs := openN(t, st, 6)
	pager := newPager()
	pager.delay = 2 * time.Millisecond
	fire := func() {
		var wg sync.WaitGroup
		for c, p := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := p.FireDue(ctx, clock.Now(), fmt.Sprintf("proc-%d", c), pager); err != nil {
					t.Errorf("FireDue: %v", err)
				}
			}()
		}
		wg.Wait()
	}
	for _, at := range []time.Duration{0, 10 * time.Minute, 30 * time.Minute, 30*time.Minute + time.Second, 59 * time.Minute, 60 * time.Minute, 2 * time.Hour} {
		clock.Set(t0.Add(at))
		fire()
		fire()
	}
	for _, inc := range incs {
		for l := 1; l <= 3; l++ {
			if n := pager.count(fmt.Sprintf("%d/L%d", inc.Number, l)); n != 1 {
				t.Errorf("incident %d level %d paged %d times, want 1", inc.Number, l, n)
			}
		}
	}
	esc, err := st.Escalations(ctx, incs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(esc) != 3 || esc[1].Level.After != 30*time.Minute || !esc[1].FiredAt.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("escalations = %+v", esc)
	}
}

func TestNoEscalationAfterResolve(t *testing.T) {
	st, clock := newStore(t, Options{})
	ctx := context.Background()
	inc := openN(t, st, 1)[0]
	pager := newPager()
	if n, err := st.FireDue(ctx, clock.Now(), "p", pager); err != nil || n != 1 {
		t.Fatalf("level 1 at open: fired %d, %v", n, err)
	}
	clock.Advance(10 * time.Minute)
	if _, err := st.Resolve(ctx, inc.ID, "U1", "fixed"); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{31 * time.Minute, 61 * time.Minute, 24 * time.Hour} {
		if n, err := st.FireDue(ctx, t0.Add(at), "p", pager); err != nil || n != 0 {
			t.Errorf("at %s after resolve: fired %d, %v", at, n, err)
		}
		if got, err := st.ClaimDue(ctx, t0.Add(at), "p", 10); err != nil || len(got) != 0 {
			t.Errorf("at %s after resolve: claimed %v, %v", at, got, err)
		}
	}
	if _, err := st.Escalate(ctx, inc.ID, "U1", pager); errs.KindOf(err) != errs.Conflict {
		t.Errorf("Escalate resolved incident: %v, want Conflict", err)
	}
	if pager.total() != 1 {
		t.Errorf("pages = %v, want only level 1", pager.pages)
	}
}

func TestLateClaimerFiresOverdue(t *testing.T) {
	st, _ := newStore(t, Options{})
	inc := openN(t, st, 1)[0]
	pager := newPager()
	// Nobody ran while the incident aged 90 minutes; the process that comes back fires all three.
	n, err := st.FireDue(context.Background(), t0.Add(90*time.Minute), "late", pager)
	if err != nil || n != 3 {
		t.Fatalf("late FireDue fired %d, %v; want 3", n, err)
	}
	for l := 1; l <= 3; l++ {
		if pager.count(fmt.Sprintf("%d/L%d", inc.Number, l)) != 1 {
			t.Errorf("level %d not paged once: %v", l, pager.pages)
		}
	}
}

func TestFailingPageIsRetriedThenGivenUp(t *testing.T) {
	logs := &logRecorder{}
	st, _ := newStore(t, Options{Log: slog.New(logs)})
	ctx := context.Background()
	inc := openN(t, st, 1)[0]
	pager := newPager()
	pager.fail = errors.New("user group not found")
	now := t0
	for attempt := 1; attempt <= maxPageAttempts; attempt++ {
		if n, err := st.FireDue(ctx, now, "p", pager); err != nil || n != 0 {
			t.Fatalf("attempt %d: fired %d, %v", attempt, n, err)
		}
		esc, _ := st.Escalations(ctx, inc.ID)
		if wantFired := attempt == maxPageAttempts; !esc[0].FiredAt.IsZero() != wantFired {
			t.Errorf("attempt %d: level 1 fired = %v, want %v", attempt, !esc[0].FiredAt.IsZero(), wantFired)
		}
		now = now.Add(time.Duration(attempt) * 31 * time.Second) // past the back-off
	}
	pager.fail = nil
	if n, _ := st.FireDue(ctx, now, "p", pager); n != 0 || pager.total() != 0 {
		t.Errorf("level 1 paged again after giving up (fired %d)", n)
	}
	// Giving up means nobody was paged: that is an error in the log, the retries before it warnings.
	if w, e := logs.count(slog.LevelWarn, "page failed"), logs.count(slog.LevelError, "giving up"); w != maxPageAttempts-1 || e != 1 {
		t.Errorf("logged %d warnings and %d errors, want %d and 1", w, e, maxPageAttempts-1)
	}
}

func TestManualEscalate(t *testing.T) {
	st, clock := newStore(t, Options{})
	ctx := context.Background()
	inc := openN(t, st, 1)[0]
	pager := newPager()
	if _, err := st.FireDue(ctx, clock.Now(), "p", pager); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Minute)
	e, err := st.Escalate(ctx, inc.ID, "U7", pager)
	if err != nil || e.Level.Number != 2 || e.ClaimedBy != "manual:U7" {
		t.Fatalf("Escalate = %+v, %v", e, err)
	}
	if n, _ := st.FireDue(ctx, t0.Add(31*time.Minute), "p", pager); n != 0 {
		t.Errorf("level 2 fired again at 31m")
	}
	if n, _ := st.FireDue(ctx, t0.Add(61*time.Minute), "p", pager); n != 1 {
		t.Errorf("level 3 did not fire at 61m")
	}
	if _, err := st.Escalate(ctx, inc.ID, "U7", pager); errs.KindOf(err) != errs.Conflict {
		t.Errorf("Escalate past the top: %v, want Conflict", err)
	}
	if pager.count("1/L2") != 1 || pager.total() != 3 {
		t.Errorf("pages = %v", pager.pages)
	}
}

func TestRunEscalationsStopsWithContext(t *testing.T) {
	st, _ := newStore(t, Options{})
	inc := openN(t, st, 1)[0]
	pager := newPager()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- st.RunEscalations(ctx, 10*time.Millisecond, pager) }()
	deadline := time.Now().Add(5 * time.Second)
	for pager.count(fmt.Sprintf("%d/L1", inc.Number)) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunEscalations: %v", err)
	}
	if pager.count(fmt.Sprintf("%d/L1", inc.Number)) != 1 {
		t.Errorf("level 1 was not paged by the loop: %v", pager.pages)
	}
}

// blockingPager signals when a page starts and then waits for its context to end, like a
// process killed in the middle of paging.
type blockingPager struct{ entered chan struct{} }

func (p blockingPager) Page(ctx context.Context, _ Incident, _ Level) error {
	close(p.entered)
	<-ctx.Done()
	return ctx.Err()
}

// secondProcess is another Store on the same database through its own pool, like a second replica.
func secondProcess(t *testing.T, st *Store) *Store {
	t.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), st.pool.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	opts := st.opts
	opts.Instance = "replica-b"
	return New(pool, opts)
}

func TestEscalationSurvivesProcessDyingMidPage(t *testing.T) {
	a, clock := newStore(t, Options{Instance: "replica-a"})
	b := secondProcess(t, a)
	inc := openN(t, a, 1)[0]
	ctx, kill := context.WithCancel(context.Background())
	bp := blockingPager{entered: make(chan struct{})}
	done := make(chan error)
	go func() { _, err := a.FireDue(ctx, clock.Now(), "replica-a", bp); done <- err }()
	<-bp.entered
	pager := newPager()
	if n, err := b.FireDue(context.Background(), clock.Now(), "replica-b", pager); err != nil || n != 0 {
		t.Fatalf("replica b fired %d (%v) while a holds the escalation; want 0", n, err)
	}
	kill() // replica a dies mid-page: its transaction rolls back
	if err := <-done; err == nil {
		t.Error("replica a's FireDue succeeded after being killed")
	}
	if n, err := b.FireDue(context.Background(), clock.Now(), "replica-b", pager); err != nil || n != 1 {
		t.Fatalf("replica b fired %d (%v) after a died; want 1", n, err)
	}
	esc, _ := b.Escalations(context.Background(), inc.ID)
	if esc[0].ClaimedBy != "replica-b" || pager.count(fmt.Sprintf("%d/L1", inc.Number)) != 1 {
		t.Errorf("level 1 = %+v, pages %v", esc[0], pager.pages)
	}
}

func TestLevelsFromConfig(t *testing.T) {
	c := config.Default()
	c.Incidents.OnCall = []string{"U0ONCALL"}
	c.Incidents.Levels[1].Page = []string{"S0SENIORS"}
	opts, err := OptionsFrom(c)
	if err != nil {
		t.Fatal(err)
	}
	got := opts.Levels
	if len(got) != 3 || got[0].After != 0 || got[1].After != 30*time.Minute || got[2].After != time.Hour ||
		got[0].Page[0] != "U0ONCALL" || got[1].Page[0] != "S0SENIORS" || got[2].Number != 3 || len(opts.Services) != 1 {
		t.Errorf("options from config = %+v", opts)
	}
	c.TimeZone = "Mars/Olympus"
	if _, err := OptionsFrom(c); err == nil {
		t.Error("OptionsFrom accepted a bad time zone")
	}
}

func TestEscalationWaitsForChannel(t *testing.T) {
	st, _ := newStore(t, Options{})
	ctx := context.Background()
	inc, err := st.Open(ctx, OpenParams{Title: "no channel yet", Service: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	pager := newPager()
	if n, _ := st.FireDue(ctx, t0.Add(time.Minute), "p", pager); n != 0 {
		t.Errorf("level 1 fired before the channel existed")
	}
	if err := st.SetChannel(ctx, inc.ID, "C1", "inc-x"); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.FireDue(ctx, t0.Add(time.Minute), "p", pager); n != 1 {
		t.Errorf("level 1 did not fire once the channel existed")
	}
	other, _ := st.Open(ctx, OpenParams{Title: "channel creation failed", Service: "svc2"})
	if n, _ := st.FireDue(ctx, t0.Add(channelGrace), "p", pager); n != 1 || pager.count(fmt.Sprintf("%d/L1", other.Number)) != 1 {
		t.Errorf("level 1 of a channel-less incident did not fire after the grace period (%v)", pager.pages)
	}
}
