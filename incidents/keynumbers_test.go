package incidents

import (
	"testing"
	"time"
)

// TestKeyNumbersShowWhenTheyWereMeasured: a chart's numbers span the chart's own window (its first and
// last point), not the moment the chart was posted; an action's before and after, read at one moment,
// are shown at that moment rather than as a window from a time to the same time.
func TestKeyNumbersShowWhenTheyWereMeasured(t *testing.T) {
	posted := t0.Add(10 * time.Minute)
	from, to := t0.Add(-20*time.Minute), t0.Add(9*time.Minute)
	ps := parseAll([]Event{
		{Kind: KindChart, OccurredAt: posted, Detail: JSON(ChartDetail{Title: "API p95 latency", Unit: "s",
			Numbers: []Number{{Name: "p95 /api/ideas", Unit: "s", Before: 0.2, After: 1.8, From: from, To: to}}})},
		{Kind: KindActionExecuted, OccurredAt: posted, Detail: JSON(ActionDetail{ActionID: "a1", Numbers: []Number{{Name: "replicas", Before: 2, After: 5}}})},
	})
	st := func(t time.Time) stamp { return mkStamp(t, time.UTC) }
	got := keyNumbers(ps, st)
	if len(got) != 2 {
		t.Fatalf("key numbers = %+v", got)
	}
	if p95 := got[0]; !p95.From.T.Equal(from) || !p95.To.T.Equal(to) || p95.Instant {
		t.Errorf("p95 window %s → %s (instant %v), want the chart's %s → %s", p95.From.UTC, p95.To.UTC, p95.Instant, from, to)
	}
	if r := got[1]; !r.Instant || !r.From.T.Equal(posted) {
		t.Errorf("replicas = %+v, want read at once when the action ran", r)
	}
}

// TestDurationsReadAlike: how long an incident lasted is written one way everywhere, to the second.
func TestDurationsReadAlike(t *testing.T) {
	for d, want := range map[time.Duration]string{16 * time.Second: "16s", 40 * time.Second: "40s", 100 * time.Second: "1m40s",
		45 * time.Minute: "45m", 72 * time.Minute: "1h12m", time.Hour: "1h", 2*time.Hour + 5*time.Second: "2h"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
