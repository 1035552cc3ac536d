package incidents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// logRecorder is a slog.Handler that keeps every record, for tests about what is logged how.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.records = append(h.records, r)
	h.mu.Unlock()
	return nil
}

// count counts the records at level whose message contains msg.
func (h *logRecorder) count(level slog.Level, msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.records {
		if r.Level == level && strings.Contains(r.Message, msg) {
			n++
		}
	}
	return n
}

// channelPager pages like the bot's: it cannot page an incident without a channel.
type channelPager struct {
	*countingPager
	noChannel error // returned when the incident has no channel
	calls     int
}

func (p *channelPager) Page(ctx context.Context, inc Incident, l Level) error {
	p.mu.Lock()
	p.calls++
	p.mu.Unlock()
	if inc.ChannelID == "" {
		return p.noChannel
	}
	return p.countingPager.Page(ctx, inc, l)
}

func attempts(t *testing.T, st *Store, inc Incident, level int) int {
	t.Helper()
	var n int
	if err := st.pool.QueryRow(context.Background(), `SELECT attempts FROM escalations WHERE incident_id = $1 AND level = $2`,
		inc.ID, level).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPageWithoutChannelIsNotAnAttempt: a page that cannot land because the incident has no
// channel is retried for as long as it takes, never used up and marked fired with nobody told.
func TestPageWithoutChannelIsNotAnAttempt(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"pager returns ErrNoChannel", fmt.Errorf("page level 1: %w", ErrNoChannel)},
		{"pager returns its own error", errors.New("incident has no channel yet")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logRecorder{}
			st, _ := newStore(t, Options{Log: slog.New(logs)})
			ctx := context.Background()
			inc, err := st.Open(ctx, OpenParams{Title: "channel creation failed", Service: "svc"})
			if err != nil {
				t.Fatal(err)
			}
			pager := &channelPager{countingPager: newPager(), noChannel: tc.err}
			now := t0.Add(channelGrace)
			for try := 1; try <= 3*maxPageAttempts; try++ {
				if n, err := st.FireDue(ctx, now, "p", pager); err != nil || n != 0 {
					t.Fatalf("try %d: fired %d, %v; want 0", try, n, err)
				}
				if pager.calls != try {
					t.Fatalf("try %d: pager called %d times (retry_at not honoured?)", try, pager.calls)
				}
				if _, err := st.FireDue(ctx, now, "p", pager); err != nil || pager.calls != try {
					t.Fatalf("try %d: paged again before noChannelRetry (%d calls, %v)", try, pager.calls, err)
				}
				now = now.Add(noChannelRetry)
			}
			esc, _ := st.Escalations(ctx, inc.ID)
			if !esc[0].FiredAt.IsZero() || attempts(t, st, inc, 1) != 0 || logs.count(slog.LevelError, "") != 0 {
				t.Fatalf("level 1 fired at %v after %d attempts (%d error logs); want still waiting, 0 attempts",
					esc[0].FiredAt, attempts(t, st, inc, 1), logs.count(slog.LevelError, ""))
			}
			if err := st.SetChannel(ctx, inc.ID, "C1", "inc-x"); err != nil { // the bot, restarted
				t.Fatal(err)
			}
			if n, err := st.FireDue(ctx, now, "p", pager); err != nil || n != 1 || pager.count(fmt.Sprintf("%d/L1", inc.Number)) != 1 {
				t.Fatalf("once the channel exists: fired %d, %v, pages %v", n, err, pager.pages)
			}
			tl, _ := st.Timeline(ctx, inc.ID)
			for _, e := range tl {
				if e.Kind == KindEscalated && strings.Contains(e.Summary, "failed") {
					t.Errorf("escalated event says %q", e.Summary)
				}
			}
		})
	}
}
