package incidents

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/perfbot/perfbot/errs"
)

func TestOpenRecordResolve(t *testing.T) {
	st, clock := newStore(t, Options{})
	ctx := context.Background()
	inc, err := st.Open(ctx, OpenParams{Title: "  API  latency high ", Severity: "sev1", Service: "agentic-studio", OpenedBy: "U1", Source: "slack"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Number != 1 || inc.Title != "API latency high" || inc.Severity != Sev1 || inc.Status != StatusOpen || !inc.OpenedAt.Equal(t0) {
		t.Errorf("opened %+v", inc)
	}
	if err := st.SetChannel(ctx, inc.ID, "C123", "inc-20250314-api-latency-high"); err != nil {
		t.Fatal(err)
	}
	got, err := st.ByChannel(ctx, "C123")
	if err != nil || got.ID != inc.ID || got.ChannelName != "inc-20250314-api-latency-high" {
		t.Fatalf("ByChannel = %+v, %v", got, err)
	}
	if _, err := st.ByChannel(ctx, "C999"); errs.KindOf(err) != errs.NotFound {
		t.Errorf("ByChannel(unknown) err = %v, want NotFound", err)
	}
	open, ok, err := st.OpenForService(ctx, "agentic-studio")
	if err != nil || !ok || open.ID != inc.ID {
		t.Errorf("OpenForService = %v %v %v", open.ID, ok, err)
	}
	for _, ref := range []string{"1", "#1", "C123", inc.ID.String(), "inc-20250314-api-latency-high"} {
		if got, err := st.Lookup(ctx, ref); err != nil || got.ID != inc.ID {
			t.Errorf("Lookup(%q) = %v, %v", ref, got.ID, err)
		}
	}

	clock.Advance(5 * time.Minute)
	rec, err := st.Record(ctx, inc.ID, Event{Kind: KindNote, Actor: "U2", Summary: "restarted worker", DedupeKey: "Ev1"})
	if err != nil || !rec {
		t.Fatalf("Record note = %v, %v", rec, err)
	}
	if rec, err := st.Record(ctx, inc.ID, Event{Kind: KindNote, Actor: "U2", Summary: "again", DedupeKey: "Ev1"}); err != nil || rec {
		t.Errorf("Record duplicate = %v, %v; want false, nil", rec, err)
	}
	if _, err := st.Record(ctx, inc.ID, Event{Kind: "bogus"}); errs.KindOf(err) != errs.Invalid {
		t.Errorf("Record bogus kind err = %v", err)
	}
	if _, err := st.Record(ctx, uuid.New(), Event{Kind: KindNote}); errs.KindOf(err) != errs.NotFound {
		t.Errorf("Record to missing incident err = %v", err)
	}

	clock.Advance(40 * time.Minute)
	res, err := st.Resolve(ctx, inc.ID, "U3", "missing index on ideas.user_id")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusResolved || res.ResolvedBy != "U3" || !res.ResolvedAt.Equal(t0.Add(45*time.Minute)) {
		t.Errorf("resolved %+v", res)
	}
	if _, err := st.Resolve(ctx, inc.ID, "U3", ""); errs.KindOf(err) != errs.Conflict {
		t.Errorf("second Resolve err = %v, want Conflict", err)
	}
	if _, ok, _ := st.OpenForService(ctx, "agentic-studio"); ok {
		t.Error("OpenForService found a resolved incident")
	}
	tl, err := st.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range tl {
		kinds = append(kinds, string(e.Kind))
	}
	if strings.Join(kinds, ",") != "opened,note,resolved" {
		t.Errorf("timeline kinds = %v", kinds)
	}
	if !tl[1].OccurredAt.Equal(t0.Add(5*time.Minute)) || tl[1].Actor != "U2" || tl[1].Summary != "restarted worker" {
		t.Errorf("note event = %+v", tl[1])
	}
	if !strings.Contains(tl[2].Summary, "45m") {
		t.Errorf("resolved summary %q lacks the duration", tl[2].Summary)
	}
}

func TestOpenValidation(t *testing.T) {
	st, _ := newStore(t, Options{})
	for _, tc := range []struct {
		name string
		p    OpenParams
	}{
		{"empty title", OpenParams{Title: "   "}},
		{"bad severity", OpenParams{Title: "x", Severity: "sev9"}},
		{"long title", OpenParams{Title: strings.Repeat("a", 201)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := st.Open(context.Background(), tc.p); errs.KindOf(err) != errs.Invalid {
				t.Errorf("err = %v, want Invalid", err)
			}
		})
	}
}

func TestRecordConcurrentSameKey(t *testing.T) {
	st, _ := newStore(t, Options{})
	ctx := context.Background()
	inc, err := st.Open(ctx, OpenParams{Title: "dup", Service: "s"})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ok, err := st.Record(ctx, inc.ID, Event{Kind: KindPin, Actor: "U1", Summary: "pinned",
					DedupeKey: "pin:C1:" + string(rune('a'+round))})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("round %d: %d writers recorded, want exactly 1", round, wins.Load())
		}
	}
	var n int
	if err := st.pool.QueryRow(ctx, `SELECT count(*) FROM timeline_events WHERE kind = 'pin'`).Scan(&n); err != nil || n != 20 {
		t.Errorf("pin events stored = %d (%v), want 20", n, err)
	}
}

func TestChannelName(t *testing.T) {
	now := time.Date(2025, 3, 14, 23, 30, 0, 0, time.FixedZone("X", -5*3600)) // 2025-03-15 in UTC
	long := strings.Repeat("database connection pool exhausted ", 5)
	for _, tc := range []struct {
		name, title string
		taken       []string
		want        string
	}{
		{"plain", "API latency high", nil, "inc-20250315-api-latency-high"},
		{"punctuation", "  DB: 5xx errors!! (p95 > 500ms) ", nil, "inc-20250315-db-5xx-errors-p95-500ms"},
		{"non-ascii", "Café überlastet", nil, "inc-20250315-caf-berlastet"},
		{"empty", "!!!", nil, "inc-20250315-incident"},
		{"collision", "x", []string{"inc-20250315-x", "inc-20250315-x-2"}, "inc-20250315-x-3"},
		{"long", long, nil, "inc-20250315-" + strings.TrimRight(Slug(long)[:67], "-")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			taken := func(n string) bool {
				for _, x := range tc.taken {
					if x == n {
						return true
					}
				}
				return false
			}
			got := ChannelName(now, tc.title, taken)
			if got != tc.want {
				t.Errorf("ChannelName = %q, want %q", got, tc.want)
			}
			if len(got) > 80 || strings.Trim(got, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
				t.Errorf("%q is not a valid channel name", got)
			}
		})
	}
	t.Run("long collision stays within 80", func(t *testing.T) {
		first := ChannelName(now, long, nil)
		got := ChannelName(now, long, func(n string) bool { return n == first })
		if len(got) > 80 || !strings.HasSuffix(got, "-2") {
			t.Errorf("got %q (%d chars)", got, len(got))
		}
	})
	t.Run("always taken terminates", func(t *testing.T) {
		if got := ChannelName(now, "x", func(string) bool { return true }); len(got) > 80 {
			t.Errorf("got %q", got)
		}
	})
}
