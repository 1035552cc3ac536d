package handlers_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/perfbot/perfbot/app"
	"github.com/perfbot/perfbot/handlers"
	"github.com/perfbot/perfbot/internal/stacktest"
	"github.com/perfbot/perfbot/probes"
)

// BenchmarkAssess measures the wall time of /perf assess against a real simulator, Prometheus,
// PostgreSQL and Redis, next to the slowest single probe it ran: the probes (and each probe's
// queries) run concurrently, so the first should stay close to the second.
func BenchmarkAssess(b *testing.B) {
	sim := stacktest.StartSim(b, 15)
	prom := stacktest.StartPrometheus(b, map[string]string{"sim-bench": sim.Addr})
	cfg := simConfig(sim, "sim-bench", prom.URL, true)
	cfg.Services[0].Redis.Addr = stacktest.RedisAddr
	bk := app.NewBackends(cfg, nil)
	defer bk.Close()
	h := handlers.New(cfg, bk, slog.New(slog.DiscardHandler))
	stacktest.Eventually(b, 60*time.Second, 500*time.Millisecond, func() bool { // some traffic to query
		rep, err := h.Handle(context.Background(), handlers.Request{Text: "assess"})
		f, ok := find(rep, "API p95 latency", "all endpoints")
		return err == nil && ok && f.Status != probes.Unknown
	}, "no traffic seen")
	var slowest, sum time.Duration
	b.ResetTimer()
	for b.Loop() {
		// A new Handlers per run: its probe runs are not shared with the previous one (identical
		// runs within a few seconds are, which would measure a cache, not the assessment).
		h := handlers.New(cfg, bk, slog.New(slog.DiscardHandler))
		rep, err := h.Handle(context.Background(), handlers.Request{Text: "assess"})
		if err != nil {
			b.Fatal(err)
		}
		var max time.Duration
		for _, s := range rep.Sections {
			if s.Err != "" {
				b.Fatalf("%s: %s", s.Title, s.Err)
			}
			max = longer(max, s.Duration)
		}
		slowest += max
		sum += rep.Elapsed
	}
	b.ReportMetric(float64(slowest.Microseconds())/float64(b.N)/1000, "slowest-probe-ms")
	b.ReportMetric(float64(sum.Microseconds())/float64(b.N)/1000, "assess-ms")
}

// longer returns the longer duration.
func longer(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
