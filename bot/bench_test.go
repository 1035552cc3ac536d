package bot_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/bot"
	"github.com/perfbot/perfbot/dev/slackserver"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/stacktest"
)

// loadAssessments is how many /perf assess commands run while acks are measured.
const loadAssessments = 10

// benchUser is the workspace member who types the commands.
const benchUser = "U0ALICE001"

// BenchmarkEnvelopeAck measures envelope-to-ack latency of /perf slash commands through the real bot
// (Socket Mode client, dispatch, worker pool) and the real command handlers over a private simulator and
// Prometheus, as the local Slack server records it (Ack.Latency: from sending the envelope to reading the ack).
//
// "idle": nothing else runs. "ten-assessments": ten /perf assess commands are kept running the whole time;
// each one that finishes is replaced at once. A measured ack counts only when ten assessments were running
// both before its envelope was sent and after its ack arrived; p50/p99 are over those acks only.
func BenchmarkEnvelopeAck(b *testing.B) {
	e := startBenchBot(b)
	b.Run("idle", func(b *testing.B) {
		if n := e.running.Load(); n != 0 {
			b.Fatalf("%d assessments still running in the idle variant", n)
		}
		e.measure(b, 0)
	})
	b.Run("ten-assessments", func(b *testing.B) {
		stop := e.keepAssessing(b, loadAssessments)
		defer stop()
		e.measure(b, loadAssessments)
	})
}

// benchEnv is a running bot wired to a local Slack server and real backends.
type benchEnv struct {
	srv     *slackserver.Server
	channel string

	running   atomic.Int64 // assess commands between Handle's start and the bot's CommandDone
	completed atomic.Int64 // assess commands finished
	failed    atomic.Int64 // assess commands that returned an error
	probeErrs atomic.Int64 // report sections whose probe failed (e.g. timed out)
	charts    atomic.Int64 // chart PNGs the finished assessments posted
	done      chan struct{}
}

// startBenchBot starts the simulator, Prometheus, the local Slack server and the bot; all stop with b.
func startBenchBot(b *testing.B) *benchEnv {
	sim := stacktest.StartSim(b, 15)
	prom := stacktest.StartPrometheus(b, map[string]string{"sim-ackbench": sim.Addr})
	time.Sleep(5 * time.Second) // some traffic for the probes to query
	cfg := stacktest.ServiceConfig("sim-ackbench", prom.URL, sim.URL)
	backends := app.NewBackends(cfg, nil)
	b.Cleanup(backends.Close)
	quiet := slog.New(slog.DiscardHandler)
	srv := slackserver.NewTestServer(b, slackserver.Options{RateLimits: slackserver.RateLimits{Disabled: true}})
	srv.AddUser(benchUser, "alice")
	e := &benchEnv{srv: srv, channel: srv.AddChannel("perf-bench"), done: make(chan struct{}, 64)}
	srv.AddMember(e.channel, benchUser)
	bt, err := bot.New(bot.Options{
		AppToken: srv.AppToken(), BotToken: srv.BotToken(), APIURL: srv.APIURL(),
		Commands: &countingCommander{next: handlers.New(cfg, backends, quiet), env: e},
		// Ten assessments plus the measured commands must all fit, or some would queue instead of run.
		Workers: 2 * loadAssessments, Log: quiet, Hooks: benchHooks{env: e},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- bt.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-runDone; err != nil {
			b.Errorf("bot run: %v", err)
		}
	})
	e.warmUp(b)
	return e
}

// warmUp waits until the bot's socket is connected and a command runs end to end,
// and checks that one assessment completes without error against the backends.
func (e *benchEnv) warmUp(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		if _, err := e.srv.SlashCommand(ctx, benchUser, e.channel, "/perf", "help"); err == nil {
			break
		} else if ctx.Err() != nil {
			b.Fatalf("the bot never acked /perf help: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := e.srv.SlashCommand(ctx, benchUser, e.channel, "/perf", "assess"); err != nil {
		b.Fatal(err)
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		b.Fatal("the warm-up /perf assess did not finish")
	}
	if e.failed.Load() != 0 {
		b.Fatal("the warm-up /perf assess failed")
	}
}

// keepAssessing starts n /perf assess commands and replaces each one that finishes, until stop is
// called; it returns once all n are running inside the command handler. stop waits until every
// command it sent has finished, so none spills into a later run.
func (e *benchEnv) keepAssessing(b *testing.B, n int) (stop func()) {
	drain(e.done) // signals of earlier assessments must not start extra ones
	base := e.completed.Load()
	var sent atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	send := func() {
		sent.Add(1) // sent without ctx: a command once delivered always runs to its end
		if _, err := e.srv.SlashCommand(context.Background(), benchUser, e.channel, "/perf", "assess"); err != nil {
			b.Errorf("load /perf assess: %v", err)
		}
	}
	for range n {
		wg.Go(send)
	}
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-e.done:
				if ctx.Err() == nil {
					send()
				}
			}
		}
	})
	waitUntil(b, func() bool { return e.running.Load() >= int64(n) }, "%d assessments to start", n)
	return func() {
		cancel()
		wg.Wait()
		waitUntil(b, func() bool { return e.completed.Load()-base >= sent.Load() }, "%d load assessments to finish", sent.Load())
		drain(e.done)
		if f := e.failed.Load(); f > 0 {
			b.Errorf("%d assessments failed under load", f)
		}
	}
}

// waitUntil polls cond for up to a minute, then fails with "waited for " + what.
func waitUntil(b *testing.B, cond func() bool, what string, args ...any) {
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("waited in vain for "+what, args...)
		}
		time.Sleep(time.Millisecond)
	}
}

// drain empties a signal channel.
func drain(c chan struct{}) {
	for len(c) > 0 {
		<-c
	}
}

// measure sends b.N /perf help commands, one after another, and reports the ack latencies of those
// sent and acked while exactly `want` assessments were running.
func (e *benchEnv) measure(b *testing.B, want int64) {
	ctx := context.Background()
	ids := make(map[string]bool, b.N)
	var skipped int
	startDone, startErrs, startCharts := e.completed.Load(), e.probeErrs.Load(), e.charts.Load()
	b.ResetTimer()
	for b.Loop() {
		before := e.running.Load()
		id, err := e.srv.SlashCommand(ctx, benchUser, e.channel, "/perf", "help")
		if err != nil {
			b.Fatal(err)
		}
		if after := e.running.Load(); before == want && after == want {
			ids[id] = true
		} else {
			skipped++
		}
	}
	b.StopTimer()
	var samples []time.Duration
	for _, a := range e.srv.Acks() {
		if ids[a.EnvelopeID] {
			samples = append(samples, a.Latency)
		}
	}
	if len(samples) == 0 {
		b.Fatalf("no ack was measured with %d assessments running (%d skipped)", want, skipped)
	}
	reportPercentiles(b, samples)
	b.ReportMetric(float64(len(samples)), "acks-counted")
	b.ReportMetric(float64(skipped), "acks-skipped")
	b.ReportMetric(float64(e.completed.Load()-startDone), "assessments-done")
	b.ReportMetric(float64(e.probeErrs.Load()-startErrs), "probe-errors")
	b.ReportMetric(float64(e.charts.Load()-startCharts), "charts-posted")
}

// reportPercentiles adds p50 and p99 (in ms) of the samples to the benchmark output.
func reportPercentiles(b *testing.B, samples []time.Duration) {
	slices.Sort(samples)
	at := func(q float64) float64 {
		return float64(samples[int(q*float64(len(samples)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ack-ms")
	b.ReportMetric(at(0.99), "p99-ack-ms")
}

// isAssess says whether a command text runs an assessment.
func isAssess(text string) bool {
	f := strings.Fields(text)
	return len(f) > 0 && strings.EqualFold(f[0], "assess")
}

// countingCommander runs the real handlers and counts the assessments that have started.
type countingCommander struct {
	next bot.Commander
	env  *benchEnv
}

// Handle counts an assessment as running from here until the bot reports it done (after posting it).
func (c *countingCommander) Handle(ctx context.Context, req handlers.Request) (handlers.Report, error) {
	if isAssess(req.Text) {
		c.env.running.Add(1)
	}
	return c.next.Handle(ctx, req)
}

// benchHooks hears when the bot has finished a command, report and charts posted.
type benchHooks struct{ env *benchEnv }

// CommandDone ends an assessment's count and signals that a replacement may start.
func (h benchHooks) CommandDone(_ context.Context, d handlers.CommandRecord) {
	if !isAssess(d.Text) {
		return
	}
	if d.Err != nil {
		h.env.failed.Add(1)
	}
	for _, s := range d.Report.Sections {
		if s.Err != "" {
			h.env.probeErrs.Add(1)
		}
	}
	h.env.charts.Add(int64(len(d.Charts)))
	h.env.completed.Add(1)
	h.env.running.Add(-1)
	select {
	case h.env.done <- struct{}{}:
	default:
	}
}

// EventSeen ignores events; the benchmark sends none.
func (benchHooks) EventSeen(context.Context, handlers.EventRecord) {}
