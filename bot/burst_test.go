package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/config"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/handlers"
)

// burstSize is how many /perf assess commands arrive at once in one channel.
const burstSize = 30

// TestBurstOfAssessmentsUnderSlackTiers: 30 /perf assess at once in one channel against the local
// stack, with Slack's rate limits on for every Web API method (its documented tier; chat.postMessage
// one message a second per channel), while /perf help keeps arriving. Every report arrives once, in
// one message (no placeholder left beside it), every chart and table file sits in its report's
// thread, every "in the thread" note is kept, and every envelope is acked in time; the acks'
// p50/p99/max are logged (docs/benchmarks.md).
func TestBurstOfAssessmentsUnderSlackTiers(t *testing.T) {
	srv := slackserver.NewTestServer(t, slackserver.Options{RateLimits: slackserver.RateLimits{Tiers: true}})
	ch := srv.AddChannel("perf-burst")
	var users []string
	for i := range burstSize {
		u := fmt.Sprintf("U0BURST%03d", i)
		srv.AddUser(u, strings.ToLower(u))
		users = append(users, u)
	}
	srv.AddUser("U0HELPER01", "helper")
	cfg := config.Default()
	backends := app.NewBackends(cfg, nil)
	t.Cleanup(backends.Close)
	hooks := &recordHooks{}
	startBot(t, srv, bot.Options{Commands: handlers.New(cfg, backends, slog.New(slog.DiscardHandler)),
		Workers: cfg.Slack.Workers, QueueSize: 256, Hooks: hooks})

	start := len(srv.Acks())
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := srv.SlashCommand(ctx, u, ch, "/perf", "assess"); err != nil {
				t.Errorf("/perf assess by %s: %v", u, err)
			}
		})
	}
	// /perf help keeps coming while the assessments run, so acks are measured under the load.
	stopHelp := make(chan struct{})
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopHelp:
				return
			case <-tick.C:
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if _, err := srv.SlashCommand(ctx, "U0HELPER01", ch, "/perf", "help"); err != nil {
					t.Errorf("/perf help: %v", err)
				}
				cancel()
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	err := hooks.wait(ctx, "assess", burstSize)
	close(stopHelp)
	wg.Wait()
	if err != nil {
		t.Fatalf("%d of %d assessments finished", hooks.count("assess"), burstSize)
	}
	logAcks(t, srv.Acks()[start:])
	t.Logf("rate limited: chat.postMessage %d, chat.update %d, files.getUploadURLExternal %d, files.completeUploadExternal %d",
		srv.Refusals("chat.postMessage", "ratelimited"), srv.Refusals("chat.update", "ratelimited"),
		srv.Refusals("files.getUploadURLExternal", "ratelimited"), srv.Refusals("files.completeUploadExternal", "ratelimited"))
	if srv.Refusals("chat.postMessage", "ratelimited")+srv.Refusals("chat.update", "ratelimited") == 0 {
		t.Error("Slack never rate-limited the burst: the test did not test what it should")
	}
	checkOneMessagePerReport(t, srv, ch, hooks.records("assess"))
}

// checkOneMessagePerReport checks the channel holds exactly the reports, each once, with their files
// in their threads and no placeholder left.
func checkOneMessagePerReport(t *testing.T, srv *slackserver.Server, ch string, recs []handlers.CommandRecord) {
	t.Helper()
	reports := map[string]handlers.CommandRecord{}
	for _, r := range recs {
		if r.Err != nil {
			t.Errorf("/perf assess by %s failed: %v", r.User, r.Err)
			continue
		}
		ts := strings.TrimPrefix(r.ID, ch+":")
		if ts == "" || reports[ts].User != "" {
			t.Errorf("report of %s: message %q missing or shared", r.User, r.ID)
		}
		reports[ts] = r
	}
	top := 0
	for _, m := range srv.Messages(ch) {
		if m.ThreadTS != "" && m.ThreadTS != m.TS || m.Subtype == "file_share" {
			continue
		}
		top++
		if strings.HasPrefix(m.Text, "Assessing") {
			t.Errorf("placeholder %s left in the channel: %q", m.TS, m.Text)
		}
		if _, ok := reports[m.TS]; !ok {
			t.Errorf("message %s is no command's report: %.80q", m.TS, m.Text)
		}
	}
	if top != len(reports) || len(reports) != burstSize {
		t.Errorf("%d top-level messages for %d reports, want %d each", top, len(reports), burstSize)
	}
	files := map[string][]slackserver.File{}
	for _, f := range srv.Files(ch) {
		if _, ok := reports[f.ThreadTS]; !ok {
			t.Errorf("file %s (%s) is in thread %q, not in a report's thread", f.ID, f.Name, f.ThreadTS)
			continue
		}
		files[f.ThreadTS] = append(files[f.ThreadTS], f)
	}
	n := 0
	for _, fs := range files {
		n += len(fs)
	}
	t.Logf("%d reports, %d files in their threads", len(reports), n)
	for ts, r := range reports {
		m, _ := srv.Message(ch, ts)
		if strings.HasPrefix(m.Text, "Assessing") {
			t.Errorf("report of %s still shows progress", r.User)
		}
		charts := 0
		tables := slices.ContainsFunc(files[ts], func(f slackserver.File) bool { return strings.HasSuffix(f.Name, "-tables.txt") })
		for _, f := range files[ts] {
			if strings.HasSuffix(f.Name, ".png") {
				charts++
			}
		}
		if charts != len(r.Charts) {
			t.Errorf("report of %s posted %d charts, its thread has %d", r.User, len(r.Charts), charts)
		}
		if bytes.Contains(m.Blocks, []byte("in the thread")) && !tables {
			t.Errorf("report of %s says more is in the thread, but its thread has no table file", r.User)
		}
	}
}

// logAcks logs the ack latencies' p50, p99 and max, and fails on an envelope acked too late for Slack.
func logAcks(t *testing.T, acks []slackserver.Ack) {
	t.Helper()
	if len(acks) == 0 {
		t.Fatal("no acks")
	}
	lat := make([]time.Duration, len(acks))
	for i, a := range acks {
		lat[i] = a.Latency
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	t.Logf("ack latency over %d envelopes: p50 %s, p99 %s, max %s", len(lat),
		at(0.5).Round(10*time.Microsecond), at(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	if lat[len(lat)-1] > 3*time.Second {
		t.Errorf("an envelope waited %s for its ack; Slack gives up after 3 s", lat[len(lat)-1])
	}
}

// recordHooks keeps every finished command.
type recordHooks struct {
	mu      sync.Mutex
	recs    []handlers.CommandRecord
	changed chan struct{}
}

func (h *recordHooks) CommandDone(_ context.Context, d handlers.CommandRecord) {
	h.mu.Lock()
	h.recs = append(h.recs, d)
	if h.changed != nil {
		close(h.changed)
		h.changed = nil
	}
	h.mu.Unlock()
}

// wait returns once n commands starting with prefix have finished, or with ctx's error.
func (h *recordHooks) wait(ctx context.Context, prefix string, n int) error {
	for {
		h.mu.Lock()
		if h.changed == nil {
			h.changed = make(chan struct{})
		}
		changed := h.changed
		h.mu.Unlock()
		if h.count(prefix) >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (h *recordHooks) EventSeen(context.Context, handlers.EventRecord) {}

// records returns the finished commands whose text starts with prefix.
func (h *recordHooks) records(prefix string) []handlers.CommandRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []handlers.CommandRecord
	for _, r := range h.recs {
		if strings.HasPrefix(r.Text, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func (h *recordHooks) count(prefix string) int { return len(h.records(prefix)) }

// startBot runs a bot with o against srv until the test ends and waits for its connection.
func startBot(t *testing.T, srv *slackserver.Server, o bot.Options) *bot.Bot {
	t.Helper()
	o.AppToken, o.BotToken, o.APIURL = srv.AppToken(), srv.BotToken(), srv.APIURL()
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	b, err := bot.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := srv.WaitFor(wctx, func() bool { return srv.Sockets() > 0 }); err != nil {
		t.Fatal("bot never connected")
	}
	return b
}
